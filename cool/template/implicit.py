"""The dependencies Heat adds on its own, so that a template Heat builds in order is
built in the same order by cool.

Heat's Neutron and Nova resources add dependencies no reference states
(``add_dependencies`` in heat/engine/resources/openstack/neutron/port.py, router.py,
floatingip.py and nova/server.py): a port or a server waits for the subnets of its
network (a port made before them gets no address; Nova refuses a network without a
subnet), a floating IP for the router that connects its port's subnet to its external
network (Neutron refuses the association before), a router's gateway for the subnets of
the external network. Heat compares property values as they are before anything is
created, when a ``get_resource`` stands for the resource's name: so does this module,
comparing the plan's values (``{"get_resource": "net"}``, or a literal name or id).

Within one template only, as in Heat (a nested template is a stack of its own). A
dependency that would close a cycle with the template's own dependencies is left out:
Heat fails such a template with a circular dependency; cool builds it in the order its
references give (a cycle of added dependencies alone is reported as a cycle).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from cool.template.values import Deferred, Unknown

PORT = "OS::Neutron::Port"
SUBNET = "OS::Neutron::Subnet"
ROUTER = "OS::Neutron::Router"
ROUTER_INTERFACE = "OS::Neutron::RouterInterface"
ROUTER_GATEWAY = "OS::Neutron::RouterGateway"
FLOATING_IP = "OS::Neutron::FloatingIP"
FLOATING_IP_ASSOCIATION = "OS::Neutron::FloatingIPAssociation"
SERVER = "OS::Nova::Server"

Specs = Mapping[str, Mapping[str, Any]]  # local name -> {"type", "properties", "depends_on"}


def add_implicit(specs: Specs) -> dict[str, set[str]]:
    """Each resource's added dependencies (also added to its ``depends_on`` set)."""
    added: dict[str, set[str]] = {}
    reach: dict[str, set[str]] = {}  # what a target depends on, before any is added
    for name, target in _implicit(specs):
        if target == name or target in specs[name]["depends_on"]:
            continue
        if "external_id" in specs[name]:
            continue  # an existing resource: made already, it waits for nothing
        if target not in reach:
            reach[target] = _closure(specs, target)
        if name in reach[target]:
            continue  # would close a cycle: see the module's docstring
        added.setdefault(name, set()).add(target)
    for name, targets in added.items():
        specs[name]["depends_on"].update(targets)
    return added


def _implicit(specs: Specs) -> Iterator[tuple[str, str]]:
    by_type: dict[str, list[str]] = {}
    for name, spec in specs.items():
        if isinstance(spec.get("type"), str):  # else: reported by the type's check
            by_type.setdefault(spec["type"], []).append(name)
    subnets = {
        name: _either(specs[name], "network", "network_id") for name in by_type.get(SUBNET, [])
    }
    interfaces = by_type.get(ROUTER_INTERFACE, [])
    for name in by_type.get(PORT, []):
        network = _either(specs[name], "network", "network_id")
        yield from ((name, s) for s, net in subnets.items() if net == network)
    for name in by_type.get(SERVER, []):
        yield from ((name, s) for s in _server_subnets(specs[name], subnets))
    for name in by_type.get(ROUTER, []):
        gateway = _props(specs[name]).get("external_gateway_info")
        network = _plain(gateway.get("network")) if isinstance(gateway, dict) else None
        if network is not None:
            yield from ((name, s) for s, net in subnets.items() if net == network)
    for name in by_type.get(ROUTER_GATEWAY, []):
        router = _plain(_props(specs[name]).get("router_id"))
        network = _either(specs[name], "network", "network_id")
        yield from (
            (name, i) for i in interfaces if _either(specs[i], "router", "router_id") == router
        )
        yield from ((name, s) for s, net in subnets.items() if net == network)
    for name in by_type.get(FLOATING_IP, []):
        yield from _floating_ip(specs, name, by_type, subnets)
    for name in by_type.get(FLOATING_IP_ASSOCIATION, []):
        for interface in interfaces:
            subnet = _either(specs[interface], "subnet", "subnet_id")
            if any(_first_fixed_subnet(specs, d) == subnet for d in _ports_of(specs, name)):
                yield name, interface


