"""The simulated cloud's made-up attributes: consistent, unique where a cloud's are."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from cool.clouds.base import ProviderError
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import BUILD, NET, TYPE_OF, WORLD, build_world, ctx, observe


def test_sim_attributes_agree_with_each_other(sim: SimProvider) -> None:
    ids = build_world(sim)
    subnet, port = observe(sim, ids, "subnet"), observe(sim, ids, "port")
    address = port["fixed_ips"][0]["ip_address"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet["cidr"])
    assert address != subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert port["fixed_ips"][0]["subnet_id"] == ids["subnet"]
    assert port["mac_address"].startswith("fa:16:3e:")
    assert observe(sim, ids, "net")["subnets"] == [ids["subnet"]]
    assert observe(sim, ids, "router_interface")["ip_address"] == "10.0.0.1"

    server = observe(sim, ids, "server")
    assert server["first_address"] == address
    assert server["networks"] == {"private": [address], ids["net"]: [address]}
    assert server["addresses"]["private"][0]["OS-EXT-IPS-MAC:mac_addr"] == port["mac_address"]
    assert server["name"] == f"cool-{BUILD.lower()}-server"  # no name given: cloud_name

    floating = observe(sim, ids, "floating_ip")  # associated by the association
    assert floating["port_id"] == ids["port"]
    assert floating["fixed_ip_address"] == address
    assert ipaddress.ip_address(floating["floating_ip_address"]) in ipaddress.ip_network(
        "100.64.0.0/10"
    )
    key = observe(sim, ids, "key")
    assert key["name"] == "demo-key"
    assert key["public_key"].startswith("ssh-ed25519 ")
    assert "SIMULATED" not in key["public_key"]
    assert key["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")

    volume = observe(sim, ids, "volume")
    assert (volume["size"], volume["status"]) == ("2", "in-use")
    assert volume["attachments_list"][0]["server_id"] == ids["server"]
    assert observe(sim, ids, "volume_attachment")["device"] == "/dev/vdb"
    sim.delete(ctx("volume_attachment", TYPE_OF["volume_attachment"]), ids["volume_attachment"])
    assert observe(sim, ids, "volume")["status"] == "available"


def test_sim_addresses_and_macs_are_unique(sim: SimProvider) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    subnet = sim.create(
        ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.1.0.0/24"}
    )
    ports = [sim.create(ctx(f"port{i}", "OS::Neutron::Port"), {"network": net}) for i in range(60)]
    seen = [sim.observe(ctx(f"port{i}", "OS::Neutron::Port"), p) for i, p in enumerate(ports)]
    addresses = [o.attributes["fixed_ips"][0]["ip_address"] for o in seen]
    assert len(set(addresses)) == 60
    assert "10.1.0.1" not in addresses  # the gateway
    assert all(o.attributes["fixed_ips"][0]["subnet_id"] == subnet for o in seen)
    assert len({o.attributes["mac_address"] for o in seen}) == 60
    floating = [
        sim.create(ctx(f"fip{i}", "OS::Neutron::FloatingIP"), {"floating_network": "public"})
        for i in range(30)
    ]
    found = {
        sim.observe(ctx(f"fip{i}", "OS::Neutron::FloatingIP"), f).attributes["floating_ip_address"]
        for i, f in enumerate(floating)
    }
    assert len(found) == 30


def test_sim_explicit_address_is_refused_while_taken_and_free_once_deleted(
    sim: SimProvider,
) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    subnet = sim.create(
        ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.2.0.0/24"}
    )
    wanted = {"network": net, "fixed_ips": [{"subnet": subnet, "ip_address": "10.2.0.50"}]}
    first = sim.create(ctx("a", "OS::Neutron::Port"), wanted)
    with pytest.raises(ProviderError, match="already allocated") as raised:
        sim.create(ctx("b", "OS::Neutron::Port"), wanted)
    assert not raised.value.retryable
    assert sim.find(ctx("b", "OS::Neutron::Port")) == []  # nothing half-made
    sim.delete(ctx("a", "OS::Neutron::Port"), first)
    sim.create(ctx("b", "OS::Neutron::Port"), wanted)


def test_sim_small_subnet_runs_out_and_reuses_freed_addresses(sim: SimProvider) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    sim.create(ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.3.0.0/29"})
    ports = [sim.create(ctx(f"p{i}", "OS::Neutron::Port"), {"network": net}) for i in range(5)]
    with pytest.raises(ProviderError, match="No more IP addresses"):
        sim.create(ctx("p5", "OS::Neutron::Port"), {"network": net})
    sim.delete(ctx("p2", "OS::Neutron::Port"), ports[2])
    again = sim.create(ctx("p5", "OS::Neutron::Port"), {"network": net})
    fixed_ips = sim.observe(ctx("p5", "OS::Neutron::Port"), again).attributes["fixed_ips"]
    assert [f["ip_address"] for f in fixed_ips] == ["10.3.0.4"]  # p2's, freed


@pytest.mark.parametrize(
    ("properties", "cidr", "gateway", "pools"),
    [
        (
            {"cidr": "10.5.0.0/24", "gateway_ip": ""},
            "10.5.0.0/24",
            None,
            [("10.5.0.1", "10.5.0.254")],
        ),
        (
            {"cidr": "10.5.0.0/24", "gateway_ip": "10.5.0.254"},
            "10.5.0.0/24",
            "10.5.0.254",
            [("10.5.0.1", "10.5.0.253")],
        ),
        (
            {"cidr": "fd00::/64", "ip_version": 6},
            "fd00::/64",
            "fd00::1",
            [("fd00::2", "fd00::ffff:ffff:ffff:ffff")],
        ),
        (
            {"subnetpool": "pool", "prefixlen": 26},
            "10.128.0.0/26",
            "10.128.0.1",
            [("10.128.0.2", "10.128.0.62")],
        ),
    ],
)
def test_sim_subnet_ranges_gateways_and_pools(
    sim: SimProvider,
    properties: dict[str, Any],
    cidr: str,
    gateway: str | None,
    pools: list[tuple[str, str]],
) -> None:
    net = sim.create(ctx("net", NET), {})
    subnet = sim.create(ctx("subnet", "OS::Neutron::Subnet"), {"network": net, **properties})
    attributes = sim.observe(ctx("subnet", "OS::Neutron::Subnet"), subnet).attributes
    assert (attributes["cidr"], attributes["gateway_ip"]) == (cidr, gateway)
    assert [(p["start"], p["end"]) for p in attributes["allocation_pools"]] == pools
    assert attributes["ip_version"] == ipaddress.ip_network(cidr).version
    port = sim.create(ctx("port", "OS::Neutron::Port"), {"network": net})
    fixed = sim.observe(ctx("port", "OS::Neutron::Port"), port).attributes["fixed_ips"]
    assert [f["ip_address"] for f in fixed] == [pools[0][0]]


@pytest.mark.parametrize(
    ("resource_type", "properties", "why"),
    [
        ("OS::Neutron::Subnet", {"network": None, "cidr": "10.0.0.0/24"}, "network is required"),
        ("OS::Neutron::Subnet", {"network": "private", "cidr": "not-a-cidr"}, "bad request"),
        ("OS::Cinder::VolumeAttachment", {"volume_id": "v"}, "instance_uuid is required"),
        ("OS::Nova::Server", {"image": "cirros"}, "flavor is required"),
    ],
)
def test_sim_refuses_bad_requests_without_creating(
    sim: SimProvider, resource_type: str, properties: dict[str, Any], why: str
) -> None:
    step = ctx("bad", resource_type)
    with pytest.raises(ProviderError, match=why) as raised:
        sim.create(step, properties)
    assert not raised.value.retryable
    assert sim.find(step) == []
    assert why in sim.calls(action="create")[-1].outcome


def test_sim_reference_to_a_deleted_resource_is_not_found(sim: SimProvider) -> None:
    net = sim.create(ctx("net", "OS::Neutron::Net"), {})
    sim.delete(ctx("net", "OS::Neutron::Net"), net)
    with pytest.raises(ProviderError, match=f"Net {net} could not be found"):
        sim.create(ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.4.0.0/24"})


def test_sim_pretends_external_networks_exist(sim: SimProvider) -> None:
    server = sim.create(ctx("s", "OS::Nova::Server"), {"flavor": "f", "image": "i"})
    attributes = sim.observe(ctx("s", "OS::Nova::Server"), server).attributes
    assert list(attributes["networks"]) == ["private"]
    assert ipaddress.ip_address(attributes["first_address"]) in ipaddress.ip_network(
        "10.254.0.0/16"
    )


# -- what get_resource gives ------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name, _, _ in WORLD])
def test_sim_reference_is_what_heat_gives(sim: SimProvider, name: str) -> None:
    ids = build_world(sim)
    observed = sim.observe(ctx(name, TYPE_OF[name]), ids[name])
    expected = {  # Heat's get_reference_id; the others give their id
        "key": "demo-key",
        "router_interface": f"{ids['router']}:subnet_id={ids['subnet']}",
        "router_gateway": f"{ids['router']}:public",
        "ks_region": "east%201",  # Keystone's id: the template's, URL-encoded
        "launch_config": ctx("launch_config", TYPE_OF["launch_config"]).cloud_name,
        "encrypted_volume_type": ids["volume_type"],
    }.get(name)
    assert observed.reference == expected


def test_sim_router_interface_on_a_port_refers_to_the_port(sim: SimProvider) -> None:
    router = sim.create(ctx("router", "OS::Neutron::Router"), {})
    port = sim.create(ctx("port", "OS::Neutron::Port"), {"network": "private"})
    step = ctx("interface", "OS::Neutron::RouterInterface")
    interface = sim.create(step, {"router": router, "port": port})
    assert sim.observe(step, interface).reference == f"{router}:port_id={port}"
