"""Dispatch from the sharded queue: a full worker reads nothing, a backlog larger than
a worker's window is all built once, and a build queued the old way is built."""

from __future__ import annotations

from pathlib import Path

from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.worker.service import WorkerSettings
from tests.worker.helpers import FAST, open_store, running_worker, submit, wait_terminal
from tests.zk import assert_eventually

NONE = """
heat_template_version: wallaby
resources:
  only: {type: OS::Heat::None}
"""
SLOW = """
heat_template_version: wallaby
resources:
  wait: {type: OS::Heat::TestResource, properties: {wait_secs: 3}}
"""


def test_a_full_worker_reads_no_shard_however_many_builds_come(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    settings = WorkerSettings(capacity=1, step_threads=2, claim_grace_s=0.1, runner=FAST.runner)
    with (
        open_store(zk_hosts) as store,
        running_worker(zk_hosts, tmp_path / "sim.db", settings=settings) as worker,
    ):
        slow = submit(store, registry, SLOW)
        assert_eventually(lambda: worker.active_builds == [slow], message="the slow build runs")
        reads = worker.shard_reads
        queued = [submit(store, registry, NONE) for _ in range(6)]
        shards = {store.layout.shard(b) for b in queued}
        # Every new build's shard has told the worker it changed...
        assert_eventually(
            lambda: shards <= worker._shards.worth_reading()[0],
            message="the queued builds' shards are known to have changed",
        )
        # ...and the worker, full, has read none of them.
        assert worker.shard_reads == reads
        assert worker.active_builds == [slow]  # (still full as the count was read)
        for build_id in [slow, *queued]:
            assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE


def test_two_workers_build_a_backlog_larger_than_their_windows_each_once(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Capacity 1: a window of 64 builds, so a backlog of 150 is read shard by shard
    more than once, and never whole."""
    settings = WorkerSettings(capacity=1, step_threads=2, claim_grace_s=0.1, runner=FAST.runner)
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store:
        store.ensure_layout()
        builds = [submit(store, registry, NONE) for _ in range(150)]
        with (
            running_worker(zk_hosts, db, settings=settings, worker_id="w1") as first,
            running_worker(zk_hosts, db, settings=settings, worker_id="w2") as second,
        ):
            for build_id in builds:
                assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
            assert first.largest_listing_bytes < 10_000
            assert second.largest_listing_bytes < 10_000
        leases = [store.lease_data(b)[0] for b in builds]
    assert all(lease["claims"] == 1 for lease in leases)  # no build claimed twice
    assert {lease["worker_id"] for lease in leases} == {"w1", "w2"}


def test_a_build_queued_before_the_queue_was_sharded_is_moved_and_built(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store:
        store.ensure_layout()
        build_id = submit(store, registry, NONE)
        layout = store.layout
        transaction = store.client.transaction()
        transaction.delete(layout.pending_build(build_id))
        transaction.create(layout.flat_pending_build(build_id), b"")
        assert not any(isinstance(r, Exception) for r in transaction.commit())
        with running_worker(zk_hosts, tmp_path / "sim.db"):
            assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        assert store.client.exists(layout.flat_pending_build(build_id)) is None
        assert store.pending() == []
