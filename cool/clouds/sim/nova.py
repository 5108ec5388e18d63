"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Nova's types.

Every value is invented, to be *plausible* and *consistent* with the
attributes :mod:`cool.resources.nova` declares. A server's interfaces take
their addresses from the address plan (:mod:`cool.clouds.sim.addresses`).

Key pairs are known by name, as in Nova: ``get_resource`` gives a key pair's
name (:data:`REFERENCES`), and a name is unique in a project: creating a key
pair with the name of another that is not being deleted is refused
(ProviderError, not retryable: Nova's 409 Conflict). A build's key pair named
after its step (the default ``cloud_name``, unique per build and resource)
never clashes; a name a template gives clashes across builds of one project,
as in Nova. A server's ``key_name`` is resolved like the sim's other
references:

- the name of a key pair of the project (not being deleted): that key pair;
- the name of a key pair of the project the sim has deleted, and no live one
  has: refused (Nova's 400 "Invalid key_name provided"), as the id of a
  deleted row is not found;
- the id of a sim key pair: refused, 400 (a caller that gives the physical id
  where get_resource gives the name);
- any other name: a key pair the sim pretends the cloud already has.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
import struct
from collections.abc import Mapping
from typing import Any

from cool.clouds.base import ProviderError, ResourceExistsError
from cool.clouds.sim import addresses as sim_addresses
from cool.clouds.sim.inventory import (
    FLOATING_IP,
    KEY_PAIR,
    PORT,
    SERVER,
    Birth,
    Inventory,
    Made,
    Maker,
    Reference,
)


def _interface(
    birth: Birth, inventory: Inventory, i: int, entry: Mapping[str, Any]
) -> tuple[str, str, list[dict[str, Any]]]:
    """One networks entry of a server: its network's id and name, and its addresses."""
    port_ref = entry.get("port")
    if port_ref:
        port = inventory.get(port_ref, PORT)
        if port is None:  # a port the sim pretends exists
            fixed = [{"ip_address": None}]
            port = {"network_id": str(port_ref), "mac_address": sim_addresses.mac(inventory)}
        else:
            fixed = port["fixed_ips"]
        network_id, mac, port_id = port["network_id"], port["mac_address"], str(port_ref)
        addresses = [f["ip_address"] for f in fixed if f["ip_address"]]
    else:
        subnet_ref = entry.get("subnet")
        subnet = sim_addresses.subnet(inventory, subnet_ref) if subnet_ref else None
        network_id = str(
            entry.get("network")
            or entry.get("uuid")
            or (subnet["network_id"] if subnet else "private")
        )
        if subnet is None:
            subnets = sim_addresses.subnets_of(inventory, network_id)
            subnet = subnets[0] if subnets else None
        wanted = entry.get("fixed_ip")
        addresses = (
            [sim_addresses.address(inventory, subnet, birth.physical_id, wanted)] if subnet else []
        )
        mac, port_id = sim_addresses.mac(inventory), birth.derived_id(f"port-{i}")
    listed = [
        {
            "addr": address,
            "version": ipaddress.ip_address(address).version,
            "OS-EXT-IPS:type": "fixed",
            "OS-EXT-IPS-MAC:mac_addr": mac,
            "port": port_id,
        }
        for address in addresses
    ]
    floating = (
        inventory.get(entry["floating_ip"], FLOATING_IP) if entry.get("floating_ip") else None
    )
    if floating is not None and listed:
        address = floating["floating_ip_address"]
        listed.append({**listed[0], "addr": address, "OS-EXT-IPS:type": "floating"})
    return network_id, str(sim_addresses.network(inventory, network_id)["name"]), listed


def _is_fixed(address: Mapping[str, Any]) -> bool:
    return address["OS-EXT-IPS:type"] == "fixed"


def _server(birth: Birth, inventory: Inventory) -> Made:
    entries = birth.prop("networks")
    if entries is None or entries == [{"allocate_network": "auto"}]:
        entries = [{"network": "private"}]  # Nova's auto-allocation, pretended
    elif entries == [{"allocate_network": "none"}]:
        entries = []
    addresses: dict[str, list[dict[str, Any]]] = {}
    networks: dict[str, list[str]] = {}
    for i, entry in enumerate(entries):
        network_id, network_name, listed = _interface(birth, inventory, i, entry)
        addresses.setdefault(network_name, []).extend(listed)
        ips = [a["addr"] for a in listed]
        networks.setdefault(network_name, []).extend(ips)
        if network_id != network_name:
            networks.setdefault(network_id, []).extend(ips)
    fixed = [a["addr"] for listed in addresses.values() for a in listed if _is_fixed(a)]
    number = inventory.next("instance") + 1
    return {
        "name": birth.name,
        "status": "BUILD",
        "addresses": addresses,
        "networks": networks,
        "first_address": fixed[0] if fixed else "",
        "instance_name": f"instance-{number:08x}",
        "accessIPv4": "",
        "accessIPv6": "",
        "console_urls": {"novnc": f"http://console.sim.invalid:6080/vnc_lite.html?id={number}"},
        "tags": list(birth.prop("tags", default=[])),
        "flavor": birth.required("flavor"),
        "image": birth.prop("image", default=""),
        "key_name": _key_name(birth, inventory),
        "metadata": dict(birth.prop("metadata", default={})),
        "availability_zone": birth.prop("availability_zone", default="nova"),
        "OS-EXT-SRV-ATTR:hypervisor_hostname": f"sim-compute-{number % 8}",
        "tenant_id": birth.project_id,
    }, None


def _ssh_key() -> tuple[str, str]:
    """A made-up ed25519 key pair: a well-formed public key, a labelled fake private key."""
    seed = secrets.token_bytes(32)
    blob = b"".join(struct.pack(">I", len(part)) + part for part in (b"ssh-ed25519", seed))
    public = f"ssh-ed25519 {base64.b64encode(blob).decode()} Generated-by-cool-sim"
    body = base64.encodebytes(b"SIMULATED KEY, NOT A KEY: " + seed).decode()
    private = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}-----END OPENSSH PRIVATE KEY-----\n"
    return public, private


def _key_pair(birth: Birth, inventory: Inventory) -> Made:
    held = inventory.named(KEY_PAIR, birth.project_id, birth.name)
    if held is not None and held.holds_name:
        raise ResourceExistsError(
            f"Key pair '{birth.name}' already exists (simulated 409 Conflict)"
        )
    public = birth.prop("public_key")
    private = ""
    if not public:
        public, generated = _ssh_key()
        private = generated if birth.prop("save_private_key", default=False) else ""
    digest = hashlib.md5(public.encode(), usedforsecurity=False).hexdigest()
    return {
        "name": birth.name,
        "public_key": public,
        "private_key": private,
        "fingerprint": ":".join(digest[i : i + 2] for i in range(0, 32, 2)),
        "type": birth.prop("type", default="ssh"),
        "user_id": birth.prop("user"),
    }, None


def _key_name(birth: Birth, inventory: Inventory) -> str | None:
    """A server's key pair, by name as in Nova (see the module's docstring)."""
    name = birth.prop("key_name")
    if name is None:
        return None
    name = str(name)
    held = inventory.named(KEY_PAIR, birth.project_id, name)
    if held is not None and not held.holds_name:
        why = "that key pair was deleted"
    elif held is None and inventory.type_of(name) == KEY_PAIR:
        why = "that is a key pair's id, not its name (get_resource gives the name)"
    else:
        return name  # the project's key pair, or one the sim pretends the cloud has
    raise ProviderError(f"Invalid key_name provided: {name!r}: {why} (simulated 400)")


def _key_pair_reference(_properties: Mapping[str, Any], attributes: Mapping[str, Any]) -> str:
    """Heat's (and Nova's) id of a key pair: its name."""
    return str(attributes["name"])


MAKERS: Mapping[str, Maker] = {SERVER: _server, KEY_PAIR: _key_pair}
REFERENCES: Mapping[str, Reference] = {KEY_PAIR: _key_pair_reference}
