"""A resource with an ``external_id``: an existing sim network stands for it, on real
workers and a real ZooKeeper. It is never created, found by tags or deleted: not on
delete, not on rollback, not after a takeover."""

from __future__ import annotations

from pathlib import Path

import pytest

from cool.clouds.base import StepContext
from cool.clouds.sim.provider import SimProvider, SimStatus
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.control import Requests
from tests.worker.helpers import (
    event_lines,
    open_store,
    running_worker,
    statuses,
    submit,
    wait_terminal,
)
from tests.zk import assert_eventually, expire_session

NET = "OS::Neutron::Net"
OWNER = "01HXAAAAAAAAAAAAAAAAAAAAAA"  # a build that is no build of these tests

ADOPTS_A_NETWORK = """
heat_template_version: 2016-10-14
parameters:
  net_id: {type: string}
resources:
  net:
    type: OS::Neutron::Net
    external_id: {get_param: net_id}
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: 10.0.0.0/24
  named:
    type: OS::Heat::Value
    properties:
      value: {get_attr: [net, name]}
outputs:
  net_name: {value: {get_attr: [net, name]}}
  named: {value: {get_attr: [named, value]}}
"""

FAILS_AFTER_ADOPTING = """
heat_template_version: 2016-10-14
parameters:
  net_id: {type: string}
resources:
  net:
    type: OS::Neutron::Net
    external_id: {get_param: net_id}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}}
  broken:
    type: OS::Heat::TestResource
    depends_on: port
    properties: {fail: true}
"""


def _shared_network(sim: SimProvider) -> str:
    """A network made out of band (no build of the tests owns it)."""
    return sim.create(StepContext(OWNER, "shared", NET, project_id="p1"), {"name": "shared-net"})


def _untouched(sim: SimProvider, net_id: str, build_id: str) -> None:
    """The network is live, and the build made no call that creates, finds or deletes
    for it (it only observed it)."""
    row = sim.resource(net_id)
    assert row is not None
    assert row.status is SimStatus.ACTIVE
    assert row.build_id == OWNER
    actions = {call.action for call in sim.calls(build_id=build_id, resource_name="net")}
    assert actions <= {"observe"}, actions
    assert [r.physical_id for r in sim.live_resources(OWNER)] == [net_id]


# Unfenced: a cloud that cannot check claim epochs, where the runner re-checks each
# step's tags before a terminal status (it must not look for an external resource).
@pytest.mark.parametrize("fencing", [True, False], ids=["fenced", "unfenced"])
def test_external_network_is_adopted_read_and_retained_on_delete(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, fencing: bool
) -> None:
    db = tmp_path / "sim.db"
    with (
        SimProvider(db, fencing=fencing) as sim,
        open_store(zk_hosts) as store,
        running_worker(zk_hosts, db, fencing=fencing),
    ):
        net_id = _shared_network(sim)
        build_id = submit(store, registry, ADOPTS_A_NETWORK, {"net_id": net_id})
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state
        records = {name: rec for name, (rec, _) in store.resources(build_id).items()}
        assert records["net"].physical_id == net_id
        assert records["net"].attributes["name"] == "shared-net"
        subnet = sim.resource(records["subnet"].physical_id or "")
        assert subnet is not None
        assert subnet.properties["network"] == net_id
        assert state.outputs is not None
        assert state.outputs["net_name"]["value"] == "shared-net"
        assert state.outputs["named"]["value"] == "shared-net"

        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
        lines = event_lines(store, build_id)
        assert state.status is BuildStatus.DELETE_COMPLETE, state
        assert recorded == {
            "net": "RETAINED",
            "subnet": "DELETE_COMPLETE",
            "named": "DELETE_COMPLETE",
        }
        assert ("net", "CREATE_COMPLETE", "RETAINED") in lines
        assert sim.live_resources(build_id) == []
        _untouched(sim, net_id, build_id)


def test_external_id_the_cloud_lacks_fails_the_build_with_heat_s_note(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim, open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, ADOPTS_A_NETWORK, {"net_id": "no-such-net"})
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
        assert state.status is BuildStatus.ROLLBACK_COMPLETE, state
        assert state.note is not None
        assert state.note["resource"] == "net"
        assert state.note["error"] == (
            "Invalid external resource: Resource no-such-net (OS::Neutron::Net) can not be found."
        )
        assert recorded == {"net": "RETAINED"}  # nothing else started
        assert sim.live_resources(build_id) == []
        creates = sim.calls(action="create", build_id=build_id)
        assert creates == []


def test_rollback_leaves_the_external_network_alone(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim, open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        net_id = _shared_network(sim)
        build_id = submit(store, registry, FAILS_AFTER_ADOPTING, {"net_id": net_id})
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
        assert state.status is BuildStatus.ROLLBACK_COMPLETE, state
        assert recorded == {
            "net": "RETAINED",
            "port": "DELETE_COMPLETE",
            "broken": "DELETE_COMPLETE",
        }
        assert sim.live_resources(build_id) == []
        _untouched(sim, net_id, build_id)


def test_takeover_mid_step_observes_the_external_id_and_creates_nothing(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The old owner is held inside its first look at the network, then loses its
    session; the new owner goes on from the recorded id."""
    db, release = tmp_path / "sim.db", tmp_path / "release"
    with SimProvider(db) as sim, open_store(zk_hosts) as store:
        net_id = _shared_network(sim)
        switch = sim.hold("net", "observe", release=release)
        with running_worker(zk_hosts, db, worker_id="old") as old:
            try:
                build_id = submit(store, registry, ADOPTS_A_NETWORK, {"net_id": net_id})
                assert_eventually(lambda: switch not in sim.armed(), timeout_s=30)
                assert statuses(store, build_id) == {"net": "CREATE_IN_PROGRESS"}
                old.drain()
                expire_session(old.session.client)
                with running_worker(zk_hosts, db, worker_id="new"):
                    state = wait_terminal(store, build_id)
            finally:
                release.touch()  # the old owner's held look ends, whatever happened
        assert state.status is BuildStatus.CREATE_COMPLETE, state
        records = {name: rec for name, (rec, _) in store.resources(build_id).items()}
        assert records["net"].physical_id == net_id
        _untouched(sim, net_id, build_id)
