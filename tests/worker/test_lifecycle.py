"""A build's edges: cancel, delete, deadlines and poison builds, on real workers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cool.clouds.sim.provider import SimProvider
from cool.errors import BuildConflictError
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.worker.service import WorkerSettings
from tests.worker.helpers import (
    FAST,
    event_lines,
    open_store,
    running_worker,
    statuses,
    submit,
    wait_terminal,
)
from tests.worker.processes import WorkerProcess
from tests.zk import assert_eventually

# A network, then a slow chain: long enough to be interrupted.
SLOW_CHAIN = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net}
  s1: {type: OS::Heat::TestResource, depends_on: net, properties: {wait_secs: 0.3}}
  s2: {type: OS::Heat::TestResource, depends_on: s1, properties: {wait_secs: 0.3}}
  s3: {type: OS::Heat::TestResource, depends_on: s2, properties: {wait_secs: 0.3}}
  s4: {type: OS::Heat::TestResource, depends_on: s3, properties: {wait_secs: 0.3}}
"""

KEEPS_A_VOLUME = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net}
  vol: {type: OS::Cinder::Volume, deletion_policy: Retain, properties: {size: 1}}
  port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
"""


def _started(store: BuildStore, build_id: str, name: str) -> bool:
    return statuses(store, build_id).get(name) == "CREATE_COMPLETE"


def test_cancel_mid_build_stops_new_steps_rolls_back_and_ends_cancelled(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, SLOW_CHAIN)
        assert_eventually(lambda: _started(store, build_id, "s1"), timeout_s=20)
        Requests(store).cancel(build_id, user_id="u1", request_id="req-cancel")
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
        lines = event_lines(store, build_id)
    assert state.status is BuildStatus.CANCEL_COMPLETE
    assert "s4" not in recorded  # never started
    assert set(recorded.values()) == {"DELETE_COMPLETE"}
    assert (None, "CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS") in lines
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []


def test_cancel_without_rollback_keeps_what_was_built(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, SLOW_CHAIN, rollback=False)
        assert_eventually(lambda: _started(store, build_id, "s1"), timeout_s=20)
        Requests(store).cancel(build_id)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.CANCEL_COMPLETE
    assert recorded["net"] == "CREATE_COMPLETE"
    assert "s4" not in recorded


def test_cancel_of_a_queued_build_never_starts_it(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store:
        build_id = submit(store, registry, SLOW_CHAIN)
        Requests(store).cancel(build_id)
        with running_worker(zk_hosts, tmp_path / "sim.db"):
            state = wait_terminal(store, build_id)
        assert statuses(store, build_id) == {}
    assert state.status is BuildStatus.CANCEL_COMPLETE
    assert state.reason == "cancelled before it started"


def test_cancel_of_a_finished_build_is_refused(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, KEEPS_A_VOLUME)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        with pytest.raises(BuildConflictError, match="only a build being created"):
            Requests(store).cancel(build_id)


def test_delete_tears_down_in_reverse_order_and_keeps_retained(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, KEEPS_A_VOLUME)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        Requests(store).delete(build_id, request_id="req-del")
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
        lines = event_lines(store, build_id)
        again = Requests(store).delete(build_id)  # twice is harmless
    assert state.status is BuildStatus.DELETE_COMPLETE
    assert state.outputs is None  # they pointed at what is gone
    assert again.status is BuildStatus.DELETE_COMPLETE
    assert recorded == {"net": "DELETE_COMPLETE", "port": "DELETE_COMPLETE", "vol": "RETAINED"}
    deleted = [r for r, _, new in lines if new == "DELETE_COMPLETE" and r is not None]
    assert deleted.index("port") < deleted.index("net")  # dependents first
    with SimProvider(db) as sim:
        assert [r.resource_name for r in sim.live_resources(build_id)] == ["vol"]


def test_delete_of_a_failed_build_removes_what_it_left(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        sim.arm("port", "create", times=None, message="no more ports")
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, KEEPS_A_VOLUME, rollback=False)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_FAILED
        with SimProvider(db) as sim:
            assert sim.live_resources(build_id) != []
        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.DELETE_COMPLETE
    with SimProvider(db) as sim:
        assert [r.resource_name for r in sim.live_resources(build_id)] == ["vol"]


def test_delete_mid_build_stops_it_and_tears_it_down(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, SLOW_CHAIN)
        assert_eventually(lambda: _started(store, build_id, "s1"), timeout_s=20)
        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.DELETE_COMPLETE
    assert "s4" not in recorded
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []


def test_deadline_fails_the_build_with_a_note_and_rolls_back(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        # Submitted "59 minutes ago" with a 60-minute timeout: a minute is left... no:
        # a second is left, by a clock set back 3599 s.
        late = BuildStore(store.client, store.layout, clock=lambda: time.time() - 3599)
        build_id = submit(late, registry, SLOW_CHAIN, timeout_mins=60)
        state = wait_terminal(store, build_id, timeout_s=30)
    assert state.status is BuildStatus.ROLLBACK_COMPLETE
    assert state.note is not None
    assert state.note["error"] == "the build did not finish within its timeout of 60 minutes"
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []


def test_deadline_is_enforced_when_the_owner_died(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The owner is killed; the deadline passes; a worker that comes later fails the build."""
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store:
        late = BuildStore(store.client, store.layout, clock=lambda: time.time() - 3598)
        with WorkerProcess(tmp_path, zk_hosts, db, name="doomed") as doomed:
            build_id = submit(late, registry, SLOW_CHAIN, timeout_mins=60)
            assert_eventually(lambda: _started(store, build_id, "net"), timeout_s=20)
            doomed.kill()
        meta, _ = store.meta_and_plan(build_id)
        assert_eventually(lambda: time.time() > meta.deadline, timeout_s=10)
        with running_worker(zk_hosts, db):
            state = wait_terminal(store, build_id, timeout_s=30)
    assert state.status is BuildStatus.ROLLBACK_COMPLETE
    assert state.note is not None
    assert "timeout of 60 minutes" in str(state.note["error"])


