"""The openstack provider's handlers against real Neutron, Nova, Cinder and Glance
(the mini cloud), one call at a time, as a project member: what each type creates,
how it is found again by its marks (adoption), what a failure says, and that a
delete leaves the project as it was."""

from __future__ import annotations

import ipaddress
import threading
from typing import Any

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError, ResourceGoneError
from cool.clouds.openstack.errors import QuotaExceededError
from cool.clouds.openstack.limits import CallLimiter
from harness.mini_cloud.cloud import MiniCloud
from harness.mini_cloud.seed import PUBLIC_CIDR
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
INTERFACE, PORT, GROUP = (
    "OS::Neutron::RouterInterface",
    "OS::Neutron::Port",
    "OS::Neutron::SecurityGroup",
)
FIP, SERVER, KEY = "OS::Neutron::FloatingIP", "OS::Nova::Server", "OS::Nova::KeyPair"
VOLUME, ATTACHMENT = "OS::Cinder::Volume", "OS::Cinder::VolumeAttachment"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def _network(member: Project, build_id: str, cidr: str = "10.40.0.0/24") -> dict[str, str]:
    provider = member.provider()
    net, _ = made(provider, member.ctx("net", NET, {}, build_id=build_id))
    subnet, observed = made(
        provider,
        member.ctx(
            "subnet", SUBNET, {"network": net, "cidr": cidr, "ip_version": 4}, build_id=build_id
        ),
    )
    assert observed.attributes["cidr"] == cidr
    return {"net": net, "subnet": subnet}


