"""Cinder's types for the openstack provider: volumes and their attachments.

Volumes carry cool's marks as volume metadata, set by the create. An
attachment is a link (Nova attaches, Cinder records it): its physical id is
``<server id>:<volume id>`` and it is found by the volume's attachments.
Deleting a volume that is still attached detaches it first (through Nova)
and deletes it once it is available again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    Found,
    Observed,
    ResourceExistsError,
    ResourceFailedError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import (
    Cloud,
    Handler,
    body,
    given,
    own,
    remember_answer,
    show,
)
from cool.clouds.openstack.errors import cloud_message

_FAILED = frozenset({"error", "error_extending", "error_restoring", "error_managing"})
_DELETABLE = _FAILED | {"available"}  # Cinder refuses to delete a volume still busy
_DETACHABLE = frozenset({"in-use"})


def _volume(cloud: Cloud, volume_id: str) -> Any:
    """The volume, or None once it is gone (a GET by id: find_volume lists on a 404)."""
    try:
        return cloud.conn.block_storage.get_volume(volume_id)
    except os_exceptions.NotFoundException:
        return None


def _attached_to(volume: Any) -> list[str]:
    return [str(a["server_id"]) for a in volume.attachments or () if a.get("server_id")]


class Volume:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        props = properties
        attrs: dict[str, Any] = {
            "name": props.get("name") or ctx.cloud_name,
            "metadata": {**dict(props.get("metadata") or {}), **identity.metadata(ctx)},
            **body(
                props,
                {
                    "size": "size",
                    "description": "description",
                    "volume_type": "volume_type",
                    "availability_zone": "availability_zone",
                    "snapshot_id": "snapshot_id",
                    "source_volid": "source_volume_id",
                    "backup_id": "backup_id",
                    "scheduler_hints": "scheduler_hints",
                    "multiattach": "is_multiattach",
                },
            ),
        }
        image = props.get("image") or props.get("imageRef")
        if given(image):
            attrs["image_id"] = cloud.image_id(image)
        volume = cloud.conn.block_storage.create_volume(**attrs)
        if volume.status == "creating":  # the step's first look need not ask
            remember_answer(ctx, str(volume.id), Observed(ready=False))
        return str(volume.id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        # Cinder filters on metadata server-side; the check here is the proof.
        # openstacksdk calls the metadata filter "properties"; Cinder reads it as one
        # literal dict (a dict given to openstacksdk would be sent as repeated keys).
        marks = json.dumps(identity.metadata(ctx))
        volumes = cloud.conn.block_storage.volumes(properties=marks)
        return identity.oldest_first(
            volumes,
            keep=lambda v: identity.carries(ctx, v.metadata) and v.status != "deleting",
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("volume", physical_id):
            volume = cloud.conn.block_storage.get_volume(physical_id)
        if volume.status in _FAILED:
            return Observed(ready=False, failed=f"volume went to {volume.status}")
        if volume.status not in ("available", "in-use"):
            return Observed(ready=False)
        readonly = (volume.metadata or {}).get("readonly") == "True"
        # An adopted volume (external_id) is only read, never set read-only.
        if ctx.external_id is None and ctx.properties.get("read_only") and not readonly:
            cloud.conn.block_storage.set_volume_readonly(volume, True)
        shown = show(volume)
        metadata = {k: v for k, v in (volume.metadata or {}).items() if k not in ctx.tags}
        return Observed(
            ready=True,
            attributes={
                "availability_zone": volume.availability_zone,
                "size": volume.size,
                "snapshot_id": volume.snapshot_id,
                "display_name": volume.name,
                "display_description": volume.description,
                "volume_type": volume.volume_type,
                "metadata": metadata,
                "metadata_values": metadata,
                "source_volid": volume.source_volume_id,
                "status": volume.status,
                "created_at": volume.created_at,
                "bootable": volume.is_bootable,
                "encrypted": volume.is_encrypted,
                "attachments": shown.get("attachments", []),
                "attachments_list": shown.get("attachments", []),
                "multiattach": volume.is_multiattach,
                "show": shown,
            },
        )

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        volume = _volume(cloud, physical_id)
        if volume is None:
            return
        servers = _attached_to(volume)
        if not servers and volume.status in _DELETABLE:  # else is_deleted, once it settles
            cloud.conn.block_storage.delete_volume(physical_id, ignore_missing=True)
        for server in servers:  # detach first; is_deleted deletes it once available
            cloud.conn.compute.delete_volume_attachment(server, physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        volume = _volume(cloud, physical_id)
        if volume is None:
            return True
        if volume.status == "error_deleting":
            raise ResourceFailedError(f"volume {physical_id} went to error_deleting")
        if volume.status in _DELETABLE and not _attached_to(volume):
            cloud.conn.block_storage.delete_volume(physical_id, ignore_missing=True)
        elif volume.status in _DETACHABLE:  # a detach that did not happen (yet)
            for server in _attached_to(volume):
                cloud.conn.compute.delete_volume_attachment(
                    server, physical_id, ignore_missing=True
                )
        return False


class VolumeAttachment:
    """A link: ``<server id>:<volume id>``. Nova knows an attachment from the moment it
    accepts it (its block device mappings), Cinder only once it is made: it is found
    through Nova, and ready when Cinder shows the volume in-use on the server."""

    @staticmethod
    def _ids(physical_id: str) -> tuple[str, str]:
        server, _, volume = physical_id.partition(":")
        return server, volume

    @staticmethod
    def _in_nova(cloud: Cloud, server: str, volume_id: str) -> bool:
        try:
            attachments = cloud.conn.compute.volume_attachments(server)
            return any(str(a.volume_id) == volume_id for a in attachments)
        except os_exceptions.NotFoundException:  # the server is gone
            return False

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        server, volume = str(properties["instance_uuid"]), str(properties["volume_id"])
        attrs = {"device": properties["mountpoint"]} if given(properties.get("mountpoint")) else {}
        try:
            cloud.conn.compute.create_volume_attachment(server, volume=volume, **attrs)
        except os_exceptions.BadRequestException as exc:
            # An attach whose reply was lost: Cinder says the volume is attached already.
            if server in cloud_message(exc) and "already attached" in cloud_message(exc):
                raise ResourceExistsError(cloud_message(exc)) from exc
            raise
        # Accepted: the volume is attaching, and the step's first look need not ask.
        remember_answer(ctx, f"{server}:{volume}", Observed(ready=False))
        return f"{server}:{volume}"

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        server = ctx.properties.get("instance_uuid")
        volume_id = ctx.properties.get("volume_id")
        if not (given(server) and given(volume_id)):
            return []
        if not self._in_nova(cloud, str(server), str(volume_id)):
            return []
        return [Found(f"{server}:{volume_id}")]

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        server, volume_id = self._ids(physical_id)
        with own("volume", volume_id):  # no volume, no attachment
            volume = cloud.conn.block_storage.get_volume(volume_id)
        if volume.status == "error_attaching":
            return Observed(ready=False, failed=f"volume {volume_id} went to error_attaching")
        if server in _attached_to(volume) and volume.status == "in-use":
            attachment = next(a for a in volume.attachments if str(a.get("server_id")) == server)
            return Observed(ready=True, attributes={"show": dict(attachment)})
        if volume.status in ("attaching", "reserved") or self._in_nova(cloud, server, volume_id):
            return Observed(ready=False)
        raise ResourceGoneError(f"volume {volume_id} is not attached to server {server}")

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        server, volume = self._ids(physical_id)
        cloud.conn.compute.delete_volume_attachment(server, volume, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        server, volume_id = self._ids(physical_id)
        volume = _volume(cloud, volume_id)
        if volume is None:
            return True
        if server in _attached_to(volume) or volume.status in ("detaching", "attaching"):
            return False
        return not self._in_nova(cloud, server, volume_id)


HANDLERS: Mapping[str, Handler] = {
    "OS::Cinder::Volume": Volume(),
    "OS::Cinder::VolumeAttachment": VolumeAttachment(),
}
