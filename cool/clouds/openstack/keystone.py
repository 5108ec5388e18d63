"""Keystone's types for the openstack provider: projects, users, groups, roles, domains,
regions, services and endpoints (:mod:`.keystone_catalog`), and Heat's role
assignments of existing users and groups (links found by their ends,
:mod:`.keystone_roles`). How each is named, marked and looked up: :mod:`.keystone_marks`.

Keystone's default policy lets only administrators make any of them: a build acts
through its submitter's trust, which carries the submitter's roles on the build's
project, so an admin's build makes them and a member's fails with Keystone's 403.

How a step's resource is marked, atomically with its create (:mod:`.identity`):

- a project takes tags: the step's ``cool-build`` and ``cool-resource`` tags (a
  resource name Keystone would refuse in a tag, nested ``a/0/b``, as its digest) after
  the template's own, and a step adopts only the project that carries both;
- the others take no tags: the mark is their ``description`` (after the template's own
  text, in parentheses), as for Nova's flavors. Keystone keeps extra attributes of
  regions and endpoints, which have no description of their own, so theirs is one.
  A step adopts only what carries its exact mark; a look-alike a user made (same name,
  same type, same URL) is never found, so never adopted nor deleted. Where Keystone
  keeps a name unique (projects, users and groups in a domain, roles, domains) or an id
  (regions), a create that meets someone else's fails: ResourceExistsError, and the
  worker adopts only if the holder carries the mark.

A user's groups and role assignments, and a group's, are made by calls after the
create: ``observe`` converges them (idempotent), so a worker that died between the
calls leaves them to the next. They go away with the user or group. A user's password
is a secret: it is never in an attribute, and a refusal that would quote it (Keystone
echoes an invalid value) is reported with it masked, not chained to the original.
Deletes are idempotent; a domain is disabled first (Keystone deletes only disabled
domains); a project's default security group, which Neutron made for it, goes with
it, as Heat does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from cool.clouds.base import Found, Observed, ProviderError, ResourceExistsError, StepContext
from cool.clouds.openstack import identity, keystone_catalog, keystone_roles
from cool.clouds.openstack.cloud import Cloud, Handler, given, own, show
from cool.clouds.openstack.errors import translate
from cool.clouds.openstack.keystone_marks import (
    SHORT_NAME_MAX,
    Described,
    find_domain_id,
    find_project_id,
    is_gone,
    project_tags,
    step_name,
    taken,
    unless_forbidden,
)
from cool.clouds.openstack.keystone_roles import assign_roles


class Project:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        name = step_name(ctx, properties, SHORT_NAME_MAX)
        attrs: dict[str, Any] = {
            "name": name,
            "domain_id": find_domain_id(cloud, properties.get("domain") or "default"),
            "description": str(properties.get("description") or ""),
            "is_enabled": bool(properties.get("enabled", True)),
            "tags": [*(str(t) for t in properties.get("tags") or ()), *project_tags(ctx)],
        }
        if given(properties.get("parent")):
            attrs["parent_id"] = find_project_id(cloud, properties["parent"])
        with taken("project", name):
            return str(cloud.conn.identity.create_project(**attrs).id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        tags = project_tags(ctx)
        return unless_forbidden(
            lambda: identity.oldest_first(
                cloud.conn.identity.projects(tags=",".join(tags)),
                keep=lambda p: set(tags) <= set(p.tags or ()),
            )
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("project", physical_id):
            project = cloud.conn.identity.get_project(physical_id)
        return Observed(
            ready=True,
            attributes={
                "name": project.name,
                "parent_id": project.parent_id,
                "domain_id": project.domain_id,
                "enabled": bool(project.is_enabled),
                "is_domain": bool(project.is_domain),
                "show": show(project),
            },
        )

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        self._delete_default_security_group(cloud, physical_id)
        cloud.conn.identity.delete_project(physical_id, ignore_missing=True)

    @staticmethod
    def _delete_default_security_group(cloud: Cloud, project_id: str) -> None:
        """Neutron's ``default`` group of the project (Heat's handle_delete): not a leak left
        behind. A cloud without Neutron has none."""
        try:
            groups = list(cloud.conn.network.security_groups(project_id=project_id, name="default"))
        except (
            os_exceptions.ServiceDisabledException,
            os_exceptions.EndpointNotFound,
            ks_exceptions.EndpointNotFound,
        ):
            return
        for group in groups:
            cloud.conn.network.delete_security_group(group.id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return is_gone(cloud.conn.identity.get_project, physical_id)


class User(Described):
    kind = "user"

    def _attrs(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> dict:
        attrs: dict[str, Any] = {
            "name": step_name(ctx, properties),
            "domain_id": find_domain_id(cloud, properties.get("domain") or "default"),
            "is_enabled": bool(properties.get("enabled", True)),
        }
        if given(properties.get("email")):
            attrs["email"] = str(properties["email"])
        if given(properties.get("default_project")):
            attrs["default_project_id"] = find_project_id(cloud, properties["default_project"])
        if given(properties.get("password")):
            attrs["password"] = str(properties["password"])
        return attrs

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        password = properties.get("password")
        if not given(password):
            return super().create(cloud, ctx, properties)
        secret = str(password)
        try:
            return super().create(cloud, ctx, properties)
        except ProviderError as exc:
            error = exc
        except (os_exceptions.SDKException, ks_exceptions.ClientException) as exc:
            error = translate(exc, f"create {ctx.resource_name} ({ctx.resource_type})")
        # Raised here, out of the except clauses: not chained to an error whose request
        # (its body) holds the password.
        text = str(error).replace(secret, "***")
        if isinstance(error, ResourceExistsError):
            raise ResourceExistsError(text)
        raise ProviderError(text, retryable=error.retryable)

    def _attributes(self, cloud: Cloud, ctx: StepContext, resource: Any) -> dict[str, Any]:
        if ctx.external_id is None:
            self._converge(cloud, ctx, str(resource.id))
        shown = show(resource)
        shown.pop("password", None)
        return {
            "name": resource.name,
            "default_project_id": resource.default_project_id,
            "domain_id": resource.domain_id,
            "enabled": bool(resource.is_enabled),
            "password_expires_at": resource.password_expires_at,
            "show": shown,
        }

    @staticmethod
    def _converge(cloud: Cloud, ctx: StepContext, user_id: str) -> None:
        """The user in the template's groups, with its roles (idempotent)."""
        groups = ctx.properties.get("groups") or ()
        if groups:
            have = {str(g.id) for g in cloud.conn.identity.user_groups(user_id)}
            for ref in groups:
                group = str(cloud._find(cloud.conn.identity.find_group, "group", ref).id)
                if group not in have:
                    cloud.conn.identity.add_user_to_group(user_id, group)
        assign_roles(cloud, "user", user_id, ctx.properties.get("roles"))


