"""Keystone's types: projects, users, groups, roles, domains, regions, services,
endpoints, and role assignments of existing users and groups.

Names, types, defaults and allowed values are Heat's (heat/engine/resources/openstack/
keystone/), so Heat templates validate unchanged. Keystone's default policy lets only
administrators create any of them: a member's build fails with Keystone's 403 in its
note. A user's or group's ``roles`` are checked as Heat checks them (each names a
project or a domain, not both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedPattern,
    AllowedValues,
    Attribute,
    AttributeType,
    CustomConstraint,
    Length,
    Property,
    PropertyProblem,
    PropertyType,
    ResourceType,
    conflict,
    constraint,
    missing,
)


def _string(description: str, *custom: str, **kwargs: Any) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "keystone.domain")."""
    constraints = (*kwargs.pop("constraints", ()), *(CustomConstraint(name) for name in custom))
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


def _enabled(what: str) -> Property:
    return Property(PropertyType.BOOLEAN, f"This {what} is enabled or disabled.", default=True)


def _domain(what: str) -> Property:
    return _string(
        f"Name or id of keystone domain of the {what}.", "keystone.domain", default="default"
    )


ROLES = Property(
    PropertyType.LIST,
    "List of role assignments.",
    schema=Property(
        PropertyType.MAP,
        "Map between role with either project or domain.",
        schema={
            "role": _string("Keystone role.", "keystone.role", required=True),
            "project": _string("Keystone project.", "keystone.project"),
            "domain": _string("Keystone domain.", "keystone.domain"),
        },
    ),
)


