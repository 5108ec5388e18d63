"""The Neutron types and properties issue 19 adds: OS::Neutron::RouterGateway, the QoS
policy and its rules, and Port's replacement_policy, validated as Heat validates them."""

from __future__ import annotations

from cool.clouds.base import ENDPOINT_FOUND_TYPES
from cool.clouds.openstack import provider as openstack_provider
from cool.resources import neutron, neutron_qos
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import Report
from cool.template.problems import Code
from tests.template.checking import check_text, where

HEAD = "heat_template_version: 2018-08-31\nresources:\n"


def _report(registry: ResourceTypeRegistry, resources: str) -> Report:
    return check_text(HEAD + resources, registry)


def test_port_replacement_policy_is_accepted_and_has_no_effect(
    registry: ResourceTypeRegistry,
) -> None:
    """Deprecated in Heat (hidden since 6.0.0), still in its schema: AUTO or REPLACE_ALWAYS."""
    for policy in ("AUTO", "REPLACE_ALWAYS"):
        report = _report(
            registry,
            "  port:\n    type: OS::Neutron::Port\n"
            f"    properties: {{network: private, replacement_policy: {policy}}}\n",
        )
        assert not report.problems, report.problems
        assert report.plan is not None
    report = _report(
        registry,
        "  port:\n    type: OS::Neutron::Port\n"
        "    properties: {network: private, replacement_policy: SOMETIMES}\n",
    )
    assert [(code, pointer) for code, pointer, _, _ in where(report)] == [
        (Code.PROPERTY_CONSTRAINT, "/resources/port/properties/replacement_policy")
    ]


def _codes(report: Report) -> list[tuple[Code, str]]:
    return [(code, pointer) for code, pointer, _, _ in where(report)]


def test_new_types_are_registered_with_descriptions_and_show(
    registry: ResourceTypeRegistry,
) -> None:
    for rtype in (*neutron_qos.TYPES, neutron.ROUTER_GATEWAY):
        assert registry.get(rtype.name) is rtype
        assert rtype.needs_cloud
        assert "show" in rtype.attributes
        assert all(prop.description for prop in rtype.properties.values())
    assert "rules" in neutron_qos.QOS_POLICY.attributes


def test_router_gateway_takes_heats_names(registry: ResourceTypeRegistry) -> None:
    """router_id (required: Heat has no ``router`` here), and network or network_id."""
    for network in ("network", "network_id"):
        report = _report(
            registry,
            "  gw:\n    type: OS::Neutron::RouterGateway\n"
            f"    properties: {{router_id: r1, {network}: public}}\n",
        )
        assert not report.problems, report.problems
    report = _report(
        registry, "  gw:\n    type: OS::Neutron::RouterGateway\n    properties: {network: public}\n"
    )
    assert _codes(report) == [
        (Code.MISSING_PROPERTY, "/resources/gw/properties/router_id"),
    ]
    report = _report(
        registry,
        "  gw:\n    type: OS::Neutron::RouterGateway\n"
        "    properties: {router_id: r1, network: public, network_id: public}\n",
    )
    assert len(report.problems) == 1
    assert "network_id is the deprecated name of network" in report.problems[0].message
    report = _report(
        registry, "  gw:\n    type: OS::Neutron::RouterGateway\n    properties: {router_id: r1}\n"
    )
    assert len(report.problems) == 1
    assert "network (or its deprecated name network_id) is required" in report.problems[0].message


