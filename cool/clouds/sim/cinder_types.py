"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Cinder's volume
types (:mod:`cool.resources.cinder_types`).

A volume type's name is unique in the cloud, as in Cinder (a second is a simulated
409). An encryption is a row under its volume type (when the type is a sim row; a
name or id the sim did not make is a type it pretends the cloud has): one per type,
as in Cinder, and ``get_resource`` of it gives the type, as Heat's does. The sim has
no roles, so Cinder's admin-only default for both is not simulated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.clouds.base import ProviderError, ResourceExistsError, ResourceFailedError
from cool.clouds.sim.inventory import Birth, Inventory, Made, Maker, Reference

VOLUME_TYPE = "OS::Cinder::VolumeType"
ENCRYPTED_VOLUME_TYPE = "OS::Cinder::EncryptedVolumeType"


def _volume_type(birth: Birth, inventory: Inventory) -> Made:
    taken = inventory.conn.execute(
        "SELECT 1 FROM resources WHERE type = ? AND deleted_at IS NULL AND name = ?",
        (VOLUME_TYPE, birth.name),
    ).fetchone()
    if taken is not None:
        raise ResourceExistsError(
            f"Volume Type {birth.name} already exists (simulated 409 Conflict)"
        )
    is_public = bool(birth.prop("is_public", default=True))
    extra_specs = {str(k): str(v) for k, v in birth.prop("metadata", default={}).items()}
    return {
        "name": birth.name,
        "description": birth.prop("description"),
        "is_public": is_public,
        "extra_specs": extra_specs,
        "projects": [] if is_public else [str(p) for p in birth.prop("projects", default=[])],
    }, None


def _encrypted_volume_type(birth: Birth, inventory: Inventory) -> Made:
    type_ref = birth.required("volume_type")
    made_here = inventory.type_of(type_ref) == VOLUME_TYPE
    if not made_here:  # as the openstack provider: an encryption carries no mark
        raise ResourceFailedError(
            f"volume type {type_ref!r} was not made by this build: cool encrypts only a "
            "volume type of the same template (simulated)"
        )
    if made_here:
        inventory.get(type_ref, VOLUME_TYPE)  # a deleted type is not found
        if inventory.children(type_ref, ENCRYPTED_VOLUME_TYPE):
            raise ProviderError(
                f"Volume type encryption for type {type_ref} already exists "
                "(simulated 400 Bad Request)"
            )
    return {
        "volume_type_id": type_ref,
        "provider": birth.required("provider"),
        "cipher": birth.prop("cipher"),
        "key_size": birth.prop("key_size"),
        "control_location": birth.prop("control_location", default="front-end"),
        "encryption_id": birth.physical_id,
    }, type_ref if made_here else None


def _encryption_reference(
    _properties: Mapping[str, Any], attributes: Mapping[str, Any]
) -> str | None:
    """Heat's id of an encryption is its volume type's."""
    return str(attributes["volume_type_id"])


MAKERS: Mapping[str, Maker] = {
    VOLUME_TYPE: _volume_type,
    ENCRYPTED_VOLUME_TYPE: _encrypted_volume_type,
}
REFERENCES: Mapping[str, Reference] = {ENCRYPTED_VOLUME_TYPE: _encryption_reference}