def _server_subnets(server: Mapping[str, Any], subnets: Mapping[str, Any]) -> Iterator[str]:
    """Heat's Server.add_dependencies: with networks, every subnet of one of them, every
    subnet whose network is unknown, and every subnet at all when an entry names no
    network (a port only: which network it is on is not known)."""
    networks = _props(server).get("networks")
    if not isinstance(networks, list) or not networks:
        return
    wanted = [_either_of(e, "network", "uuid") for e in networks if isinstance(e, dict)]
    for subnet, network in subnets.items():
        if network is None or any(n is None or n == network for n in wanted):
            yield subnet


def _floating_ip(
    specs: Specs, name: str, by_type: Mapping[str, list[str]], subnets: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """Heat's FloatingIP.add_dependencies: the gateway (a RouterGateway or a router's
    external_gateway_info) on its floating network, and the router interface of the
    subnet its port is on."""
    floating = _either(specs[name], "floating_network", "floating_network_id")
    for gateway in by_type.get(ROUTER_GATEWAY, []):
        if _either(specs[gateway], "network", "network_id") == floating:
            yield name, gateway
    for router in by_type.get(ROUTER, []):
        info = _props(specs[router]).get("external_gateway_info")
        network = _plain(info.get("network")) if isinstance(info, dict) else None
        if network is not None and network == floating:
            yield name, router
    for interface in by_type.get(ROUTER_INTERFACE, []):
        subnet = _either(specs[interface], "subnet", "subnet_id")
        if any(_port_on_subnet(specs, port, subnet, subnets) for port in _ports_of(specs, name)):
            yield name, interface


def _port_on_subnet(specs: Specs, port: str, subnet: Any, subnets: Mapping[str, Any]) -> bool:
    """Whether ``port`` may be on ``subnet``: one of its fixed IPs names it; with no
    fixed IPs, Heat asks Neutron for the network's subnets; the plan knows them when
    the subnet is the template's own, and otherwise it may be (ordering is safe)."""
    fixed_ips = _props(specs[port]).get("fixed_ips")
    if isinstance(fixed_ips, list) and fixed_ips:
        return any(
            isinstance(f, dict) and _either_of(f, "subnet", "subnet_id") == subnet
            for f in fixed_ips
        )
    if subnet is None:
        return True
    network = _either(specs[port], "network", "network_id")
    local = _referenced(subnet)
    if local is not None and local in subnets:
        return subnets[local] == network
    return True


def _first_fixed_subnet(specs: Specs, port: str) -> Any:
    """Heat's FloatingIPAssociation looks at a port's first fixed IP only."""
    fixed_ips = _props(specs[port]).get("fixed_ips")
    if isinstance(fixed_ips, list) and fixed_ips and isinstance(fixed_ips[0], dict):
        return _either_of(fixed_ips[0], "subnet", "subnet_id")
    return _NOTHING


def _ports_of(specs: Specs, name: str) -> Iterator[str]:
    """The ports among what ``name`` already depends on (Heat: ``deps.graph()[self]``)."""
    for dependency in sorted(specs[name]["depends_on"]):
        if dependency in specs and specs[dependency]["type"] == PORT:
            yield dependency


def _closure(specs: Specs, start: str) -> set[str]:
    """Everything ``start`` depends on, directly or not, by the template's own
    dependencies: computed once a target (a template of n resources costs at most
    n closures), so that a thousand ports on a network of a thousand subnets stay cheap.
    A cycle only implicit dependencies would close is left to the graph's check, which
    reports it."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for dependency in specs[stack.pop()]["depends_on"]:
            if dependency in specs and dependency not in seen:
                seen.add(dependency)
                stack.append(dependency)
    return seen


_NOTHING = object()  # compares equal to no property value


def _props(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = spec.get("properties")
    return properties if isinstance(properties, dict) else {}


def _either(spec: Mapping[str, Any], name: str, old_name: str) -> Any:
    return _either_of(_props(spec), name, old_name)


def _either_of(properties: Mapping[str, Any], name: str, old_name: str) -> Any:
    value = _plain(properties.get(name))
    return _plain(properties.get(old_name)) if value is None else value


def _plain(value: Any) -> Any:
    """A value as Heat compares it: a reference by what it names, an unknown as None."""
    if isinstance(value, Deferred):
        return value.expr
    return None if isinstance(value, Unknown) else value


def _referenced(value: Any) -> str | None:
    """The template resource a ``get_resource`` names, if ``value`` is one."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("get_resource"), str):
        return value["get_resource"]
    return None
