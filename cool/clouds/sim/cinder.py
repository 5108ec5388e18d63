"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Cinder's types.

Every value is invented, to be *plausible* and *consistent* with the
attributes :mod:`cool.resources.cinder` declares. A volume's attachments and
status follow the attachment rows under it, when observed.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from cool.clouds.sim.inventory import (
    SERVER,
    VOLUME,
    VOLUME_ATTACHMENT,
    Birth,
    Inventory,
    Made,
    Maker,
    Observer,
)

_STATUS = {"BUILD": "creating", "ERROR": "error", "DELETING": "deleting"}  # not ACTIVE


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


def _volume_now(attributes: Mapping[str, Any], status: str, inventory: Inventory) -> dict[str, Any]:
    attached = inventory.children(attributes["id"], VOLUME_ATTACHMENT)
    listed = [
        {k: a[k] for k in ("id", "attachment_id", "server_id", "volume_id", "device")}
        for a in attached
    ]
    if status == "ACTIVE":
        shown = "in-use" if attached else "available"
    else:
        shown = _STATUS.get(status, "creating")
    return {"status": shown, "attachments_list": listed, "attachments": json.dumps(listed)}


MAKERS: Mapping[str, Maker] = {VOLUME: _volume, VOLUME_ATTACHMENT: _volume_attachment}
OBSERVERS: Mapping[str, Observer] = {VOLUME: _volume_now}
