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

A server whose ``scheduler_hints`` name a sim server group (``group``) is its
member (the group's ``members`` follow its live servers), on one of the sim's
:data:`HOSTS` hosts as the policy says: affinity, the first member's host;
anti-affinity, a host no member uses (none left: Nova's "No valid host was
found", simulated). A flavor's name (and flavorid) is unique in the cloud, as in
Nova. OS::Nova::FloatingIPAssociation takes the server's first port, as Heat does
(a server without one is refused, as Heat's InterfaceNotFound), and a floating IP of
either type. OS::Nova::FloatingIP is a floating IP on its ``pool``, or on the one
external network the sim pretends it has (``public``).
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
    Observer,
    Reference,
)

SERVER_GROUP = "OS::Nova::ServerGroup"
FLAVOR = "OS::Nova::Flavor"
NOVA_FLOATING_IP = "OS::Nova::FloatingIP"
NOVA_FLOATING_IP_ASSOCIATION = "OS::Nova::FloatingIPAssociation"
EXTERNAL_NETWORK = "public"  # the one external network the sim pretends it has
HOSTS = 8  # the sim's compute hosts: sim-compute-0 to sim-compute-7


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
    group_id, host = _placement(birth, inventory, number)
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
        "OS-EXT-SRV-ATTR:hypervisor_hostname": host,
        "tenant_id": birth.project_id,
    }, group_id


def _placement(birth: Birth, inventory: Inventory, number: int) -> tuple[str | None, str]:
    """The server's group (a sim server group named in scheduler_hints) and its host."""
    hints = birth.prop("scheduler_hints", default={})
    ref = hints.get("group") if isinstance(hints, Mapping) else None
    group = inventory.get(ref, SERVER_GROUP) if ref else None
    if group is None:
        return None, f"sim-compute-{number % HOSTS}"
    used = [m["OS-EXT-SRV-ATTR:hypervisor_hostname"] for m in inventory.children(ref, SERVER)]
    policy = group["policies"][0]
    if policy == "affinity" and used:
        return ref, used[0]
    if policy == "anti-affinity":
        most = int(group["rules"].get("max_server_per_host", 1))
        free = [f"sim-compute-{(number + i) % HOSTS}" for i in range(HOSTS)]
        free = [host for host in free if used.count(host) < most]
        if not free:
            raise ProviderError(
                f"No valid host was found: every host has {most} server(s) of anti-affinity "
                f"group {ref} (simulated)"
            )
        return ref, free[0]
    return ref, f"sim-compute-{number % HOSTS}"  # soft policies: best effort, anywhere


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


def _server_group(birth: Birth, _inventory: Inventory) -> Made:
    policies = list(birth.prop("policies", default=["anti-affinity"]))
    return {
        "name": birth.name,
        "policies": policies,
        "policy": policies[0],
        "rules": dict(birth.prop("rules", default={})),
        "members": [],
        "project_id": birth.project_id,
    }, None


def _server_group_now(
    attributes: Mapping[str, Any], _status: str, inventory: Inventory
) -> dict[str, Any]:
    return {"members": [s["id"] for s in inventory.children(attributes["id"], SERVER)]}


def _flavor(birth: Birth, inventory: Inventory) -> Made:
    flavorid = birth.prop("flavorid")
    for column, value in (("name", birth.name), ("flavorid", flavorid)):
        if value is not None and _flavor_holding(inventory, column, str(value)):
            raise ResourceExistsError(
                f"Flavor with {column} {value} already exists (simulated 409 Conflict)"
            )
    is_public = bool(birth.prop("is_public", default=True))
    tenants = list(birth.prop("tenants", default=[])) or [birth.project_id]
    return {
        "name": birth.name,
        "flavorid": str(flavorid) if flavorid is not None else birth.physical_id,
        "ram": int(birth.required("ram")),
        "vcpus": int(birth.required("vcpus")),
        "disk": int(birth.prop("disk", default=0)),
        "swap": int(birth.prop("swap", default=0)),
        "ephemeral": int(birth.prop("ephemeral", default=0)),
        "rxtx_factor": float(birth.prop("rxtx_factor", default=1.0)),
        "is_public": is_public,
        "extra_specs": {str(k): str(v) for k, v in birth.prop("extra_specs", default={}).items()},
        "tenants": [] if is_public else tenants,
        "description": birth.prop("description"),
    }, None


def _flavor_holding(inventory: Inventory, column: str, value: str) -> bool:
    """Whether a live sim flavor of any project has ``column`` (name, flavorid) ``value``."""
    row = inventory.conn.execute(
        "SELECT 1 FROM resources WHERE type = ? AND deleted_at IS NULL "
        f"AND json_extract(attributes, '$.{column}') = ?",
        (FLAVOR, value),
    ).fetchone()
    return row is not None


def _flavor_reference(properties: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    """Nova's id of a flavor: the template's flavorid when it gives one, else its id."""
    return str(attributes["flavorid"]) if properties.get("flavorid") else None


def _nova_floating_ip(birth: Birth, inventory: Inventory) -> Made:
    network = sim_addresses.network(inventory, birth.prop("pool", default=EXTERNAL_NETWORK))
    address = sim_addresses.floating_address(inventory, birth.physical_id)
    return {
        "pool": network["id"],
        "ip": address,
        "floating_network_id": network["id"],
        "floating_ip_address": address,
        "tenant_id": birth.project_id,
    }, None


def _nova_floating_ip_association(birth: Birth, inventory: Inventory) -> Made:
    floating_ip_id = birth.required("floating_ip")
    server_id = birth.required("server_id")
    is_nova = inventory.type_of(floating_ip_id) == NOVA_FLOATING_IP  # Heat takes either
    floating_ip = inventory.get(floating_ip_id, NOVA_FLOATING_IP if is_nova else FLOATING_IP)
    floating_ip = floating_ip or {}
    server = inventory.get(server_id, SERVER)
    fixed = [
        address
        for listed in (server or {}).get("addresses", {}).values()
        for address in listed
        if _is_fixed(address)
    ]
    if server is not None and not fixed:
        raise ProviderError(f"Server {server_id} has no port to associate (simulated 400)")
    first = fixed[0] if fixed else {"port": None, "addr": None}
    return {
        "floating_ip": floating_ip_id,
        "server_id": server_id,
        "port_id": first["port"],
        "fixed_ip_address": first["addr"],
        "floating_ip_address": floating_ip.get("floating_ip_address"),
    }, floating_ip_id


MAKERS: Mapping[str, Maker] = {
    SERVER: _server,
    KEY_PAIR: _key_pair,
    SERVER_GROUP: _server_group,
    FLAVOR: _flavor,
    NOVA_FLOATING_IP: _nova_floating_ip,
    NOVA_FLOATING_IP_ASSOCIATION: _nova_floating_ip_association,
}
OBSERVERS: Mapping[str, Observer] = {SERVER_GROUP: _server_group_now}
REFERENCES: Mapping[str, Reference] = {KEY_PAIR: _key_pair_reference, FLAVOR: _flavor_reference}
