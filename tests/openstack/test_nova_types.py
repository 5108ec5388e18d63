"""OS::Nova::ServerGroup, OS::Nova::Flavor and OS::Nova::FloatingIPAssociation against
the mini cloud's real Nova and Neutron: what each creates, how a step finds it again by
its mark (and only its own), what a refusal says, and that a delete leaves the project
(or the cloud) as it was."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError, ResourceFailedError
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import (
    Project,
    made,
    new_build_id,
    unique,
    until_deleted,
    until_ready,
)

pytestmark = pytest.mark.openstack

NET, SUBNET, ROUTER = "OS::Neutron::Net", "OS::Neutron::Subnet", "OS::Neutron::Router"
INTERFACE, FIP, SERVER = (
    "OS::Neutron::RouterInterface",
    "OS::Neutron::FloatingIP",
    "OS::Nova::Server",
)
GROUP, FLAVOR = "OS::Nova::ServerGroup", "OS::Nova::Flavor"
ASSOCIATION = "OS::Nova::FloatingIPAssociation"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


@pytest.fixture
def admin(mini_cloud: MiniCloud) -> Project:
    """A project whose user has Keystone's admin role (Nova's flavor policy wants it)."""
    return Project.create(mini_cloud, "adm", admin=True)


def _server(
    member: Project, mini_cloud: MiniCloud, build: str, name: str, network: str, **extra: object
) -> tuple[str, object]:
    props = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "networks": [{"network": network}],
        **extra,
    }
    ctx = member.ctx(name, SERVER, props, build_id=build)
    physical_id = member.provider().create(ctx, props)
    return physical_id, until_ready(member.provider(), ctx, physical_id, timeout_s=90)


def _network(member: Project, build: str, cidr: str) -> dict[str, str]:
    provider = member.provider()
    net, _ = made(provider, member.ctx("net", NET, {}, build_id=build))
    props = {"network": net, "cidr": cidr, "ip_version": 4}
    subnet, _ = made(provider, member.ctx("subnet", SUBNET, props, build_id=build))
    return {"net": net, "subnet": subnet}


def _delete(member: Project, build: str, steps: list[tuple[str, str, str]]) -> None:
    provider = member.provider()
    for name, kind, physical_id in steps:
        ctx = member.ctx(name, kind, build_id=build)
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id, timeout_s=90)


# -- OS::Nova::ServerGroup -----------------------------------------------------


def test_an_anti_affinity_group_holds_its_server_and_refuses_a_second_host(
    member: Project, mini_cloud: MiniCloud
) -> None:
    """scheduler_hints reach Nova: the group lists its server; the mini cloud has one
    compute host, so a second member of an anti-affinity group fails with Nova's fault."""
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    ids = _network(member, build, "10.60.0.0/24")
    props = {"name": "web-group", "policies": ["anti-affinity"]}
    group_ctx = member.ctx("group", GROUP, props, build_id=build)
    group, observed = made(provider, group_ctx)
    assert observed.attributes["name"] == "web-group"
    assert observed.attributes["policies"] == ["anti-affinity"]
    assert observed.attributes["members"] == []
    shown = member.conn.compute.get_server_group(group)
    assert shown.name == f"web-group (cool-build={build},cool-resource=group)"
    assert [f.physical_id for f in provider.find(group_ctx)] == [group]

    hints = {"scheduler_hints": {"group": group}}
    web, observed = _server(member, mini_cloud, build, "web", ids["net"], **hints)
    assert observed.ready, observed
    assert member.conn.compute.get_server_group(group).member_ids == [web]
    assert until_ready(provider, group_ctx, group).attributes["members"] == [web]
    other, observed = _server(member, mini_cloud, build, "other", ids["net"], **hints)
    assert not observed.ready
    assert observed.failed is not None
    assert "No valid host was found" in observed.failed

    _delete(member, build, [("other", SERVER, other), ("web", SERVER, web)])
    _delete(member, build, [("group", GROUP, group)])
    provider.delete(group_ctx, group)  # again: nothing to do, no error
    assert list(member.conn.compute.server_groups()) == []
    _delete(member, build, [("subnet", SUBNET, ids["subnet"]), ("net", NET, ids["net"])])
    member.settles_to(before)


