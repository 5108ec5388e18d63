"""Utility resource types that need no cloud (Heat's OS::Heat::*)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources import heat_groups
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    Length,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    constraint,
    unsupported,
)

_CHARACTER_CLASSES = (
    "lettersdigits",
    "letters",
    "lowercase",
    "uppercase",
    "digits",
    "hexdigits",
    "octdigits",
)

NONE = ResourceType(
    name="OS::Heat::None",
    description="Does nothing and accepts any properties: a placeholder, as in Heat.",
    properties={},
    attributes=dict(COMMON_ATTRIBUTES),
    needs_cloud=False,
    free_properties=True,
)

VALUE = ResourceType(
    name="OS::Heat::Value",
    description="Holds a value (for example one computed from other resources) to read back.",
    properties={
        "value": Property(PropertyType.ANY, "The value to hold.", required=True),
        "type": Property(
            PropertyType.STRING,
            "The type the value must have, as for a template parameter.",
            constraints=(
                AllowedValues(("string", "number", "comma_delimited_list", "json", "boolean")),
            ),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "value": Attribute("The value held.", AttributeType.ANY),
    },
    needs_cloud=False,
)


def _check_minimum_total(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """The minimum counts cannot add up to more than the string's length."""
    length = props.get("length", 32)
    total = 1 if props.get("sequence") else 0  # Heat's translation: one class, min 1
    for key in ("character_classes", "character_sequences"):
        items = props.get(key)
        for item in items if isinstance(items, list) else ():
            count = item.get("min", 1) if isinstance(item, dict) else 1
            total += count if isinstance(count, int) else 0
    if isinstance(length, int) and total > length:
        return [
            constraint(
                "length",
                f"the minimum counts of character_classes and character_sequences add up to "
                f"{total}, more than length {length}",
            )
        ]
    return []


