"""Trunks and Nova floating IPs on the simulated cloud: a port in one trunk at most,
each segmentation once per trunk, a floating IP from its pool that Nova's association
takes."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import ctx

NET, PORT, SERVER = "OS::Neutron::Net", "OS::Neutron::Port", "OS::Nova::Server"
TRUNK, NOVA_FIP = "OS::Neutron::Trunk", "OS::Nova::FloatingIP"
ASSOCIATION = "OS::Nova::FloatingIPAssociation"


def _ports(sim: SimProvider, count: int) -> list[str]:
    net = sim.create(ctx("net", NET), {})
    return [sim.create(ctx(f"port{i}", PORT), {"network": net}) for i in range(count)]


def _sub(port: str, vlan: int) -> dict[str, object]:
    return {"port": port, "segmentation_type": "vlan", "segmentation_id": vlan}


def test_sim_trunk_shows_its_parent_and_sub_ports(sim: SimProvider) -> None:
    parent, sub = _ports(sim, 2)
    props = {"port": parent, "sub_ports": [_sub(sub, 101)], "description": "vlans"}
    trunk = sim.create(ctx("trunk", TRUNK), props)
    observed = sim.observe(ctx("trunk", TRUNK), trunk)
    assert observed.ready
    assert observed.attributes["port_id"] == parent
    assert observed.attributes["status"] == "ACTIVE"
    assert observed.attributes["sub_ports"] == [
        {"port_id": sub, "segmentation_type": "vlan", "segmentation_id": 101}
    ]
    assert [f.physical_id for f in sim.find(ctx("trunk", TRUNK))] == [trunk]


def test_sim_trunk_takes_a_port_once_and_a_segmentation_once(sim: SimProvider) -> None:
    parent, one, two, other = _ports(sim, 4)
    with pytest.raises(ProviderError, match="segmentation_id 7 already in use") as caught:
        sim.create(ctx("bad", TRUNK), {"port": parent, "sub_ports": [_sub(one, 7), _sub(two, 7)]})
    assert not caught.value.retryable
    trunk = sim.create(ctx("trunk", TRUNK), {"port": parent, "sub_ports": [_sub(one, 7)]})
    for props in ({"port": parent}, {"port": other, "sub_ports": [_sub(one, 8)]}):
        with pytest.raises(ProviderError, match=f"in use by trunk {trunk}"):
            sim.create(ctx("again", TRUNK), props)
    sim.delete(ctx("trunk", TRUNK), trunk)  # its ports are free again
    sim.create(ctx("again", TRUNK), {"port": other, "sub_ports": [_sub(one, 8)]})


def test_sim_nova_floating_ip_is_from_its_pool_and_associates(sim: SimProvider) -> None:
    fip = sim.create(ctx("fip", NOVA_FIP), {"pool": "ext-net"})
    attributes = sim.observe(ctx("fip", NOVA_FIP), fip).attributes
    assert attributes["pool"] == "ext-net"
    assert attributes["ip"] == attributes["show"]["floating_ip_address"]
    bare = sim.create(ctx("bare", NOVA_FIP), {})
    assert sim.observe(ctx("bare", NOVA_FIP), bare).attributes["pool"] == "public"
    assert attributes["ip"] != sim.observe(ctx("bare", NOVA_FIP), bare).attributes["ip"]

    server = sim.create(ctx("server", SERVER), {"flavor": "m1.tiny", "image": "cirros"})
    props = {"floating_ip": fip, "server_id": server}
    association = sim.create(ctx("assoc", ASSOCIATION), props)
    shown = sim.observe(ctx("assoc", ASSOCIATION), association).attributes
    assert shown["floating_ip_address"] == attributes["ip"]
    assert shown["port_id"] is not None
