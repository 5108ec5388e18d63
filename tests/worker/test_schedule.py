"""run_graph's order and batches (pure logic: a thread pool, no server)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import pytest

from cool.errors import CoolError
from cool.worker.schedule import MAX_BATCH, StepFailedError, run_graph


class Log:
    """What ran, in order: single steps by name, batches as tuples."""

    def __init__(self) -> None:
        self.calls: list[str | tuple[str, ...]] = []
        self.lock = threading.Lock()

    def step(self, name: str) -> None:
        with self.lock:
            self.calls.append(name)

    def batch(self, names: list[str]) -> Mapping[str, BaseException | None]:
        with self.lock:
            self.calls.append(tuple(names))
        return dict.fromkeys(names)

    def order(self) -> list[str]:
        out: list[str] = []
        for call in self.calls:
            out.extend(call if isinstance(call, tuple) else [call])
        return out


def _run(names, blockers, log, *, parallelism=1, batchable=lambda n: False, batch=True):
    with ThreadPoolExecutor(4) as executor:
        return run_graph(
            names,
            blockers,
            log.step,
            executor=executor,
            parallelism=parallelism,
            halts=(),
            batch=log.batch if batch else None,
            batchable=batchable,
        )


def test_ready_steps_start_longest_chain_then_smallest_name_first_after_their_blockers() -> None:
    log = Log()
    blockers = {"a": ["c"], "b": [], "c": [], "d": ["a", "outside"], "e": []}  # outside: done
    outcome = _run(["d", "c", "b", "a", "e"], blockers, log, batch=False)
    # c has a chain of two behind it (a, then d): it goes before b and e, which have none
    assert log.order() == ["c", "a", "b", "d", "e"]
    assert (outcome.failure, outcome.stopped, outcome.unfinished) == (None, False, False)


def test_the_head_of_the_critical_path_takes_a_place_before_short_branches() -> None:
    """multi-tier's shape: five roots and four places. The security group, which
    ports and then servers wait on, starts at once, not after the volumes and the key
    that precede it by name."""
    blockers = {
        "db_volume": [],
        "key": [],
        "network": [],
        "router": [],
        "security_group": [],
        "subnet": ["network"],
        "port": ["subnet", "security_group"],
        "server": ["port", "key"],
        "attachment": ["server", "db_volume"],
        "router_interface": ["router", "subnet"],
        "floating_ip": ["router_interface", "port"],
    }
    started: list[str] = []
    changed = threading.Condition()
    gate = threading.Event()
    outcomes: list = []

    def step(name: str) -> None:
        with changed:
            started.append(name)
            changed.notify_all()
        gate.wait(10)  # every step holds its place until the first four have started

    with ThreadPoolExecutor(8) as pool:
        runner = threading.Thread(
            target=lambda: outcomes.append(
                run_graph(list(blockers), blockers, step, executor=pool, parallelism=4, halts=())
            )
        )
        runner.start()
        try:
            with changed:
                assert changed.wait_for(lambda: len(started) >= 4, timeout=10)
                first = sorted(started)
        finally:
            gate.set()  # whatever happened: no step waits out its 10 s
            runner.join(10)
    assert first == ["key", "network", "router", "security_group"]
    assert outcomes[0].failure is None
    assert len(started) == len(blockers)
    assert started.index("db_volume") >= 4


def test_a_chain_of_thousands_runs_in_order() -> None:
    names = [f"r{i:05d}" for i in range(3000)]
    blockers = {n: [names[i - 1]] if i else [] for i, n in enumerate(names)}
    log = Log()
    _run(list(reversed(names)), blockers, log, batch=False)
    assert log.order() == names


def test_batchable_ready_steps_go_together_up_to_the_batch_size() -> None:
    fan = [f"f{i:03d}" for i in range(MAX_BATCH + 10)]
    blockers = {n: ["root"] for n in fan} | {"root": [], "cloud": ["root"]}
    log = Log()
    _run(["root", "cloud", *fan], blockers, log, batchable=lambda n: n.startswith("f"))
    assert log.calls[0] == "root"
    batches = [c for c in log.calls if isinstance(c, tuple)]
    assert [len(b) for b in batches] == [MAX_BATCH, 10]
    assert sorted(n for b in batches for n in b) == fan
    assert "cloud" in log.calls  # not batchable: on its own


def test_a_batch_reports_each_step_and_a_failure_stops_the_dependents() -> None:
    note: dict[str, object] = {"error": "bad"}
    blockers = {"a": [], "b": [], "after-a": ["a"], "after-b": ["b"]}
    ran: list[str] = []

    def batch(names: list[str]) -> Mapping[str, BaseException | None]:
        ran.extend(names)
        return {n: StepFailedError(note) if n == "b" else None for n in names}

    with ThreadPoolExecutor(2) as executor:
        outcome = run_graph(
            list(blockers),
            blockers,
            ran.append,
            executor=executor,
            parallelism=1,
            halts=(),
            batch=batch,
            batchable=lambda n: n in ("a", "b"),
        )
    assert ran == ["a", "b"]  # the failure stopped what came after, done or not
    assert (outcome.failure, outcome.unfinished) == (note, True)


def test_a_batch_that_raises_or_forgets_a_step_does_not_count_it_done() -> None:
    def raises(names: list[str]) -> Mapping[str, BaseException | None]:
        raise CoolError("claim lost")

    def forgets(names: list[str]) -> Mapping[str, BaseException | None]:
        return {}

    for batch, match in ((raises, "claim lost"), (forgets, "without saying")):
        with ThreadPoolExecutor(2) as executor, pytest.raises(BaseException, match=match):
            run_graph(
                ["a", "b"],
                {},
                lambda name: None,
                executor=executor,
                parallelism=1,
                halts=(),
                batch=batch,
                batchable=lambda n: True,
            )


def test_a_step_that_blocks_itself_never_runs() -> None:
    log = Log()
    outcome = _run(["a", "b"], {"a": ["a"], "b": []}, log, batch=False)
    assert log.order() == ["b"]
    assert outcome.unfinished


def test_a_lone_batch_runs_in_the_callers_thread_and_several_go_to_the_pool() -> None:
    """A chain of steps with no side effect costs no thread hand-off per step; batches
    that could share ZooKeeper's group commit still run side by side."""
    threads: list[tuple[tuple[str, ...], str]] = []

    def batch(names: list[str]) -> Mapping[str, BaseException | None]:
        threads.append((tuple(names), threading.current_thread().name))
        return dict.fromkeys(names)

    chain = [f"c{i:03d}" for i in range(50)]
    fan = [f"f{i:03d}" for i in range(MAX_BATCH * 2)]
    blockers = {name: [chain[i - 1]] for i, name in enumerate(chain) if i}
    blockers |= {name: [chain[-1]] for name in fan}
    here = threading.current_thread().name
    with ThreadPoolExecutor(4, thread_name_prefix="pool") as executor:
        outcome = run_graph(
            chain + fan,
            blockers,
            lambda name: None,
            executor=executor,
            parallelism=4,
            halts=(),
            batch=batch,
            batchable=lambda n: True,
        )
    assert not outcome.unfinished
    assert threads[: len(chain)] == [((name,), here) for name in chain]
    rest = threads[len(chain) :]
    assert sorted(n for names, _ in rest for n in names) == fan
    assert all(name.startswith("pool") for _, name in rest)  # two batches at once