def test_a_routed_network_with_a_port_and_a_floating_ip_and_its_teardown(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    ids = _network(member, build)
    router_props = {"external_gateway_info": {"network": mini_cloud.public_network}}
    router, observed = made(provider, member.ctx("router", ROUTER, router_props, build_id=build))
    public = member.conn.network.find_network(mini_cloud.public_network)
    assert observed.attributes["external_gateway_info"]["network_id"] == public.id
    link_props = {"router": router, "subnet": ids["subnet"]}
    link_ctx = member.ctx("link", INTERFACE, link_props, build_id=build)
    link, _ = made(provider, link_ctx)
    assert link == f"{router}:subnet_id={ids['subnet']}"
    assert [f.physical_id for f in provider.find(link_ctx)] == [link]

    group_props = {"rules": [{"protocol": "tcp", "port_range_min": 22, "port_range_max": 22}]}
    group, _ = made(provider, member.ctx("group", GROUP, group_props, build_id=build))
    port_props = {
        "network": ids["net"],
        "fixed_ips": [{"subnet": ids["subnet"]}],
        "security_groups": [group],
    }
    port_ctx = member.ctx("port", PORT, port_props, build_id=build)
    port, observed = made(provider, port_ctx)
    address = observed.attributes["fixed_ips"][0]["ip_address"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network("10.40.0.0/24")
    assert observed.attributes["security_groups"] == [group]
    assert observed.attributes["subnets"][0]["id"] == ids["subnet"]
    fip_ctx = member.ctx(
        "fip", FIP, {"floating_network": "public", "port_id": port}, build_id=build
    )
    fip, observed = made(provider, fip_ctx)
    assert observed.attributes["port_id"] == port
    assert observed.attributes["fixed_ip_address"] == address
    assert ipaddress.ip_address(observed.attributes["floating_ip_address"]) in ipaddress.ip_network(
        PUBLIC_CIDR
    )
    # Found again by the step's marks, and only by them.
    assert [f.physical_id for f in provider.find(port_ctx)] == [port]
    assert [f.physical_id for f in provider.find(fip_ctx)] == [fip]
    assert provider.find(member.ctx("port", PORT)) == []  # another build's step

    # Reverse order, as a build's delete goes; the router also takes its interface.
    for name, kind, physical_id in [
        ("fip", FIP, fip),
        ("port", PORT, port),
        ("group", GROUP, group),
        ("router", ROUTER, router),
        ("subnet", SUBNET, ids["subnet"]),
        ("net", NET, ids["net"]),
    ]:
        ctx = member.ctx(name, kind, build_id=build)
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id)
    member.settles_to(before)


def test_security_group_rules_converge_to_the_template(member: Project) -> None:
    """A group adopted with rules missing (a worker died between two rule creates) gets
    them; an egress rule in the template replaces Neutron's default egress rules."""
    provider = member.provider()
    rules: list[dict[str, Any]] = [
        {
            "protocol": "tcp",
            "port_range_min": 80,
            "port_range_max": 80,
            "remote_ip_prefix": "0.0.0.0/0",
        },
        {"protocol": "icmp"},
        {"direction": "egress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443},
    ]
    ctx = member.ctx("group", GROUP, {"rules": rules})
    group, _ = made(provider, ctx)

    def rules_now() -> set[tuple[Any, ...]]:
        return {
            (r.direction, r.protocol, r.port_range_min)
            for r in member.conn.network.security_group_rules(security_group_id=group)
        }

    wanted = {("ingress", "tcp", 80), ("ingress", "icmp", None), ("egress", "tcp", 443)}
    assert rules_now() == wanted
    icmp = next(
        r
        for r in member.conn.network.security_group_rules(security_group_id=group)
        if r.protocol == "icmp"
    )
    member.conn.network.delete_security_group_rule(icmp)
    assert until_ready(provider, ctx, group).ready
    assert rules_now() == wanted
    provider.delete(ctx, group)
    until_deleted(provider, ctx, group)


def test_server_volume_and_attachment_with_heat_attributes(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    ids = _network(member, build, cidr="10.41.0.0/24")
    key_ctx = member.ctx("key", KEY, {"name": f"key-{build.lower()}"}, build_id=build)
    key, observed = made(provider, key_ctx)
    assert observed.reference == key
    assert observed.attributes["public_key"].startswith("ssh-ed25519 ")
    assert observed.attributes["private_key"] == ""
    server_props = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "key_name": key,
        "networks": [{"network": ids["net"]}],
        "metadata": {"tier": "web"},
    }
    server_ctx = member.ctx("web", SERVER, server_props, build_id=build)
    server, observed = made(provider, server_ctx)
    attributes = observed.attributes
    address = attributes["first_address"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network("10.41.0.0/24")
    net_name = member.conn.network.get_network(ids["net"]).name
    assert attributes["networks"][net_name] == [address]
    assert attributes["networks"][ids["net"]] == [address]
    assert attributes["addresses"][net_name][0]["addr"] == address
    assert attributes["name"] == server_ctx.cloud_name
    assert [f.physical_id for f in provider.find(server_ctx)] == [server]
    shown = member.conn.compute.get_server(server)
    assert shown.metadata["tier"] == "web"
    assert shown.metadata["cool-build"] == build
    assert shown.key_name == key

    volume_ctx = member.ctx("data", VOLUME, {"size": 1}, build_id=build)
    volume, observed = made(provider, volume_ctx)
    assert observed.attributes["size"] == 1
    assert observed.attributes["status"] == "available"
    assert [f.physical_id for f in provider.find(volume_ctx)] == [volume]
    attach_props = {"instance_uuid": server, "volume_id": volume}
    attach_ctx = member.ctx("attach", ATTACHMENT, attach_props, build_id=build)
    attachment, _ = made(provider, attach_ctx)
    assert attachment == f"{server}:{volume}"
    assert member.conn.block_storage.get_volume(volume).status == "in-use"
    assert [f.physical_id for f in provider.find(attach_ctx)] == [attachment]

    # Deleting the volume first detaches it (through Nova), then deletes it.
    provider.delete(volume_ctx, volume)
    until_deleted(provider, volume_ctx, volume, timeout_s=90)
    assert provider.is_deleted(attach_ctx, attachment)
    for ctx, physical_id in [(server_ctx, server), (key_ctx, key)]:
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id, timeout_s=90)
    for name, kind in [("subnet", SUBNET), ("net", NET)]:
        ctx = member.ctx(name, kind, build_id=build)
        provider.delete(ctx, ids[name])
        until_deleted(provider, ctx, ids[name])
    member.settles_to(before)


def test_a_create_whose_reply_was_lost_is_adopted_not_repeated(
    member: Project, mini_cloud: MiniCloud
) -> None:
    """What a takeover does when the outcome is unknown: find by the marks, oldest first."""
    provider = member.provider()
    ctx = member.ctx("vol", VOLUME, {"size": 1})
    first = provider.create(ctx, {"size": 1})
    second = provider.create(ctx, {"size": 1})  # a create raced by a takeover
    found = provider.find(ctx)
    assert [f.physical_id for f in found] == [first, second]
    assert found[0].created_at <= found[1].created_at
    for physical_id in (first, second):
        until_ready(provider, ctx, physical_id)
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id)


def test_key_pairs_are_known_by_name_and_the_mark_in_their_comment(member: Project) -> None:
    provider = member.provider()
    name = f"key-{new_build_id().lower()}"
    given_key = (
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk3ImFf2x9RrqWGgyjzCMOuxR3o9tmGlIF1u0XdOEgv me@laptop"
    )
    ctx = member.ctx("key", KEY, {"name": name, "public_key": given_key})
    key, observed = made(provider, ctx)
    assert key == name
    marked = observed.attributes["public_key"]
    assert marked.split()[:2] == given_key.split()[:2]
    assert marked.split()[2] == f"cool-build={ctx.build_id},cool-resource=key"
    assert [f.physical_id for f in provider.find(ctx)] == [name]
    # Another build's step with the same key pair name: not its key pair.
    other = member.ctx("key", KEY, {"name": name, "public_key": given_key})
    assert provider.find(other) == []
    with pytest.raises(ResourceExistsError):
        provider.create(other, {"name": name, "public_key": given_key})
    provider.delete(other, name)  # never touches a key pair that is not its own
    assert provider.is_deleted(other, name)
    assert member.conn.compute.find_keypair(name) is not None
    provider.delete(ctx, name)
    until_deleted(provider, ctx, name)
    assert member.conn.compute.find_keypair(name) is None
    with pytest.raises(ProviderError, match="save_private_key"):
        provider.create(ctx, {"name": name, "save_private_key": True})


def test_what_the_cloud_refuses_says_what_and_is_not_retried(
    member: Project, mini_cloud: MiniCloud
) -> None:
    provider = member.provider()
    ids = _network(member, new_build_id(), cidr="10.42.0.0/24")
    base = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "networks": [{"network": ids["net"]}],
    }
    for changed, said in [
        ({"flavor": "m1.gigantic"}, "flavor 'm1.gigantic' not found"),
        ({"image": "no-such-image"}, "image 'no-such-image' not found"),
    ]:
        ctx = member.ctx("web", SERVER, {**base, **changed})
        with pytest.raises(ProviderError, match=said) as caught:
            provider.create(ctx, {**base, **changed})
        assert not caught.value.retryable
        assert not isinstance(caught.value, ResourceGoneError)
    with pytest.raises(ResourceGoneError):
        provider.observe(member.ctx("web", SERVER), "6e0d5e5c-0000-4000-8000-000000000000")


