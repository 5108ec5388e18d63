"""Neutron resource types: networks, subnets, routers, ports, security groups, floating IPs.

Property names, types, defaults and allowed values follow Heat's, so Heat templates
validate unchanged. The names Heat deprecated but still accepts (``network_id`` for
``network`` and the like) are accepted too: a template gives one name or the other, and
the provider reads whichever is set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from cool.resources.checks import is_given, map_entries, one_name
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    CustomConstraint,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    conflict,
    constraint,
    missing,
)

_IPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
_ICMP_PROTOCOLS = frozenset({"icmp", "icmpv6", "ipv6-icmp", "1", "58"})
# Heat's ALLOWED_SECURITY_GROUP_PROTOCOLS: Neutron's names and the numbers 0 to 255.
_RULE_PROTOCOLS = (
    *[
        "ah",
        "dccp",
        "egp",
        "esp",
        "gre",
        "icmp",
        "icmpv6",
        "igmp",
        "ipv6-encap",
        "ipv6-frag",
        "ipv6-icmp",
        "ipv6-nonxt",
        "ipv6-opts",
        "ipv6-route",
        "ospf",
        "pgm",
        "rsvp",
        "sctp",
        "tcp",
        "udp",
        "udplite",
        "vrrp",
    ],
    *(str(n) for n in range(256)),
)


def _string(
    description: str, *custom: str, constraints: tuple[Any, ...] = (), **kwargs: Any
) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "neutron.network")."""
    constraints = (*constraints, *(CustomConstraint(name) for name in custom))
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


def _old_name(new: str, *custom: str) -> Property:
    """A String property under the deprecated Heat name of property ``new``."""
    return _string(
        f"Deprecated Heat name of {new}; give one or the other.", *custom, deprecated_for=new
    )


def _value_specs() -> Property:
    return Property(PropertyType.MAP, "Extra parameters to include in the request.", default={})


def _admin_state_up(what: str) -> Property:
    return Property(PropertyType.BOOLEAN, f"The administrative state of the {what}.", default=True)


def _tags(what: str) -> Property:
    return Property(
        PropertyType.LIST, f"Tags to add to the {what}.", schema=Property(PropertyType.STRING)
    )


def _attributes(**described: tuple[str, AttributeType]) -> dict[str, Attribute]:
    return {
        **COMMON_ATTRIBUTES,
        **{name: Attribute(text, kind) for name, (text, kind) in described.items()},
    }


def _plain_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


# -- OS::Neutron::Net ------------------------------------------------------

NET = ResourceType(
    name="OS::Neutron::Net",
    description="A Neutron network: an isolated layer-2 broadcast domain.",
    properties={
        "name": _string("Name of the network (need not be unique)."),
        "value_specs": _value_specs(),
        "admin_state_up": _admin_state_up("network"),
        "tenant_id": _string("Project to own the network (administrators only)."),
        "shared": Property(
            PropertyType.BOOLEAN,
            "Share the network with all projects (administrators only).",
            default=False,
        ),
        "dhcp_agent_ids": Property(
            PropertyType.LIST,
            "DHCP agents to schedule the network on (administrators only).",
            schema=Property(PropertyType.STRING),
        ),
        "port_security_enabled": Property(
            PropertyType.BOOLEAN, "Default port security of the ports created on this network."
        ),
        "qos_policy": _string("Name or ID of the QoS policy to attach.", "neutron.qos_policy"),
        "dns_domain": _string("DNS domain of the network.", "dns_domain"),
        "tags": _tags("network"),
    },
    attributes=_attributes(
        status=("Status of the network.", AttributeType.STRING),
        name=("Name of the network.", AttributeType.STRING),
        subnets=("IDs of the subnets of the network.", AttributeType.LIST),
        admin_state_up=("Administrative state of the network.", AttributeType.BOOLEAN),
        tenant_id=("Project owning the network.", AttributeType.STRING),
        port_security_enabled=("Port security of the network.", AttributeType.BOOLEAN),
        mtu=("Maximum transmission unit of the network, in bytes.", AttributeType.INTEGER),
        qos_policy_id=("ID of the QoS policy attached to the network.", AttributeType.STRING),
        l2_adjacency=(
            "Whether L2 connectivity is available across the network.",
            AttributeType.BOOLEAN,
        ),
        segments=("Segments of the network.", AttributeType.LIST),
    ),
)


