"""The SIMULATED cloud's address plan: networks and subnets (real or pretended),
IP addresses, floating addresses and MACs.

A reference that is the id of a sim row uses that row (a port takes its
address from its subnet's range); a reference that is not (``public``,
``private``) is a network the sim pretends the cloud already has. Pretended
networks have one subnet, 10.254.0.0/16; floating and router gateway
addresses come from 100.64.0.0/10, one space across the sim. Addresses and
MACs are drawn from the shared :class:`~cool.clouds.sim.inventory.Inventory`,
so they are unique across every worker on the host.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from cool.clouds.sim.inventory import NETWORKS, SUBNET, Inventory

PRETEND_CIDR = "10.254.0.0/16"  # the one subnet of a network the sim pretends exists
FLOATING_SCOPE = "floating"  # one address space for floating and gateway addresses
_FLOATING_POOLS = (("100.64.0.1", "100.127.255.254"),)
_NAMESPACE = uuid.UUID("7c0d2a51-3f0e-4b8e-9a57-51a1c0c0c0c0")  # ids of pretended things

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def pretend_id(kind: str, ref: Any) -> str:
    """The id of something the sim pretends the cloud has (a network named ``public``)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{ref}"))


def pools(network: Network, gateway: str | None) -> list[dict[str, str]]:
    """Neutron's default allocation pools: the usable range, around the gateway."""
    low, high = int(network.network_address), int(network.broadcast_address)
    if network.num_addresses > 2:
        low += 1
        high -= 1 if network.version == 4 else 0
    ranges = [(low, high)]
    if gateway is not None:
        at = int(ipaddress.ip_address(gateway))
        if low <= at <= high:
            ranges = [(low, at - 1), (at + 1, high)]
    kind = type(network.network_address)
    return [{"start": str(kind(a)), "end": str(kind(b))} for a, b in ranges if a <= b]


def pretend_subnet(network_ref: Any) -> dict[str, Any]:
    """The one subnet of a network the sim pretends exists."""
    network = ipaddress.ip_network(PRETEND_CIDR)
    return {
        "id": pretend_id("subnet", network_ref),
        "name": f"{network_ref}-subnet",
        "network_id": str(network_ref),
        "cidr": PRETEND_CIDR,
        "ip_version": 4,
        "gateway_ip": str(network[1]),
        "allocation_pools": pools(network, str(network[1])),
    }


def network(inventory: Inventory, ref: Any) -> dict[str, Any]:
    """A network's attributes: a sim row's, or a pretended network's id and name."""
    found = inventory.get(ref, NETWORKS)
    return found if found is not None else {"id": str(ref), "name": str(ref)}


def subnets_of(inventory: Inventory, network_ref: Any) -> list[dict[str, Any]]:
    """A network's subnets, oldest first (a pretended network's one)."""
    if inventory.get(network_ref, NETWORKS) is None:
        return [pretend_subnet(network_ref)]
    return inventory.children(str(network_ref), SUBNET)


def subnet(inventory: Inventory, ref: Any) -> dict[str, Any]:
    """A subnet's attributes: a sim row's, or a pretended one with ``ref`` as its id."""
    found = inventory.get(ref, SUBNET)
    return found if found is not None else {**pretend_subnet(ref), "id": str(ref)}


def containing(subnets: Sequence[Mapping[str, Any]], address: Any) -> Mapping[str, Any] | None:
    """The first of ``subnets`` whose range holds ``address``."""
    for candidate in subnets:
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(candidate["cidr"]):
                return candidate
        except (ValueError, KeyError, TypeError):
            continue
    return None


def address(inventory: Inventory, of: Mapping[str, Any], owner: str, wanted: Any) -> str:
    """An address of subnet ``of`` for ``owner``: ``wanted`` if given (and free), else the next."""
    scope = f"subnet:{of['id']}"
    if wanted:
        inventory.claim_address(scope, str(wanted), owner)
        return str(wanted)
    ranges = [(p["start"], p["end"]) for p in of.get("allocation_pools") or []]
    return inventory.take_address(scope, ranges, owner)


def floating_address(inventory: Inventory, owner: str, wanted: Any = None) -> str:
    """A floating (or router gateway) address for ``owner``: ``wanted``, else the next."""
    if wanted:
        inventory.claim_address(FLOATING_SCOPE, str(wanted), owner)
        return str(wanted)
    return inventory.take_address(FLOATING_SCOPE, _FLOATING_POOLS, owner)


def mac(inventory: Inventory) -> str:
    """A MAC address no other port on the host has (OpenStack's fa:16:3e prefix)."""
    n = inventory.next("mac") % (1 << 24)
    return "fa:16:3e:{:02x}:{:02x}:{:02x}".format(*n.to_bytes(3, "big"))
