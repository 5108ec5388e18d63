"""Resource types and template versions as Heat's API lists them.

``/resource_types`` lists the types of cool's registry (cool's plugins), each
``SUPPORTED``; a type's schema is Heat's shape of cool's own schema (the
properties cool implements: one it knows but refuses is left out, as Heat
leaves out an unimplemented one); its template is the skeleton Heat generates
(Resource.resource_to_template). ``/template_versions`` are the HOT versions
cool takes (cool takes no CFN template), each with the functions it has.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

import falcon

from cool.api.heat import events, identify
from cool.api.services import Services
from cool.errors import BuildNotFoundError
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedPattern,
    AllowedValues,
    Constraint,
    Length,
    Property,
    PropertyType,
    Range,
    ResourceType,
)
from cool.template import versions
from cool.template.conditions import NEWTON, PIKE
from cool.template.hot_functions import AVAILABLE

SUPPORT_STATUS = {"status": "SUPPORTED", "version": None, "message": None, "previous_status": None}
_HOT_TYPES: Mapping[str, str] = {
    PropertyType.STRING: "string",
    PropertyType.INTEGER: "number",
    PropertyType.NUMBER: "number",
    PropertyType.BOOLEAN: "boolean",
    PropertyType.MAP: "json",
    PropertyType.LIST: "comma_delimited_list",
    PropertyType.ANY: "json",
}
_CFN_TYPES: Mapping[str, str] = {
    PropertyType.STRING: "String",
    PropertyType.INTEGER: "Number",
    PropertyType.NUMBER: "Number",
    PropertyType.BOOLEAN: "Boolean",
    PropertyType.MAP: "Json",
    PropertyType.LIST: "CommaDelimitedList",
    PropertyType.ANY: "Json",
}
# What each function does, in a line (Heat shows its function class's docstring).
_DESCRIPTIONS: Mapping[str, str] = {
    "get_param": "A function for resolving parameter references.",
    "get_resource": "A function for resolving resource references.",
    "get_attr": "A function for resolving resource attributes.",
    "get_file": "A function for including a file inline.",
    "list_join": "A function for joining strings.",
    "str_replace": "A function for performing string substitutions.",
    "resource_facade": "A function for retrieving data in a parent provider template.",
    "repeat": "A function for iterating over a list of items.",
    "digest": "A function for performing digest operations.",
    "str_split": "A function for splitting delimited strings into a list.",
    "map_merge": "A function for merging maps.",
    "yaql": "A function for executing a yaql expression.",
    "map_replace": "A function for performing substitutions on maps.",
    "filter": "A function for filtering out values from lists.",
    "str_replace_strict": "A function for performing string substitutions, strictly.",
    "str_replace_vstrict": "A function for performing string substitutions, very strictly.",
    "make_url": "A function for building URLs.",
    "list_concat": "A function for extending lists.",
    "list_concat_unique": "A function for extending lists with unique items.",
    "if": "A function to return corresponding value based on condition evaluation.",
    "contains": "A function for checking whether specific value is in sequence.",
    "equals": "A function for comparing whether two values are equal.",
    "not": "A function that acts as a NOT operator on a condition.",
    "and": "A function that acts as an AND operator on conditions.",
    "or": "A function that acts as an OR operator on conditions.",
}
_CONDITION_FUNCTIONS = {
    "equals": NEWTON,
    "not": NEWTON,
    "and": NEWTON,
    "or": NEWTON,
    "contains": PIKE,
}
_VALUE_FUNCTIONS = {"if": NEWTON, "contains": PIKE}


def _truth(query: Mapping[str, Any], name: str) -> bool:
    return (events.single(query, name) or "").lower() in ("true", "1", "yes", "y", "t", "on")


def _type(services: Services, name: str) -> ResourceType:
    rtype = services.registry.get(name)
    if rtype is None:
        raise BuildNotFoundError(f"The Resource Type ({name}) could not be found.")
    return rtype


def _constraint(constraint: Constraint) -> dict[str, Any]:
    out = constraint.to_dict()
    if constraint.description:
        out["description"] = constraint.description
    return out


def property_schema(prop: Property) -> dict[str, Any]:
    """Heat's property schema (properties.Schema as a dict): lower-case types."""
    out: dict[str, Any] = {
        "type": str(prop.type).lower(),
        "description": prop.description,
        "required": prop.required,
        "update_allowed": prop.update_allowed,
        "immutable": prop.immutable,
    }
    if prop.default is not None:
        out["default"] = prop.default
    if prop.constraints:
        out["constraints"] = [_constraint(c) for c in prop.constraints]
    if prop.item_schema is not None:
        out["schema"] = {"*": property_schema(prop.item_schema)}
    elif prop.map_schema is not None:
        out["schema"] = {k: property_schema(v) for k, v in prop.map_schema.items()}
    return out