def test_a_step_adopts_only_the_group_that_carries_its_mark(member: Project) -> None:
    """Nova keeps no name unique and no tag on a group: another build's group of the same
    template name, or another step's, is never found (so never adopted, never deleted)."""
    provider = member.provider()
    build = new_build_id()
    props = {"name": "shared", "policies": ["affinity"]}
    first = member.ctx("group", GROUP, props, build_id=build)
    group, _ = made(provider, first)
    other_build = member.ctx("group", GROUP, props)
    other_step = member.ctx("group_b", GROUP, props, build_id=build)
    assert provider.find(other_build) == []
    assert provider.find(other_step) == []
    again = provider.create(first, props)  # a create raced by a takeover: both are found
    assert sorted(f.physical_id for f in provider.find(first)) == sorted([group, again])
    unnamed = member.ctx("plain", GROUP, {}, build_id=build)
    plain, observed = made(provider, unnamed, {})
    assert observed.attributes["name"] == unnamed.cloud_name
    assert observed.attributes["policies"] == ["anti-affinity"]  # Heat's default
    _delete(member, build, [("group", GROUP, group), ("group", GROUP, again)])
    _delete(member, build, [("plain", GROUP, plain)])
    assert list(member.conn.compute.server_groups()) == []


def test_server_group_rules_reach_nova(member: Project) -> None:
    provider = member.provider()
    props = {"policies": ["anti-affinity"], "rules": {"max_server_per_host": 2.0}}
    ctx = member.ctx("group", GROUP, props)
    group, observed = made(provider, ctx)
    assert observed.attributes["rules"] == {"max_server_per_host": 2}
    provider.delete(ctx, group)
    until_deleted(provider, ctx, group)


# -- OS::Nova::Flavor ------------------------------------------------------------


def test_a_members_flavor_fails_with_novas_403(member: Project) -> None:
    provider = member.provider()
    props = {"ram": 256, "vcpus": 1}
    with pytest.raises(ProviderError, match=r"HTTP 403") as caught:
        provider.create(member.ctx("flavor", FLAVOR, props), props)
    assert not caught.value.retryable
    assert "create flavor (OS::Nova::Flavor)" in str(caught.value)


def test_an_admins_private_flavor_with_extra_specs_and_its_delete(
    admin: Project, member: Project
) -> None:
    provider = admin.provider()
    name = unique("flavor")
    props = {
        "name": name,
        "ram": 256,
        "vcpus": 1,
        "disk": 1,
        "is_public": False,
        "extra_specs": {"hw:cpu_policy": "shared"},
        "tenants": [member.project_name],
        "description": "small",
    }
    ctx = admin.ctx("flavor", FLAVOR, props)
    flavor, observed = made(provider, ctx)
    assert observed.attributes["is_public"] is False
    assert observed.attributes["extra_specs"] == {"hw:cpu_policy": "shared"}
    access = {a["tenant_id"] for a in admin.conn.compute.get_flavor_access(flavor)}
    assert access == {member.project_id}
    shown = admin.conn.compute.get_flavor(flavor)
    assert shown.description == f"small (cool-build={ctx.build_id},cool-resource=flavor)"
    assert [f.physical_id for f in provider.find(ctx)] == [flavor]
    # The member given access sees it; another build's step of that name is refused.
    assert member.conn.compute.find_flavor(name, ignore_missing=True) is not None
    other = admin.ctx("flavor", FLAVOR, props)
    assert provider.find(other) == []
    with pytest.raises(ResourceExistsError, match=name):
        provider.create(other, props)
    # Extra specs lost between two calls (a worker died): observe sets them again.
    admin.conn.compute.delete_flavor_extra_specs_property(flavor, "hw:cpu_policy")
    assert until_ready(provider, ctx, flavor).attributes["extra_specs"] == props["extra_specs"]
    provider.delete(ctx, flavor)
    until_deleted(provider, ctx, flavor)
    provider.delete(ctx, flavor)  # again: not an error
    assert admin.conn.compute.find_flavor(name, ignore_missing=True) is None