def test_poison_build_is_failed_instead_of_handed_on_forever(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Every worker that claims it dies (at its first cloud call): the claim after the
    second death fails it, without a cloud call."""
    db = tmp_path / "sim.db"
    crashing = "[testing]\ncrash_after_cloud_calls = 1\n[build]\nmax_claims = 2\n"
    with open_store(zk_hosts) as store:
        build_id = submit(store, registry, KEEPS_A_VOLUME)
        for round_ in range(2):
            with WorkerProcess(
                tmp_path, zk_hosts, db, name=f"victim{round_}", extra=crashing
            ) as worker:  # killed on the way out, whatever happens
                assert_eventually(lambda w=worker: w.process.poll() is not None, timeout_s=30)
        settings = WorkerSettings(
            capacity=FAST.capacity,
            step_threads=FAST.step_threads,
            claim_grace_s=FAST.claim_grace_s,
            runner=FAST.runner,
            max_claims=2,
        )
        with running_worker(zk_hosts, db, settings=settings):
            state = wait_terminal(store, build_id, timeout_s=30)
        lease, _ = store.lease_data(build_id)
    assert state.status is BuildStatus.CREATE_FAILED
    assert state.note is not None
    assert "poison build" in str(state.note["error"])
    assert lease["claims"] == 3  # two workers died; the third claim failed it


def test_delete_that_fails_ends_delete_failed_naming_the_resource_and_the_error(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, KEEPS_A_VOLUME)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        with SimProvider(db) as sim:
            sim.arm("net", "delete", times=None, message="network in use")
        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.DELETE_FAILED
    assert state.note is not None
    assert state.note["resource"] == "net"
    assert state.note["action"] == "DELETE"
    assert "network in use" in str(state.note["error"])


def test_delete_counts_a_resource_already_gone_from_the_cloud_as_deleted(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    from cool.clouds.base import StepContext

    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, KEEPS_A_VOLUME)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        port, _ = store.resources(build_id)["port"]
        with SimProvider(db) as sim:  # someone deletes it behind cool's back
            ctx = StepContext(build_id, "port", "OS::Neutron::Port", "p1")
            sim.delete(ctx, port.physical_id or "")
            assert_eventually(lambda: sim.is_deleted(ctx, port.physical_id or ""))
        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.DELETE_COMPLETE
    assert recorded["port"] == "DELETE_COMPLETE"


def test_a_delete_asked_while_the_last_resource_completes_is_not_lost(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Everything got built, but a delete was asked first: the build ends deleted, not
    CREATE_COMPLETE with the request left unread in its control node."""
    db = tmp_path / "sim.db"
    last = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net}
  only: {type: OS::Heat::TestResource, depends_on: net, properties: {wait_secs: 1.5}}
"""
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, last)
        assert_eventually(
            lambda: statuses(store, build_id).get("only") == "CREATE_IN_PROGRESS", timeout_s=20
        )
        Requests(store).delete(build_id, user_id="u1")
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.DELETE_COMPLETE
    with SimProvider(db) as sim:
        assert sim.live_resources(build_id) == []
