"""How the SIMULATED cloud (:mod:`cool.clouds.sim`) makes up a resource's attributes.

This is a simulation, not a cloud: every value here is invented, to be
*plausible* and *consistent* with the attributes the resource types declare
(:mod:`cool.resources`), so templates that read them (``get_attr``) build the
same way on the sim as on OpenStack. The rules:

- Derived ids (a server's implicit ports, security group rules) are uuid5s of
  the resource's own id: the same row always shows the same ids.
- What a real cloud keeps unique stays unique across every worker on the host:
  IP addresses (per subnet, and floating addresses across the sim) and MAC
  addresses come from counters and claims in the shared SQLite file (the
  :class:`Inventory`), inside the create's transaction.
- A reference that is the id of a sim row uses that row (a port takes its
  address from its subnet's range); a reference that is not (``public``,
  ``private``, an image name) is a thing the sim pretends the cloud already
  has. Pretended networks have one subnet, 10.254.0.0/16; floating and router
  gateway addresses come from 100.64.0.0/10.

Attributes that change after create (a network's subnets, a volume's
attachments, a floating IP's association) are computed when observed
(:func:`current`), from the rows that name this one as their parent.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import json
import secrets
import sqlite3
import struct
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cool.clouds.base import ProviderError

NET = "OS::Neutron::Net"
SUBNET = "OS::Neutron::Subnet"
ROUTER = "OS::Neutron::Router"
ROUTER_INTERFACE = "OS::Neutron::RouterInterface"
PORT = "OS::Neutron::Port"
SECURITY_GROUP = "OS::Neutron::SecurityGroup"
FLOATING_IP = "OS::Neutron::FloatingIP"
FLOATING_IP_ASSOCIATION = "OS::Neutron::FloatingIPAssociation"
SERVER = "OS::Nova::Server"
KEY_PAIR = "OS::Nova::KeyPair"
VOLUME = "OS::Cinder::Volume"
VOLUME_ATTACHMENT = "OS::Cinder::VolumeAttachment"

PRETEND_CIDR = "10.254.0.0/16"  # the one subnet of a network the sim pretends exists
FLOATING_SCOPE = "floating"  # one address space for floating and gateway addresses
_FLOATING_POOLS = (("100.64.0.1", "100.127.255.254"),)
_SUBNETPOOL = ipaddress.ip_network("10.128.0.0/9")  # where cidr-less subnets come from
_NAMESPACE = uuid.UUID("7c0d2a51-3f0e-4b8e-9a57-51a1c0c0c0c0")  # ids of pretended things
_MTU = 1450  # an overlay (VXLAN) network's
_VOLUME_STATUS = {"BUILD": "creating", "ERROR": "error", "DELETING": "deleting"}


class Inventory:
    """The shared state attributes are drawn from, inside the caller's write transaction.

    Rows (read), counters and address claims: the ``resources``, ``counters``
    and ``addresses`` tables of the sim's file (documented in :mod:`cool.clouds.sim`).
    """

    def __init__(self, conn: sqlite3.Connection, now: float) -> None:
        self.conn, self.now = conn, now

    def get(self, ref: Any, resource_type: str) -> dict[str, Any] | None:
        """A live sim row's attributes; None when ``ref`` is no sim id (a pretended thing).

        The id of a deleted row, or of another type, is not found (as in a cloud).
        """
        if not isinstance(ref, str) or not ref:
            return None
        row = self.conn.execute(
            "SELECT type, deleted_at, attributes FROM resources WHERE physical_id = ?", (ref,)
        ).fetchone()
        if row is None:
            return None
        if row[0] != resource_type or (row[1] is not None and row[1] <= self.now):
            kind = resource_type.rsplit("::", 1)[-1]
            raise ProviderError(f"{kind} {ref} could not be found (simulated 404)")
        return dict(json.loads(row[2]))

    def children(self, parent_id: str, resource_type: str) -> list[dict[str, Any]]:
        """Attributes of the live rows of ``resource_type`` under ``parent_id``, oldest first."""
        rows = self.conn.execute(
            "SELECT attributes FROM resources WHERE parent_id = ? AND type = ? AND "
            "(deleted_at IS NULL OR deleted_at > ?) ORDER BY created_at, rowid",
            (parent_id, resource_type, self.now),
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def next(self, scope: str) -> int:
        """0, 1, 2, ...: a counter shared by every worker on the host."""
        row = self.conn.execute(
            "INSERT INTO counters (scope, value) VALUES (?, 0) "
            "ON CONFLICT (scope) DO UPDATE SET value = value + 1 RETURNING value",
            (scope,),
        ).fetchone()
        return int(row[0])

    def take_address(self, scope: str, pools: Sequence[tuple[str, str]], owner: str) -> str:
        """A free address of ``pools``, claimed for ``owner`` (freed when it is deleted)."""
        ranges = [(int(ipaddress.ip_address(a)), int(ipaddress.ip_address(b))) for a, b in pools]
        size = sum(high - low + 1 for low, high in ranges)
        kind = type(ipaddress.ip_address(pools[0][0])) if pools else ipaddress.IPv4Address
        for _ in range(size):  # from a cursor, so freed addresses come back after a wrap
            n = self.next(f"cursor:{scope}") % size
            for low, high in ranges:
                if n <= high - low:
                    address = str(kind(low + n))
                    break
                n -= high - low + 1
            if self._claim(scope, address, owner):
                return address
        raise ProviderError(f"No more IP addresses available in {scope} (simulated 409)")

    def claim_address(self, scope: str, address: str, owner: str) -> None:
        """Claim a given address; ProviderError when another resource holds it."""
        if not self._claim(scope, address, owner):
            why = f"IP address {address} is already allocated in {scope} (simulated 409)"
            raise ProviderError(why)

    def _claim(self, scope: str, address: str, owner: str) -> bool:
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO addresses (scope, address, owner) VALUES (?, ?, ?)",
            (scope, address, owner),
        )
        return cursor.rowcount == 1


@dataclass(frozen=True, slots=True)
class Birth:
    """Everything known about a resource as it is created."""

    physical_id: str
    resource_type: str
    name: str
    project_id: str
    properties: Mapping[str, Any]
    now: float

    def prop(self, *names: str, default: Any = None) -> Any:
        """The first property of ``names`` that is set (a Heat name or its deprecated one)."""
        for name in names:
            value = self.properties.get(name)
            if value is not None and value != "":
                return value
        return default

    def required(self, *names: str) -> str:
        """A reference the cloud needs (a 400 if a run-time reference resolved to nothing)."""
        value = self.prop(*names)
        if value is None:
            kind = self.resource_type.rsplit("::", 1)[-1]
            raise ProviderError(f"{kind}: {names[0]} is required (simulated 400 Bad Request)")
        return str(value)

    def derived_id(self, what: str) -> str:
        return str(uuid.uuid5(uuid.UUID(self.physical_id), what))


Made = tuple[dict[str, Any], str | None]  # attributes, parent id


def synthesize(birth: Birth, inventory: Inventory) -> Made:
    """The attributes of a new resource, and the id of the row it hangs under (if any)."""
    try:
        attributes, parent_id = _MAKERS[birth.resource_type](birth, inventory)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # what a cloud refuses
        kind = birth.resource_type.rsplit("::", 1)[-1]
        raise ProviderError(f"{kind}: bad request: {exc!r} (simulated 400)") from exc
    return {"id": birth.physical_id, **attributes}, parent_id


def current(
    resource_type: str, attributes: Mapping[str, Any], status: str, inventory: Inventory
) -> dict[str, Any]:
    """The attributes as observed now: stored ones, plus those that follow other rows."""
    out = dict(attributes)
    physical_id, status = out["id"], str(status)
    if resource_type in (NET, ROUTER, SERVER):
        out["status"] = status
    elif resource_type == VOLUME and status != "ACTIVE":
        out["status"] = _VOLUME_STATUS.get(status, "creating")
    if resource_type == NET:
        out["subnets"] = [s["id"] for s in inventory.children(physical_id, SUBNET)]
    elif resource_type == VOLUME:
        attached = inventory.children(physical_id, VOLUME_ATTACHMENT)
        listed = [
            {k: a[k] for k in ("id", "attachment_id", "server_id", "volume_id", "device")}
            for a in attached
        ]
        out["attachments_list"] = listed
        out["attachments"] = json.dumps(listed)
        if status == "ACTIVE":
            out["status"] = "in-use" if attached else "available"
    elif resource_type == FLOATING_IP:
        associations = inventory.children(physical_id, FLOATING_IP_ASSOCIATION)
        if associations:
            out["port_id"] = associations[0]["port_id"]
            out["fixed_ip_address"] = associations[0]["fixed_ip_address"]
        out["status"] = "ACTIVE" if out.get("port_id") else "DOWN"
    out["show"] = {k: v for k, v in out.items() if k != "show"}
    return out


# -- networks, subnets and addresses -------------------------------------------


def pretend_id(kind: str, ref: Any) -> str:
    """The id of something the sim pretends the cloud has (a network named ``public``)."""
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{ref}"))


def _pools(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network, gateway: str | None
) -> list[dict[str, str]]:
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


def _pretend_subnet(network_ref: Any) -> dict[str, Any]:
    network = ipaddress.ip_network(PRETEND_CIDR)
    return {
        "id": pretend_id("subnet", network_ref),
        "name": f"{network_ref}-subnet",
        "network_id": str(network_ref),
        "cidr": PRETEND_CIDR,
        "ip_version": 4,
        "gateway_ip": str(network[1]),
        "allocation_pools": _pools(network, str(network[1])),
    }


def _network(inventory: Inventory, ref: Any) -> dict[str, Any]:
    found = inventory.get(ref, NET)
    return found if found is not None else {"id": str(ref), "name": str(ref)}


def _subnets_of(inventory: Inventory, network_ref: Any) -> list[dict[str, Any]]:
    if inventory.get(network_ref, NET) is None:
        return [_pretend_subnet(network_ref)]
    return inventory.children(str(network_ref), SUBNET)


def _subnet(inventory: Inventory, ref: Any) -> dict[str, Any]:
    found = inventory.get(ref, SUBNET)
    return found if found is not None else {**_pretend_subnet(ref), "id": str(ref)}


def _address(inventory: Inventory, subnet: Mapping[str, Any], owner: str, wanted: Any) -> str:
    scope = f"subnet:{subnet['id']}"
    if wanted:
        inventory.claim_address(scope, str(wanted), owner)
        return str(wanted)
    pools = [(p["start"], p["end"]) for p in subnet.get("allocation_pools") or []]
    return inventory.take_address(scope, pools, owner)


def _containing(subnets: Sequence[Mapping[str, Any]], address: Any) -> Mapping[str, Any] | None:
    for subnet in subnets:
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(subnet["cidr"]):
                return subnet
        except (ValueError, KeyError, TypeError):
            continue
    return None


def _mac(inventory: Inventory) -> str:
    n = inventory.next("mac") % (1 << 24)
    return "fa:16:3e:{:02x}:{:02x}:{:02x}".format(*n.to_bytes(3, "big"))


def _floating_address(inventory: Inventory, owner: str, wanted: Any = None) -> str:
    if wanted:
        inventory.claim_address(FLOATING_SCOPE, str(wanted), owner)
        return str(wanted)
    return inventory.take_address(FLOATING_SCOPE, _FLOATING_POOLS, owner)


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


def _subnet_cidr(birth: Birth, inventory: Inventory) -> str:
    cidr = birth.prop("cidr")
    if cidr:
        return str(ipaddress.ip_network(cidr, strict=False))
    prefix = int(birth.prop("prefixlen", default=24))
    count = 1 << (prefix - _SUBNETPOOL.prefixlen)
    n = inventory.next(f"subnetpool:{birth.prop('subnetpool')}") % count
    base = int(_SUBNETPOOL.network_address) + n * (1 << (32 - prefix))
    return f"{ipaddress.IPv4Address(base)}/{prefix}"


def _subnet_make(birth: Birth, inventory: Inventory) -> Made:
    network_id = birth.required("network", "network_id")
    inventory.get(network_id, NET)  # a deleted network is not found
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
        "allocation_pools": birth.prop("allocation_pools") or _pools(network, gateway),
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
                    "subnet_id": entry.get("subnet") or pretend_id("subnet", network_id),
                    "ip_address": _floating_address(
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
        subnet = _subnet(inventory, birth.prop("subnet", "subnet_id"))
        subnet_id, address = subnet["id"], subnet.get("gateway_ip")
        port_id = birth.derived_id("router-port")
    return {
        "router_id": router_id,
        "subnet_id": subnet_id,
        "port_id": str(port_id),
        "ip_address": address,
    }, router_id


def _fixed_ips(birth: Birth, inventory: Inventory, network_id: str) -> list[dict[str, Any]]:
    if birth.prop("no_fixed_ips", default=False):
        return []
    subnets = _subnets_of(inventory, network_id)
    out = []
    for entry in birth.prop("fixed_ips") or [{}]:
        wanted = entry.get("ip_address")
        ref = entry.get("subnet") or entry.get("subnet_id")
        subnet = _subnet(inventory, ref) if ref else None
        if subnet is None:
            subnet = _containing(subnets, wanted) if wanted else (subnets[0] if subnets else None)
        if subnet is None:  # a network without subnets: a port without an address
            continue
        address = _address(inventory, subnet, birth.physical_id, wanted)
        out.append({"subnet_id": subnet["id"], "ip_address": address})
    return out


def _port(birth: Birth, inventory: Inventory) -> Made:
    network_id = birth.required("network", "network_id")
    network = _network(inventory, network_id)
    fixed_ips = _fixed_ips(birth, inventory, network_id)
    device_id = birth.prop("device_id", default="")
    first = fixed_ips[0]["ip_address"] if fixed_ips else None
    host = f"host-{first.replace('.', '-').replace(':', '-')}" if first else ""
    subnets = [
        inventory.get(f["subnet_id"], SUBNET) or _pretend_subnet(network_id) for f in fixed_ips
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
        "mac_address": birth.prop("mac_address") or _mac(inventory),
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


def _first_address(inventory: Inventory, port_ref: Any) -> str | None:
    port = inventory.get(port_ref, PORT) if port_ref else None
    return port["fixed_ips"][0]["ip_address"] if port and port["fixed_ips"] else None


def _floating_ip(birth: Birth, inventory: Inventory) -> Made:
    port_id = birth.prop("port_id")
    return {
        "floating_network_id": birth.required("floating_network", "floating_network_id"),
        "floating_ip_address": _floating_address(
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


# -- servers, key pairs and volumes ----------------------------------------------


def _interface(
    birth: Birth, inventory: Inventory, i: int, entry: Mapping[str, Any]
) -> tuple[str, str, list[dict[str, Any]]]:
    """One networks entry of a server: its network's id and name, and its addresses."""
    port_ref = entry.get("port")
    if port_ref:
        port = inventory.get(port_ref, PORT)
        if port is None:  # a port the sim pretends exists
            fixed = [{"ip_address": None}]
            port = {"network_id": str(port_ref), "mac_address": _mac(inventory)}
        else:
            fixed = port["fixed_ips"]
        network_id, mac, port_id = port["network_id"], port["mac_address"], str(port_ref)
        addresses = [f["ip_address"] for f in fixed if f["ip_address"]]
    else:
        subnet_ref = entry.get("subnet")
        subnet = _subnet(inventory, subnet_ref) if subnet_ref else None
        network_id = str(
            entry.get("network")
            or entry.get("uuid")
            or (subnet["network_id"] if subnet else "private")
        )
        if subnet is None:
            subnets = _subnets_of(inventory, network_id)
            subnet = subnets[0] if subnets else None
        wanted = entry.get("fixed_ip")
        addresses = [_address(inventory, subnet, birth.physical_id, wanted)] if subnet else []
        mac, port_id = _mac(inventory), birth.derived_id(f"port-{i}")
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
    return network_id, str(_network(inventory, network_id)["name"]), listed


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
        "key_name": birth.prop("key_name"),
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