def test_a_zero_quota_is_named_and_not_retried(member: Project, mini_cloud: MiniCloud) -> None:
    admin = mini_cloud.admin_connection()
    admin.set_compute_quotas(member.project_id, instances=0)
    ids = _network(member, new_build_id(), cidr="10.43.0.0/24")
    props = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "networks": [{"network": ids["net"]}],
    }
    with pytest.raises(QuotaExceededError) as caught:
        member.provider().create(member.ctx("web", SERVER, props), props)
    assert caught.value.quota == "instances"
    assert not caught.value.retryable
    assert "Quota exceeded for instances" in str(caught.value)


def test_a_server_nova_cannot_place_fails_with_novas_fault(
    member: Project, mini_cloud: MiniCloud
) -> None:
    provider = member.provider()
    ids = _network(member, new_build_id(), cidr="10.44.0.0/24")
    huge = mini_cloud.admin_connection().compute.create_flavor(
        name=unique("huge"),
        ram=512,
        vcpus=1,
        disk=1_000_000,  # no quota on disk
    )
    props = {
        "image": mini_cloud.image_name,
        "flavor": huge.name,
        "networks": [{"network": ids["net"]}],
    }
    ctx = member.ctx("web", SERVER, props)
    server = provider.create(ctx, props)
    observed = until_ready(provider, ctx, server, timeout_s=90)
    assert not observed.ready
    assert observed.failed is not None
    assert "No valid host was found" in observed.failed
    provider.delete(ctx, server)
    until_deleted(provider, ctx, server, timeout_s=90)