def test_qos_policy_and_rules_validate_as_heat(registry: ResourceTypeRegistry) -> None:
    good = (
        "  policy:\n    type: OS::Neutron::QoSPolicy\n"
        "    properties: {name: gold, description: d, shared: true, tenant_id: p}\n"
        "  limit:\n    type: OS::Neutron::QoSBandwidthLimitRule\n"
        "    properties: {policy: {get_resource: policy}, max_kbps: 1000,"
        " max_burst_kbps: 100, direction: ingress}\n"
        "  mark:\n    type: OS::Neutron::QoSDscpMarkingRule\n"
        "    properties: {policy: {get_resource: policy}, dscp_mark: 46}\n"
        "  port:\n    type: OS::Neutron::Port\n"
        "    properties: {network: private, qos_policy: {get_resource: policy}}\n"
        "  net:\n    type: OS::Neutron::Net\n"
        "    properties: {qos_policy: {get_resource: policy}}\n"
    )
    report = _report(registry, good)
    assert not report.problems, report.problems
    assert report.plan is not None
    bad = (
        "  policy:\n    type: OS::Neutron::QoSPolicy\n    properties: {is_default: true}\n"
        "  limit:\n    type: OS::Neutron::QoSBandwidthLimitRule\n"
        "    properties: {policy: p, max_kbps: -1, direction: both}\n"
        "  mark:\n    type: OS::Neutron::QoSDscpMarkingRule\n"
        "    properties: {policy: p, dscp_mark: 4}\n"
        "  nomark:\n    type: OS::Neutron::QoSDscpMarkingRule\n"
        "    properties: {dscp_mark: 8}\n"
    )
    assert _codes(_report(registry, bad)) == sorted(
        [
            (Code.UNKNOWN_PROPERTY, "/resources/policy/properties/is_default"),
            (Code.PROPERTY_CONSTRAINT, "/resources/limit/properties/max_kbps"),
            (Code.PROPERTY_CONSTRAINT, "/resources/limit/properties/direction"),
            (Code.PROPERTY_CONSTRAINT, "/resources/mark/properties/dscp_mark"),
            (Code.MISSING_PROPERTY, "/resources/nomark/properties/policy"),
        ]
    )


def test_openstack_runs_the_new_types_and_finds_links_by_their_ends() -> None:
    """A gateway and a rule have no tags: the re-check before a terminal status must not
    sweep another build's identical link (cool.clouds.base.finds_by_mark)."""
    names = {rtype.name for rtype in (*neutron_qos.TYPES, neutron.ROUTER_GATEWAY)}
    assert names <= set(openstack_provider.HANDLERS)
    links = names - {neutron_qos.QOS_POLICY.name}
    assert links <= ENDPOINT_FOUND_TYPES
    assert neutron_qos.QOS_POLICY.name not in ENDPOINT_FOUND_TYPES  # marked and tagged


def test_provider_net_and_security_group_rule_validate_as_heat(
    registry: ResourceTypeRegistry,
) -> None:
    good = (
        "  vlan:\n    type: OS::Neutron::ProviderNet\n"
        "    properties: {network_type: vlan, physical_network: physnet1, segmentation_id: 7}\n"
        "  subnet:\n    type: OS::Neutron::Subnet\n"
        "    properties: {network: {get_resource: vlan}, cidr: 10.9.0.0/24}\n"
        "  group:\n    type: OS::Neutron::SecurityGroup\n"
        "  rule:\n    type: OS::Neutron::SecurityGroupRule\n"
        "    properties: {security_group: {get_resource: group}, protocol: '6',"
        " port_range_min: 22, port_range_max: 22, remote_group: {get_resource: group}}\n"
    )
    report = _report(registry, good)
    assert not report.problems, report.problems
    bad = (
        "  flat:\n    type: OS::Neutron::ProviderNet\n"
        "    properties: {network_type: flat, physical_network: p, segmentation_id: 7}\n"
        "  tunnel:\n    type: OS::Neutron::ProviderNet\n"
        "    properties: {network_type: vxlan, physical_network: p}\n"
        "  odd:\n    type: OS::Neutron::ProviderNet\n    properties: {network_type: ib}\n"
        "  rule:\n    type: OS::Neutron::SecurityGroupRule\n"
        "    properties: {security_group: g, protocol: tcp, port_range_min: 80,"
        " port_range_max: 22, remote_group: g, remote_ip_prefix: 0.0.0.0/0}\n"
        "  norule:\n    type: OS::Neutron::SecurityGroupRule\n"
        "    properties: {protocol: smtp}\n"
    )
    assert _codes(_report(registry, bad)) == sorted(
        [
            (Code.PROPERTY_CONSTRAINT, "/resources/flat/properties/segmentation_id"),
            (Code.PROPERTY_CONSTRAINT, "/resources/tunnel/properties/physical_network"),
            (Code.PROPERTY_CONSTRAINT, "/resources/odd/properties/network_type"),
            (Code.PROPERTY_CONSTRAINT, "/resources/rule/properties/port_range_min"),
            (Code.PROPERTY_CONFLICT, "/resources/rule/properties/remote_ip_prefix"),
            (Code.MISSING_PROPERTY, "/resources/norule/properties/security_group"),
            (Code.PROPERTY_CONSTRAINT, "/resources/norule/properties/protocol"),
        ]
    )