# -- OS::Neutron::ProviderNet ----------------------------------------------

_NETWORK_TYPES = ("local", "vlan", "vxlan", "gre", "geneve", "flat")


def _check_provider_segment(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's ProviderNet.validate: a flat or local network has no segmentation id, and
    a tunnel (or local) network no physical network."""
    kind = props.get("network_type")
    if not isinstance(kind, str):
        return []
    problems: list[PropertyProblem] = []
    if is_given(props.get("segmentation_id")) and kind in ("local", "flat"):
        why = "segmentation_id not allowed for network types: local, flat"
        problems.append(constraint("segmentation_id", why))
    if is_given(props.get("physical_network")) and kind in ("vxlan", "gre", "geneve", "local"):
        why = "physical_network not allowed for network types: vxlan, gre, geneve, local"
        problems.append(constraint("physical_network", why))
    return problems


PROVIDER_NET = ResourceType(
    name="OS::Neutron::ProviderNet",
    description="A Neutron provider network: a network on a given physical network or "
    "segment (administrators only, as Neutron's default policy says).",
    properties={
        "name": _string("Name of the network (need not be unique)."),
        "network_type": _string(
            "The provider network type.",
            required=True,
            constraints=(AllowedValues(_NETWORK_TYPES),),
        ),
        "physical_network": _string("The physical network the network maps to."),
        "segmentation_id": _string("The segmentation id (a VLAN id, a VNI)."),
        "admin_state_up": _admin_state_up("network"),
        "shared": Property(
            PropertyType.BOOLEAN,
            "Share the network with all projects (Heat's default for a provider network).",
            default=True,
        ),
        "port_security_enabled": Property(
            PropertyType.BOOLEAN, "Default port security of the ports created on this network."
        ),
        "router_external": Property(
            PropertyType.BOOLEAN,
            "Whether the network is external (a router's gateway may be on it).",
            default=False,
        ),
        "dns_domain": _string("DNS domain of the network.", "dns_domain"),
        "availability_zone_hints": Property(
            PropertyType.LIST,
            "Availability zone candidates for the network.",
            schema=Property(PropertyType.STRING),
        ),
        "tags": _tags("network"),
        "tenant_id": _string("Project to own the network (administrators only)."),
    },
    attributes=_attributes(
        status=("Status of the network.", AttributeType.STRING),
        subnets=("IDs of the subnets of the network.", AttributeType.LIST),
        segments=("Segments of the network.", AttributeType.LIST),
    ),
    checks=(_check_provider_segment,),
)


# -- OS::Neutron::Subnet ---------------------------------------------------


def _check_subnet_network(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """The subnet names its network, as network or as the deprecated network_id."""
    return one_name(props, "network", "network_id", required=True)


def _check_subnet_cidr_source(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """cidr is required unless subnetpool is given, and excludes subnetpool and prefixlen."""
    if not is_given(props.get("cidr")):
        if is_given(props.get("subnetpool")):
            return []
        return [missing("cidr", "cidr is required unless subnetpool is given")]
    problems: list[PropertyProblem] = []
    if is_given(props.get("subnetpool")):
        why = "subnetpool cannot be given with cidr: the range comes from one or the other"
        problems.append(conflict("subnetpool", why))
    if props.get("prefixlen") is not None:
        why = "prefixlen applies to a subnet allocated from subnetpool, not to one with cidr"
        problems.append(conflict("prefixlen", why))
    return problems


def _check_subnet_ipv6_modes(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """IPv6 address modes need ip_version 6, and must be equal when both are set."""
    problems: list[PropertyProblem] = []
    if props.get("ip_version", 4) in (4, None):  # None: not set, so Heat's default, 4
        problems.extend(
            constraint(key, f"{key} applies only to IPv6 subnets (ip_version 6)")
            for key in ("ipv6_ra_mode", "ipv6_address_mode")
            if is_given(props.get(key))
        )
    ra_mode, address_mode = props.get("ipv6_ra_mode"), props.get("ipv6_address_mode")
    if isinstance(ra_mode, str) and isinstance(address_mode, str) and ra_mode != address_mode:
        why = f"ipv6_ra_mode {ra_mode!r} and ipv6_address_mode {address_mode!r} must be equal"
        problems.append(conflict("ipv6_address_mode", why))
    return problems


def _placement(
    path: tuple[str | int, ...], address: Any, network: Any, version: Any, *, inside: bool = True
) -> list[PropertyProblem]:
    """Problems with an address of the subnet's IP version that should (``inside``) lie in
    the subnet (``network``, if known)."""
    what = f"{path[-1]} {address}"
    if network is not None and address.version != network.version:
        why = f"{what} is an IPv{address.version} address but cidr {network} is not"
    elif inside and network is not None and address not in network:
        why = f"{what} is outside cidr {network}"
    elif network is None and version in (4, 6) and address.version != version:
        why = f"{what} is an IPv{address.version} address but ip_version is {version}"
    else:
        return []
    return [constraint(path, why)]


def _check_subnet_addresses(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """cidr, gateway_ip and allocation pools agree on the IP version; pools lie inside cidr."""
    problems: list[PropertyProblem] = []
    version = props.get("ip_version", 4)
    if version is None:
        version = 4
    elif not _plain_int(version):
        version = None  # a runtime reference: the version is not known yet
    cidr, network = props.get("cidr"), None
    if isinstance(cidr, str):
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            network = None  # the net_cidr constraint reports it
    if network is not None and version in (4, 6) and network.version != version:
        why = f"cidr {cidr} is an IPv{network.version} network but ip_version is {version}"
        problems.append(constraint("cidr", why))
    gateway_ip, gateway = props.get("gateway_ip"), None
    if isinstance(gateway_ip, str) and gateway_ip not in ("", "~"):  # "" or ~: no gateway
        gateway = _address(gateway_ip)
        if gateway is None:
            why = f"gateway_ip {gateway_ip!r} is not a valid IP address"
            problems.append(constraint("gateway_ip", why))
        else:
            # Neutron takes a gateway outside the subnet (an on-link router elsewhere).
            misplaced = _placement(("gateway_ip",), gateway, network, version, inside=False)
            problems.extend(misplaced)
            gateway = None if misplaced else gateway  # refused once is enough
    for i, pool in map_entries(props.get("allocation_pools")):
        start, end = _address(pool.get("start")), _address(pool.get("end"))
        misplaced = [
            problem
            for key, address in (("start", start), ("end", end))
            if address is not None
            for problem in _placement(("allocation_pools", i, key), address, network, version)
        ]
        problems.extend(misplaced)
        if start is None or end is None or start.version != end.version or misplaced:
            continue  # a pool refused once is enough
        if start > end:
            why = f"end {end} comes before start {start}"
            problems.append(constraint(("allocation_pools", i, "end"), why))
        elif gateway is not None and gateway.version == start.version and start <= gateway <= end:
            why = f"gateway_ip {gateway} lies inside allocation pool {start}-{end}"
            problems.append(conflict("gateway_ip", why))
    return problems


SUBNET = ResourceType(
    name="OS::Neutron::Subnet",
    description="A Neutron subnet: a block of IP addresses on a network.",
    properties={
        "network": _string(
            "Name or ID of the network of the subnet (required).", "neutron.network"
        ),
        "network_id": _old_name("network", "neutron.network"),
        "subnetpool": _string(
            "Name or ID of the subnet pool to allocate the range from (instead of cidr).",
            "neutron.subnetpool",
        ),
        "prefixlen": Property(
            PropertyType.INTEGER,
            "Prefix length of a range allocated from subnetpool.",
            constraints=(Range(min=0),),
        ),
        "cidr": _string(
            "The range of the subnet, like 10.0.0.0/24 (required unless subnetpool is given).",
            "net_cidr",
        ),
        "value_specs": _value_specs(),
        "name": _string("Name of the subnet."),
        "ip_version": Property(
            PropertyType.INTEGER,
            "IP version of the subnet, 4 or 6.",
            default=4,
            constraints=(AllowedValues((4, 6)),),
        ),
        "dns_nameservers": Property(
            PropertyType.LIST,
            "Addresses of the DNS name servers.",
            default=[],
            schema=Property(PropertyType.STRING),
        ),
        "gateway_ip": _string(
            'Gateway address (Neutron allows one outside cidr); "" for no gateway (omitted: '
            "the first address of cidr)."
        ),
        "enable_dhcp": Property(PropertyType.BOOLEAN, "Whether DHCP is enabled.", default=True),
        "allocation_pools": Property(
            PropertyType.LIST,
            "Ranges (inside cidr) to allocate addresses from.",
            schema=Property(
                PropertyType.MAP,
                schema={
                    "start": _string("First address of the pool.", "ip_addr", required=True),
                    "end": _string("Last address of the pool.", "ip_addr", required=True),
                },
            ),
        ),
        "tenant_id": _string("Project to own the subnet (administrators only)."),
        "host_routes": Property(
            PropertyType.LIST,
            "Static routes to hand to hosts on the subnet.",
            schema=Property(
                PropertyType.MAP,
                schema={
                    "destination": _string(
                        "Destination network of the route.", "net_cidr", required=True
                    ),
                    "nexthop": _string("Next hop of the route.", "ip_addr", required=True),
                },
            ),
        ),
        "ipv6_ra_mode": _string(
            "IPv6 router advertisement mode.", constraints=(AllowedValues(_IPV6_MODES),)
        ),
        "ipv6_address_mode": _string(
            "IPv6 address mode.", constraints=(AllowedValues(_IPV6_MODES),)
        ),
        "segment": _string("Name or ID of the network segment of the subnet.", "neutron.segment"),
        "tags": _tags("subnet"),
    },
    attributes=_attributes(
        name=("Name of the subnet.", AttributeType.STRING),
        network_id=("ID of the network of the subnet.", AttributeType.STRING),
        tenant_id=("Project owning the subnet.", AttributeType.STRING),
        allocation_pools=("Allocation pools of the subnet.", AttributeType.LIST),
        gateway_ip=("Gateway address of the subnet.", AttributeType.STRING),
        host_routes=("Static routes of the subnet.", AttributeType.LIST),
        ip_version=("IP version of the subnet.", AttributeType.INTEGER),
        cidr=("Range of the subnet, in CIDR notation.", AttributeType.STRING),
        dns_nameservers=("DNS name servers of the subnet.", AttributeType.LIST),
        enable_dhcp=("Whether DHCP is enabled on the subnet.", AttributeType.BOOLEAN),
    ),
    checks=(
        _check_subnet_network,
        _check_subnet_cidr_source,
        _check_subnet_ipv6_modes,
        _check_subnet_addresses,
    ),
)


# -- OS::Neutron::Router and ::RouterInterface -------------------------------


def _check_router_agents(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """A distributed router is neither HA nor pinned to L3 agents; a non-HA one has one agent."""
    distributed, ha, agents = props.get("distributed"), props.get("ha"), props.get("l3_agent_ids")
    problems = one_name(props, "l3_agent_ids", "l3_agent_id")
    if distributed is True and ha is True:
        problems.append(conflict("ha", "a router cannot be both distributed and ha"))
    for key in ("l3_agent_ids", "l3_agent_id"):
        if distributed is True and is_given(props.get(key)):
            why = "a distributed router cannot be placed on L3 agents"
            problems.append(conflict(key, why))
    if ha is not True and isinstance(agents, list) and len(agents) > 1:
        why = "a router that is not ha can have only one L3 agent"
        problems.append(constraint("l3_agent_ids", why))
    return problems


ROUTER = ResourceType(
    name="OS::Neutron::Router",
    description="A Neutron router: routes traffic between subnets and to an external network.",
    properties={
        "name": _string("Name of the router."),
        "external_gateway_info": Property(
            PropertyType.MAP,
            "The external network gateway of the router.",
            schema={
                "network": _string(
                    "Name or ID of the external network.", "neutron.network", required=True
                ),
                "enable_snat": Property(
                    PropertyType.BOOLEAN, "Enable source NAT on the gateway (administrators only)."
                ),
                "external_fixed_ips": Property(
                    PropertyType.LIST,
                    "Fixed addresses of the gateway on the external network.",
                    schema=Property(
                        PropertyType.MAP,
                        schema={
                            "ip_address": _string("External fixed address.", "ip_addr"),
                            "subnet": _string(
                                "Subnet of the external fixed address.", "neutron.subnet"
                            ),
                        },
                    ),
                ),
            },
        ),
        "value_specs": _value_specs(),
        "admin_state_up": _admin_state_up("router"),
        "l3_agent_ids": Property(
            PropertyType.LIST,
            "L3 agents to host the router (administrators only).",
            schema=Property(PropertyType.STRING),
        ),
        "l3_agent_id": _string("Deprecated Heat form of l3_agent_ids: one agent."),
        "distributed": Property(
            PropertyType.BOOLEAN, "Create a distributed router (administrators only)."
        ),
        "ha": Property(
            PropertyType.BOOLEAN, "Create a highly available router (administrators only)."
        ),
        "tags": _tags("router"),
    },
    attributes=_attributes(
        status=("Status of the router.", AttributeType.STRING),
        external_gateway_info=("External gateway of the router.", AttributeType.MAP),
        name=("Name of the router.", AttributeType.STRING),
        admin_state_up=("Administrative state of the router.", AttributeType.BOOLEAN),
        tenant_id=("Project owning the router.", AttributeType.STRING),
    ),
    checks=(_check_router_agents,),
)


def _check_router_interface_target(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """A router interface names its router, and attaches exactly one of subnet and port."""
    problems = [
        *one_name(props, "router", "router_id", required=True),
        *one_name(props, "subnet", "subnet_id"),
        *one_name(props, "port", "port_id"),
    ]
    subnet = [key for key in ("subnet", "subnet_id") if is_given(props.get(key))]
    port = [key for key in ("port", "port_id") if is_given(props.get(key))]
    if subnet and port:
        problems.append(conflict(port[0], "give subnet or port, not both"))
    elif not subnet and not port:
        problems.append(missing("subnet", "one of subnet or port is required"))
    return problems


ROUTER_INTERFACE = ResourceType(
    name="OS::Neutron::RouterInterface",
    description="Attaches a router to a subnet or to a port.",
    properties={
        "router": _string("Name or ID of the router (required).", "neutron.router"),
        "router_id": _old_name("router", "neutron.router"),
        "subnet": _string("Subnet to attach (give subnet or port).", "neutron.subnet"),
        "subnet_id": _old_name("subnet", "neutron.subnet"),
        "port": _string("Port to attach (give subnet or port).", "neutron.port"),
        "port_id": _old_name("port", "neutron.port"),
    },
    attributes=_attributes(),
    checks=(_check_router_interface_target,),
)


def _check_router_gateway_network(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """The gateway names its external network, as network or the deprecated network_id
    (Heat's schema requires neither, and its create then fails in Neutron)."""
    return one_name(props, "network", "network_id", required=True)


ROUTER_GATEWAY = ResourceType(
    name="OS::Neutron::RouterGateway",
    description=(
        "Sets a router's external gateway (deprecated in Heat, which prefers the router's "
        "external_gateway_info; kept for the templates that use it)."
    ),
    properties={
        "router_id": _string("ID of the router.", "neutron.router", required=True),
        "network": _string("External network for the gateway (required).", "neutron.network"),
        "network_id": _old_name("network", "neutron.network"),
    },
    attributes=_attributes(),
    checks=(_check_router_gateway_network,),
)


# -- OS::Neutron::Port -----------------------------------------------------

# The port properties a server's networks entry may set on the port it creates
# (Heat's Port.extra_properties_schema).
PORT_EXTRA_PROPERTIES: Mapping[str, Property] = {
    "value_specs": _value_specs(),
    "admin_state_up": _admin_state_up("port"),
    "mac_address": _string("MAC address of the port (administrators only).", "mac_addr"),
    "allowed_address_pairs": Property(
        PropertyType.LIST,
        "Other MAC/IP address pairs allowed to pass through the port.",
        schema=Property(
            PropertyType.MAP,
            schema={
                "mac_address": _string("MAC address to allow.", "mac_addr"),
                "ip_address": _string("Address or CIDR to allow.", "ip_or_cidr", required=True),
            },
        ),
    ),
    "binding:vnic_type": _string(
        "VNIC type to bind the port with (for SR-IOV and the like).",
        default="normal",
        constraints=(
            AllowedValues(("normal", "direct", "macvtap", "direct-physical", "baremetal")),
        ),
    ),
    "qos_policy": _string("Name or ID of the QoS policy to attach.", "neutron.qos_policy"),
    "port_security_enabled": Property(
        PropertyType.BOOLEAN,
        "Port security (security groups and address-pair filtering) of the port.",
    ),
}


def _check_port_names(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """The port names its network, and each fixed IP one subnet, under one name each."""
    problems = one_name(props, "network", "network_id", required=True)
    for i, fixed_ip in map_entries(props.get("fixed_ips")):
        problems.extend(one_name(fixed_ip, "subnet", "subnet_id", path=("fixed_ips", i)))
    return problems


def _check_port_fixed_ips(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """fixed_ips is not given with no_fixed_ips."""
    problems: list[PropertyProblem] = []
    if props.get("no_fixed_ips") is True and is_given(props.get("fixed_ips")):
        why = "no_fixed_ips cannot be true when fixed_ips is given"
        problems.append(conflict("no_fixed_ips", why))
    return problems


PORT = ResourceType(
    name="OS::Neutron::Port",
    description="A Neutron port: a server's (or other device's) attachment to a network.",
    properties={
        "name": _string("Name of the port."),
        "network": _string("Name or ID of the network of the port (required).", "neutron.network"),
        "network_id": _old_name("network", "neutron.network"),
        "device_id": _string("ID of the device using the port.", default=""),
        "device_owner": _string("Owner of the port, like network:dhcp.", default=""),
        "fixed_ips": Property(
            PropertyType.LIST,
            "Addresses to give the port.",
            schema=Property(
                PropertyType.MAP,
                schema={
                    "subnet": _string("Subnet to allocate the address from.", "neutron.subnet"),
                    "ip_address": _string("The address to give the port.", "ip_addr"),
                    "subnet_id": _old_name("subnet", "neutron.subnet"),
                },
            ),
        ),
        "no_fixed_ips": Property(
            PropertyType.BOOLEAN, "Give the port no addresses at all.", default=False
        ),
        "security_groups": Property(
            PropertyType.LIST,
            "Names or IDs of the security groups of the port.",
            schema=Property(PropertyType.STRING),
        ),
        "dns_name": _string("DNS name of the port.", "dns_name"),
        "propagate_uplink_status": Property(
            PropertyType.BOOLEAN, "Propagate the uplink status to the port."
        ),
        "tags": _tags("port"),
        "replacement_policy": _string(
            "Deprecated in Heat (hidden since 6.0.0): it only chose how a stack update "
            "replaced the port. Accepted, and has no effect (cool does not update builds).",
            default="AUTO",
            constraints=(AllowedValues(("REPLACE_ALWAYS", "AUTO")),),
        ),
        **PORT_EXTRA_PROPERTIES,
    },
    attributes=_attributes(
        admin_state_up=("Administrative state of the port.", AttributeType.BOOLEAN),
        device_id=("ID of the device using the port.", AttributeType.STRING),
        device_owner=("Owner of the port.", AttributeType.STRING),
        fixed_ips=(
            "Addresses of the port, each with its subnet_id and ip_address.",
            AttributeType.LIST,
        ),
        mac_address=("MAC address of the port.", AttributeType.STRING),
        name=("Name of the port.", AttributeType.STRING),
        network_id=("ID of the network of the port.", AttributeType.STRING),
        security_groups=("IDs of the security groups of the port.", AttributeType.LIST),
        status=("Status of the port.", AttributeType.STRING),
        tenant_id=("Project owning the port.", AttributeType.STRING),
        allowed_address_pairs=(
            "Other MAC/IP address pairs allowed through the port.",
            AttributeType.LIST,
        ),
        subnets=("The subnets of the port's addresses, in full.", AttributeType.LIST),
        port_security_enabled=("Port security of the port.", AttributeType.BOOLEAN),
        qos_policy_id=("ID of the QoS policy attached to the port.", AttributeType.STRING),
        dns_assignment=("DNS names assigned to the port.", AttributeType.MAP),
        network=("The network of the port, in full.", AttributeType.MAP),
    ),
    checks=(_check_port_names, _check_port_fixed_ips),
)


# -- OS::Neutron::SecurityGroup ----------------------------------------------


def _check_rule_ports(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Each rule's port range has a protocol and port_range_min <= port_range_max."""
    problems: list[PropertyProblem] = []
    for i, rule in map_entries(props.get("rules")):
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        if low is None and high is None:
            continue
        protocol = rule.get("protocol")
        if protocol is None or protocol == "":
            why = "protocol is required when a port range is given"
            problems.append(missing(("rules", i, "protocol"), why))
        elif isinstance(protocol, str) and protocol.lower() in _ICMP_PROTOCOLS:
            continue  # port_range_min is the ICMP type and port_range_max the code
        if _plain_int(low) and _plain_int(high) and low > high:
            why = f"port_range_min {low} is greater than port_range_max {high}"
            problems.append(constraint(("rules", i, "port_range_min"), why))
    return problems


def _check_security_group_name(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """A security group cannot be named "default" (each project has its own)."""
    if props.get("name") == "default":
        why = 'a security group cannot be named "default": every project already has one'
        return [constraint("name", why)]
    return []


# What a rule matches, in a group's rules and in an OS::Neutron::SecurityGroupRule alike.
_RULE_FIELDS: Mapping[str, Property] = {
    "direction": _string(
        "Direction of the traffic the rule matches.",
        default="ingress",
        constraints=(AllowedValues(("ingress", "egress")),),
    ),
    "ethertype": _string(
        "Ethertype of the traffic.",
        default="IPv4",
        constraints=(AllowedValues(("IPv4", "IPv6")),),
    ),
    "port_range_min": Property(
        PropertyType.INTEGER,
        "Lowest port matched (the ICMP type for ICMP).",
        constraints=(Range(0, 65535),),
    ),
    "port_range_max": Property(
        PropertyType.INTEGER,
        "Highest port matched (the ICMP code for ICMP).",
        constraints=(Range(0, 65535),),
    ),
}

SECURITY_GROUP = ResourceType(
    name="OS::Neutron::SecurityGroup",
    description="A Neutron security group: a set of IP filter rules for ports.",
    properties={
        "name": _string('Name of the security group (not "default").'),
        "description": _string("Description of the security group."),
        "rules": Property(
            PropertyType.LIST,
            "Rules of the security group.",
            default=[],
            schema=Property(
                PropertyType.MAP,
                schema={
                    **_RULE_FIELDS,
                    "protocol": _string(
                        "Protocol matched, like tcp, udp or icmp (any if omitted)."
                    ),
                    "remote_mode": _string(
                        "Whether the rule matches remote_ip_prefix or remote_group_id.",
                        default="remote_ip_prefix",
                        constraints=(AllowedValues(("remote_ip_prefix", "remote_group_id")),),
                    ),
                    "remote_group_id": _string(
                        "Security group of the remote side (this group if omitted); needs "
                        "remote_mode remote_group_id.",
                        "neutron.security_group",
                    ),
                    "remote_ip_prefix": _string("CIDR of the remote side.", "net_cidr"),
                },
            ),
        ),
    },
    attributes=_attributes(),
    checks=(_check_rule_ports, _check_security_group_name),
)


def _check_rule_remote(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's SecurityGroupRule.validate: one remote at most, and a port range whose
    minimum is not over its maximum (but for ICMP: a type and a code)."""
    problems: list[PropertyProblem] = []
    if is_given(props.get("remote_group")) and is_given(props.get("remote_ip_prefix")):
        why = "remote_group and remote_ip_prefix cannot both be given (Heat: property conflict)"
        problems.append(conflict("remote_ip_prefix", why))
    low, high = props.get("port_range_min"), props.get("port_range_max")
    protocol = props.get("protocol")
    icmp = isinstance(protocol, str) and protocol.lower() in _ICMP_PROTOCOLS
    if not icmp and _plain_int(low) and _plain_int(high) and low > high:
        why = "The minimum port number must be less than or equal to the maximum port number."
        problems.append(constraint("port_range_min", why))
    return problems


SECURITY_GROUP_RULE = ResourceType(
    name="OS::Neutron::SecurityGroupRule",
    description="One rule added to a Neutron security group (this build's or another).",
    properties={
        "security_group": _string(
            "Security group name or ID to add the rule to.",
            "neutron.security_group",
            required=True,
        ),
        "description": _string("Description of the rule."),
        **_RULE_FIELDS,
        "protocol": _string(
            "Protocol matched (Heat's default: tcp).",
            default="tcp",
            constraints=(
                AllowedValues(
                    _RULE_PROTOCOLS,
                    "a protocol Neutron names (tcp, udp, icmp, icmpv6, sctp, gre, vrrp, ...) "
                    "or its number, 0 to 255",
                ),
            ),
        ),
        "remote_group": _string(
            "The remote side's security group (name or ID).", "neutron.security_group"
        ),
        "remote_ip_prefix": _string("CIDR of the remote side.", "net_cidr"),
    },
    attributes={**COMMON_ATTRIBUTES},
    checks=(_check_rule_remote,),
)


# -- OS::Neutron::FloatingIP and ::FloatingIPAssociation ----------------------


def _check_floating_ip_network(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """The floating IP names its network, as floating_network or floating_network_id."""
    return one_name(props, "floating_network", "floating_network_id", required=True)


def _check_floating_ip_port(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """fixed_ip_address chooses among the addresses of port_id, so it needs port_id."""
    if is_given(props.get("fixed_ip_address")) and not is_given(props.get("port_id")):
        return [missing("port_id", "port_id is required when fixed_ip_address is given")]
    return []


FLOATING_IP = ResourceType(
    name="OS::Neutron::FloatingIP",
    description="A Neutron floating IP: a public address, optionally associated with a port.",
    properties={
        "floating_network": _string(
            "Name or ID of the network to allocate the address from (required).",
            "neutron.network",
        ),
        "floating_network_id": _old_name("floating_network", "neutron.network"),
        "floating_subnet": _string("Subnet to allocate the address from.", "neutron.subnet"),
        "value_specs": _value_specs(),
        "port_id": _string("Port to associate the address with.", "neutron.port"),
        "fixed_ip_address": _string("Address of the port to use, if it has several.", "ip_addr"),
        "floating_ip_address": _string(
            "The floating address to take (administrators only).", "ip_addr"
        ),
        "dns_name": _string("DNS name of the floating IP.", "rel_dns_name"),
        "dns_domain": _string("DNS domain of the floating IP.", "dns_domain"),
    },
    attributes=_attributes(
        router_id=("ID of the router used as gateway, once associated.", AttributeType.STRING),
        tenant_id=("Project owning the floating IP.", AttributeType.STRING),
        floating_network_id=("ID of the network the address comes from.", AttributeType.STRING),
        fixed_ip_address=("Address of the associated port.", AttributeType.STRING),
        floating_ip_address=("The floating address.", AttributeType.STRING),
        port_id=("ID of the associated port.", AttributeType.STRING),
    ),
    checks=(_check_floating_ip_network, _check_floating_ip_port),
)

FLOATING_IP_ASSOCIATION = ResourceType(
    name="OS::Neutron::FloatingIPAssociation",
    description="Associates an existing floating IP with a port.",
    properties={
        "floatingip_id": _string("ID of the floating IP.", required=True),
        "port_id": _string(
            "Port to associate the floating IP with.", "neutron.port", required=True
        ),
        "fixed_ip_address": _string("Address of the port to use, if it has several.", "ip_addr"),
    },
    attributes=_attributes(),
)

TYPES = (
    NET,
    PROVIDER_NET,
    SUBNET,
    ROUTER,
    ROUTER_INTERFACE,
    ROUTER_GATEWAY,
    PORT,
    SECURITY_GROUP,
    SECURITY_GROUP_RULE,
    FLOATING_IP,
    FLOATING_IP_ASSOCIATION,
)
