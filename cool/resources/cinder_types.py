"""Cinder's volume types: OS::Cinder::VolumeType and OS::Cinder::EncryptedVolumeType,
with Heat's property names, defaults and allowed values.

Both are admin-only in Cinder's default policy: a member's build fails with the
cloud's 403 in its note. As in Heat, ``get_resource`` of either gives the volume
type's id, so an OS::Cinder::Volume's ``volume_type`` may name one made in the same
build.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    CustomConstraint,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    conflict,
)

CIPHERS = ("aes-xts-plain64", "aes-cbc-essiv")  # Heat's allowed values
CONTROL_LOCATIONS = ("front-end", "back-end")


def _check_projects(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's validate: project access is for a private type only."""
    projects = props.get("projects")
    if props.get("is_public") is True and isinstance(projects, list) and projects:
        return [
            conflict(
                "projects", 'Can not specify property "projects" if the volume type is public.'
            )
        ]
    return []


VOLUME_TYPE = ResourceType(
    name="OS::Cinder::VolumeType",
    description="A Cinder volume type: which back end, with which extra specs, a volume "
    "of it gets. Cinder's default policy lets only administrators create volume types.",
    properties={
        "name": Property(
            PropertyType.STRING, "Name of the volume type (unique in the cloud).", required=True
        ),
        "metadata": Property(
            PropertyType.MAP, "The extra specs key and value pairs of the volume type."
        ),
        "is_public": Property(
            PropertyType.BOOLEAN,
            "Whether the volume type is accessible to every project.",
            default=True,
        ),
        "description": Property(PropertyType.STRING, "Description of the volume type."),
        "projects": Property(
            PropertyType.LIST,
            "Projects (names or IDs) given access to a private volume type.",
            default=[],
            schema=Property(
                PropertyType.STRING,
                "A project.",
                constraints=(CustomConstraint("keystone.project"),),
            ),
        ),
    },
    attributes=dict(COMMON_ATTRIBUTES),
    checks=(_check_projects,),
)

ENCRYPTED_VOLUME_TYPE = ResourceType(
    name="OS::Cinder::EncryptedVolumeType",
    description="Encryption of a Cinder volume type: volumes of that type are encrypted. "
    "Cinder's default policy lets only administrators create it; its id (get_resource) "
    "is the volume type's.",
    properties={
        "provider": Property(
            PropertyType.STRING,
            "The class that provides encryption support (for example "
            "nova.volume.encryptors.luks.LuksEncryptor, or luks).",
            required=True,
        ),
        "control_location": Property(
            PropertyType.STRING,
            "Where encryption is performed: front-end (Nova) or back-end.",
            default="front-end",
            constraints=(AllowedValues(CONTROL_LOCATIONS),),
        ),
        "cipher": Property(
            PropertyType.STRING,
            "The encryption algorithm or mode.",
            constraints=(AllowedValues(CIPHERS),),
        ),
        "key_size": Property(
            PropertyType.INTEGER,
            "Size of the encryption key, in bits (for example 128 or 256).",
            constraints=(Range(min=0),),
        ),
        "volume_type": Property(
            PropertyType.STRING,
            "Name or id of the volume type to encrypt (an OS::Cinder::VolumeType).",
            required=True,
            constraints=(CustomConstraint("cinder.vtype"),),
        ),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

TYPES = (VOLUME_TYPE, ENCRYPTED_VOLUME_TYPE)