RANDOM_STRING = ResourceType(
    name="OS::Heat::RandomString",
    description="A random string, generated once when the build creates it (for passwords).",
    properties={
        "length": Property(
            PropertyType.INTEGER,
            "Length of the string.",
            default=32,
            constraints=(Range(1, 512),),
        ),
        "character_classes": Property(
            PropertyType.LIST,
            "Classes of characters to draw from, each with a minimum count.",
            schema=Property(
                PropertyType.MAP,
                schema={
                    "class": Property(
                        PropertyType.STRING,
                        "A class of characters.",
                        default="lettersdigits",
                        constraints=(AllowedValues(_CHARACTER_CLASSES),),
                    ),
                    "min": Property(
                        PropertyType.INTEGER,
                        "Least number of characters of this class.",
                        default=1,
                        constraints=(Range(1, 512),),
                    ),
                },
            ),
        ),
        "character_sequences": Property(
            PropertyType.LIST,
            "Sequences of characters to draw from, each with a minimum count.",
            schema=Property(
                PropertyType.MAP,
                schema={
                    "sequence": Property(
                        PropertyType.STRING, "The characters to draw from.", required=True
                    ),
                    "min": Property(
                        PropertyType.INTEGER,
                        "Least number of characters from this sequence.",
                        default=1,
                        constraints=(Range(1, 512),),
                    ),
                },
            ),
        ),
        "salt": Property(
            PropertyType.STRING,
            "Any value; changing it would regenerate the string (kept for Heat compatibility).",
        ),
        "sequence": Property(
            PropertyType.STRING,
            "Deprecated in Heat since 2014.2 and hidden since 5.0.0, still accepted: as Heat "
            "translates it, its class is added to character_classes with a minimum of 1.",
            constraints=(AllowedValues(_CHARACTER_CLASSES),),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "value": Attribute("The random string.", AttributeType.STRING),
    },
    needs_cloud=False,
    checks=(_check_minimum_total,),
)


TEST_RESOURCE = ResourceType(
    name="OS::Heat::TestResource",
    description="A resource for testing builds: holds a value, can wait and can fail.",
    properties={
        "value": Property(
            PropertyType.STRING, "The value of the output attribute.", default="test_string"
        ),
        "fail": Property(
            PropertyType.BOOLEAN,
            "Fail the create of this resource (after its create wait); its delete succeeds,"
            " as in Heat, so a failed build is rolled back.",
            default=False,
        ),
        "wait_secs": Property(
            PropertyType.NUMBER,
            "Seconds to wait before each action completes.",
            default=0,
            constraints=(Range(0, 86400),),
        ),
        "action_wait_secs": Property(
            PropertyType.MAP,
            "Seconds to wait per action, overriding wait_secs.",
            schema={
                "create": Property(
                    PropertyType.NUMBER,
                    "Seconds to wait on create.",
                    constraints=(Range(0, 86400),),
                ),
                "delete": Property(
                    PropertyType.NUMBER,
                    "Seconds to wait on delete.",
                    constraints=(Range(0, 86400),),
                ),
                "update": Property(
                    PropertyType.NUMBER,
                    "Seconds to wait on update.",
                    constraints=(Range(0, 86400),),
                ),
            },
        ),
        "attr_wait_secs": Property(
            PropertyType.NUMBER,
            "Seconds to wait before the output attribute is available.",
            default=0,
            constraints=(Range(0, 86400),),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "output": Attribute("The value property.", AttributeType.STRING),
    },
    unsupported={
        "client_name": "entity checks through an OpenStack client are not supported",
        "entity_name": "entity checks through an OpenStack client are not supported",
        "update_replace": "cool builds are not updated in place",
        "update_replace_value": "cool builds are not updated in place",
        "constraint_prop_secs": "cool does not run custom constraints with delays",
    },
    needs_cloud=False,
)

_CONTEXT_UNSUPPORTED = {
    "region_name": "a nested stack in another region is not supported: cool builds every "
    "resource of a build in its own cloud and region",
    "credential_secret_id": "a nested stack in another cloud is not supported",
}
_CONTEXT_KEYS = ("ca_cert", "insecure", *_CONTEXT_UNSUPPORTED)


def _check_context(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """OS::Heat::Stack's context names a remote cloud or region; cool builds in one."""
    context = props.get("context")
    out: list[PropertyProblem] = []
    for key, value in context.items() if isinstance(context, dict) else ():
        if key in _CONTEXT_UNSUPPORTED and value is not None:
            out.append(unsupported(("context", key), _CONTEXT_UNSUPPORTED[key]))
        elif key not in _CONTEXT_KEYS:
            out.append(
                constraint(
                    ("context", key), f"unknown key {key!r} (known: {', '.join(_CONTEXT_KEYS)})"
                )
            )
    return out


# Nested stacks (cool.template.nested): their members are resources of the build's
# own plan; the attributes are worked out from the members when the template is
# validated, so none is declared here (get_attr on them never reads these schemas).
RESOURCE_GROUP = ResourceType(
    name="OS::Heat::ResourceGroup",
    description="count identically configured resources, members 0..count-1 of one "
    "nested stack; %index% (index_var) in their properties is each member's index.",
    properties={
        "count": Property(
            PropertyType.INTEGER,
            "The number of resources to create.",
            default=1,
            constraints=(Range(0),),
            update_allowed=True,
        ),
        "index_var": Property(
            PropertyType.STRING,
            "The text replaced with each member's index in the strings of its definition.",
            default="%index%",
            constraints=(Length(3),),
        ),
        "resource_def": Property(
            PropertyType.MAP,
            "The definition of every member, as a resource of the template itself.",
            required=True,
            update_allowed=True,
            schema={
                "type": Property(PropertyType.STRING, "The type of the members.", required=True),
                "properties": Property(PropertyType.MAP, "The members' properties."),
                "metadata": Property(PropertyType.MAP, "The members' metadata."),
            },
        ),
        "removal_policies": Property(
            PropertyType.LIST,
            "Members to remove on an update; at create, the names listed are skipped "
            "(never used), as in Heat.",
            default=[],
            update_allowed=True,
            schema=Property(
                PropertyType.MAP,
                "A removal policy.",
                schema={
                    "resource_list": Property(
                        PropertyType.LIST, "Member names (or references) to remove.", default=[]
                    )
                },
            ),
        ),
        "removal_policies_mode": Property(
            PropertyType.STRING,
            "append (the default) adds to the members removed before; update replaces them.",
            default="append",
            constraints=(AllowedValues(("append", "update")),),
            update_allowed=True,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "refs": Attribute("The members' references (get_resource), in order.", AttributeType.LIST),
        "refs_map": Attribute("Each member's name to its reference.", AttributeType.MAP),
        "attributes": Attribute(
            "Each member's name to the attribute named by the path.", AttributeType.MAP
        ),
        "removed_rsrc_list": Attribute("The member names removed.", AttributeType.LIST),
    },
    needs_cloud=False,
    update_policy={
        "batch_create": Property(
            PropertyType.MAP,
            "Create the members in batches, each after the one before has completed.",
            schema={
                "max_batch_size": Property(
                    PropertyType.INTEGER,
                    "Members created at once.",
                    default=1,
                    constraints=(Range(1),),
                ),
                "pause_time": Property(
                    PropertyType.NUMBER,
                    "Seconds between batches (cool supports 0 only).",
                    default=0,
                    constraints=(Range(0),),
                ),
            },
        ),
        "rolling_update": Property(
            PropertyType.MAP,
            "How an update replaces members (kept with the build for its updates).",
            schema=heat_groups.ROLLING_UPDATE,
        ),
    },
)

STACK = ResourceType(
    name="OS::Heat::Stack",
    description="A nested stack from an inline template (its parameters given here, its "
    "outputs read back); built in the same cloud and region as the build.",
    properties={
        "template": Property(
            PropertyType.ANY,
            "The nested template: its text (for example from get_file) or a mapping.",
            required=True,
            update_allowed=True,
        ),
        "parameters": Property(
            PropertyType.MAP,
            "The nested template's parameter values.",
            default={},
            update_allowed=True,
        ),
        "timeout": Property(
            PropertyType.INTEGER,
            "Minutes the nested stack may take (the build's own timeout bounds it in cool).",
            update_allowed=True,
        ),
        "context": Property(
            PropertyType.MAP,
            "Where to build: only this cloud and region (ca_cert and insecure are accepted "
            "and unused).",
            update_allowed=True,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "stack_name": Attribute("The nested stack's name.", AttributeType.STRING),
        "outputs": Attribute("The nested template's outputs, by name.", AttributeType.MAP),
    },
    needs_cloud=False,
    checks=(_check_context,),
)

TYPES = (NONE, VALUE, RANDOM_STRING, TEST_RESOURCE, RESOURCE_GROUP, STACK, *heat_groups.TYPES)
