"""OS::Neutron::Trunk and OS::Nova::FloatingIP against the mini cloud's real Neutron and
Nova: what each creates, how a step finds it again by its mark (and only its own),
what a refusal says, and that a delete leaves the project as it was."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import Project, made, new_build_id, until_deleted, until_ready

pytestmark = pytest.mark.openstack

NET, SUBNET, PORT = "OS::Neutron::Net", "OS::Neutron::Subnet", "OS::Neutron::Port"
SERVER, TRUNK = "OS::Nova::Server", "OS::Neutron::Trunk"
NOVA_FIP, ASSOCIATION = "OS::Nova::FloatingIP", "OS::Nova::FloatingIPAssociation"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def _network(member: Project, build: str, name: str, cidr: str) -> list[tuple[str, str, str]]:
    """A network, its subnet and a port on it: the steps, in creation order."""
    provider = member.provider()
    net, _ = made(provider, member.ctx(f"{name}_net", NET, {}, build_id=build))
    props = {"network": net, "cidr": cidr, "ip_version": 4}
    subnet, _ = made(provider, member.ctx(f"{name}_subnet", SUBNET, props, build_id=build))
    port, _ = made(provider, member.ctx(f"{name}_port", PORT, {"network": net}, build_id=build))
    return [
        (f"{name}_net", NET, net),
        (f"{name}_subnet", SUBNET, subnet),
        (f"{name}_port", PORT, port),
    ]


def _delete(member: Project, build: str, steps: list[tuple[str, str, str]]) -> None:
    """Deleted in reverse order, as a build's delete goes."""
    provider = member.provider()
    for name, kind, physical_id in reversed(steps):
        ctx = member.ctx(name, kind, build_id=build)
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id, timeout_s=90)


def _trunk_props(parent: str, *sub_ports: tuple[str, int]) -> dict[str, object]:
    return {
        "port": parent,
        "sub_ports": [
            {"port": port, "segmentation_type": "vlan", "segmentation_id": vlan}
            for port, vlan in sub_ports
        ],
    }


# -- OS::Neutron::Trunk ----------------------------------------------------------


def test_a_trunk_carries_its_sub_ports_and_a_server_boots_on_its_parent(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider = member.provider(neutron_tags=True)  # its tags too: lost, then added back
    build = new_build_id()
    parent_steps = _network(member, build, "parent", "10.70.0.0/24")
    sub_steps = _network(member, build, "sub", "10.70.1.0/24")
    parent, sub = parent_steps[-1][2], sub_steps[-1][2]

    props = {**_trunk_props(parent, (sub, 101)), "description": "vlans"}
    ctx = member.ctx("trunk", TRUNK, props, build_id=build)
    trunk, observed = made(provider, ctx)
    assert observed.ready
    assert observed.attributes["port_id"] == parent
    assert observed.attributes["status"] in ("ACTIVE", "DOWN")  # what Heat waits for
    assert observed.attributes["sub_ports"] == [
        {"port_id": sub, "segmentation_type": "vlan", "segmentation_id": 101}
    ]
    shown = member.conn.network.get_trunk(trunk)
    assert shown.name == ctx.cloud_name
    assert shown.description == f"vlans (cool-build={build},cool-resource=trunk)"
    assert {f"cool-build={build}", "cool-resource=trunk"} <= set(shown.tags)
    assert member.conn.network.get_port(parent).trunk_details["trunk_id"] == trunk
    assert [f.physical_id for f in provider.find(ctx)] == [trunk]
    assert provider.find(member.ctx("trunk", TRUNK, props)) == []  # another build's step
    # Neutron takes one trunk a parent port: a second create of the step is refused,
    # and what the runner then finds is the first (it adopts it).
    with pytest.raises(ResourceExistsError, match=r"is currently in use.*HTTP 409"):
        provider.create(ctx, props)
    # Tags lost (the creating worker died between its two calls): observe adds them.
    member.conn.network.set_tags(shown, [])
    until_ready(provider, ctx, trunk)
    assert {f"cool-build={build}", "cool-resource=trunk"} <= set(
        member.conn.network.get_trunk(trunk).tags
    )

    server_props = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "networks": [{"port": observed.attributes["port_id"]}],
    }
    server_ctx = member.ctx("server", SERVER, server_props, build_id=build)
    server = provider.create(server_ctx, server_props)
    assert until_ready(provider, server_ctx, server, timeout_s=90).ready
    assert until_ready(provider, ctx, trunk).ready  # bound: still built

    # Neutron refuses to delete a port of a live trunk: the order is the build's.
    with pytest.raises(ProviderError, match="HTTP 409"):
        provider.delete(member.ctx("sub_port", PORT, build_id=build), sub)
    _delete(member, build, [("trunk", TRUNK, trunk), ("server", SERVER, server)])
    provider.delete(ctx, trunk)  # again: nothing to do, no error
    assert list(member.conn.network.trunks()) == []
    assert not member.conn.network.get_port(parent).trunk_details  # a parent no more
    _delete(member, build, [*parent_steps, *sub_steps])
    member.settles_to(before)


