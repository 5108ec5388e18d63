"""Workers die; builds do not. SIGKILL, SIGTERM and expired sessions, for real."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import pytest

from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.session import Connection
from harness.templates import TEN_RESOURCES
from tests.worker.helpers import FAST, open_store, running_worker, statuses, submit, wait_terminal
from tests.worker.processes import WorkerProcess
from tests.zk import ConnectionProxy, assert_eventually, expire_session

pytestmark = pytest.mark.slow

# Outputs that do not depend on the build id or on timing (see harness.templates).
STEADY = TEN_RESOURCES


def _completed(store: BuildStore, build_id: str) -> int:
    return sum(
        1
        for rec, _ in store.resources(build_id).values()
        if rec.status is ResourceStatus.CREATE_COMPLETE
    )


def _undisturbed_outputs(hosts: str, tmp_path: Path, registry: ResourceTypeRegistry) -> dict:
    with open_store(hosts) as store, running_worker(hosts, tmp_path / "calm.db"):
        build_id = submit(store, registry, STEADY)
        state = wait_terminal(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE
    return state.outputs or {}


def test_sigkilled_worker_build_is_finished_by_another_without_duplicates_or_leaks(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    expected_outputs = _undisturbed_outputs(zk_hosts, tmp_path, registry)
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store:
        with WorkerProcess(tmp_path, zk_hosts, db, name="doomed", latency_s=0.3) as doomed:
            build_id = submit(store, registry, STEADY)
            assert_eventually(lambda: _completed(store, build_id) >= 3, timeout_s=30)
            doomed.kill()
        killed_at = time.monotonic()
        state, _ = store.state(build_id)
        assert not state.status.is_terminal  # killed mid-build
        with WorkerProcess(tmp_path, zk_hosts, db, name="rescuer", latency_s=0.3) as rescuer:
            state = wait_terminal(store, build_id, timeout_s=60)
            took_over_after = time.monotonic() - killed_at
            lease, _ = store.lease_data(build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        assert lease["worker_id"] == rescuer.worker_id
        assert lease["claims"] == 2
        recorded = statuses(store, build_id)
    assert took_over_after < 30
    assert state.outputs == expected_outputs
    with SimProvider(db) as sim:
        assert sim.duplicates(build_id) == []
        live = sorted(r.resource_name for r in sim.live_resources(build_id))
        assert live == sorted(recorded)  # exactly one cloud resource per resource
        assert sim.leaks({(build_id, name) for name in recorded}, build_ids=[build_id]) == []


def test_sigterm_hands_builds_over_without_waiting_for_the_session_timeout(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """A rolling restart: the second worker continues at once, not after 20 s.

    r2 takes 10 s, so the build is still running when the second worker is up (its
    start took over 3 s on a loaded machine, and a build that finished first left
    nothing to hand over)."""
    db = tmp_path / "sim.db"
    template = "heat_template_version: wallaby\nresources:\n" + "".join(
        f"  r{i}:\n    type: OS::Heat::TestResource\n"
        f"    properties: {{wait_secs: {10 if i == 2 else 0.4}}}\n"
        + (f"    depends_on: r{i - 1}\n" if i else "")
        for i in range(8)
    )
    with open_store(zk_hosts) as store:
        leaving = WorkerProcess(tmp_path, zk_hosts, db, name="leaving", session_timeout_s=20)
        with leaving:
            build_id = submit(store, registry, template)
            assert_eventually(lambda: _completed(store, build_id) >= 2, timeout_s=30)
            with WorkerProcess(
                tmp_path, zk_hosts, db, name="staying", session_timeout_s=20
            ) as staying:
                assert _completed(store, build_id) < 8, "finished before the handover"
                leaving.terminate()
                asked_at = time.monotonic()
                assert leaving.wait(30) == 0
                assert_eventually(
                    lambda: store.lease_data(build_id)[0].get("worker_id") == staying.worker_id,
                    timeout_s=15,
                )
                handed_over_after = time.monotonic() - asked_at
                state = wait_terminal(store, build_id, timeout_s=60)
    assert handed_over_after < 5  # the session timeout is 20 s
    assert state.status is BuildStatus.CREATE_COMPLETE


def test_expired_worker_writes_nothing_and_calls_no_cloud_after_losing_its_build(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    template = """
heat_template_version: wallaby
resources:
  slow: {type: OS::Neutron::Net, properties: {name: slow}}
  after: {type: OS::Neutron::Net, depends_on: slow}
