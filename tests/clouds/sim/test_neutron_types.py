"""The simulated cloud's router gateways and QoS policies and rules: consistent with
each other as Neutron's are (a gateway shows on its router, rules on their policy,
one rule of a kind and direction per policy)."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import ctx

ROUTER, GATEWAY = "OS::Neutron::Router", "OS::Neutron::RouterGateway"
POLICY = "OS::Neutron::QoSPolicy"
LIMIT, MARK = "OS::Neutron::QoSBandwidthLimitRule", "OS::Neutron::QoSDscpMarkingRule"


def _observed(sim: SimProvider, name: str, kind: str, physical_id: str) -> dict:
    observed = sim.observe(ctx(name, kind), physical_id)
    assert observed.ready, observed
    return dict(observed.attributes)


def test_sim_router_gateway_sets_and_clears_the_routers_gateway(sim: SimProvider) -> None:
    router = sim.create(ctx("router", ROUTER), {})
    assert _observed(sim, "router", ROUTER, router)["external_gateway_info"] is None
    gateway_ctx = ctx("gateway", GATEWAY)
    gateway = sim.create(gateway_ctx, {"router_id": router, "network_id": "public"})
    assert sim.observe(gateway_ctx, gateway).reference == f"{router}:public"
    info = _observed(sim, "router", ROUTER, router)["external_gateway_info"]
    assert info["network_id"] == "public"
    assert info["external_fixed_ips"][0]["ip_address"].startswith("100.")
    sim.delete(gateway_ctx, gateway)
    assert sim.is_deleted(gateway_ctx, gateway)
    assert _observed(sim, "router", ROUTER, router)["external_gateway_info"] is None


def test_sim_router_gateway_needs_a_live_router_and_a_network(sim: SimProvider) -> None:
    router = sim.create(ctx("router", ROUTER), {})
    with pytest.raises(ProviderError, match="network is required"):
        sim.create(ctx("gateway", GATEWAY), {"router_id": router})
    sim.delete(ctx("router", ROUTER), router)
    with pytest.raises(ProviderError, match="could not be found"):
        sim.create(ctx("gateway", GATEWAY), {"router_id": router, "network": "public"})


def test_sim_policy_lists_its_rules_one_of_a_kind_and_direction(sim: SimProvider) -> None:
    policy = sim.create(ctx("policy", POLICY), {"name": "gold", "shared": True})
    attributes = _observed(sim, "policy", POLICY, policy)
    assert (attributes["name"], attributes["shared"], attributes["rules"]) == ("gold", True, [])
    egress = sim.create(ctx("egress", LIMIT), {"policy": policy, "max_kbps": 1000})
    ingress = sim.create(
        ctx("ingress", LIMIT), {"policy": policy, "max_kbps": 500, "direction": "ingress"}
    )
    mark = sim.create(ctx("mark", MARK), {"policy": policy, "dscp_mark": 46})
    rules = _observed(sim, "policy", POLICY, policy)["rules"]
    assert sorted((r["type"], r["id"]) for r in rules) == sorted(
        [("bandwidth_limit", egress), ("bandwidth_limit", ingress), ("dscp_marking", mark)]
    )
    assert _observed(sim, "egress", LIMIT, egress)["direction"] == "egress"
    assert _observed(sim, "egress", LIMIT, egress)["max_burst_kbps"] == 0
    with pytest.raises(ProviderError, match="already has a bandwidth_limit rule for direction"):
        sim.create(ctx("again", LIMIT), {"policy": policy, "max_kbps": 1, "direction": "egress"})
    with pytest.raises(ProviderError, match="already has a dscp_marking rule"):
        sim.create(ctx("again", MARK), {"policy": policy, "dscp_mark": 8})
    sim.delete(ctx("mark", MARK), mark)
    assert len(_observed(sim, "policy", POLICY, policy)["rules"]) == 2
    sim.create(ctx("again", MARK), {"policy": policy, "dscp_mark": 8})  # the place is free


def test_sim_rule_of_a_deleted_policy_is_refused(sim: SimProvider) -> None:
    policy = sim.create(ctx("policy", POLICY), {})
    sim.delete(ctx("policy", POLICY), policy)
    with pytest.raises(ProviderError, match="could not be found"):
        sim.create(ctx("mark", MARK), {"policy": policy, "dscp_mark": 8})


GROUP, RULE = "OS::Neutron::SecurityGroup", "OS::Neutron::SecurityGroupRule"


def test_sim_security_group_lists_the_rules_added_to_it(sim: SimProvider) -> None:
    group = sim.create(ctx("group", GROUP), {"rules": [{"protocol": "icmp"}]})
    own = _observed(sim, "group", GROUP, group)["security_group_rules"]
    ssh = {"security_group": group, "port_range_min": 22, "port_range_max": 22}
    rule = sim.create(ctx("ssh", RULE), ssh)
    shown = _observed(sim, "ssh", RULE, rule)
    assert (shown["direction"], shown["protocol"], shown["ethertype"]) == ("ingress", "tcp", "IPv4")
    listed = _observed(sim, "group", GROUP, group)["security_group_rules"]
    assert listed[: len(own)] == own
    assert [r["id"] for r in listed[len(own) :]] == [rule]
    # Neutron keeps one rule of a kind in a group: the same again is a 409.
    with pytest.raises(ProviderError, match="has this rule already"):
        sim.create(ctx("ssh-again", RULE), {**ssh, "description": "other words"})
    sim.delete(ctx("ssh", RULE), rule)
    assert _observed(sim, "group", GROUP, group)["security_group_rules"] == own
    with pytest.raises(ProviderError, match="could not be found"):
        sim.delete(ctx("group", GROUP), group) or sim.create(ctx("late", RULE), ssh)


def test_sim_provider_network_is_active_on_its_segment_and_takes_subnets(
    sim: SimProvider,
) -> None:
    props = {"network_type": "vlan", "physical_network": "physnet1", "segmentation_id": "7"}
    net = sim.create(ctx("provider", "OS::Neutron::ProviderNet"), props)
    shown = _observed(sim, "provider", "OS::Neutron::ProviderNet", net)
    assert shown["status"] == "ACTIVE"
    assert shown["shared"] is True  # Heat's default for a provider network
    assert shown["segments"] == [
        {
            "provider:network_type": "vlan",
            "provider:physical_network": "physnet1",
            "provider:segmentation_id": 7,
        }
    ]
    subnet = sim.create(
        ctx("subnet", "OS::Neutron::Subnet"), {"network": net, "cidr": "10.8.0.0/24"}
    )
    assert _observed(sim, "provider", "OS::Neutron::ProviderNet", net)["subnets"] == [subnet]
