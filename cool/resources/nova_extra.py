"""More of Nova's types: OS::Nova::ServerGroup, OS::Nova::Flavor, OS::Nova::FloatingIP
and OS::Nova::FloatingIPAssociation, with Heat's property and attribute names.

Heat checks little of these itself and lets Nova refuse the rest at create; cool
checks, when the template is validated, what Nova would refuse for certain (Nova's
API schema: one policy a group, rules only with anti-affinity, a flavor's sizes in
range), so the author sees a located error instead of a failed build.
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
    Range,
    ResourceType,
    constraint,
)

SERVER_GROUP_POLICIES = ("anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity")


def _string(description: str, *custom: str, **kwargs: Any) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "nova.server")."""
    constraints = (*kwargs.pop("constraints", ()), *(CustomConstraint(name) for name in custom))
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


# -- OS::Nova::ServerGroup -------------------------------------------------


def _check_rules(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Nova (API 2.64, as Heat calls it) takes rules only for anti-affinity, and
    max_server_per_host as a positive integer."""
    rules = props.get("rules")
    if not isinstance(rules, dict) or not rules:
        return []
    problems: list[PropertyProblem] = []
    policies = props.get("policies")
    policy = policies[0] if isinstance(policies, list) and policies else "anti-affinity"
    if isinstance(policy, str) and policy != "anti-affinity":
        why = f"Nova takes rules only with the anti-affinity policy, not {policy}"
        problems.append(constraint("rules", why))
    limit = rules.get("max_server_per_host")
    is_number = isinstance(limit, int | float) and not isinstance(limit, bool)
    if is_number and (limit != int(limit) or limit < 1):
        why = f"max_server_per_host must be a positive integer, not {limit!r}"
        problems.append(constraint(("rules", "max_server_per_host"), why))
    return problems


SERVER_GROUP = ResourceType(
    name="OS::Nova::ServerGroup",
    description="A Nova server group: servers that name it in scheduler_hints (group) are "
    "placed on one host (affinity) or on different hosts (anti-affinity).",
    properties={
        "name": _string("Name of the server group."),
        "policies": Property(
            PropertyType.LIST,
            "A list of exactly one policy; anti-affinity if omitted.",
            default=["anti-affinity"],
            constraints=(Length(min=1, max=1, description="give exactly one policy"),),
            schema=_string(
                "A policy.",
                constraints=(AllowedValues(SERVER_GROUP_POLICIES),),
            ),
        ),
        "rules": Property(
            PropertyType.MAP,
            "Rules of the policy (Nova API 2.64).",
            schema={
                "max_server_per_host": Property(
                    PropertyType.NUMBER,
                    "Most servers of the group on one host (anti-affinity only).",
                )
            },
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "name": Attribute("Name of the server group.", AttributeType.STRING),
        "policies": Attribute("The group's policies (one).", AttributeType.LIST),
        "rules": Attribute("The rules of the group's policy.", AttributeType.MAP),
        "members": Attribute("IDs of the servers in the group.", AttributeType.LIST),
    },
    checks=(_check_rules,),
)


# -- OS::Nova::Flavor ------------------------------------------------------


def _size(description: str, *, minimum: int, default: int | None = None, **kwargs: Any) -> Property:
    """A size Nova takes as an integer of at least ``minimum`` (its API schema)."""
    return Property(
        PropertyType.INTEGER,
        description,
        default=default,
        constraints=(Range(min=minimum),),
        **kwargs,
    )


FLAVOR = ResourceType(
    name="OS::Nova::Flavor",
    description="A Nova flavor: the virtual hardware of servers. Nova's default policy "
    "lets only administrators create flavors.",
    properties={
        "tenants": Property(
            PropertyType.LIST,
            "Projects (names or IDs) given access to a private flavor; the build's project "
            "if none is given.",
            default=[],
            schema=_string("A project."),
        ),
        "flavorid": _string(
            "Unique ID of the flavor; Nova makes a UUID if omitted.",
            constraints=(
                Length(min=1, max=255),
                AllowedPattern(
                    r"(?! )[a-zA-Z0-9. _-]+(?<! )",
                    "a flavorid is letters, digits, '.', '_', '-' and inner spaces",
                ),
            ),
        ),
        "name": _string("Name of the flavor.", constraints=(Length(min=1, max=255),)),
        "ram": _size("Memory in MB.", minimum=1, required=True),
        "vcpus": _size("Number of VCPUs.", minimum=1, required=True),
        "disk": _size(
            "Size of the root disk in GB; 0 uses the image's size.", minimum=0, default=0
        ),
        "swap": _size("Swap space in MB.", minimum=0, default=0),
        "ephemeral": _size("Size of a secondary ephemeral disk in GB.", minimum=0, default=0),
        "rxtx_factor": Property(
            PropertyType.NUMBER,
            "RX/TX factor.",
            default=1.0,
            constraints=(Range(min=0),),
        ),
        "extra_specs": Property(PropertyType.MAP, "Key/value pairs that extend the flavor."),
        "is_public": Property(
            PropertyType.BOOLEAN,
            "Whether every project may use the flavor (else the tenants only).",
            default=True,
        ),
        "description": _string(
            "Description of the flavor (Nova API 2.55).", constraints=(Length(max=65535),)
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "is_public": Attribute(
            "Whether the flavor is shared by all projects.", AttributeType.BOOLEAN
        ),
        "extra_specs": Attribute("Extra specs of the flavor.", AttributeType.MAP),
    },
)


# -- OS::Nova::FloatingIP ----------------------------------------------------

FLOATING_IP = ResourceType(
    name="OS::Nova::FloatingIP",
    description="A floating IP from an external network (Nova's pools are Neutron's external "
    "networks now); Heat deprecated it for OS::Neutron::FloatingIP, and still runs it on "
    "Neutron.",
    properties={
        "pool": _string(
            "The external network (name or ID) to allocate the floating IP from; the "
            "cloud's only external network if omitted."
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "pool": Attribute(
            "ID of the external network the floating IP is from.", AttributeType.STRING
        ),
        "ip": Attribute("The allocated floating IP address.", AttributeType.STRING),
    },
)


# -- OS::Nova::FloatingIPAssociation -----------------------------------------

FLOATING_IP_ASSOCIATION = ResourceType(
    name="OS::Nova::FloatingIPAssociation",
    description="Associates a (Neutron) floating IP with a server's first port; Heat "
    "deprecated it for OS::Neutron::FloatingIPAssociation, and still runs it.",
    properties={
        "server_id": _string(
            "Server to associate the floating IP with.", "nova.server", required=True
        ),
        "floating_ip": _string("ID of the floating IP to associate.", required=True),
    },
    attributes={**COMMON_ATTRIBUTES},
)

TYPES = (SERVER_GROUP, FLAVOR, FLOATING_IP, FLOATING_IP_ASSOCIATION)
