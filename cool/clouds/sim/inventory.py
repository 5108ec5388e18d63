"""What the SIMULATED cloud's attribute makers work from: the resource being created
(:class:`Birth`) and the shared state of the sim's file (:class:`Inventory`).

The inventory reads rows and draws from counters and address claims, inside
the create's (or the observe's) write transaction, so what a real cloud keeps
unique stays unique across every worker on the host. The tables are
documented in :mod:`cool.clouds.sim.store`.
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cool.clouds.base import ProviderError
from cool.clouds.sim.store import LIVE

NET = "OS::Neutron::Net"
SUBNET = "OS::Neutron::Subnet"
ROUTER = "OS::Neutron::Router"
ROUTER_INTERFACE = "OS::Neutron::RouterInterface"
PORT = "OS::Neutron::Port"
SECURITY_GROUP = "OS::Neutron::SecurityGroup"
# A network, of either kind: a provider network is one too (subnets and ports go on it).
NETWORKS = (NET, "OS::Neutron::ProviderNet")
FLOATING_IP = "OS::Neutron::FloatingIP"
FLOATING_IP_ASSOCIATION = "OS::Neutron::FloatingIPAssociation"
SERVER = "OS::Nova::Server"
KEY_PAIR = "OS::Nova::KeyPair"
VOLUME = "OS::Cinder::Volume"
VOLUME_ATTACHMENT = "OS::Cinder::VolumeAttachment"


def kind_of(resource_type: str) -> str:
    """The short name of a type, as a cloud's messages say it (``Net``)."""
    return resource_type.rsplit("::", 1)[-1]


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
            kind = kind_of(self.resource_type)
            raise ProviderError(f"{kind}: {names[0]} is required (simulated 400 Bad Request)")
        return str(value)

    def derived_id(self, what: str) -> str:
        return str(uuid.uuid5(uuid.UUID(self.physical_id), what))


Made = tuple[dict[str, Any], str | None]  # attributes, parent id
# A type's attributes and parent at create; its attributes that changed since
# (given the stored ones and the status now); what get_resource gives for it
# (given its properties and attributes), where that is not its id (None: its id).
Maker = Callable[[Birth, "Inventory"], Made]
Observer = Callable[[Mapping[str, Any], str, "Inventory"], dict[str, Any]]
Reference = Callable[[Mapping[str, Any], Mapping[str, Any]], str | None]


@dataclass(frozen=True, slots=True)
class Named:
    """The newest row of a type with a name in a project; ``holds_name`` unless being deleted."""

    attributes: dict[str, Any]
    holds_name: bool


class Inventory:
    """Rows (read), counters and address claims, inside the caller's write transaction."""

    def __init__(self, conn: sqlite3.Connection, now: float) -> None:
        self.conn, self.now = conn, now

    def get(self, ref: Any, resource_type: str | tuple[str, ...]) -> dict[str, Any] | None:
        """A live sim row's attributes; None when ``ref`` is no sim id (a pretended thing).

        The id of a deleted row, or of another type (than one of ``resource_type``), is
        not found (as in a cloud).
        """
        types = (resource_type,) if isinstance(resource_type, str) else resource_type
        if not isinstance(ref, str) or not ref:
            return None
        row = self.conn.execute(
            "SELECT type, deleted_at, attributes FROM resources WHERE physical_id = ?", (ref,)
        ).fetchone()
        if row is None:
            return None
        if row[0] not in types or (row[1] is not None and row[1] <= self.now):
            raise ProviderError(f"{kind_of(types[0])} {ref} could not be found (simulated 404)")
        return dict(json.loads(row[2]))

    def type_of(self, ref: str) -> str | None:
        """The type of the sim row with id ``ref`` (deleted or not); None when there is none."""
        row = self.conn.execute(
            "SELECT type FROM resources WHERE physical_id = ?", (ref,)
        ).fetchone()
        return None if row is None else str(row[0])

    def named(self, resource_type: str, project_id: str, name: str) -> Named | None:
        """The row of ``resource_type`` named ``name`` in the project; None if the sim made none.

        The row holding the name comes first: one not being deleted (a name is
        free from the moment a delete starts, as a Nova key pair's is), else
        the newest deleted one.
        """
        row = self.conn.execute(
            "SELECT attributes, deleted_at IS NULL AS holds FROM resources "
            "WHERE type = ? AND project_id = ? AND name = ? "
            "ORDER BY holds DESC, created_at DESC, rowid DESC LIMIT 1",
            (resource_type, project_id, name),
        ).fetchone()
        return None if row is None else Named(dict(json.loads(row[0])), bool(row[1]))

    def children(self, parent_id: str, resource_type: str) -> list[dict[str, Any]]:
        """Attributes of the live rows of ``resource_type`` under ``parent_id``, oldest first."""
        rows = self.conn.execute(
            f"SELECT attributes FROM resources WHERE parent_id = ? AND type = ? AND {LIVE} "
            "ORDER BY created_at, rowid",
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