def test_a_disabled_trunk_is_deleted_too(member: Project) -> None:
    """Neutron refuses to delete a trunk whose admin_state_up is false: the delete
    enables it first."""
    provider = member.provider()
    build = new_build_id()
    steps = _network(member, build, "parent", "10.71.0.0/24")
    props = {"port": steps[-1][2], "admin_state_up": False, "name": "off"}
    ctx = member.ctx("trunk", TRUNK, props, build_id=build)
    trunk, observed = made(provider, ctx)
    assert observed.attributes["admin_state_up"] is False
    assert observed.attributes["sub_ports"] == []
    _delete(member, build, [("trunk", TRUNK, trunk)])
    _delete(member, build, steps)


def test_a_segmentation_taken_twice_fails_with_neutrons_reason(member: Project) -> None:
    """Neutron's 400, not retried, in Neutron's words (a template that gives the
    segmentation twice literally is refused before: cool.resources.neutron_trunk)."""
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    parent_steps = _network(member, build, "parent", "10.72.0.0/24")
    one_steps = _network(member, build, "one", "10.72.1.0/24")
    two_steps = _network(member, build, "two", "10.72.2.0/24")
    parent, one, two = (steps[-1][2] for steps in (parent_steps, one_steps, two_steps))
    props = _trunk_props(parent, (one, 200), (two, 200))
    ctx = member.ctx("trunk", TRUNK, props, build_id=build)
    with pytest.raises(
        ProviderError, match=r"Segmentation ID '200'.*not unique.*HTTP 400"
    ) as caught:
        provider.create(ctx, props)
    assert not caught.value.retryable
    assert "create trunk (OS::Neutron::Trunk)" in str(caught.value)
    assert provider.find(ctx) == []
    assert list(member.conn.network.trunks()) == []
    _delete(member, build, [*parent_steps, *one_steps, *two_steps])
    member.settles_to(before)


# -- OS::Nova::FloatingIP ---------------------------------------------------------


def test_a_nova_floating_ip_comes_from_its_pool_and_associates_with_a_server(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    public = member.conn.network.find_network(mini_cloud.public_network).id

    ctx = member.ctx("fip", NOVA_FIP, {"pool": mini_cloud.public_network}, build_id=build)
    fip, observed = made(provider, ctx)
    shown = member.conn.network.get_ip(fip)
    assert observed.attributes["pool"] == public  # Heat's: the network's id
    assert observed.attributes["ip"] == shown.floating_ip_address
    assert shown.description == f"cool-build={build},cool-resource=fip"
    assert [f.physical_id for f in provider.find(ctx)] == [fip]
    assert provider.find(member.ctx("fip", NOVA_FIP, {})) == []
    # No pool: the cloud's one external network (Heat's rule).
    bare_ctx = member.ctx("bare", NOVA_FIP, {}, build_id=build)
    bare, observed = made(provider, bare_ctx)
    assert observed.attributes["pool"] == public

    # get_resource of it is what OS::Nova::FloatingIPAssociation takes.
    steps = _network(member, build, "web", "10.73.0.0/24")
    router_props = {"external_gateway_info": {"network": mini_cloud.public_network}}
    router, _ = made(
        provider, member.ctx("router", "OS::Neutron::Router", router_props, build_id=build)
    )
    link_props = {"router": router, "subnet": steps[1][2]}
    link_ctx = member.ctx("link", "OS::Neutron::RouterInterface", link_props, build_id=build)
    link, _ = made(provider, link_ctx)
    server_props = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "networks": [{"port": steps[-1][2]}],
    }
    server_ctx = member.ctx("server", SERVER, server_props, build_id=build)
    server = provider.create(server_ctx, server_props)
    assert until_ready(provider, server_ctx, server, timeout_s=90).ready
    assoc_props = {"floating_ip": fip, "server_id": server}
    assoc_ctx = member.ctx("assoc", ASSOCIATION, assoc_props, build_id=build)
    association, _ = made(provider, assoc_ctx)
    assert member.conn.network.get_ip(fip).port_id == steps[-1][2]

    _delete(
        member,
        build,
        [
            ("fip", NOVA_FIP, fip),
            ("bare", NOVA_FIP, bare),
            ("router", "OS::Neutron::Router", router),
            ("link", "OS::Neutron::RouterInterface", link),
            ("server", SERVER, server),
            ("assoc", ASSOCIATION, association),
        ],
    )
    provider.delete(ctx, fip)  # again: nothing to do, no error
    _delete(member, build, steps)
    member.settles_to(before)


def test_a_nova_floating_ip_from_an_unknown_pool_says_so(member: Project) -> None:
    props = {"pool": "no-such-pool"}
    with pytest.raises(ProviderError, match="network 'no-such-pool' not found") as caught:
        member.provider().create(member.ctx("fip", NOVA_FIP, props), props)
    assert not caught.value.retryable
    assert list(member.conn.network.ips(project_id=member.project_id)) == []