def test_the_call_cap_holds_concurrent_calls_to_it(member: Project) -> None:
    limiter = CallLimiter(2)
    provider = member.provider(limiter)
    ctx = member.ctx("net", NET)
    errors: list[BaseException] = []

    def look() -> None:
        try:
            for _ in range(4):
                provider.find(ctx)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    [cloud] = limiter.most_in_flight
    assert limiter.most_in_flight[cloud] == 2  # reached, never passed
    assert limiter.in_flight[cloud] == 0


def test_egress_rules_replace_both_default_egress_rules_and_converge_once(
    member: Project,
) -> None:
    """IPv6 rules are rules of their own (they were keyed as IPv4 ones: Neutron's
    default IPv6 egress rule survived the template's egress rules), and a converged
    group is left alone on the next look (no rule deleted and made again)."""
    provider = member.provider()
    rules: list[dict[str, Any]] = [
        {"direction": "egress"},  # IPv4 anywhere: the same as Neutron's default
        {"direction": "ingress", "ethertype": "IPv6", "protocol": "tcp",
         "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "2001:db8::1"},
    ]  # fmt: skip
    ctx = member.ctx("group", GROUP, {"rules": rules})
    group, _ = made(provider, ctx)

    def rules_now() -> dict[str, tuple[Any, ...]]:
        return {
            r.id: (r.direction, r.ether_type, r.protocol, r.remote_ip_prefix)
            for r in member.conn.network.security_group_rules(security_group_id=group)
        }

    first = rules_now()
    assert sorted(first.values(), key=str) == sorted(
        [("egress", "IPv4", None, None), ("ingress", "IPv6", "tcp", "2001:db8::1/128")],
        key=str,
    )
    assert until_ready(provider, ctx, group).ready
    assert rules_now() == first  # the same rules, by id: nothing flapped
    provider.delete(ctx, group)
    until_deleted(provider, ctx, group)


def test_a_step_finds_only_its_own_group_among_groups_of_one_name(member: Project) -> None:
    """One step's mark is the start of another's ("web", "web_admin"): exact matches."""
    provider = member.provider()
    build = new_build_id()
    web = member.ctx("web", GROUP, {"name": "shared"}, build_id=build)
    admin = member.ctx(
        "web_admin", GROUP, {"name": "shared", "description": "admins"}, build_id=build
    )
    web_id, _ = made(provider, web)
    admin_id, _ = made(provider, admin)
    assert [f.physical_id for f in provider.find(web)] == [web_id]
    assert [f.physical_id for f in provider.find(admin)] == [admin_id]
    description = member.conn.network.get_security_group(admin_id).description
    assert description == f"admins (cool-build={build},cool-resource=web_admin)"
    for ctx, physical_id in ((web, web_id), (admin, admin_id)):
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id)


def test_a_server_on_a_network_whose_name_another_shares(
    member: Project, mini_cloud: MiniCloud
) -> None:
    """Network names need not be unique: the server's networks attribute takes the ids
    from its own ports (a lookup by name failed an ACTIVE server)."""
    provider = member.provider()
    build = new_build_id()
    nets = [
        made(provider, member.ctx(f"net{i}", NET, {"name": "private"}, build_id=build))[0]
        for i in range(2)
    ]
    subnet_props = {"network": nets[0], "cidr": "10.45.0.0/24", "ip_version": 4}
    subnet, _ = made(provider, member.ctx("subnet", SUBNET, subnet_props, build_id=build))
    props = {
        "image": mini_cloud.image_name,
        "flavor": mini_cloud.flavor_name,
        "networks": [{"network": nets[0]}],
    }
    ctx = member.ctx("web", SERVER, props, build_id=build)
    server, observed = made(provider, ctx)
    assert observed.ready, observed
    address = observed.attributes["first_address"]
    assert observed.attributes["networks"] == {"private": [address], nets[0]: [address]}
    provider.delete(ctx, server)
    until_deleted(provider, ctx, server, timeout_s=90)
    for name, kind, physical_id in (
        ("subnet", SUBNET, subnet),
        ("net0", NET, nets[0]),
        ("net1", NET, nets[1]),
    ):
        step = member.ctx(name, kind, build_id=build)
        provider.delete(step, physical_id)
        until_deleted(provider, step, physical_id)
