"""A late create by a zombie: a worker frozen inside a create call lands it after its
claim moved on (finding 6 of issue 15). The sim holds the old owner's create until
the test lets it land; the old owner's session is expired meanwhile, as a SIGSTOP
past the session timeout would.

With fencing tokens (the sim's default) the late create is refused whenever it
lands; with a cloud that cannot check them (``fencing=False``) the new owner's
re-check before its terminal status deletes what the create left.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from tests.worker.helpers import open_store, running_worker, submit, wait_terminal
from tests.zk import assert_eventually, expire_session

ONE = """
heat_template_version: wallaby
resources:
  x: {type: OS::Neutron::Net}
"""

TWO = """
heat_template_version: wallaby
resources:
  z: {type: OS::Neutron::Net}
  x: {type: OS::Neutron::Net, depends_on: z}
  y: {type: OS::Neutron::Net, depends_on: x}
"""


def _landed(sim: SimProvider) -> str:
    """The outcome of the old owner's late create, once it is recorded."""
    calls = sim.calls(action="create", resource_name="x", caller="old")
    return calls[-1].outcome if calls else ""


@contextmanager
def _frozen_old_owner(
    hosts: str,
    sim: SimProvider,
    store: BuildStore,
    registry: ResourceTypeRegistry,
    template: str,
    *releases: Path,
) -> Iterator[str]:
    """Yields the build id once the old owner is inside x's held create (the first of
    ``releases`` lets it land), drained and with its session expired. Every release is
    touched on the way out, so no held call outlives the test."""
    switch = sim.hold("x", "create", release=releases[0])
    try:
        fencing = sim.fences_creates
        with running_worker(hosts, sim.db_path, worker_id="old", fencing=fencing) as old:
            build_id = submit(store, registry, template)
            assert_eventually(lambda: switch not in sim.armed(), timeout_s=30)
            old.drain()
            expire_session(old.session.client)
            yield build_id
    finally:
        for release in releases:
            release.touch()


def test_late_create_refused_by_the_fencing_token_after_the_new_owner_finished(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db, release = tmp_path / "sim.db", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        with _frozen_old_owner(zk_hosts, sim, store, registry, ONE, release) as build_id:
            with running_worker(zk_hosts, db, worker_id="new", fencing=True):
                state = wait_terminal(store, build_id)
            release.touch()
            outcome = assert_eventually(lambda: _landed(sim), timeout_s=30)
        _assert_one_x(store, sim, build_id, state.status, BuildStatus.CREATE_COMPLETE)
    assert "fencing token 1" in outcome


def test_late_create_refused_by_the_fencing_token_after_a_delete_finished(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db, release = tmp_path / "sim.db", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        with _frozen_old_owner(zk_hosts, sim, store, registry, ONE, release) as build_id:
            Requests(store).delete(build_id)
            with running_worker(zk_hosts, db, worker_id="new", fencing=True):
                state = wait_terminal(store, build_id)
            release.touch()
            outcome = assert_eventually(lambda: _landed(sim), timeout_s=30)
        assert state.status is BuildStatus.DELETE_COMPLETE
        assert "fencing token 1" in outcome
        assert sim.live_resources(build_id) == []


def test_late_create_on_an_unfenced_cloud_is_deleted_by_the_recheck_before_complete(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The late create lands after the new owner created ``x``, before it finishes."""
    db, late, last = tmp_path / "sim.db", tmp_path / "late", tmp_path / "last"
    with SimProvider(db, fencing=False) as sim, open_store(zk_hosts) as store:
        last_switch = sim.hold("y", "create", release=last)
        with (
            _frozen_old_owner(zk_hosts, sim, store, registry, TWO, late, last) as build_id,
            running_worker(zk_hosts, db, worker_id="new", fencing=False),
        ):
            assert_eventually(lambda: last_switch not in sim.armed(), timeout_s=30)
            late.touch()  # the zombie's create lands: a duplicate of x, for now
            assert assert_eventually(lambda: _landed(sim), timeout_s=30) == "ok"
            assert [line.resource_name for line in sim.duplicates(build_id)] == ["x"]
            last.touch()
            state = wait_terminal(store, build_id)
        _assert_one_x(store, sim, build_id, state.status, BuildStatus.CREATE_COMPLETE)
        reasons = [e.reason for _, e in store.events(build_id) if e.resource == "x"]
    assert any("landed late" in reason for reason in reasons)


def test_late_create_on_an_unfenced_cloud_is_deleted_by_the_recheck_after_a_delete(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The late create lands after the new owner deleted ``x``, before the delete ends."""
    db, late, last = tmp_path / "sim.db", tmp_path / "late", tmp_path / "last"
    with SimProvider(db, fencing=False) as sim, open_store(zk_hosts) as store:
        with _frozen_old_owner(zk_hosts, sim, store, registry, TWO, late, last) as build_id:
            last_switch = sim.hold("z", "delete", release=last)
            Requests(store).delete(build_id)
            with running_worker(zk_hosts, db, worker_id="new", fencing=False):
                assert_eventually(lambda: last_switch not in sim.armed(), timeout_s=30)
                late.touch()  # x is torn down already: the zombie's create lands
                assert assert_eventually(lambda: _landed(sim), timeout_s=30) == "ok"
                last.touch()
                state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.DELETE_COMPLETE, state.reason
        assert sim.live_resources(build_id) == []


def _assert_one_x(
    store: BuildStore, sim: SimProvider, build_id: str, status: BuildStatus, want: BuildStatus
) -> None:
    assert status is want
    record, _ = store.resources(build_id)["x"]
    assert sim.duplicates(build_id) == []
    live = [r.physical_id for r in sim.live_resources(build_id) if r.resource_name == "x"]
    assert live == [record.physical_id]
