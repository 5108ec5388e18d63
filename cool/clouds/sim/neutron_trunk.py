"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for
OS::Neutron::Trunk (:mod:`cool.resources.neutron_trunk`).

A trunk is a row under its parent port. As in Neutron, a port is the parent or a
sub-port of one live trunk at most, and a trunk takes each segmentation (type and ID)
once: otherwise a (simulated) 409, not retryable. A trunk is ACTIVE at once (the sim
has no back end to wait for); ports the sim pretends exist are taken as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from cool.clouds.base import ProviderError
from cool.clouds.sim.inventory import PORT, Birth, Inventory, Made, Maker
from cool.clouds.sim.store import LIVE

TRUNK = "OS::Neutron::Trunk"


def _live_trunks(inventory: Inventory) -> Iterator[dict[str, Any]]:
    rows = inventory.conn.execute(
        f"SELECT attributes FROM resources WHERE type = ? AND {LIVE}", (TRUNK, inventory.now)
    )
    for (attributes,) in rows:
        yield json.loads(attributes)


def _trunk_of(inventory: Inventory, port_id: str) -> str | None:
    """The live trunk that holds ``port_id`` (as its parent or a sub-port), if any."""
    for trunk in _live_trunks(inventory):
        if trunk["port_id"] == port_id or any(s["port_id"] == port_id for s in trunk["sub_ports"]):
            return str(trunk["id"])
    return None


def _trunk(birth: Birth, inventory: Inventory) -> Made:
    parent = birth.required("port")
    sub_ports = [
        {
            "port_id": str(sub["port"]),
            "segmentation_type": sub["segmentation_type"],
            "segmentation_id": int(sub["segmentation_id"]),
        }
        for sub in birth.prop("sub_ports", default=[])
    ]
    segmentations: set[tuple[str, int]] = set()
    for port_id in (parent, *(s["port_id"] for s in sub_ports)):
        inventory.get(port_id, PORT)  # a deleted port is not found
        holder = _trunk_of(inventory, port_id)
        if holder is not None:
            raise ProviderError(f"Port {port_id} is in use by trunk {holder} (simulated 409)")
    for sub in sub_ports:
        key = (sub["segmentation_type"], sub["segmentation_id"])
        if key in segmentations:
            raise ProviderError(
                f"segmentation_type {key[0]} and segmentation_id {key[1]} already in use "
                "on the trunk (simulated 409)"
            )
        segmentations.add(key)
    return {
        "name": birth.name,
        "description": birth.prop("description", default=""),
        "port_id": parent,
        "sub_ports": sub_ports,
        "admin_state_up": birth.prop("admin_state_up", default=True),
        "status": "ACTIVE",
        "tenant_id": birth.project_id,
        "tags": [],
    }, parent


MAKERS: Mapping[str, Maker] = {TRUNK: _trunk}