def _properties(rtype: ResourceType) -> dict[str, Property]:
    """The properties cool implements, without the deprecated names of others."""
    return {
        name: prop
        for name, prop in sorted(rtype.properties.items())
        if name not in rtype.unsupported and prop.deprecated_for is None
    }


def _attributes(rtype: ResourceType) -> dict[str, Any]:
    merged = {**COMMON_ATTRIBUTES, **rtype.attributes}
    return {
        name: {"type": str(attr.type).lower(), "description": attr.description}
        for name, attr in sorted(merged.items())
    }


def schema(rtype: ResourceType, *, with_description: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resource_type": rtype.name,
        "properties": {n: property_schema(p) for n, p in _properties(rtype).items()},
        "attributes": _attributes(rtype),
        "support_status": dict(SUPPORT_STATUS),
    }
    if with_description:
        out["description"] = rtype.description
    return out


def _hot_parameter(prop: Property) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _HOT_TYPES[prop.type], "description": prop.description}
    if prop.default is not None:
        out["default"] = prop.default
    shown = []
    for c in prop.constraints:
        if isinstance(c, Length):
            shown.append(
                {"length": {k: v for k, v in (("min", c.min), ("max", c.max)) if v is not None}}
            )
        elif isinstance(c, Range):
            shown.append(
                {"range": {k: v for k, v in (("min", c.min), ("max", c.max)) if v is not None}}
            )
        elif isinstance(c, AllowedValues):
            shown.append({"allowed_values": list(c.values)})
        elif isinstance(c, AllowedPattern):
            shown.append({"allowed_pattern": c.pattern})
        else:
            shown.append({})  # a custom constraint: Heat gives it an empty entry
    if shown:
        out["constraints"] = shown
    return out


def _cfn_parameter(prop: Property) -> dict[str, Any]:
    out: dict[str, Any] = {"Type": _CFN_TYPES[prop.type], "Description": prop.description}
    if prop.default is not None:
        out["Default"] = prop.default
    for c in prop.constraints:
        if isinstance(c, Length):
            out.update(
                {k: v for k, v in (("MinLength", c.min), ("MaxLength", c.max)) if v is not None}
            )
        elif isinstance(c, Range):
            out.update(
                {k: v for k, v in (("MinValue", c.min), ("MaxValue", c.max)) if v is not None}
            )
        elif isinstance(c, AllowedValues):
            out["AllowedValues"] = list(c.values)
        elif isinstance(c, AllowedPattern):
            out["AllowedPattern"] = c.pattern
    if prop.type is PropertyType.BOOLEAN:
        out["AllowedValues"] = ["True", "true", "False", "false"]
    return out


def template(rtype: ResourceType, template_type: str) -> dict[str, Any]:
    """The skeleton Heat generates for a type: a parameter per property, the resource,
    an output per attribute and ``OS::stack_id``."""
    name = rtype.name.rsplit("::", 1)[-1]
    props = _properties(rtype)
    attrs = {**COMMON_ATTRIBUTES, **rtype.attributes}
    if template_type == "hot":
        return {
            "heat_template_version": "2016-10-14",
            "description": f"Initial template of {name}",
            "parameters": {p: _hot_parameter(prop) for p, prop in props.items()},
            "resources": {
                name: {"type": rtype.name, "properties": {p: {"get_param": p} for p in props}}
            },
            "outputs": {
                **{
                    a: {"description": attr.description, "value": {"get_attr": [name, a]}}
                    for a, attr in sorted(attrs.items())
                },
                "OS::stack_id": {"value": {"get_resource": name}},
            },
        }
    return {
        "HeatTemplateFormatVersion": "2012-12-12",
        "Description": f"Initial template of {name}",
        "Parameters": {p: _cfn_parameter(prop) for p, prop in props.items()},
        "Resources": {
            name: {
                "Type": rtype.name,
                "Properties": {
                    p: {"Fn::Split": [",", {"Ref": p}]}
                    if prop.type is PropertyType.LIST
                    else {"Ref": p}
                    for p, prop in props.items()
                },
            }
        },
        "Outputs": {
            **{
                a: {"Description": attr.description, "Value": {"Fn::GetAtt": [name, a]}}
                for a, attr in sorted(attrs.items())
            },
            "OS::stack_id": {"Value": {"Ref": name}},
        },
    }


# What a name filter may hold: the regular expressions people write for type names.
_NAME_FILTER = re.compile(r"(?:[A-Za-z0-9_:-]|\\\.|\.\*|\.\+|\.)*\$?")
_NAME_TOKENS = re.compile(r"\\\.|\.\*|\.\+|\.|\$|.")