class Group(Described):
    kind = "group"

    def _attrs(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> dict:
        return {
            "name": step_name(ctx, properties, SHORT_NAME_MAX),
            "domain_id": find_domain_id(cloud, properties.get("domain") or "default"),
        }

    def _candidates(self, cloud: Cloud, ctx: StepContext) -> Any:
        return cloud.conn.identity.groups(name=step_name(ctx, ctx.properties, SHORT_NAME_MAX))

    def _attributes(self, cloud: Cloud, ctx: StepContext, resource: Any) -> dict[str, Any]:
        if ctx.external_id is None:
            assign_roles(cloud, "group", str(resource.id), ctx.properties.get("roles"))
        return {"show": show(resource)}


class Role(Described):
    kind = "role"

    def _attrs(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> dict:
        attrs: dict[str, Any] = {"name": step_name(ctx, properties)}
        if given(properties.get("domain")):
            attrs["domain_id"] = find_domain_id(cloud, properties["domain"])
        return attrs

    def _candidates(self, cloud: Cloud, ctx: StepContext) -> Any:
        filters = {"name": step_name(ctx, ctx.properties)}
        if given(ctx.properties.get("domain")):
            filters["domain_id"] = find_domain_id(cloud, ctx.properties["domain"])
        return cloud.conn.identity.roles(**filters)


class Domain(Described):
    kind = "domain"

    def _attrs(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> dict:
        return {
            "name": step_name(ctx, properties, SHORT_NAME_MAX),
            "is_enabled": bool(properties.get("enabled", True)),
        }

    def _candidates(self, cloud: Cloud, ctx: StepContext) -> Any:
        return cloud.conn.identity.domains(name=step_name(ctx, ctx.properties, SHORT_NAME_MAX))

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        """Keystone deletes a disabled domain only (403 otherwise): disable it first."""
        try:
            cloud.conn.identity.update_domain(physical_id, is_enabled=False)
        except os_exceptions.NotFoundException:
            return
        cloud.conn.identity.delete_domain(physical_id, ignore_missing=True)


HANDLERS: Mapping[str, Handler] = {
    "OS::Keystone::Project": Project(),
    "OS::Keystone::User": User(),
    "OS::Keystone::Group": Group(),
    "OS::Keystone::Role": Role(),
    "OS::Keystone::Domain": Domain(),
    **keystone_catalog.HANDLERS,
    **keystone_roles.HANDLERS,
}
