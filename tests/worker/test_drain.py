"""A worker drained (stopped gracefully) in the middle of a teardown hands the build over.

Finding 1 of issue 15: a rollback, a cancel's rollback or a delete drained while a
delete step was in flight came back "unfinished, not stopped" and ended
ROLLBACK_COMPLETE, CANCEL_COMPLETE or DELETE_COMPLETE with resources still in the
cloud. The sim holds the delete of ``v2`` (which ``v1`` waits for) until the worker
is stopping, so the teardown is interrupted at exactly that point.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.store.records import BuildState
from cool.worker.service import Worker
from tests.worker.helpers import open_store, running_worker, statuses, submit, wait_terminal
from tests.zk import assert_eventually

VOLUMES = """
heat_template_version: wallaby
resources:
  v1: {type: OS::Cinder::Volume, properties: {size: 1}}
  v2: {type: OS::Cinder::Volume, depends_on: v1, properties: {size: 1}}
"""

FAILS_AFTER_VOLUMES = (
    VOLUMES + "  boom: {type: OS::Heat::TestResource, depends_on: v2, properties: {fail: true}}\n"
)


def _drain_while_held(worker: Worker, sim: SimProvider, release: Path) -> None:
    """The held call is in flight: stop the worker gracefully, then let the call land."""
    assert_eventually(lambda: sim.armed() == [], timeout_s=30, message="v2's delete is held")
    stopper = threading.Thread(target=worker.stop, kwargs={"graceful": True})
    stopper.start()
    assert_eventually(worker.stopping.is_set, message="the worker is stopping")
    release.touch()
    stopper.join(30)
    assert not stopper.is_alive()


def _finished_elsewhere(
    hosts: str, store: BuildStore, build_id: str, db: Path, in_progress: BuildStatus
) -> BuildState:
    """The drained worker left the build mid-teardown for another, which finishes it
    without a leak: the build's final state, for the test to check."""
    state, _ = store.state(build_id)
    assert state.status is in_progress, state.reason  # not a *_COMPLETE with v1 still live
    assert store.is_pending(build_id)
    assert store.lease_data(build_id)[0]["releases"] == 1  # handed over, not abandoned
    with SimProvider(db) as sim:
        assert [r.resource_name for r in sim.live_resources(build_id)] == ["v1"]
    with running_worker(hosts, db, worker_id="next"):
        state = wait_terminal(store, build_id)
    assert set(statuses(store, build_id).values()) == {"DELETE_COMPLETE"}
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []
    return state


def test_drain_during_a_rollback_hands_the_build_over_and_leaks_nothing(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db, release = tmp_path / "sim.db", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        sim.hold("v2", "delete", release=release)
        with running_worker(zk_hosts, db, worker_id="first") as first:
            build_id = submit(store, registry, FAILS_AFTER_VOLUMES)
            _drain_while_held(first, sim, release)
        state = _finished_elsewhere(zk_hosts, store, build_id, db, BuildStatus.ROLLBACK_IN_PROGRESS)
        assert state.status is BuildStatus.ROLLBACK_COMPLETE, state.reason


def test_drain_during_a_cancels_rollback_hands_the_build_over_and_leaks_nothing(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db, created, release = tmp_path / "sim.db", tmp_path / "created", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        create_switch = sim.hold("v2", "create", release=created)
        delete_switch = sim.hold("v2", "delete", release=release)
        with running_worker(zk_hosts, db, worker_id="first") as first:
            build_id = submit(store, registry, FAILS_AFTER_VOLUMES)
            assert_eventually(lambda: create_switch not in sim.armed(), timeout_s=30)
            Requests(store).cancel(build_id)
            created.touch()
            assert delete_switch in sim.armed()
            _drain_while_held(first, sim, release)
        state = _finished_elsewhere(zk_hosts, store, build_id, db, BuildStatus.ROLLBACK_IN_PROGRESS)
        assert state.status is BuildStatus.CANCEL_COMPLETE, state.reason


def test_drain_during_a_delete_hands_the_build_over_and_leaks_nothing(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db, release = tmp_path / "sim.db", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        with running_worker(zk_hosts, db, worker_id="first") as first:
            build_id = submit(store, registry, VOLUMES)
            assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
            sim.hold("v2", "delete", release=release)
            Requests(store).delete(build_id)
            _drain_while_held(first, sim, release)
        state = _finished_elsewhere(zk_hosts, store, build_id, db, BuildStatus.DELETE_IN_PROGRESS)
        assert state.status is BuildStatus.DELETE_COMPLETE, state.reason
