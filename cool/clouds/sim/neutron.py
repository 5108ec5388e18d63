"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Neutron's types.

Every value is invented, to be *plausible* and *consistent* with the
attributes :mod:`cool.resources.neutron` declares; addresses come from the
address plan (:mod:`cool.clouds.sim.addresses`). What changes after create (a
network's subnets, a floating IP's association) is computed when observed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from cool.clouds.base import ProviderError
from cool.clouds.sim import addresses as sim_addresses
from cool.clouds.sim.inventory import (
    FLOATING_IP,
    FLOATING_IP_ASSOCIATION,
    NET,
    NETWORKS,
    PORT,
    ROUTER,
    ROUTER_INTERFACE,
    SECURITY_GROUP,
    SUBNET,
    Birth,
    Inventory,
    Made,
    Maker,
    Observer,
    Reference,
)

ROUTER_GATEWAY = "OS::Neutron::RouterGateway"

_SUBNETPOOL = ipaddress.ip_network("10.128.0.0/9")  # where cidr-less subnets come from
_MTU = 1450  # an overlay (VXLAN) network's


def _net(birth: Birth, inventory: Inventory) -> Made:
    vni = inventory.next("vni") % (1 << 24) + 1
    return {
        "name": birth.name,
        "status": "BUILD",
        "subnets": [],
        "admin_state_up": birth.prop("admin_state_up", default=True),
        "tenant_id": birth.project_id,
        "shared": birth.prop("shared", default=False),
        "port_security_enabled": birth.prop("port_security_enabled", default=True),
        "mtu": _MTU,
        "qos_policy_id": birth.prop("qos_policy"),
        "l2_adjacency": True,
        "segments": [
            {
                "provider:network_type": "vxlan",
                "provider:physical_network": None,
                "provider:segmentation_id": vni,
            }
        ],
        "dns_domain": birth.prop("dns_domain"),
        "tags": list(birth.prop("tags", default=[])),
    }, None


PROVIDER_NET = NETWORKS[1]


def _provider_net(birth: Birth, inventory: Inventory) -> Made:
    """A network on the segment the template gives (the sim has no roles: Neutron's
    admin-only default is not simulated)."""
    made, parent = _net(birth, inventory)
    kind = birth.required("network_type")
    segment = birth.prop("segmentation_id")
    made.update(
        shared=birth.prop("shared", default=True),
        mtu=1500 if kind in ("flat", "vlan", "local") else _MTU,
        segments=[
            {
                "provider:network_type": kind,
                "provider:physical_network": birth.prop("physical_network"),
                "provider:segmentation_id": int(segment) if str(segment or "").isdigit() else None,
            }
        ],
        router_external=birth.prop("router_external", default=False),
    )
    return made, parent


def _subnet_cidr(birth: Birth, inventory: Inventory) -> str:
    cidr = birth.prop("cidr")
    if cidr:
        return str(ipaddress.ip_network(cidr, strict=False))
    prefix = int(birth.prop("prefixlen", default=24))
    count = 1 << (prefix - _SUBNETPOOL.prefixlen)
    n = inventory.next(f"subnetpool:{birth.prop('subnetpool')}") % count
    base = int(_SUBNETPOOL.network_address) + n * (1 << (32 - prefix))
    return f"{ipaddress.IPv4Address(base)}/{prefix}"


def _subnet(birth: Birth, inventory: Inventory) -> Made:
    network_id = birth.required("network", "network_id")
    inventory.get(network_id, NETWORKS)  # a deleted network is not found
    cidr = _subnet_cidr(birth, inventory)
    network = ipaddress.ip_network(cidr)
    given = birth.properties.get("gateway_ip")
    gateway = str(network[1]) if given is None else (None if given in ("", "~") else given)
    return {
        "name": birth.name,
        "network_id": network_id,
        "tenant_id": birth.project_id,
        "cidr": cidr,
        "ip_version": network.version,
        "gateway_ip": gateway,
        "allocation_pools": birth.prop("allocation_pools") or sim_addresses.pools(network, gateway),
        "host_routes": list(birth.prop("host_routes", default=[])),
        "dns_nameservers": list(birth.prop("dns_nameservers", default=[])),
        "enable_dhcp": birth.prop("enable_dhcp", default=True),
        "ipv6_ra_mode": birth.prop("ipv6_ra_mode"),
        "ipv6_address_mode": birth.prop("ipv6_address_mode"),
        "subnetpool_id": birth.prop("subnetpool"),
    }, network_id