def _check_roles(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's validate_assignment_properties: each assignment names a project or a
    domain, not both and not neither (nor an empty one, which would grant nothing)."""
    roles = props.get("roles")
    if not isinstance(roles, list):
        return []
    problems: list[PropertyProblem] = []
    for index, assignment in enumerate(roles):
        if not isinstance(assignment, dict):
            continue
        project, domain = assignment.get("project"), assignment.get("domain")
        empty = [key for key, value in (("project", project), ("domain", domain)) if value == ""]
        if empty:  # Heat's keystone.project/keystone.domain constraints refuse it
            problems += [
                constraint(("roles", index, key), f"an empty {key} names no Keystone {key}")
                for key in empty
            ]
        elif project is not None and domain is not None:
            problems.append(conflict(("roles", index), "give either project or domain, not both"))
        elif project is None and domain is None:
            why = f"Either project or domain must be specified for role {assignment.get('role')}"
            problems.append(missing(("roles", index), why))
    return problems


PROJECT = ResourceType(
    name="OS::Keystone::Project",
    description="A Keystone project (administrators only, by default).",
    properties={
        "name": _string("Name of keystone project.", constraints=(Length(max=64),)),
        "domain": _domain("project"),
        "description": _string("Description of keystone project.", default=""),
        "enabled": _enabled("project"),
        "parent": _string(
            "The name or ID of parent of this keystone project in hierarchy.", "keystone.project"
        ),
        "tags": Property(
            PropertyType.LIST,
            "A list of tags for labeling and sorting projects.",
            default=[],
            schema=_string(
                "A tag.",
                constraints=(
                    Length(max=255),
                    AllowedPattern(r"[^,/]*", "a project tag has no ',' and no '/'"),
                ),
            ),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "name": Attribute("Project name.", AttributeType.STRING),
        "parent_id": Attribute("Parent project id.", AttributeType.STRING),
        "domain_id": Attribute("Domain id for project.", AttributeType.STRING),
        "enabled": Attribute("Flag of enable project.", AttributeType.BOOLEAN),
        "is_domain": Attribute(
            "Indicates whether the project also acts as a domain.", AttributeType.BOOLEAN
        ),
    },
)

USER = ResourceType(
    name="OS::Keystone::User",
    description="A Keystone user, its groups and its roles (administrators only, by default). "
    "Its password is never shown, in attributes, notes or events.",
    properties={
        "name": _string("Name of keystone user.", constraints=(Length(max=255),)),
        "domain": _domain("user"),
        "description": _string("Description of keystone user.", default=""),
        "enabled": _enabled("user"),
        "email": _string("Email address of keystone user."),
        "password": _string("Password of keystone user."),
        "default_project": _string(
            "Name or ID of default project of keystone user.", "keystone.project"
        ),
        "groups": Property(
            PropertyType.LIST,
            "Keystone user groups.",
            schema=_string("Keystone user group.", "keystone.group"),
        ),
        "roles": ROLES,
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "name": Attribute("User name.", AttributeType.STRING),
        "default_project_id": Attribute("Default project id for user.", AttributeType.STRING),
        "domain_id": Attribute("Domain id for user.", AttributeType.STRING),
        "enabled": Attribute("Flag of enable user.", AttributeType.BOOLEAN),
        "password_expires_at": Attribute(
            "Show user password expiration time.", AttributeType.STRING
        ),
    },
    checks=(_check_roles,),
)

GROUP = ResourceType(
    name="OS::Keystone::Group",
    description="A Keystone group and its roles (administrators only, by default).",
    properties={
        "name": _string("Name of keystone group.", constraints=(Length(max=64),)),
        "domain": _domain("group"),
        "description": _string("Description of keystone group.", default=""),
        "roles": ROLES,
    },
    attributes=dict(COMMON_ATTRIBUTES),
    checks=(_check_roles,),
)

ROLE = ResourceType(
    name="OS::Keystone::Role",
    description="A Keystone role (administrators only, by default).",
    properties={
        "name": _string("Name of keystone role.", constraints=(Length(max=255),)),
        "domain": _string("Name or id of keystone domain.", "keystone.domain"),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

DOMAIN = ResourceType(
    name="OS::Keystone::Domain",
    description="A Keystone domain (administrators only, by default); disabled, then "
    "deleted, with its build.",
    properties={
        "name": _string("The name of the domain.", constraints=(Length(max=64),)),
        "description": _string("Description of keystone domain."),
        "enabled": _enabled("domain"),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

REGION = ResourceType(
    name="OS::Keystone::Region",
    description="A Keystone region (administrators only, by default).",
    properties={
        "id": _string(
            "The user-defined region ID, unique in the cloud; URL-encoded at create, as Heat does.",
            constraints=(
                Length(max=255),
                # Keystone would make it, but no URL could name it again (find, delete).
                AllowedPattern(r"[^/]*", "a region id has no '/'"),
            ),
        ),
        "parent_region": _string(
            "The ID of the parent region, if this region is a child of another.",
            "keystone.region",
        ),
        "description": _string("Description of keystone region."),
        "enabled": _enabled("region"),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

SERVICE = ResourceType(
    name="OS::Keystone::Service",
    description="A service of Keystone's catalog (administrators only, by default).",
    properties={
        "name": _string("Name of keystone service."),
        "description": _string("Description of keystone service."),
        "type": _string("Type of keystone Service.", required=True),
        "enabled": _enabled("service"),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

ENDPOINT = ResourceType(
    name="OS::Keystone::Endpoint",
    description="An endpoint of a service in Keystone's catalog (administrators only, by default).",
    properties={
        "name": _string("Name of keystone endpoint."),
        "region": _string("Name or Id of keystone region.", "keystone.region"),
        "service": _string("Name or Id of keystone service.", "keystone.service", required=True),
        "interface": _string(
            "Interface type of keystone service endpoint.",
            required=True,
            constraints=(AllowedValues(("public", "internal", "admin")),),
        ),
        "url": _string("URL of keystone service endpoint.", required=True),
        "enabled": _enabled("endpoint"),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)


def _assignment(actor: str) -> ResourceType:
    """Heat's KeystoneUserRoleAssignment / KeystoneGroupRoleAssignment."""
    return ResourceType(
        name=f"OS::Keystone::{actor.capitalize()}RoleAssignment",
        description=f"Roles of an existing Keystone {actor} on projects or domains "
        "(administrators only, by default); the build's delete revokes only the grants it made.",
        properties={
            actor: _string(f"Name or id of keystone {actor}.", f"keystone.{actor}", required=True),
            "roles": ROLES,
        },
        attributes=dict(COMMON_ATTRIBUTES),
        checks=(_check_roles,),
    )


USER_ROLE_ASSIGNMENT = _assignment("user")
GROUP_ROLE_ASSIGNMENT = _assignment("group")

TYPES = (
    PROJECT,
    USER,
    GROUP,
    ROLE,
    DOMAIN,
    REGION,
    SERVICE,
    ENDPOINT,
    USER_ROLE_ASSIGNMENT,
    GROUP_ROLE_ASSIGNMENT,
)