def _key_pair(birth: Birth, _inventory: Inventory) -> Made:
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


def _volume(birth: Birth, inventory: Inventory) -> Made:
    source = (
        inventory.get(birth.prop("source_volid"), VOLUME) if birth.prop("source_volid") else None
    )
    size = birth.prop("size") or (int(source["size"]) if source else 1)
    metadata = dict(birth.prop("metadata", default={}))
    created = datetime.datetime.fromtimestamp(birth.now, datetime.UTC)
    return {
        "display_name": birth.name,
        "display_description": birth.prop("description"),
        "availability_zone": birth.prop("availability_zone", default="nova"),
        "size": str(size),
        "snapshot_id": birth.prop("snapshot_id"),
        "source_volid": birth.prop("source_volid"),
        "volume_type": birth.prop("volume_type", default="__DEFAULT__"),
        "metadata": json.dumps(metadata, sort_keys=True),
        "metadata_values": metadata,
        "status": "creating",
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%f"),
        "bootable": "true" if birth.prop("image", "imageRef") else "false",
        "encrypted": "false",
        "attachments": "[]",
        "attachments_list": [],
        "multiattach": birth.prop("multiattach", default=False),
    }, None


def _volume_attachment(birth: Birth, inventory: Inventory) -> Made:
    server_id = birth.required("instance_uuid")
    volume_id = birth.required("volume_id")
    inventory.get(server_id, SERVER)
    inventory.get(volume_id, VOLUME)
    device = birth.prop("mountpoint")
    if not device:
        device = f"/dev/vd{chr(ord('b') + inventory.next(f'devices:{server_id}') % 24)}"
    return {
        "attachment_id": birth.physical_id,
        "server_id": server_id,
        "volume_id": volume_id,
        "device": device,
    }, volume_id


_MAKERS: Mapping[str, Callable[[Birth, Inventory], Made]] = {
    NET: _net,
    SUBNET: _subnet_make,
    ROUTER: _router,
    ROUTER_INTERFACE: _router_interface,
    PORT: _port,
    SECURITY_GROUP: _security_group,
    FLOATING_IP: _floating_ip,
    FLOATING_IP_ASSOCIATION: _floating_ip_association,
    SERVER: _server,
    KEY_PAIR: _key_pair,
    VOLUME: _volume,
    VOLUME_ATTACHMENT: _volume_attachment,
}

TYPES = frozenset(_MAKERS)