def _router(birth: Birth, inventory: Inventory) -> Made:
    gateway_info = None
    given = birth.prop("external_gateway_info")
    if isinstance(given, Mapping) and given.get("network"):
        network_id = str(given["network"])
        fixed = given.get("external_fixed_ips") or [{}]
        gateway_info = {
            "network_id": network_id,
            "enable_snat": given.get("enable_snat", True),
            "external_fixed_ips": [
                {
                    "subnet_id": entry.get("subnet")
                    or sim_addresses.pretend_id("subnet", network_id),
                    "ip_address": sim_addresses.floating_address(
                        inventory, birth.physical_id, entry.get("ip_address")
                    ),
                }
                for entry in fixed
            ],
        }
    return {
        "name": birth.name,
        "status": "BUILD",
        "external_gateway_info": gateway_info,
        "admin_state_up": birth.prop("admin_state_up", default=True),
        "tenant_id": birth.project_id,
        "distributed": birth.prop("distributed", default=False),
        "ha": birth.prop("ha", default=False),
    }, None


def _router_interface(birth: Birth, inventory: Inventory) -> Made:
    router_id = birth.required("router", "router_id")
    inventory.get(router_id, ROUTER)
    port_ref = birth.prop("port", "port_id")
    if port_ref:
        port = inventory.get(port_ref, PORT) or {"fixed_ips": []}
        fixed = port["fixed_ips"][0] if port["fixed_ips"] else {}
        subnet_id, address, port_id = fixed.get("subnet_id"), fixed.get("ip_address"), port_ref
    else:
        subnet = sim_addresses.subnet(inventory, birth.prop("subnet", "subnet_id"))
        subnet_id, address = subnet["id"], subnet.get("gateway_ip")
        port_id = birth.derived_id("router-port")
    return {
        "router_id": router_id,
        "subnet_id": subnet_id,
        "port_id": str(port_id),
        "ip_address": address,
    }, router_id


def _router_gateway(birth: Birth, inventory: Inventory) -> Made:
    """The router's external gateway, set: a row under the router (its observer reads it)."""
    router_id = birth.required("router_id")
    inventory.get(router_id, ROUTER)
    network_id = birth.required("network", "network_id")
    return {
        "router_id": router_id,
        "network_id": network_id,
        "external_fixed_ips": [
            {
                "subnet_id": sim_addresses.pretend_id("subnet", network_id),
                "ip_address": sim_addresses.floating_address(inventory, birth.physical_id, None),
            }
        ],
    }, router_id


def _fixed_ips(birth: Birth, inventory: Inventory, network_id: str) -> list[dict[str, Any]]:
    if birth.prop("no_fixed_ips", default=False):
        return []
    subnets = sim_addresses.subnets_of(inventory, network_id)
    out = []
    for entry in birth.prop("fixed_ips") or [{}]:
        wanted = entry.get("ip_address")
        ref = entry.get("subnet") or entry.get("subnet_id")
        subnet = sim_addresses.subnet(inventory, ref) if ref else None
        if subnet is None:
            subnet = (
                sim_addresses.containing(subnets, wanted)
                if wanted
                else (subnets[0] if subnets else None)
            )
        if subnet is None:  # a network without subnets: a port without an address
            continue
        address = sim_addresses.address(inventory, subnet, birth.physical_id, wanted)
        out.append({"subnet_id": subnet["id"], "ip_address": address})
    return out


