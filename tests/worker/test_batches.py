"""Steps with no side effect recorded together, and progress kept right while steps
write in parallel (issue 20: a build's commits no longer wait on one another)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from cool.errors import RecordTooLargeError
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.fence import Fence, claim
from cool.store.records import ResourceRecord
from cool.worker.ledger import Ledger
from cool.worker.schedule import MAX_BATCH
from tests.worker.helpers import event_lines, open_store, running_worker, submit, wait_terminal

FAN = 150


def _fan_out(n: int, value: str = "{get_resource: root}") -> str:
    lines = ["heat_template_version: wallaby", "resources:", "  root: {type: OS::Heat::None}"]
    lines += [
        f"  v{i:03d}: {{type: OS::Heat::Value, properties: {{value: {value}}}}}" for i in range(n)
    ]
    lines += ["outputs:", f"  last: {{value: {{get_attr: [v{n - 1:03d}, value]}}}}"]
    return "\n".join(lines) + "\n"


def _transactions(store: BuildStore, build_id: str, names: list[str]) -> set[int]:
    """The ZooKeeper transactions (zxids) that wrote these records."""
    return {store.client.exists(store.layout.resource(build_id, n)).mzxid for n in names}


def test_a_fan_out_of_values_is_recorded_in_a_few_writes_each_with_its_event(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, _fan_out(FAN))
        state = wait_terminal(store, build_id)
        records = store.resources(build_id)
        names = [f"v{i:03d}" for i in range(FAN)]
        writes = _transactions(store, build_id, names)
        lines = event_lines(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE, state.reason
    assert (state.done, state.total) == (FAN + 1, FAN + 1)
    assert -(-FAN // MAX_BATCH) <= len(writes) <= 10  # batches of at most 64, not 150 writes
    root_id = records["root"][0].physical_id
    for name in names:
        record, version = records[name]
        assert (record.status, version, record.attributes["value"]) == (
            ResourceStatus.CREATE_COMPLETE,
            0,
            root_id,
        )
        assert [(old, new) for r, old, new in lines if r == name] == [
            ("PENDING", "CREATE_COMPLETE")
        ]
    assert state.outputs["last"]["value"] == root_id


def test_a_batch_over_one_write_is_halved_until_it_fits(
    zk_hosts: str,
    tmp_path: Path,
    registry: ResourceTypeRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Values of 3 KB: a batch of 64 (about 400 KB with their events) is over a 60 KB
    limit, so it is split until each part fits; every resource still completes."""
    monkeypatch.setattr(Fence, "max_write_bytes", 60_000)
    n = 70
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, _fan_out(n, value='"' + "x" * 3000 + '"'))
        state = wait_terminal(store, build_id)
        names = [f"v{i:03d}" for i in range(n)]
        writes = _transactions(store, build_id, names)
        records = store.resources(build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE, state.reason
    assert all(records[name][0].status is ResourceStatus.CREATE_COMPLETE for name in names)
    # More writes than the two a fit would take, far fewer than one per resource.
    assert n * 3_500 // 60_000 <= len(writes) < n // 4


def test_progress_written_late_is_counted_again_by_the_next_owner(
    zk_hosts: str, registry: ResourceTypeRegistry
) -> None:
    """A worker that dies with progress not yet in the state: whoever loads the build
    counts its complete records, and the final write carries them."""
    with open_store(zk_hosts) as store:
        build_id = submit(store, registry, _fan_out(3))
        first, ledger = _owned(store, build_id, "w1")
        ledger._state_busy = True  # as if another write of the state were in flight
        for name in ("root", "v000"):
            record = ResourceRecord(
                name=name, type="OS::Heat::None", status=ResourceStatus.CREATE_COMPLETE
            )
            ledger.write_resource(record, "created", progress=1)
        assert store.state(build_id)[0].done == 0  # counted, not written
        first.release_claim()
        _, taken_over = _owned(store, build_id, "w2")
        taken_over.finish(BuildStatus.CREATE_COMPLETE, "done")
        assert store.state(build_id)[0].done == 2


def test_a_write_that_fails_while_another_carries_the_state_counts_no_progress(
    zk_hosts: str, registry: ResourceTypeRegistry
) -> None:
    """Write A waits while B (which carries the state) lands, then fails: A's resource
    was not written, so the progress B carried must not count it (review finding)."""
    with open_store(zk_hosts) as store:
        build_id = submit(store, registry, _fan_out(3))
        fence, ledger = _owned(store, build_id, "w1")
        ledger.write_resource(_complete("root"), "created", progress=1)  # done: 1
        in_write, b_landed = threading.Event(), threading.Event()
        real_write = fence.write

        def write(**changes: object) -> object:
            if threading.current_thread().name == "a":
                in_write.set()
                assert b_landed.wait(10)
                raise RecordTooLargeError("the record of resource v000", 2_000_000, 1_000_000)
            return real_write(**changes)

        fence.write = write  # type: ignore[method-assign]
        ledger._state_busy = True  # B's state write is in flight as A starts
        failed: list[BaseException] = []

        def a() -> None:
            try:
                ledger.write_resource(_complete("v000"), "created", progress=1)
            except RecordTooLargeError as exc:
                failed.append(exc)

        thread = threading.Thread(target=a, name="a")
        thread.start()
        assert in_write.wait(10)
        with ledger._state_free:
            ledger._state_busy = False  # (B's state write landed)
        ledger.write_resource(_complete("v001"), "created", progress=1)  # carries the state
        b_landed.set()
        thread.join(10)
        assert failed
        fence.write = real_write  # type: ignore[method-assign]
        ledger.finish(BuildStatus.CREATE_COMPLETE, "done")
        assert store.state(build_id)[0].done == 2  # root and v001: v000 was never written


def _complete(name: str) -> ResourceRecord:
    return ResourceRecord(name, "OS::Heat::None", ResourceStatus.CREATE_COMPLETE)


def _owned(store: BuildStore, build_id: str, worker_id: str) -> tuple[Fence, Ledger]:
    """The build claimed by ``worker_id``, and its ledger loaded."""
    meta, _ = store.meta_and_plan(build_id)
    fence = claim(store.client, store.layout, build_id, worker_id)
    assert fence is not None
    ledger = Ledger(store, fence, meta, time.time)
    ledger.load()
    return fence, ledger