def test_a_flavor_without_a_name_is_named_for_its_step(admin: Project) -> None:
    provider = admin.provider()
    props = {"ram": 128, "vcpus": 1, "flavorid": unique("id")}
    ctx = admin.ctx("tiny", FLAVOR, props)
    flavor, observed = made(provider, ctx)
    assert flavor == props["flavorid"]
    assert observed.attributes["is_public"] is True
    assert admin.conn.compute.get_flavor(flavor).name == ctx.cloud_name
    assert [f.physical_id for f in provider.find(ctx)] == [flavor]
    provider.delete(ctx, flavor)
    until_deleted(provider, ctx, flavor)


# -- OS::Nova::FloatingIPAssociation ---------------------------------------------


def test_a_nova_association_takes_the_servers_first_port_and_is_undone(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    ids = _network(member, build, "10.61.0.0/24")
    router_props = {"external_gateway_info": {"network": mini_cloud.public_network}}
    router, _ = made(provider, member.ctx("router", ROUTER, router_props, build_id=build))
    link_props = {"router": router, "subnet": ids["subnet"]}
    link, _ = made(provider, member.ctx("link", INTERFACE, link_props, build_id=build))
    fip_ctx = member.ctx("fip", FIP, {"floating_network": "public"}, build_id=build)
    fip, _ = made(provider, fip_ctx)
    server, observed = _server(member, mini_cloud, build, "web", ids["net"])
    assert observed.ready, observed
    [port] = list(member.conn.network.ports(device_id=server))

    props = {"floating_ip": fip, "server_id": server}
    ctx = member.ctx("assoc", ASSOCIATION, props, build_id=build)
    assert provider.find(ctx) == []
    association, observed = made(provider, ctx)
    assert association == f"{fip}:{server}"
    shown = member.conn.network.get_ip(fip)
    assert shown.port_id == port.id
    assert shown.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    assert observed.attributes["show"]["port_id"] == port.id
    assert [f.physical_id for f in provider.find(ctx)] == [association]
    assert provider.create(ctx, props) == association  # again: the same link

    provider.delete(ctx, association)
    until_deleted(provider, ctx, association)
    assert member.conn.network.get_ip(fip).port_id is None
    provider.delete(ctx, association)  # again: nothing to undo
    assert provider.find(ctx) == []

    # Moved to another port by someone else: not this link, and a delete leaves it.
    made(provider, ctx)
    member.conn.network.update_ip(fip, port_id=None)
    other = member.conn.network.create_port(network_id=ids["net"])
    member.conn.network.update_ip(fip, port_id=other.id)
    with pytest.raises(ResourceFailedError, match=f"associated with port {other.id}"):
        provider.observe(ctx, association)
    provider.delete(ctx, association)
    assert member.conn.network.get_ip(fip).port_id == other.id
    member.conn.network.update_ip(fip, port_id=None)
    member.conn.network.delete_port(other)

    _delete(member, build, [("web", SERVER, server), ("fip", FIP, fip)])
    _delete(member, build, [("link", INTERFACE, link), ("router", ROUTER, router)])
    _delete(member, build, [("subnet", SUBNET, ids["subnet"]), ("net", NET, ids["net"])])
    member.settles_to(before)


def test_a_nova_association_to_a_missing_server_says_so(member: Project) -> None:
    props = {"floating_ip": "8a3b29a6-0000-4000-8000-000000000001", "server_id": "no-such"}
    with pytest.raises(ProviderError, match="server 'no-such' not found") as caught:
        member.provider().create(member.ctx("assoc", ASSOCIATION, props), props)
    assert not caught.value.retryable