def _port(birth: Birth, inventory: Inventory) -> Made:
    network_id = birth.required("network", "network_id")
    network = sim_addresses.network(inventory, network_id)
    fixed_ips = _fixed_ips(birth, inventory, network_id)
    device_id = birth.prop("device_id", default="")
    first = fixed_ips[0]["ip_address"] if fixed_ips else None
    host = f"host-{first.replace('.', '-').replace(':', '-')}" if first else ""
    subnets = [
        inventory.get(f["subnet_id"], SUBNET) or sim_addresses.pretend_subnet(network_id)
        for f in fixed_ips
    ]
    return {
        "name": birth.name,
        "network_id": network_id,
        "network": {k: v for k, v in network.items() if k != "show"},
        "admin_state_up": birth.prop("admin_state_up", default=True),
        "device_id": device_id,
        "device_owner": birth.prop("device_owner", default=""),
        "fixed_ips": fixed_ips,
        "subnets": [{k: v for k, v in s.items() if k != "show"} for s in subnets],
        "mac_address": birth.prop("mac_address") or sim_addresses.mac(inventory),
        "security_groups": list(birth.prop("security_groups", default=["default"])),
        "status": "ACTIVE" if device_id else "DOWN",
        "tenant_id": birth.project_id,
        "allowed_address_pairs": list(birth.prop("allowed_address_pairs", default=[])),
        "port_security_enabled": birth.prop(
            "port_security_enabled", default=network.get("port_security_enabled", True)
        ),
        "qos_policy_id": birth.prop("qos_policy"),
        "dns_assignment": {"hostname": host, "ip_address": first, "fqdn": f"{host}.openstacklocal."}
        if first
        else {},
        "binding:vnic_type": birth.prop("binding:vnic_type", default="normal"),
    }, network_id


def _security_group(birth: Birth, _inventory: Inventory) -> Made:
    rules = []
    given = list(birth.prop("rules", default=[]))
    if not any(rule.get("direction") == "egress" for rule in given):
        given += [{"direction": "egress", "ethertype": e} for e in ("IPv4", "IPv6")]
    for i, rule in enumerate(given):
        remote_group = rule.get("remote_mode") == "remote_group_id"
        rules.append(
            {
                "id": birth.derived_id(f"rule-{i}"),
                "security_group_id": birth.physical_id,
                "direction": rule.get("direction", "ingress"),
                "ethertype": rule.get("ethertype", "IPv4"),
                "protocol": rule.get("protocol"),
                "port_range_min": rule.get("port_range_min"),
                "port_range_max": rule.get("port_range_max"),
                "remote_ip_prefix": None if remote_group else rule.get("remote_ip_prefix"),
                "remote_group_id": (rule.get("remote_group_id") or birth.physical_id)
                if remote_group
                else None,
            }
        )
    return {
        "name": birth.name,
        "description": birth.prop("description", default=""),
        "tenant_id": birth.project_id,
        "security_group_rules": rules,
    }, None


SECURITY_GROUP_RULE = "OS::Neutron::SecurityGroupRule"


def _security_group_rule(birth: Birth, inventory: Inventory) -> Made:
    """A rule row under its group (a sim group, or one the sim pretends the cloud has);
    the group's ``security_group_rules`` list it from then on."""
    group = birth.required("security_group")
    inventory.get(group, SECURITY_GROUP)  # a deleted group is not found
    rule = {
        "security_group_id": group,
        "description": birth.prop("description", default=""),
        "direction": birth.prop("direction", default="ingress"),
        "ethertype": birth.prop("ethertype", default="IPv4"),
        "protocol": birth.prop("protocol", default="tcp"),
        "port_range_min": birth.prop("port_range_min"),
        "port_range_max": birth.prop("port_range_max"),
        "remote_ip_prefix": birth.prop("remote_ip_prefix"),
        "remote_group_id": birth.prop("remote_group"),
    }
    key = {k: v for k, v in rule.items() if k != "description"}
    for other in inventory.children(group, SECURITY_GROUP_RULE):
        if {k: other.get(k) for k in key} == key:
            raise ProviderError(
                f"security group {group} has this rule already (simulated 409 Conflict)"
            )
    return rule, group


def _security_group_now(
    attributes: Mapping[str, Any], _status: str, inventory: Inventory
) -> dict[str, Any]:
    """Its own rules and every live rule row added to it."""
    added = [
        {k: v for k, v in rule.items() if k != "show"}
        for rule in inventory.children(attributes["id"], SECURITY_GROUP_RULE)
    ]
    return {"security_group_rules": [*attributes.get("security_group_rules", ()), *added]}


def _first_address(inventory: Inventory, port_ref: Any) -> str | None:
    port = inventory.get(port_ref, PORT) if port_ref else None
    return port["fixed_ips"][0]["ip_address"] if port and port["fixed_ips"] else None


