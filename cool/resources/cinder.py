"""Cinder resource types (Heat's OS::Cinder::Volume and OS::Cinder::VolumeAttachment).

Property names, types, defaults and allowed values follow Heat's, so Heat templates
validate unchanged (the deprecated ``imageRef`` included).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources import cinder_types
from cool.resources.checks import is_given
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    Attribute,
    AttributeType,
    CustomConstraint,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    conflict,
    missing,
)

# What a volume can be created from besides backup_id, in Heat's order
# (imageRef is Heat's deprecated name of image).
_SOURCES = ("snapshot_id", "source_volid", "image", "imageRef")


def _string(description: str, *custom: str, **kwargs: Any) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "cinder.volume")."""
    constraints = tuple(CustomConstraint(name) for name in custom)
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


def _check_volume_source(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """A volume is created from at most one source, and needs size unless it copies one.

    As in Heat: backup_id alone suffices; otherwise size is required unless exactly one
    of snapshot_id and source_volid is given (a volume from an image needs a size).
    """
    sources = [key for key in _SOURCES if is_given(props.get(key))]
    if {"image", "imageRef"} <= set(sources):
        return [conflict("imageRef", "imageRef is the deprecated name of image: give one")]
    if is_given(props.get("backup_id")):
        return []
    if len(sources) > 1:
        why = f"give only one of snapshot_id, source_volid or image, not {' and '.join(sources)}"
        return [conflict(sources[1], why)]
    if props.get("size") is not None or sources in (["snapshot_id"], ["source_volid"]):
        return []
    if sources:
        return [missing("size", "size is required to create a volume from an image")]
    why = "size is required unless backup_id, snapshot_id or source_volid is given"
    return [missing("size", why)]


VOLUME = ResourceType(
    name="OS::Cinder::Volume",
    description="A Cinder volume: block storage, empty or copied from an image, snapshot, "
    "volume or backup.",
    properties={
        "availability_zone": _string("Availability zone to create the volume in."),
        "size": Property(
            PropertyType.INTEGER,
            "Size of the volume in GB; required unless backup_id, snapshot_id or source_volid "
            "is given.",
            constraints=(Range(min=1),),
        ),
        "snapshot_id": _string("Snapshot to create the volume from.", "cinder.snapshot"),
        "backup_id": _string("Backup to create the volume from.", "cinder.backup"),
        "name": _string("Name of the volume."),
        "description": _string("Description of the volume."),
        "volume_type": _string("Volume type (mapping to a storage back end).", "cinder.vtype"),
        "metadata": Property(PropertyType.MAP, "Key/value metadata of the volume.", default={}),
        "image": _string("Name or ID of the image to create the volume from.", "glance.image"),
        "imageRef": _string(
            "Deprecated Heat name of image; give one or the other.", deprecated_for="image"
        ),
        "source_volid": _string("Volume to copy.", "cinder.volume"),
        "scheduler_hints": Property(PropertyType.MAP, "Key/value hints for the Cinder scheduler."),
        "read_only": Property(PropertyType.BOOLEAN, "Make the volume read-only."),
        "multiattach": Property(
            PropertyType.BOOLEAN,
            "Allow the volume to be attached to several servers at once.",
            default=False,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "availability_zone": Attribute("Availability zone of the volume.", AttributeType.STRING),
        "size": Attribute("Size of the volume in GB.", AttributeType.STRING),
        "snapshot_id": Attribute(
            "Snapshot the volume was created from, if any.", AttributeType.STRING
        ),
        "display_name": Attribute("Name of the volume.", AttributeType.STRING),
        "display_description": Attribute("Description of the volume.", AttributeType.STRING),
        "volume_type": Attribute("Volume type of the volume, if any.", AttributeType.STRING),
        "metadata": Attribute("Metadata of the volume, as a JSON string.", AttributeType.STRING),
        "metadata_values": Attribute("Metadata of the volume, as a map.", AttributeType.MAP),
        "source_volid": Attribute(
            "Volume the volume was copied from, if any.", AttributeType.STRING
        ),
        "status": Attribute("Status of the volume.", AttributeType.STRING),
        "created_at": Attribute("When the volume was created.", AttributeType.STRING),
        "bootable": Attribute(
            'Whether the volume can be booted ("true" or "false").', AttributeType.STRING
        ),
        "encrypted": Attribute(
            'Whether the volume is encrypted ("true" or "false").', AttributeType.STRING
        ),
        "attachments": Attribute(
            "Attachments of the volume, as a string (deprecated in Heat; use attachments_list).",
            AttributeType.STRING,
        ),
        "attachments_list": Attribute("Attachments of the volume.", AttributeType.LIST),
        "multiattach": Attribute(
            "Whether the volume can be attached to several servers.", AttributeType.BOOLEAN
        ),
    },
    checks=(_check_volume_source,),
)

VOLUME_ATTACHMENT = ResourceType(
    name="OS::Cinder::VolumeAttachment",
    description="Attaches a Cinder volume to a Nova server.",
    properties={
        "instance_uuid": _string("ID of the server to attach the volume to.", required=True),
        "volume_id": _string("ID of the volume to attach.", "cinder.volume", required=True),
        "mountpoint": _string(
            "Device the volume appears as, like /dev/vdb (may not be "
            "honoured; /dev/disk/by-id/virtio-<volume id> is reliable)."
        ),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

TYPES = (VOLUME, VOLUME_ATTACHMENT, *cinder_types.TYPES)