"""
    with open_store(zk_hosts) as store:
        with running_worker(zk_hosts, db, worker_id="old", latency_s=1.5) as old:
            build_id = submit(store, registry, template)
            assert_eventually(
                lambda: (
                    store.resources(build_id).get("slow", (None,))[0] is not None
                    and store.resources(build_id)["slow"][0].physical_id is not None
                ),
                timeout_s=20,
            )
            old.drain()  # so that only the other worker may claim the build again
            expire_session(old.session.client)
            with SimProvider(db) as sim:
                mark = sim.last_call_id()
            events_before = len(store.events(build_id))
            with running_worker(zk_hosts, db, worker_id="new", latency_s=0.1):
                state = wait_terminal(store, build_id, timeout_s=30)
            assert build_id not in old.active_builds
        events = [e for _, e in store.events(build_id)]
    assert state.status is BuildStatus.CREATE_COMPLETE
    assert {e.worker for e in events[events_before:]} == {"new"}
    with SimProvider(db) as sim:
        assert sim.calls(caller="old", after_id=mark) == []
        assert sim.duplicates(build_id) == []


def test_suspended_worker_starts_no_cloud_call_until_reconnected(
    zk_proxy: ConnectionProxy,
    zk_hosts: str,
    zk_chroot: str,
    tmp_path: Path,
    registry: ResourceTypeRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A partition shorter than the session: SUSPENDED, no cloud call at all (not even
    a poll: docs/operators.md), then on it goes with the same session.

    The calls are counted from the moment the step is held by ``Fence.guard`` (its
    log line): a poll whose guard passed just before the partition may still land
    after the connection dropped, and is no breach of the rule."""
    caplog.set_level(logging.INFO, logger="cool.store.fence")
    db = tmp_path / "sim.db"
    template = """
heat_template_version: wallaby
resources:
  slow: {type: OS::Neutron::Net, properties: {name: slow}}
  after: {type: OS::Neutron::Net, depends_on: slow}
"""

    def held() -> bool:
        return any(
            build_id in r.getMessage() and "holding a cloud call" in r.getMessage()
            for r in caplog.records
        )

    # A guard holds a step for up to guard_wait_s: longer than the partition, by far.
    patient = dataclasses.replace(FAST, runner=dataclasses.replace(FAST.runner, guard_wait_s=15.0))
    through_proxy = zk_proxy.hosts + zk_chroot
    with (
        open_store(zk_hosts) as store,
        running_worker(
            through_proxy,
            db,
            settings=patient,
            worker_id="w",
            latency_s=3.0,
            session_timeout_s=20.0,
        ) as worker,
    ):
        build_id = submit(store, registry, template)
        assert_eventually(
            lambda: (
                (record := store.resources(build_id).get("slow")) is not None
                and record[0].physical_id is not None
            ),
            timeout_s=20,
        )
        session_id = worker.session.session_id
        try:
            zk_proxy.partition()
            with SimProvider(db) as sim:
                (slow,) = sim.live_resources(build_id)
            # The premise: 'slow' was not ready yet, so 'after' is wanted while cut off.
            assert time.time() < slow.ready_at, "the partition came after 'slow' was ready"
            assert_eventually(lambda: worker.session.connection is Connection.SUSPENDED)
            assert_eventually(held, message="the step is held by Fence.guard")
            with SimProvider(db) as sim:
                mark = sim.last_call_id()
            # Long enough for 'slow' to become ready, and for polls to be due.
            assert_eventually(lambda: time.time() > slow.ready_at + 0.5, timeout_s=10)
            with SimProvider(db) as sim:
                assert sim.calls(caller="w", after_id=mark) == []
        finally:
            zk_proxy.heal()
        state = wait_terminal(store, build_id, timeout_s=30)
        assert worker.session.session_id == session_id  # the same session carried on
    assert state.status is BuildStatus.CREATE_COMPLETE
    lease_claims = 1
    with open_store(zk_hosts) as store:
        assert store.lease_data(build_id)[0]["claims"] == lease_claims