def _floating_ip(birth: Birth, inventory: Inventory) -> Made:
    port_id = birth.prop("port_id")
    return {
        "floating_network_id": birth.required("floating_network", "floating_network_id"),
        "floating_ip_address": sim_addresses.floating_address(
            inventory, birth.physical_id, birth.prop("floating_ip_address")
        ),
        "fixed_ip_address": birth.prop("fixed_ip_address") or _first_address(inventory, port_id),
        "port_id": port_id,
        "router_id": None,
        "status": "ACTIVE" if port_id else "DOWN",
        "tenant_id": birth.project_id,
        "dns_name": birth.prop("dns_name"),
        "dns_domain": birth.prop("dns_domain"),
    }, None


def _floating_ip_association(birth: Birth, inventory: Inventory) -> Made:
    floatingip_id = birth.required("floatingip_id")
    floating_ip = inventory.get(floatingip_id, FLOATING_IP) or {}
    port_id = birth.required("port_id")
    return {
        "floatingip_id": floatingip_id,
        "port_id": port_id,
        "fixed_ip_address": birth.prop("fixed_ip_address") or _first_address(inventory, port_id),
        "floating_ip_address": floating_ip.get("floating_ip_address"),
    }, floatingip_id


# -- observed ---------------------------------------------------------------------


def _net_now(attributes: Mapping[str, Any], _status: str, inventory: Inventory) -> dict[str, Any]:
    return {"subnets": [s["id"] for s in inventory.children(attributes["id"], SUBNET)]}


def _floating_ip_now(
    attributes: Mapping[str, Any], _status: str, inventory: Inventory
) -> dict[str, Any]:
    now: dict[str, Any] = {}
    associations = inventory.children(attributes["id"], FLOATING_IP_ASSOCIATION)
    if associations:
        now["port_id"] = associations[0]["port_id"]
        now["fixed_ip_address"] = associations[0]["fixed_ip_address"]
    now["status"] = "ACTIVE" if now.get("port_id", attributes.get("port_id")) else "DOWN"
    return now


def _router_now(
    attributes: Mapping[str, Any], _status: str, inventory: Inventory
) -> dict[str, Any]:
    """A gateway set by an OS::Neutron::RouterGateway shows in external_gateway_info."""
    gateways = inventory.children(attributes["id"], ROUTER_GATEWAY)
    if not gateways:
        return {}
    gateway = gateways[-1]
    return {
        "external_gateway_info": {
            "network_id": gateway["network_id"],
            "enable_snat": True,
            "external_fixed_ips": gateway["external_fixed_ips"],
        }
    }


def _router_gateway_reference(_properties: Mapping[str, Any], attributes: Mapping[str, Any]) -> str:
    """Heat's id of a router gateway: ``<router>:<network>``."""
    return f"{attributes['router_id']}:{attributes['network_id']}"


def _router_interface_reference(
    properties: Mapping[str, Any], attributes: Mapping[str, Any]
) -> str:
    """Heat's id of a router interface: ``<router>:port_id=<port>`` or ``:subnet_id=``."""
    if properties.get("port") or properties.get("port_id"):  # as the maker chose
        return f"{attributes['router_id']}:port_id={attributes['port_id']}"
    return f"{attributes['router_id']}:subnet_id={attributes['subnet_id']}"


MAKERS: Mapping[str, Maker] = {
    NET: _net,
    PROVIDER_NET: _provider_net,
    SUBNET: _subnet,
    ROUTER: _router,
    ROUTER_INTERFACE: _router_interface,
    ROUTER_GATEWAY: _router_gateway,
    PORT: _port,
    SECURITY_GROUP: _security_group,
    SECURITY_GROUP_RULE: _security_group_rule,
    FLOATING_IP: _floating_ip,
    FLOATING_IP_ASSOCIATION: _floating_ip_association,
}
OBSERVERS: Mapping[str, Observer] = {
    NET: _net_now,
    PROVIDER_NET: _net_now,
    SECURITY_GROUP: _security_group_now,
    ROUTER: _router_now,
    FLOATING_IP: _floating_ip_now,
}
REFERENCES: Mapping[str, Reference] = {
    ROUTER_INTERFACE: _router_interface_reference,
    ROUTER_GATEWAY: _router_gateway_reference,
}
