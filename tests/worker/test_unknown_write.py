"""A write whose outcome is unknown in the middle of a parallel build (issue 15 review, B).

Before: run_graph re-raised the CommitUnknownError at once while other steps were still
running; the runner read the build back and started a second create for a resource
whose create was still in flight (same epoch, so the sim's fence let both through):
CREATE_COMPLETE with a duplicate. Now run_graph waits for every step in flight first.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cool.clouds.sim.provider import SimProvider
from cool.errors import CommitUnknownError
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.worker.schedule import run_graph
from tests.worker.helpers import open_store, running_worker, submit, through, wait_terminal
from tests.zk import ConnectionProxy, assert_eventually

pytestmark = pytest.mark.slow

TWO = """
heat_template_version: wallaby
resources:
  alpha: {type: OS::Neutron::Net}
  bravo: {type: OS::Neutron::Net}
"""


def test_run_graph_raises_an_unknown_outcome_only_once_steps_in_flight_returned() -> None:
    slow_started, slow_may_end, slow_ended = threading.Event(), threading.Event(), threading.Event()

    def step(name: str) -> None:
        if name == "fast":
            assert slow_started.wait(10)
            raise CommitUnknownError("write outcome unknown")
        slow_started.set()
        assert slow_may_end.wait(10)
        slow_ended.set()

    with ThreadPoolExecutor(2) as executor:
        result: list[BaseException] = []

        def run() -> None:
            try:
                run_graph(["fast", "slow"], {}, step, executor=executor, parallelism=2, halts=())
            except CommitUnknownError as exc:
                result.append(exc)

        runner = threading.Thread(target=run)
        runner.start()
        assert slow_started.wait(10)
        runner.join(0.5)  # before: raised as soon as "fast" failed
        returned_early = not runner.is_alive()
        slow_may_end.set()
        runner.join(10)
    assert not returned_early, "run_graph returned while a step was still running"
    assert slow_ended.is_set()
    assert len(result) == 1


def test_unknown_write_during_a_parallel_build_creates_nothing_twice(
    zk_proxy: ConnectionProxy, zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """bravo's create is held in the cloud while alpha's write loses its reply."""
    db, release = tmp_path / "sim.db", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        switch = sim.hold("bravo", "create", release=release)
        with running_worker(
            through(zk_proxy, zk_hosts), db, latency_s=1.0, worker_id="w", session_timeout_s=30
        ):
            build_id = submit(store, registry, TWO)
            assert_eventually(lambda: switch not in sim.armed(), timeout_s=30)
            lost = zk_proxy.lose_reply(b"/alpha")
            assert lost.wait(20), "alpha's write did not lose its reply"

            def bravo_created_again() -> bool:
                return bool(sim.calls(action="create", resource_name="bravo"))

            # Before the fix the runner started bravo again at once; give it the chance
            # (the held create is not recorded until it runs), then let the held one land.
            with contextlib.suppress(AssertionError):
                assert_eventually(bravo_created_again, timeout_s=3)
            release.touch()
            state = wait_terminal(store, build_id, timeout_s=30)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.reason
        assert sim.duplicates(build_id) == []
        assert len(sim.calls(action="create", resource_name="bravo")) == 1
