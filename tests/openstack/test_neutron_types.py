"""The openstack provider's router gateways and QoS policies and rules against real
Neutron (the mini cloud): what each creates, how it is found again (adoption), what a
failure says, and that a delete leaves the project as it was. QoS is admin-only by
Neutron's default policy: a member's create is Neutron's 403, an admin's works."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError, ResourceGoneError, finds_by_mark
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import (
    Project,
    made,
    new_build_id,
    until_deleted,
    until_ready,
)

pytestmark = pytest.mark.openstack

NET, ROUTER = "OS::Neutron::Net", "OS::Neutron::Router"
GATEWAY, POLICY = "OS::Neutron::RouterGateway", "OS::Neutron::QoSPolicy"
LIMIT, MARK = "OS::Neutron::QoSBandwidthLimitRule", "OS::Neutron::QoSDscpMarkingRule"


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def _policies(project: Project) -> list[str]:
    return [p.id for p in project.conn.network.qos_policies(project_id=project.project_id)]


def test_a_router_gateway_is_set_found_by_its_ends_and_cleared(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    router, observed = made(provider, member.ctx("router", ROUTER, {}, build_id=build))
    assert not observed.attributes["external_gateway_info"]
    public = member.conn.network.find_network(mini_cloud.public_network).id
    props = {"router_id": router, "network": mini_cloud.public_network}
    ctx = member.ctx("gateway", GATEWAY, props, build_id=build)
    gateway, observed = made(provider, ctx)
    assert gateway == f"{router}:{public}"  # Heat's id, the network resolved
    assert observed.attributes["show"]["external_gateway_info"]["network_id"] == public
    assert member.conn.network.get_router(router).external_gateway_info["network_id"] == public
    # Adoption after a crash: found by its ends, whatever build asks (a link has no tags).
    assert [f.physical_id for f in provider.find(ctx)] == [gateway]
    assert not finds_by_mark(provider, GATEWAY)
    deprecated = member.ctx("gateway", GATEWAY, {"router_id": router, "network_id": public})
    assert [f.physical_id for f in provider.find(deprecated)] == [gateway]

    provider.delete(ctx, gateway)
    until_deleted(provider, ctx, gateway)
    assert not member.conn.network.get_router(router).external_gateway_info
    assert provider.find(ctx) == []
    with pytest.raises(ResourceGoneError):
        provider.observe(ctx, gateway)
    provider.delete(ctx, gateway)  # again: nothing to do, not an error
    router_ctx = member.ctx("router", ROUTER, build_id=build)
    provider.delete(router_ctx, router)
    until_deleted(provider, router_ctx, router)
    assert provider.is_deleted(ctx, gateway)  # its router is gone: so is it
    assert provider.find(ctx) == []
    member.settles_to(before)


def test_a_router_gateway_on_a_network_that_does_not_exist_says_so(member: Project) -> None:
    provider = member.provider()
    router, _ = made(provider, member.ctx("router", ROUTER, {}))
    props = {"router_id": router, "network": "no-such-network"}
    with pytest.raises(ProviderError, match="network 'no-such-network' not found") as caught:
        provider.create(member.ctx("gateway", GATEWAY, props), props)
    assert not caught.value.retryable
    router_ctx = member.ctx("router", ROUTER)
    provider.delete(router_ctx, router)
    until_deleted(provider, router_ctx, router)


def test_a_members_qos_policy_is_refused_with_neutrons_403(member: Project) -> None:
    provider = member.provider()
    props = {"name": "gold"}
    with pytest.raises(ProviderError) as caught:
        provider.create(member.ctx("policy", POLICY, props), props)
    message = str(caught.value)
    assert message.startswith("create policy (OS::Neutron::QoSPolicy): ")
    assert "(HTTP 403)" in message
    assert "disallowed by policy" in message
    assert not caught.value.retryable
    assert _policies(member) == []


def test_an_admins_qos_policy_its_rules_and_a_network_with_it(admin: Project) -> None:
    provider = admin.provider()
    build = new_build_id()
    policy_props = {"name": "gold", "description": "the gold tier", "shared": False}
    policy_ctx = admin.ctx("policy", POLICY, policy_props, build_id=build)
    policy, observed = made(provider, policy_ctx)
    shown = admin.conn.network.get_qos_policy(policy)
    assert shown.description == f"the gold tier (cool-build={build},cool-resource=policy)"
    assert not set(shown.tags)  # its mark is its description's: no second call

    assert observed.attributes["rules"] == []
    assert [f.physical_id for f in provider.find(policy_ctx)] == [policy]
    assert provider.find(admin.ctx("policy", POLICY, policy_props)) == []  # another build's

    limit_props = {"policy": "gold", "max_kbps": 1000, "max_burst_kbps": 100}
    limit_ctx = admin.ctx("limit", LIMIT, limit_props, build_id=build)
    limit, observed = made(provider, limit_ctx)
    rule_id = observed.reference
    assert limit == f"{policy}:{rule_id}"
    assert observed.attributes["show"]["max_kbps"] == 1000
    assert observed.attributes["show"]["direction"] == "egress"
    assert [f.physical_id for f in provider.find(limit_ctx)] == [limit]
    ingress = admin.ctx("limit", LIMIT, {**limit_props, "direction": "ingress"}, build_id=build)
    assert provider.find(ingress) == []  # one limit per direction: another rule's place
    mark_props = {"policy": policy, "dscp_mark": 46}
    mark_ctx = admin.ctx("mark", MARK, mark_props, build_id=build)
    mark, observed = made(provider, mark_ctx)
    assert observed.attributes["show"]["dscp_mark"] == 46
    assert [f.physical_id for f in provider.find(mark_ctx)] == [mark]
    # Another build's step of the same name and fields, on this (not its) policy: found
    # it (and its rollback deleted it) before a rule was looked for in own policies only.
    assert provider.find(admin.ctx("mark", MARK, mark_props)) == []
    assert (
        provider.find(admin.ctx("mark", MARK, {**mark_props, "dscp_mark": 8}, build_id=build)) == []
    )
    with pytest.raises(ProviderError, match=r"\(HTTP 409\)") as caught:
        provider.create(mark_ctx, {**mark_props, "dscp_mark": 8})  # one mark per policy
    assert not caught.value.retryable
    rules = until_ready(provider, policy_ctx, policy).attributes["rules"]
    assert sorted(rule["type"] for rule in rules) == ["bandwidth_limit", "dscp_marking"]

    # A network takes the policy by name (one without rules: the mini cloud's ML2 driver
    # supports no QoS rule, so Neutron refuses to bind one with rules). Not a port: on
    # this SQLite cloud, Neutron's GET of a port with a QoS policy (its own or its
    # network's) deadlocks for the 60 s busy timeout and answers 500 (the QoS plugin's
    # port extension opens a second session, get_admin_context(), inside the request's
    # transaction, which harness.sqlite_immediate begins IMMEDIATE).
    for ctx, physical_id in ((mark_ctx, mark), (limit_ctx, limit)):
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id)
        provider.delete(ctx, physical_id)  # again: not an error
    net_ctx = admin.ctx("net", NET, {"qos_policy": "gold"}, build_id=build)
    net, observed = made(provider, net_ctx)
    assert observed.attributes["qos_policy_id"] == policy
    provider.delete(net_ctx, net)
    until_deleted(provider, net_ctx, net)
    provider.delete(policy_ctx, policy)
    until_deleted(provider, policy_ctx, policy)
    assert provider.find(limit_ctx) == []  # its policy is gone: so is every rule
    assert _policies(admin) == []


def test_a_rule_of_a_policy_that_does_not_exist_says_so(admin: Project) -> None:
    props = {"policy": "no-such-policy", "dscp_mark": 8}
    with pytest.raises(ProviderError, match="QoS policy 'no-such-policy' not found") as caught:
        admin.provider().create(admin.ctx("mark", MARK, props), props)
    assert not caught.value.retryable


GROUP, RULE = "OS::Neutron::SecurityGroup", "OS::Neutron::SecurityGroupRule"


def test_a_security_group_rule_is_marked_found_again_and_deleted(member: Project) -> None:
    before = member.counts()
    provider = member.provider()
    build = new_build_id()
    group, _ = made(provider, member.ctx("group", GROUP, {}, build_id=build))
    props = {
        "security_group": group,
        "description": "web",
        "port_range_min": 80,
        "port_range_max": 80,
        "remote_ip_prefix": "0.0.0.0/0",
    }
    ctx = member.ctx("http", RULE, props, build_id=build)
    rule, observed = made(provider, ctx)
    shown = observed.attributes["show"]
    assert (shown["protocol"], shown["direction"], shown["port_range_min"]) == (
        "tcp",
        "ingress",
        80,
    )
    assert shown["description"].startswith("web (")  # the template's words, then the mark
    # Adoption after a crash: found by its mark, in its group; another step's is not it.
    assert [f.physical_id for f in provider.find(ctx)] == [rule]
    assert finds_by_mark(provider, RULE)
    assert provider.find(member.ctx("other", RULE, props, build_id=build)) == []
    # The same rule again: this step's own (a lost reply) is adopted; another's is the
    # step's failure, with Neutron's words.
    assert provider.create(ctx, props) == rule
    other = member.ctx("other", RULE, props, build_id=build)
    with pytest.raises(ProviderError, match="already"):
        provider.create(other, props)
    listed = member.conn.network.security_group_rules(security_group_id=group)
    assert [r.id for r in listed if r.port_range_min == 80] == [rule]

    provider.delete(ctx, rule)
    until_deleted(provider, ctx, rule)
    assert provider.find(ctx) == []
    provider.delete(ctx, rule)  # again: nothing to do, not an error
    group_ctx = member.ctx("group", GROUP, build_id=build)
    provider.delete(group_ctx, group)
    until_deleted(provider, group_ctx, group)
    assert provider.find(ctx) == []  # its group is gone: so is it
    member.settles_to(before)


PROVIDER_NET = "OS::Neutron::ProviderNet"


def test_a_members_provider_network_is_refused_with_neutrons_403(member: Project) -> None:
    provider = member.provider()
    props = {"network_type": "flat", "physical_network": "physnet1"}
    with pytest.raises(ProviderError) as caught:
        provider.create(member.ctx("provider", PROVIDER_NET, props), props)
    assert "(HTTP 403)" in str(caught.value)
    assert not caught.value.retryable


def test_an_admins_provider_network_is_made_on_its_segment_found_and_deleted(
    admin: Project,
) -> None:
    before = admin.counts()
    provider = admin.provider()
    build = new_build_id()
    props = {"network_type": "flat", "physical_network": "physnet-cool", "shared": False}
    ctx = admin.ctx("provider", PROVIDER_NET, props, build_id=build)
    network, observed = made(provider, ctx)
    assert observed.attributes["status"] == "ACTIVE"
    assert observed.attributes["subnets"] == []
    shown = admin.conn.network.get_network(network)
    assert (shown.provider_network_type, shown.provider_physical_network) == (
        "flat",
        "physnet-cool",
    )
    assert [f.physical_id for f in provider.find(ctx)] == [network]  # adopted by its mark
    subnet_props = {"network": network, "cidr": "10.77.0.0/24", "ip_version": 4}
    subnet_ctx = admin.ctx("subnet", "OS::Neutron::Subnet", subnet_props, build_id=build)
    subnet, _ = made(provider, subnet_ctx)
    provider.delete(subnet_ctx, subnet)
    until_deleted(provider, subnet_ctx, subnet)
    provider.delete(ctx, network)
    until_deleted(provider, ctx, network)
    assert provider.find(ctx) == []
    admin.settles_to(before)
