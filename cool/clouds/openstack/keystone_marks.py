"""How a step's Keystone resource is named, marked and looked up, for the Keystone
types of the openstack provider (:mod:`cool.clouds.openstack.keystone` says why so).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    TAG_BUILD,
    TAG_RESOURCE,
    Found,
    Observed,
    ResourceExistsError,
    StepContext,
)
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, given, own, show

_TAG_OK = re.compile(r"[^,/]{0,255}")  # what Keystone takes as a project tag
SHORT_NAME_MAX = 64  # Keystone's longest project, domain and group name


def project_tags(ctx: StepContext) -> list[str]:
    """The step's tags as Keystone takes them: a resource name with ``/`` (nested) or
    ``,``, or too long, becomes its digest."""
    resource = f"{TAG_RESOURCE}={ctx.resource_name}"
    if not _TAG_OK.fullmatch(resource):
        digest = hashlib.sha256(ctx.resource_name.encode()).hexdigest()[:32]
        resource = f"{TAG_RESOURCE}=sha256:{digest}"
    return [f"{TAG_BUILD}={ctx.build_id}", resource]


def step_name(ctx: StepContext, properties: Mapping[str, Any], limit: int = 255) -> str:
    """The template's name, else the step's, within Keystone's ``limit``."""
    name = properties.get("name")
    if given(name):
        return str(name)
    name = ctx.cloud_name
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(ctx.resource_name.encode()).hexdigest()[:16]
    return f"{name[: limit - len(digest) - 1]}-{digest}"


def marked_description(ctx: StepContext, properties: Mapping[str, Any]) -> str:
    text = properties.get("description")
    return f"{text} ({identity.mark(ctx)})" if given(text) else identity.mark(ctx)


def is_gone(getter: Any, physical_id: str) -> bool:
    try:
        getter(physical_id)
    except os_exceptions.NotFoundException:
        return True
    return False


def unless_forbidden(look_up: Callable[[], list[Found]]) -> list[Found]:
    """What a step's look-up finds; nothing when Keystone forbids the listing. Its
    default policy lets only those who may create a type list it, so a step whose
    authority may not list made nothing to find (a rollback after a member's 403 must not
    fail on the look-up it makes first). Under a custom policy that allows the create
    and not the listing, a crash between the create and its record leaves a leak."""
    try:
        return look_up()
    except os_exceptions.ForbiddenException:
        return []


@contextmanager
def taken(kind: str, name: str) -> Iterator[None]:
    """Around a create of something Keystone keeps unique: its 409 says someone holds it."""
    try:
        yield
    except os_exceptions.ConflictException as exc:
        raise ResourceExistsError(f"a {kind} {name!r} already exists in Keystone") from exc


def find_domain_id(cloud: Cloud, ref: Any) -> str:
    return str(cloud._find(cloud.conn.identity.find_domain, "domain", ref).id)


def find_project_id(cloud: Cloud, ref: Any) -> str:
    return str(cloud._find(cloud.conn.identity.find_project, "project", ref).id)


class Described:
    """A type marked in its description, found by listing what may be it."""

    kind = ""  # openstacksdk's noun: user, group, role, domain, service
    unique = True  # Keystone keeps the name unique (a 409 on a taken name)

    def _api(self, cloud: Cloud, verb: str) -> Any:
        return getattr(cloud.conn.identity, verb.format(kind=self.kind))

    def _attrs(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> dict:
        return {"name": step_name(ctx, properties)}

    def _candidates(self, cloud: Cloud, ctx: StepContext) -> Any:
        return self._api(cloud, "{kind}s")(name=step_name(ctx, ctx.properties))

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        attrs = {
            **self._attrs(cloud, ctx, properties),
            "description": marked_description(ctx, properties),
        }
        if not self.unique:
            return str(self._api(cloud, "create_{kind}")(**attrs).id)
        with taken(self.kind, attrs["name"]):
            return str(self._api(cloud, "create_{kind}")(**attrs).id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        return unless_forbidden(
            lambda: identity.oldest_first(
                self._candidates(cloud, ctx), keep=lambda r: identity.marked(ctx, r.description)
            )
        )

    def _attributes(self, cloud: Cloud, ctx: StepContext, resource: Any) -> dict[str, Any]:
        return {"show": show(resource)}

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own(self.kind, physical_id):
            resource = self._api(cloud, "get_{kind}")(physical_id)
        return Observed(ready=True, attributes=self._attributes(cloud, ctx, resource))

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        self._api(cloud, "delete_{kind}")(physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return is_gone(self._api(cloud, "get_{kind}"), physical_id)


def marked_found(ctx: StepContext, resources: list[dict[str, Any]]) -> list[Found]:
    """Keystone's answers (JSON) that carry the step's mark in their ``description``."""
    keep = [r for r in resources if identity.marked(ctx, r.get("description"))]
    return sorted((Found(str(r["id"])) for r in keep), key=lambda f: f.physical_id)
