"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Keystone's
types (:mod:`cool.resources.keystone`).

Rows with Keystone's attributes. What Keystone keeps unique stays unique across every
worker on the host: a project's, user's or group's name in its domain, a role's and a
domain's name, a region's id (a simulated 409, which the worker treats as Keystone's).
A user's password is never kept in its attributes. References that are sim rows (a
project's domain, a user's default project) are used as such; others (``default``,
a name) are things the sim pretends Keystone has. The sim has no roles, so Keystone's
admin-only default is not simulated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cool.clouds.base import ResourceExistsError
from cool.clouds.sim.inventory import Birth, Inventory, Made, Maker, Reference

PROJECT = "OS::Keystone::Project"
USER = "OS::Keystone::User"
GROUP = "OS::Keystone::Group"
ROLE = "OS::Keystone::Role"
DOMAIN = "OS::Keystone::Domain"
REGION = "OS::Keystone::Region"
SERVICE = "OS::Keystone::Service"
ENDPOINT = "OS::Keystone::Endpoint"
USER_ROLE_ASSIGNMENT = "OS::Keystone::UserRoleAssignment"
GROUP_ROLE_ASSIGNMENT = "OS::Keystone::GroupRoleAssignment"


def _holding(inventory: Inventory, resource_type: str, **fields: Any) -> bool:
    """Whether a live sim row of ``resource_type`` has every attribute of ``fields``
    (``None``: the attribute is null)."""
    where = " AND ".join(f"json_extract(attributes, '$.{key}') IS ?" for key in fields)
    row = inventory.conn.execute(
        f"SELECT 1 FROM resources WHERE type = ? AND deleted_at IS NULL AND {where}",
        (resource_type, *fields.values()),
    ).fetchone()
    return row is not None


def _unique(inventory: Inventory, birth: Birth, what: str, **fields: Any) -> None:
    if _holding(inventory, birth.resource_type, **fields):
        said = ", ".join(f"{key} {value}" for key, value in fields.items())
        raise ResourceExistsError(f"a {what} with {said} already exists (simulated 409 Conflict)")


def _domain_id(birth: Birth, name: str = "domain", default: str | None = "default") -> Any:
    ref = birth.prop(name, default=default)
    return None if ref is None else str(ref)


def _project(birth: Birth, inventory: Inventory) -> Made:
    domain_id = _domain_id(birth)
    _unique(inventory, birth, "project", name=birth.name, domain_id=domain_id)
    parent = birth.prop("parent")
    if parent is not None:
        inventory.get(str(parent), PROJECT)  # a deleted parent is not found
    return {
        "name": birth.name,
        "domain_id": domain_id,
        "parent_id": str(parent) if parent is not None else domain_id,
        "description": birth.prop("description", default=""),
        "enabled": bool(birth.prop("enabled", default=True)),
        "is_domain": False,
        "tags": [str(tag) for tag in birth.prop("tags", default=[])],
    }, None


def _user(birth: Birth, inventory: Inventory) -> Made:
    domain_id = _domain_id(birth)
    _unique(inventory, birth, "user", name=birth.name, domain_id=domain_id)
    default_project = birth.prop("default_project")
    return {  # never the password
        "name": birth.name,
        "domain_id": domain_id,
        "description": birth.prop("description", default=""),
        "email": birth.prop("email"),
        "enabled": bool(birth.prop("enabled", default=True)),
        "default_project_id": str(default_project) if default_project is not None else None,
        "password_expires_at": None,
        "groups": [str(group) for group in birth.prop("groups", default=[])],
        "roles": list(birth.prop("roles", default=[])),
    }, None


def _group(birth: Birth, inventory: Inventory) -> Made:
    domain_id = _domain_id(birth)
    _unique(inventory, birth, "group", name=birth.name, domain_id=domain_id)
    return {
        "name": birth.name,
        "domain_id": domain_id,
        "description": birth.prop("description", default=""),
        "roles": list(birth.prop("roles", default=[])),
    }, None


def _role(birth: Birth, inventory: Inventory) -> Made:
    domain_id = _domain_id(birth, default=None)  # None: a global role
    _unique(inventory, birth, "role", name=birth.name, domain_id=domain_id)
    return {"name": birth.name, "domain_id": domain_id}, None


def _domain(birth: Birth, inventory: Inventory) -> Made:
    _unique(inventory, birth, "domain", name=birth.name)
    return {
        "name": birth.name,
        "description": birth.prop("description", default=""),
        "enabled": bool(birth.prop("enabled", default=True)),
    }, None


def _region(birth: Birth, inventory: Inventory) -> Made:
    given = birth.prop("id")
    region_id = quote(str(given), safe="") if given is not None else birth.physical_id
    _unique(inventory, birth, "region", region_id=region_id)
    parent = birth.prop("parent_region")
    return {
        "region_id": region_id,
        "parent_region_id": str(parent) if parent is not None else None,
        "description": birth.prop("description", default=""),
        "enabled": bool(birth.prop("enabled", default=True)),
    }, None


def _region_reference(properties: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    """Keystone's id of a region: the template's (URL-encoded), when it gives one."""
    return str(attributes["region_id"]) if properties.get("id") else None


def _service(birth: Birth, _inventory: Inventory) -> Made:
    return {
        "name": birth.name,
        "type": birth.required("type"),
        "description": birth.prop("description", default=""),
        "enabled": bool(birth.prop("enabled", default=True)),
    }, None


def _endpoint(birth: Birth, inventory: Inventory) -> Made:
    service_id = birth.required("service")
    inventory.get(service_id, SERVICE)  # a deleted service is not found
    region = birth.prop("region")
    return {
        "name": birth.name,
        "service_id": service_id,
        "interface": birth.required("interface"),
        "url": birth.required("url"),
        "region_id": str(region) if region is not None else None,
        "enabled": bool(birth.prop("enabled", default=True)),
    }, service_id


def _role_assignment(actor: str, actor_type: str) -> Maker:
    """An assignment of roles to a user or group (a sim row, or one the sim pretends)."""

    def make(birth: Birth, inventory: Inventory) -> Made:
        actor_id = birth.required(actor)
        inventory.get(actor_id, actor_type)  # a deleted user or group is not found
        return {actor: actor_id, "roles": list(birth.prop("roles", default=[]))}, None

    return make


MAKERS: Mapping[str, Maker] = {
    PROJECT: _project,
    USER: _user,
    GROUP: _group,
    ROLE: _role,
    DOMAIN: _domain,
    REGION: _region,
    SERVICE: _service,
    ENDPOINT: _endpoint,
    USER_ROLE_ASSIGNMENT: _role_assignment("user", USER),
    GROUP_ROLE_ASSIGNMENT: _role_assignment("group", GROUP),
}
REFERENCES: Mapping[str, Reference] = {REGION: _region_reference}