def _name_filter(pattern: str) -> Callable[[str], bool]:
    """Heat matches ``name`` as a regular expression from the start of each type name.
    Python's ``re`` has no time bound and holds the GIL (``OS::(.|.)*!`` froze a process
    for minutes), so only the forms people write for type names are taken: letters,
    digits, ``_ : -``, ``\\.``, ``.``, ``.*``, ``.+`` and a final ``$``; they are matched
    as a glob, in linear time (fnmatch's translation never backtracks exponentially)."""
    if len(pattern) > 255 or not _NAME_FILTER.fullmatch(pattern):
        raise events.bad(
            "name takes letters, digits, '_', ':', '-', '\\.', '.', '.*', '.+' and a final "
            "'$' (a regular expression of that form, matched from the start of the name)",
            "name",
        )
    glob = ""
    for token in _NAME_TOKENS.findall(pattern):
        glob += {"\\.": ".", ".*": "*", ".+": "?*", ".": "?", "$": ""}.get(token, token)
    if not pattern.endswith("$"):
        glob += "*"  # re.match anchors the start only
    return lambda name: fnmatch.fnmatchcase(name, glob)


class ResourceTypes:
    """``GET /v1/{project_id}/resource_types``: filters name (a regular expression, as
    Heat's), version, support_status; with_description."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        identify.caller(self.services, req, project_id)
        query = events.params(req)
        pattern = events.single(query, "name")
        wanted = _name_filter(pattern) if pattern else None
        statuses = [s.upper() for s in events.many(query, "support_status")]
        version = events.single(query, "version")
        chosen = [
            rtype
            for rtype in sorted(self.services.registry, key=lambda t: t.name)
            if (wanted is None or wanted(rtype.name))
            and (not statuses or SUPPORT_STATUS["status"] in statuses)
            and not version  # cool's types name no Heat version
        ]
        if _truth(query, "with_description"):
            resp.media = {
                "resource_types": [
                    {"resource_type": t.name, "description": t.description} for t in chosen
                ]
            }
        else:
            resp.media = {"resource_types": [t.name for t in chosen]}


class ResourceTypeShow:
    """``GET /v1/{project_id}/resource_types/{type_name}``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, type_name: str
    ) -> None:
        identify.caller(self.services, req, project_id)
        query = events.params(req)
        rtype = _type(self.services, type_name)
        resp.media = schema(rtype, with_description=_truth(query, "with_description"))


class ResourceTypeTemplate:
    """``GET /v1/{project_id}/resource_types/{type_name}/template?template_type=hot|cfn``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, type_name: str
    ) -> None:
        identify.caller(self.services, req, project_id)
        kind = (events.single(events.params(req), "template_type") or "cfn").lower()
        if kind not in ("cfn", "hot"):
            raise events.bad(
                f"Template type is not supported: Invalid template type {kind[:40]!r}, "
                "valid types are: cfn, hot.",
                "template_type",
            )
        resp.media = template(_type(self.services, type_name), kind)


def functions(version: str, *, with_condition: bool) -> list[dict[str, str]]:
    """The functions HOT ``version`` has (AVAILABLE), and its condition functions."""
    names = [
        name
        for name, (since, removed, _) in AVAILABLE.items()
        if not versions.older(version, since)
        and (removed is None or versions.older(version, removed))
    ]
    names += [n for n, since in _VALUE_FUNCTIONS.items() if not versions.older(version, since)]
    if with_condition:
        names += [
            n
            for n, since in _CONDITION_FUNCTIONS.items()
            if not versions.older(version, since) and n not in names
        ]
    return [{"functions": n, "description": _DESCRIPTIONS.get(n, "")} for n in names]


class TemplateVersions:
    """``GET /v1/{project_id}/template_versions``: cool's HOT versions."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
        identify.caller(self.services, req, project_id)
        aliases = {date: alias for alias, date in versions.ALIASES.items()}
        resp.media = {
            "template_versions": [
                {
                    "version": f"heat_template_version.{date}",
                    "type": "hot",
                    "aliases": [f"heat_template_version.{aliases[date]}"]
                    if date in aliases
                    else [],
                }
                for date in versions.VERSIONS
            ]
        }


class TemplateFunctions:
    """``GET /v1/{project_id}/template_versions/{template_version}/functions``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, project_id: str, template_version: str
    ) -> None:
        identify.caller(self.services, req, project_id)
        kind, _, given = template_version.partition(".")
        date = versions.canonical(given) if kind == "heat_template_version" else None
        if date is None:
            raise BuildNotFoundError(f"Template with version {template_version} not found")
        with_condition = _truth(events.params(req), "with_condition_func")
        resp.media = {"template_functions": functions(date, with_condition=with_condition)}
