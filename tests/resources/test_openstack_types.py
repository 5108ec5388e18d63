"""The OpenStack resource types: their declarations and their cross-checks.

Cross-checks are called directly with plain property dicts, as the validator
passes them (coerced, defaults filled); ``LATER`` stands for a value known only
when the build runs, which a check must not judge.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cool.resources import cinder, neutron, nova
from cool.resources.schema import (
    CLOUD_CONSTRAINTS,
    OFFLINE_CONSTRAINTS,
    CustomConstraint,
    ProblemKind,
    Property,
    PropertyProblem,
    ResourceType,
)

TYPES = (*neutron.TYPES, *nova.TYPES, *cinder.TYPES)


class _Later:
    """A value only known at run time (the validator's Deferred or Unknown)."""

    def __repr__(self) -> str:
        return "LATER"


LATER = _Later()


def _paths(problems: list[PropertyProblem]) -> list[tuple[Any, str]]:
    return [(problem.path, problem.kind) for problem in problems]


def _properties(props: dict[str, Property]) -> list[Property]:
    """Every property schema, nested ones included."""
    found: list[Property] = []
    for prop in props.values():
        found.append(prop)
        if prop.item_schema is not None:
            found.extend(_properties({"*": prop.item_schema}))
        if prop.map_schema is not None:
            found.extend(_properties(dict(prop.map_schema)))
    return found


# -- declarations ----------------------------------------------------------


def test_types_declare_the_issue_types() -> None:
    assert {t.name for t in TYPES} == {
        "OS::Neutron::Net",
        "OS::Neutron::ProviderNet",
        "OS::Neutron::Subnet",
        "OS::Neutron::Router",
        "OS::Neutron::RouterInterface",
        "OS::Neutron::RouterGateway",
        "OS::Neutron::Port",
        "OS::Neutron::SecurityGroup",
        "OS::Neutron::SecurityGroupRule",
        "OS::Neutron::FloatingIP",
        "OS::Neutron::FloatingIPAssociation",
        "OS::Nova::Server",
        "OS::Nova::KeyPair",
        "OS::Nova::ServerGroup",
        "OS::Nova::Flavor",
        "OS::Nova::FloatingIP",
        "OS::Nova::FloatingIPAssociation",
        "OS::Cinder::Volume",
        "OS::Cinder::VolumeAttachment",
        "OS::Cinder::VolumeType",
        "OS::Cinder::EncryptedVolumeType",
        "OS::Nova::HostAggregate",
    }


@pytest.mark.parametrize("rtype", TYPES, ids=lambda t: t.name)
def test_type_to_dict_round_trips_through_json(rtype: ResourceType) -> None:
    described = rtype.to_dict()
    assert json.loads(json.dumps(described)) == described


@pytest.mark.parametrize("rtype", TYPES, ids=lambda t: t.name)
def test_type_has_common_attributes_and_descriptions(rtype: ResourceType) -> None:
    assert "show" in rtype.attributes
    assert rtype.description
    assert all(prop.description for prop in rtype.properties.values())
    assert not set(rtype.unsupported) & set(rtype.properties)


@pytest.mark.parametrize("rtype", TYPES, ids=lambda t: t.name)
def test_type_custom_constraints_are_known(rtype: ResourceType) -> None:
    names = {
        constraint.name
        for prop in _properties(dict(rtype.properties))
        for constraint in prop.constraints
        if isinstance(constraint, CustomConstraint)
    }
    assert names <= set(OFFLINE_CONSTRAINTS) | CLOUD_CONSTRAINTS


@pytest.mark.parametrize("rtype", TYPES, ids=lambda t: t.name)
def test_type_checks_do_not_judge_runtime_values(rtype: ResourceType) -> None:
    everything_later = dict.fromkeys(rtype.properties, LATER)
    for check in rtype.checks:
        # Every property is set, so some may conflict; none is missing or invalid.
        kinds = {problem.kind for problem in check(everything_later)}
        assert kinds <= {ProblemKind.CONFLICT}, check.__name__


@pytest.mark.parametrize("rtype", TYPES, ids=lambda t: t.name)
def test_type_checks_accept_runtime_list_entries(rtype: ResourceType) -> None:
    lists_of_later = {
        name: [LATER, dict.fromkeys(prop.item_schema.map_schema or {}, LATER)]
        for name, prop in rtype.properties.items()
        if prop.item_schema is not None
    }
    for check in rtype.checks:
        check(dict.fromkeys(rtype.properties, LATER) | lists_of_later)  # does not raise


def test_registry_loads_the_openstack_types(registry: Any) -> None:
    for rtype in TYPES:
        assert registry.get(rtype.name) is rtype


# -- OS::Neutron::Subnet ---------------------------------------------------


def test_subnet_network_under_either_heat_name() -> None:
    check = neutron._check_subnet_network
    assert check({"network": "private"}) == []
    assert check({"network_id": LATER}) == []
    assert _paths(check({"cidr": "10.0.0.0/24"})) == [(("network",), "missing")]
    assert _paths(check({"network": "a", "network_id": "b"})) == [(("network_id",), "conflict")]


def test_subnet_cidr_is_required_without_subnetpool() -> None:
    check = neutron._check_subnet_cidr_source
    assert _paths(check({"ip_version": 4})) == [(("cidr",), "missing")]
    assert check({"subnetpool": "pool"}) == []
    assert check({"subnetpool": "pool", "prefixlen": 26}) == []
    assert check({"cidr": LATER}) == []


def test_subnet_cidr_conflicts_with_subnetpool_and_prefixlen() -> None:
    problems = neutron._check_subnet_cidr_source(
        {"cidr": "10.0.0.0/24", "subnetpool": "pool", "prefixlen": 26}
    )
    assert _paths(problems) == [(("subnetpool",), "conflict"), (("prefixlen",), "conflict")]


def test_subnet_ipv6_modes_need_ip_version_6_and_agree() -> None:
    check = neutron._check_subnet_ipv6_modes
    assert _paths(check({"ip_version": 4, "ipv6_ra_mode": "slaac"})) == [
        (("ipv6_ra_mode",), "constraint")
    ]
    assert _paths(check({"ipv6_address_mode": "slaac"})) == [(("ipv6_address_mode",), "constraint")]
    assert check({"ip_version": 6, "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac"}) == []
    both = {"ip_version": 6, "ipv6_ra_mode": "slaac", "ipv6_address_mode": "dhcpv6-stateful"}
    assert _paths(check(both)) == [(("ipv6_address_mode",), "conflict")]
    assert check({"ip_version": LATER, "ipv6_ra_mode": "slaac"}) == []


def test_subnet_addresses_inside_cidr_pass() -> None:
    props = {
        "cidr": "10.0.0.0/24",
        "ip_version": 4,
        "gateway_ip": "10.0.0.1",
        "allocation_pools": [{"start": "10.0.0.10", "end": "10.0.0.20"}],
    }
    assert neutron._check_subnet_addresses(props) == []


def test_subnet_pools_outside_cidr_are_refused_a_gateway_is_not() -> None:
    """Neutron refuses a pool outside the subnet, and takes a gateway outside it."""
    props = {
        "cidr": "10.0.0.0/24",
        "ip_version": 4,
        "gateway_ip": "10.0.1.1",
        "allocation_pools": [
            {"start": "10.0.0.10", "end": "10.0.0.20"},
            {"start": "10.0.0.30", "end": "192.168.0.1"},
        ],
    }
    assert _paths(neutron._check_subnet_addresses(props)) == [
        (("allocation_pools", 1, "end"), "constraint"),
    ]


def test_subnet_ip_versions_must_agree() -> None:
    check = neutron._check_subnet_addresses
    assert _paths(check({"cidr": "2001:db8::/64", "ip_version": 4})) == [(("cidr",), "constraint")]
    v6_gateway = {"cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": "2001:db8::1"}
    assert _paths(check(v6_gateway)) == [(("gateway_ip",), "constraint")]
    no_cidr = {"subnetpool": "pool", "ip_version": 6, "gateway_ip": "10.0.0.1"}
    assert _paths(check(no_cidr)) == [(("gateway_ip",), "constraint")]
    assert check({"cidr": "2001:db8::/64", "ip_version": 6, "gateway_ip": "2001:db8::1"}) == []


def test_subnet_pool_order_and_gateway_overlap_are_refused() -> None:
    props = {
        "cidr": "10.0.0.0/24",
        "ip_version": 4,
        "gateway_ip": "10.0.0.15",
        "allocation_pools": [
            {"start": "10.0.0.50", "end": "10.0.0.40"},
            {"start": "10.0.0.10", "end": "10.0.0.20"},
        ],
    }
    assert _paths(neutron._check_subnet_addresses(props)) == [
        (("allocation_pools", 0, "end"), "constraint"),
        (("gateway_ip",), "conflict"),
    ]


def test_subnet_addresses_skip_runtime_and_no_gateway_values() -> None:
    check = neutron._check_subnet_addresses
    assert check({"cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": ""}) == []
    assert check({"cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": "~"}) == []
    later = {
        "cidr": LATER,
        "ip_version": 4,
        "gateway_ip": LATER,
        "allocation_pools": [{"start": LATER, "end": "10.0.0.20"}, LATER],
    }
    assert check(later) == []
    assert check({"cidr": "10.0.0.0/24", "ip_version": LATER, "gateway_ip": "10.0.0.1"}) == []
    assert _paths(check({"cidr": "10.0.0.0/24", "gateway_ip": "10.0.0"})) == [
        (("gateway_ip",), "constraint")
    ]


# -- OS::Neutron::Router and ::RouterInterface -------------------------------


def test_router_distributed_excludes_ha_and_agents() -> None:
    check = neutron._check_router_agents
    assert _paths(check({"distributed": True, "ha": True})) == [(("ha",), "conflict")]
    assert _paths(check({"distributed": True, "l3_agent_ids": ["a"]})) == [
        (("l3_agent_ids",), "conflict")
    ]
    assert _paths(check({"l3_agent_ids": ["a", "b"]})) == [(("l3_agent_ids",), "constraint")]
    assert check({"ha": True, "l3_agent_ids": ["a", "b"]}) == []
    assert check({"distributed": False, "ha": True}) == []
    assert check({"l3_agent_id": "a"}) == []
    assert _paths(check({"l3_agent_id": "a", "l3_agent_ids": ["b"]})) == [
        (("l3_agent_id",), "conflict")
    ]
    assert _paths(check({"distributed": True, "l3_agent_id": "a"})) == [
        (("l3_agent_id",), "conflict")
    ]


def test_router_interface_needs_exactly_one_of_subnet_and_port() -> None:
    check = neutron._check_router_interface_target
    assert check({"router": "r", "subnet": LATER}) == []
    assert check({"router": "r", "port": "p"}) == []
    assert _paths(check({"router": "r"})) == [(("subnet",), "missing")]
    assert _paths(check({"router": "r", "subnet": "s", "port": LATER})) == [(("port",), "conflict")]


def test_router_interface_accepts_heat_deprecated_names() -> None:
    check = neutron._check_router_interface_target
    assert check({"router_id": "r", "subnet_id": "s"}) == []
    assert check({"router_id": "r", "port_id": "p"}) == []
    assert _paths(check({"subnet": "s"})) == [(("router",), "missing")]
    assert _paths(check({"router": "r", "subnet_id": "s", "port_id": "p"})) == [
        (("port_id",), "conflict")
    ]
    assert _paths(check({"router": "r", "router_id": "r", "subnet": "s", "subnet_id": "s"})) == [
        (("router_id",), "conflict"),
        (("subnet_id",), "conflict"),
    ]


# -- OS::Neutron::Port -----------------------------------------------------


def test_port_names_its_network_and_subnets_once() -> None:
    check = neutron._check_port_names
    props = {"network_id": "n", "fixed_ips": [{"subnet": "s"}, {"subnet_id": "s"}, LATER]}
    assert check(props) == []
    assert _paths(check({"fixed_ips": [{"ip_address": "10.0.0.5"}]})) == [(("network",), "missing")]
    both = {"network": "n", "network_id": "n", "fixed_ips": [{"subnet": "s", "subnet_id": "s"}]}
    assert _paths(check(both)) == [
        (("network_id",), "conflict"),
        (("fixed_ips", 0, "subnet_id"), "conflict"),
    ]


def test_port_no_fixed_ips_excludes_fixed_ips() -> None:
    check = neutron._check_port_fixed_ips
    both = {"no_fixed_ips": True, "fixed_ips": [{"subnet": "s"}]}
    assert _paths(check(both)) == [(("no_fixed_ips",), "conflict")]
    assert check({"no_fixed_ips": True}) == []
    assert check({"no_fixed_ips": False, "fixed_ips": [LATER]}) == []


# -- OS::Neutron::SecurityGroup ----------------------------------------------


def test_security_group_port_range_must_be_ordered() -> None:
    rules = [
        {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22},
        {"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
        {"protocol": "udp", "port_range_min": LATER, "port_range_max": 80},
    ]
    assert _paths(neutron._check_rule_ports({"rules": rules})) == [
        (("rules", 1, "port_range_min"), "constraint")
    ]


def test_security_group_icmp_type_and_code_are_not_a_range() -> None:
    rules = [{"protocol": "icmp", "port_range_min": 8, "port_range_max": 0}]
    assert neutron._check_rule_ports({"rules": rules}) == []


def test_security_group_port_range_needs_a_protocol() -> None:
    rules = [
        {"direction": "ingress", "port_range_min": 80, "port_range_max": 80},
        {"remote_ip_prefix": "0.0.0.0/0"},
        {"protocol": LATER, "port_range_min": 80},
    ]
    assert _paths(neutron._check_rule_ports({"rules": rules})) == [
        (("rules", 0, "protocol"), "missing")
    ]


def test_security_group_cannot_be_named_default() -> None:
    check = neutron._check_security_group_name
    assert _paths(check({"name": "default", "rules": []})) == [(("name",), "constraint")]
    assert check({"name": "web", "rules": []}) == []


# -- OS::Neutron::FloatingIP -----------------------------------------------


def test_floating_ip_network_under_either_heat_name() -> None:
    check = neutron._check_floating_ip_network
    assert check({"floating_network": "public"}) == []
    assert check({"floating_network_id": LATER}) == []
    assert _paths(check({"port_id": "p"})) == [(("floating_network",), "missing")]
    assert _paths(check({"floating_network": "a", "floating_network_id": "b"})) == [
        (("floating_network_id",), "conflict")
    ]


def test_floating_ip_fixed_address_needs_port_id() -> None:
    check = neutron._check_floating_ip_port
    assert _paths(check({"floating_network": "public", "fixed_ip_address": "10.0.0.5"})) == [
        (("port_id",), "missing")
    ]
    assert (
        check({"floating_network": "public", "fixed_ip_address": "10.0.0.5", "port_id": LATER})
        == []
    )
    assert check({"floating_network": "public"}) == []


# -- OS::Nova::Server ------------------------------------------------------

SERVER_DEFAULTS: dict[str, Any] = {
    "flavor": "m1.small",
    "security_groups": [],
    "metadata": {},
    "user_data": "",
    "user_data_format": "HEAT_CFNTOOLS",
}


def test_server_refuses_software_config() -> None:
    check = nova._check_user_data_format
    props = {**SERVER_DEFAULTS, "user_data_format": "SOFTWARE_CONFIG"}
    assert _paths(check(props)) == [(("user_data_format",), "unsupported")]
    assert check({**SERVER_DEFAULTS, "user_data_format": "RAW"}) == []
    assert check(SERVER_DEFAULTS) == []


def test_server_entries_use_one_name_per_key() -> None:
    props = {
        **SERVER_DEFAULTS,
        "networks": [{"uuid": "net-id"}, {"network": "private", "uuid": "net-id"}],
        "block_device_mapping_v2": [{"image_id": "cirros"}, {"image": "a", "image_id": "b"}],
    }
    assert _paths(nova._check_old_names(props)) == [
        (("networks", 1, "uuid"), "conflict"),
        (("block_device_mapping_v2", 1, "image_id"), "conflict"),
    ]


def test_server_deprecated_entry_keys_count_as_their_new_names() -> None:
    networks = [{"uuid": "net-id", "floating_ip": "fip"}]
    assert _paths(nova._check_networks({**SERVER_DEFAULTS, "networks": networks})) == [
        (("networks", 0, "floating_ip"), "constraint")
    ]
    boot_image = [{"image_id": "cirros", "volume_size": 10}]
    assert nova._check_boot_source({**SERVER_DEFAULTS, "block_device_mapping_v2": boot_image}) == []
    assert (
        nova._check_block_devices({**SERVER_DEFAULTS, "block_device_mapping_v2": boot_image}) == []
    )


def test_server_needs_an_image_or_a_boot_volume() -> None:
    check = nova._check_boot_source
    assert _paths(check(SERVER_DEFAULTS)) == [(("image",), "missing")]
    assert check({**SERVER_DEFAULTS, "image": "cirros"}) == []
    assert check({**SERVER_DEFAULTS, "image": LATER}) == []
    boot_volume = [{"volume_id": "vol", "boot_index": 0}]
    assert check({**SERVER_DEFAULTS, "block_device_mapping_v2": boot_volume}) == []
    from_image = [{"image": "cirros", "volume_size": 10}]  # boot_index defaults to 0
    assert check({**SERVER_DEFAULTS, "block_device_mapping_v2": from_image}) == []
    old_style = [{"device_name": "vda", "volume_id": "vol"}]
    assert check({**SERVER_DEFAULTS, "block_device_mapping": old_style}) == []


def test_server_data_volumes_do_not_boot() -> None:
    check = nova._check_boot_source
    data_only = [{"volume_id": "vol", "boot_index": 1}, {"swap_size": 512}]
    assert _paths(check({**SERVER_DEFAULTS, "block_device_mapping_v2": data_only})) == [
        (("image",), "missing")
    ]
    old_style = [{"device_name": "vdb", "volume_id": "vol"}]
    assert _paths(check({**SERVER_DEFAULTS, "block_device_mapping": old_style})) == [
        (("image",), "missing")
    ]


def test_server_boot_source_skips_runtime_entries() -> None:
    check = nova._check_boot_source
    assert check({**SERVER_DEFAULTS, "block_device_mapping_v2": [LATER]}) == []
    later_index = [{"volume_id": "vol", "boot_index": LATER}]
    assert check({**SERVER_DEFAULTS, "block_device_mapping_v2": later_index}) == []


def test_server_has_only_one_boot_source() -> None:
    check = nova._check_boot_source
    boot_volume = [{"volume_id": "vol"}]
    props = {**SERVER_DEFAULTS, "image": "cirros", "block_device_mapping_v2": boot_volume}
    assert _paths(check(props)) == [(("block_device_mapping_v2", 0), "conflict")]
    two = [{"volume_id": "a"}, {"swap_size": 512}, {"snapshot_id": "b", "boot_index": 0}]
    assert _paths(check({**SERVER_DEFAULTS, "block_device_mapping_v2": two})) == [
        (("block_device_mapping_v2", 2), "conflict")
    ]


def test_server_block_devices_name_one_source_each() -> None:
    props = {
        **SERVER_DEFAULTS,
        "block_device_mapping": [
            {"device_name": "vda", "volume_id": "a", "snapshot_id": "b"},
            {"device_name": "vdb"},
        ],
        "block_device_mapping_v2": [
            {"volume_id": "a", "image": "cirros"},
            {"boot_index": -1},
            {"ephemeral_size": 1, "ephemeral_format": "ext4"},
            {"swap_size": 512, "ephemeral_format": "ext4"},
        ],
    }
    assert _paths(nova._check_block_devices(props)) == [
        (("block_device_mapping_v2",), "conflict"),
        (("block_device_mapping", 0, "snapshot_id"), "conflict"),
        (("block_device_mapping", 1), "missing"),
        (("block_device_mapping_v2", 0, "image"), "conflict"),
        (("block_device_mapping_v2", 1), "missing"),
        (("block_device_mapping_v2", 3, "ephemeral_size"), "conflict"),
    ]


def test_server_network_entries_name_something_without_conflicts() -> None:
    props = {
        **SERVER_DEFAULTS,
        "networks": [
            {"network": "private"},
            {"subnet": LATER},
            {"fixed_ip": "10.0.0.5"},
            {"port": "p", "fixed_ip": "10.0.0.5"},
            {"network": "private", "floating_ip": "fip"},
            {"network": "private", "subnet": "s", "floating_ip": "fip"},
        ],
    }
    assert _paths(nova._check_networks(props)) == [
        (("networks", 2), "missing"),
        (("networks", 3, "fixed_ip"), "conflict"),
        (("networks", 4, "floating_ip"), "constraint"),
    ]


def test_server_allocate_network_stands_alone() -> None:
    check = nova._check_networks
    assert check({**SERVER_DEFAULTS, "networks": [{"allocate_network": "auto"}]}) == []
    with_network = [{"allocate_network": "auto", "network": "private"}]
    assert _paths(check({**SERVER_DEFAULTS, "networks": with_network})) == [
        (("networks", 0, "allocate_network"), "conflict")
    ]
    two_entries = [{"network": "private"}, {"allocate_network": "none"}]
    assert _paths(check({**SERVER_DEFAULTS, "networks": two_entries})) == [
        (("networks", 1, "allocate_network"), "conflict")
    ]


def test_server_security_groups_conflict_with_ports() -> None:
    check = nova._check_networks
    networks = [{"port": LATER}]
    props = {**SERVER_DEFAULTS, "security_groups": ["web"], "networks": networks}
    assert _paths(check(props)) == [(("security_groups",), "conflict")]
    assert check({**SERVER_DEFAULTS, "networks": networks}) == []


# -- OS::Cinder::Volume ----------------------------------------------------


def test_volume_size_is_required_unless_copied() -> None:
    check = cinder._check_volume_source
    assert _paths(check({"metadata": {}})) == [(("size",), "missing")]
    assert _paths(check({"image": "cirros"})) == [(("size",), "missing")]
    assert check({"size": 10}) == []
    assert check({"size": LATER, "image": "cirros"}) == []
    assert check({"snapshot_id": "snap"}) == []
    assert check({"source_volid": LATER}) == []
    assert check({"backup_id": "backup"}) == []


def test_volume_accepts_image_ref_as_image() -> None:
    check = cinder._check_volume_source
    assert check({"size": 10, "imageRef": "cirros"}) == []
    assert _paths(check({"imageRef": "cirros"})) == [(("size",), "missing")]
    props = {"size": 10, "image": "cirros", "imageRef": "cirros"}
    assert _paths(check(props)) == [(("imageRef",), "conflict")]


def test_volume_has_one_source() -> None:
    check = cinder._check_volume_source
    assert _paths(check({"snapshot_id": "snap", "image": "cirros"})) == [(("image",), "conflict")]
    props = {"size": 10, "snapshot_id": "snap", "source_volid": "vol"}
    assert _paths(check(props)) == [(("source_volid",), "conflict")]
    assert check({"backup_id": "backup", "image": "cirros", "snapshot_id": "snap"}) == []
