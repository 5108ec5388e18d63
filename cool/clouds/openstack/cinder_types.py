"""Cinder's volume types for the openstack provider: OS::Cinder::VolumeType and
OS::Cinder::EncryptedVolumeType. Both are admin-only in Cinder's default policy (a
member's create is Cinder's 403, which the provider's boundary makes a clear error).

- A volume type's name is unique in the cloud and is the template's ``name``, as in
  Heat; its ``description`` carries the step's mark
  (:func:`cool.clouds.openstack.identity.mark`), set by the create itself, and so do
  its extra specs (the template's ``metadata``, in the create's body). A type of that
  name without the mark is someone else's: the create fails (Cinder's 409) and the
  build's delete never touches it. The access of a private type is given by further
  calls, so ``observe`` converges it (and the extra specs), as a flavor's.
- A volume type's encryption is one per type and has no field to mark: as in Heat its
  physical id is the volume type's id, and a step finds it on its type only when that
  type carries the build's mark (made by the same build, as Heat's templates do): the
  encryption of another's type is never adopted, nor deleted with the build (a create
  whose reply was lost on such a type then fails, Cinder saying it is encrypted
  already). Cinder answers a GET of the encryption of a type that has none with an
  empty body (its bug 1562024), which reads as "none" here. Deleting an encryption, or
  a type, Cinder refuses while a volume of the type exists: a build deletes its
  volumes first (they depend on it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    TAG_BUILD,
    Found,
    Observed,
    ProviderError,
    ResourceExistsError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, given, own, show
from cool.clouds.openstack.nova_extra import _project_id


def _extra_specs(properties: Mapping[str, Any]) -> dict[str, str]:
    """The template's metadata as Cinder's extra specs (strings only)."""
    return {str(k): str(v) for k, v in dict(properties.get("metadata") or {}).items()}


def _all_types(cloud: Cloud) -> Any:
    """Every volume type, private ones too (Cinder lists only public ones unless asked)."""
    return cloud.conn.block_storage.types(is_public="None")


class VolumeType:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        name = str(properties["name"])
        attrs: dict[str, Any] = {
            "name": name,
            "description": identity.described(ctx, properties.get("description")),
            "is_public": bool(properties.get("is_public", True)),
        }
        if given(properties.get("metadata")):
            attrs["extra_specs"] = _extra_specs(properties)
        try:
            volume_type = cloud.conn.block_storage.create_type(**attrs)
        except os_exceptions.ConflictException as exc:
            raise ResourceExistsError(f"a volume type named {name!r} already exists") from exc
        return str(volume_type.id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        name = str(ctx.properties.get("name") or "")
        return identity.oldest_first(
            _all_types(cloud),
            keep=lambda t: t.name == name and identity.marked(ctx, t.description),
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("volume type", physical_id):
            volume_type = cloud.conn.block_storage.get_type(physical_id)
        if ctx.external_id is None:  # an adopted type (external_id) is only read
            volume_type = self._converge(cloud, ctx, volume_type)
        return Observed(ready=True, attributes={"show": show(volume_type)})

    @staticmethod
    def _converge(cloud: Cloud, ctx: StepContext, volume_type: Any) -> Any:
        """Extra specs and a private type's access, as the template says (idempotent):
        a worker that died between the calls leaves them to the next one."""
        wanted = _extra_specs(ctx.properties)
        have = dict(volume_type.extra_specs or {})
        if any(have.get(k) != v for k, v in wanted.items()):
            cloud.conn.block_storage.update_type_extra_specs(volume_type, **wanted)
            volume_type = cloud.conn.block_storage.get_type(volume_type.id)
        projects = list(ctx.properties.get("projects") or [])
        if projects and not volume_type.is_public:
            access = cloud.conn.block_storage.get_type_access(volume_type)
            granted = {a["project_id"] for a in access}
            for project in (_project_id(cloud, p) for p in projects):
                if project not in granted:
                    cloud.conn.block_storage.add_type_access(volume_type, project)
        return volume_type

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        cloud.conn.block_storage.delete_type(physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            cloud.conn.block_storage.get_type(physical_id)
        except os_exceptions.NotFoundException:
            return True
        return False


def _type_id(cloud: Cloud, ref: Any) -> str:
    """A volume type named or identified (Heat's cinder.vtype), private ones included."""
    try:
        return str(cloud.conn.block_storage.get_type(str(ref)).id)
    except os_exceptions.NotFoundException:
        pass
    named = [t for t in _all_types(cloud) if t.name == str(ref)]
    if not named:
        raise ProviderError(f"volume type {ref!r} not found")
    return str(named[0].id)


def _encryption(cloud: Cloud, type_id: str) -> Any:
    """The type's encryption; None when it has none, or the type is gone."""
    try:
        encryption = cloud.conn.block_storage.get_type_encryption(type_id)
    except os_exceptions.NotFoundException:
        return None
    return encryption if encryption.encryption_id else None


def _ours(volume_type: Any, ctx: StepContext) -> bool:
    """Whether the step's build made this volume type (its description's mark)."""
    return f"{TAG_BUILD}={ctx.build_id}," in str(volume_type.description or "")


def _encryption_fields(properties: Mapping[str, Any]) -> dict[str, Any]:
    """What an encryption is made with (control_location front-end by default)."""
    fields = {
        key: properties[key]
        for key in ("provider", "cipher", "key_size", "control_location")
        if properties.get(key) is not None
    }
    fields.setdefault("control_location", "front-end")
    return fields


class EncryptedVolumeType:
    """A link to its volume type: its physical id is the type's id, as in Heat."""

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        type_id = _type_id(cloud, properties["volume_type"])
        if not _ours(cloud.conn.block_storage.get_type(type_id), ctx):
            # Keystone-like: an encryption carries no mark. On a type the build did not
            # make, a create whose reply was lost could not be told from someone else's
            # encryption: it would be left behind (Heat allows it; cool refuses).
            raise ProviderError(
                f"volume type {properties['volume_type']!r} was not made by this build: "
                "cool encrypts only a volume type of the same template (an encryption "
                "carries no mark, so one on a type made elsewhere could not be told apart "
                "after a crash)"
            )
        attrs = _encryption_fields(properties)
        try:
            cloud.conn.block_storage.create_type_encryption(type_id, **attrs)
        except os_exceptions.BadRequestException as exc:
            # Cinder's "Volume type encryption for type ... already exists": a create
            # whose reply was lost, or someone else's (find tells).
            if "already exists" in str(exc.details or exc):
                raise ResourceExistsError(f"volume type {type_id} is encrypted already") from exc
            raise
        return type_id

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        ref = ctx.properties.get("volume_type")
        if not given(ref):
            return []
        try:
            type_id = _type_id(cloud, ref)
            volume_type = cloud.conn.block_storage.get_type(type_id)
        except (ProviderError, os_exceptions.NotFoundException):
            return []  # no type, no encryption of it
        if not _ours(volume_type, ctx):
            return []  # not this build's type: its encryption is not the step's
        encryption = _encryption(cloud, type_id)
        if encryption is None:
            return []
        wanted = _encryption_fields(ctx.properties)
        if any(getattr(encryption, key, None) != value for key, value in wanted.items()):
            return []  # another step's of this build, with other settings: not adopted
        return [Found(type_id, identity.timestamp(encryption.created_at))]

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        encryption = _encryption(cloud, physical_id)
        if encryption is None:
            raise ResourceGoneError(f"volume type {physical_id} has no encryption (any more)")
        return Observed(ready=True, attributes={"show": show(encryption)})

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        encryption = _encryption(cloud, physical_id)
        if encryption is not None:
            cloud.conn.block_storage.delete_type_encryption(encryption, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return _encryption(cloud, physical_id) is None


HANDLERS: Mapping[str, Handler] = {
    "OS::Cinder::VolumeType": VolumeType(),
    "OS::Cinder::EncryptedVolumeType": EncryptedVolumeType(),
}
