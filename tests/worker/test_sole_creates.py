"""A resource made by one create answered at its first try (``sole``) is not looked
up by its tags again, on a cloud that cannot refuse a stale create (the sim with
``fencing=False``): neither by the re-check before a terminal status nor by its
delete. One whose create's outcome was not known at once is, every time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cool.clouds.sim.faults import FailureMode
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.store.records import ResourceRecord
from tests.worker.helpers import open_store, running_worker, submit, wait_terminal

THREE = """
heat_template_version: wallaby
resources:
  z: {type: OS::Neutron::Net}
  x: {type: OS::Neutron::Net, depends_on: z}
  y: {type: OS::Neutron::Net, depends_on: x}
"""


@contextmanager
def _unfenced(zk_hosts: str, tmp_path: Path) -> Iterator[tuple[SimProvider, BuildStore]]:
    """The sim without fencing tokens, a store, and a worker on both."""
    db = tmp_path / "sim.db"
    with (
        SimProvider(db, fencing=False) as sim,
        open_store(zk_hosts) as store,
        running_worker(zk_hosts, db, fencing=False),
    ):
        yield sim, store


def _finds(sim: SimProvider, build_id: str) -> list[str]:
    return [c.resource_name for c in sim.calls(action="find", build_id=build_id)]


def test_a_build_with_every_create_answered_at_once_makes_no_find(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with _unfenced(zk_hosts, tmp_path) as (sim, store):
        build_id = submit(store, registry, THREE)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        records = {name: record for name, (record, _) in store.resources(build_id).items()}
        assert all(record.sole for record in records.values())
        assert _finds(sim, build_id) == []

        Requests(store).delete(build_id)
        assert wait_terminal(store, build_id).status is BuildStatus.DELETE_COMPLETE
        assert _finds(sim, build_id) == []
        assert sim.live_resources(build_id) == []


def test_a_create_whose_reply_was_lost_is_looked_up_at_every_turn(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with _unfenced(zk_hosts, tmp_path) as (sim, store):
        # x is made, but its reply is lost: the retry finds it by its tags.
        sim.arm("x", "create", mode=FailureMode.LOST_REPLY)
        build_id = submit(store, registry, THREE)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        records = {name: record for name, (record, _) in store.resources(build_id).items()}
        assert {name for name, record in records.items() if not record.sole} == {"x"}
        # The retry's find, then the re-check before CREATE_COMPLETE: x's alone.
        assert _finds(sim, build_id) == ["x", "x"]
        assert sim.duplicates(build_id) == []

        Requests(store).delete(build_id)
        assert wait_terminal(store, build_id).status is BuildStatus.DELETE_COMPLETE
        # Its delete's find, and the re-check after the teardown.
        assert _finds(sim, build_id) == ["x", "x", "x", "x"]
        assert sim.live_resources(build_id) == []


def test_the_flag_is_written_only_when_set() -> None:
    plain = ResourceRecord("a", "OS::Neutron::Net", ResourceStatus.CREATE_COMPLETE)
    assert "sole" not in plain.to_dict()
    assert ResourceRecord.from_dict(plain.to_dict()).sole is False
    flagged = plain.but(sole=True)
    assert flagged.to_dict()["sole"] is True
    assert ResourceRecord.from_dict(flagged.to_dict()).sole is True
