"""Server groups, flavors and Nova's floating IP association on the simulated cloud:
members and hosts as the group's policy says, flavor names unique in the cloud, the
association on the server's first port."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError, StepContext
from cool.clouds.sim.nova import HOSTS
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import ctx

GROUP, SERVER, FLAVOR = "OS::Nova::ServerGroup", "OS::Nova::Server", "OS::Nova::Flavor"
NET, SUBNET = "OS::Neutron::Net", "OS::Neutron::Subnet"
FIP, ASSOCIATION = "OS::Neutron::FloatingIP", "OS::Nova::FloatingIPAssociation"


def _group(sim: SimProvider, policy: str, **rules: int) -> str:
    props = {"policies": [policy], "rules": rules}
    return sim.create(ctx(f"group-{policy}", GROUP), props)


def _server(sim: SimProvider, name: str, group: str | None = None) -> str:
    props = {"flavor": "m1.tiny", "image": "cirros"}
    if group is not None:
        props["scheduler_hints"] = {"group": group}
    return sim.create(ctx(name, SERVER), props)


def _host(sim: SimProvider, name: str, physical_id: str) -> str:
    attributes = sim.observe(ctx(name, SERVER), physical_id).attributes
    return str(attributes["OS-EXT-SRV-ATTR:hypervisor_hostname"])


def test_sim_anti_affinity_spreads_members_until_no_host_is_left(sim: SimProvider) -> None:
    group = _group(sim, "anti-affinity")
    servers = {f"s{i}": _server(sim, f"s{i}", group) for i in range(HOSTS)}
    assert len({_host(sim, name, sid) for name, sid in servers.items()}) == HOSTS
    observed = sim.observe(ctx("group-anti-affinity", GROUP), group)
    assert sorted(observed.attributes["members"]) == sorted(servers.values())
    assert observed.attributes["policies"] == ["anti-affinity"]
    with pytest.raises(ProviderError, match="No valid host was found"):
        _server(sim, "one-too-many", group)
    sim.delete(ctx("s0", SERVER), servers["s0"])  # a host is free again
    _server(sim, "one-too-many", group)
    members = sim.observe(ctx("group-anti-affinity", GROUP), group).attributes["members"]
    assert servers["s0"] not in members
    assert len(members) == HOSTS


def test_sim_anti_affinity_rule_allows_more_per_host(sim: SimProvider) -> None:
    group = _group(sim, "anti-affinity", max_server_per_host=2)
    for i in range(2 * HOSTS):
        _server(sim, f"s{i}", group)
    with pytest.raises(ProviderError, match="every host has 2 server"):
        _server(sim, "extra", group)


def test_sim_affinity_keeps_members_on_one_host(sim: SimProvider) -> None:
    group = _group(sim, "affinity")
    hosts = {_host(sim, f"s{i}", _server(sim, f"s{i}", group)) for i in range(3)}
    assert len(hosts) == 1
    alone = _server(sim, "alone")  # no group: placed as before
    assert _host(sim, "alone", alone).startswith("sim-compute-")


def test_sim_flavor_names_and_ids_are_unique_in_the_cloud(sim: SimProvider) -> None:
    props = {"name": "small", "ram": 512, "vcpus": 1, "flavorid": "small.1"}
    first = sim.create(StepContext("B1", "flavor", FLAVOR, "one"), props)
    observed = sim.observe(StepContext("B1", "flavor", FLAVOR, "one"), first)
    assert observed.reference == "small.1"  # get_resource gives Nova's flavor id
    assert observed.attributes["is_public"] is True
    assert observed.attributes["extra_specs"] == {}
    for changed in ({}, {"name": "other"}):
        with pytest.raises(ResourceExistsError, match="already exists"):
            sim.create(StepContext("B2", "flavor", FLAVOR, "two"), {**props, **changed})
    sim.delete(StepContext("B1", "flavor", FLAVOR, "one"), first)
    sim.create(StepContext("B2", "flavor", FLAVOR, "two"), props)  # free again


def test_sim_private_flavor_is_granted_to_the_build_project(sim: SimProvider) -> None:
    props = {"ram": 512, "vcpus": 2, "is_public": False, "extra_specs": {"hw:numa_nodes": 1}}
    step = ctx("flavor", FLAVOR)
    flavor = sim.create(step, props)
    attributes = sim.observe(step, flavor).attributes
    assert attributes["tenants"] == ["demo"]
    assert attributes["extra_specs"] == {"hw:numa_nodes": "1"}
    assert sim.observe(step, flavor).reference is None  # no flavorid: the physical id


def test_sim_nova_association_takes_the_servers_first_port(sim: SimProvider) -> None:
    net = sim.create(ctx("net", NET), {})
    sim.create(ctx("subnet", SUBNET), {"network": net, "cidr": "10.9.0.0/24", "ip_version": 4})
    props = {"flavor": "m1.tiny", "image": "cirros", "networks": [{"network": net}]}
    server = sim.create(ctx("web", SERVER), props)
    fip = sim.create(ctx("fip", FIP), {"floating_network": "public"})
    step = ctx("assoc", ASSOCIATION)
    association = sim.create(step, {"floating_ip": fip, "server_id": server})
    attributes = sim.observe(step, association).attributes
    address = sim.observe(ctx("web", SERVER), server).attributes["first_address"]
    assert attributes["fixed_ip_address"] == address
    assert attributes["port_id"]
    bare = sim.create(ctx("bare", SERVER), {**props, "networks": [{"allocate_network": "none"}]})
    with pytest.raises(ProviderError, match="has no port"):
        sim.create(ctx("assoc2", ASSOCIATION), {"floating_ip": fip, "server_id": bare})
