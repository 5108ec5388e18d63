"""Resolved property values checked against a resource type's schema.

Values are coerced as Heat coerces them ("5" fills an Integer, 5 fills a
String) and defaults are filled in, so the plan carries exactly what the
provider will be given. Every problem is reported, each at its own path.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

from cool.resources.schema import ProblemKind, Property, PropertyType, ResourceType
from cool.template.numbers import parse_number
from cool.template.problems import Code, Path, dotted
from cool.template.quoting import quote
from cool.template.suggest import suggest
from cool.template.values import ANY, Deferred, Unknown, compatible

Report = Callable[[Code, str, Path], None]

_CHECK_CODES = {
    ProblemKind.MISSING: Code.MISSING_PROPERTY,
    ProblemKind.CONFLICT: Code.PROPERTY_CONFLICT,
    ProblemKind.CONSTRAINT: Code.PROPERTY_CONSTRAINT,
    ProblemKind.UNSUPPORTED: Code.UNSUPPORTED_FEATURE,
}


def check_properties(
    rtype: ResourceType, properties: Mapping[str, Any], path: Path, report: Report
) -> dict[str, Any]:
    """The properties, coerced and with defaults; problems go to ``report``."""
    if rtype.free_properties:
        return dict(properties)
    out = _check_fields(rtype.properties, properties, path, report, rtype)
    for check in rtype.checks:
        for relative, kind, message in check(out):
            # The message names the last key: prefixed with where that key is.
            where = dotted((*path, *relative[:-1]))
            report(_CHECK_CODES[kind], f"{where}: {message}", (*path, *relative))
    if not _has_deprecated(rtype.properties):
        return out
    return _rename_deprecated(rtype.properties, out)


_DEPRECATED: dict[int, tuple[Mapping[str, Property], bool]] = {}


def _has_deprecated(schema: Mapping[str, Property]) -> bool:
    """Does any property in this schema tree have a deprecated name? (Cached: schemas live
    as long as the process.)"""
    cached = _DEPRECATED.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    found = False
    for prop in schema.values():
        nested = prop.map_schema or (prop.item_schema.map_schema if prop.item_schema else None)
        if prop.deprecated_for is not None or (nested is not None and _has_deprecated(nested)):
            found = True
            break
    _DEPRECATED[id(schema)] = (schema, found)
    return found


def _rename_deprecated(schema: Mapping[str, Property], values: dict[str, Any]) -> dict[str, Any]:
    """Deprecated names become the names they stand for (after checks saw both)."""
    out: dict[str, Any] = {}
    for key, given in values.items():
        prop = schema.get(key)
        value = given
        if prop is not None and prop.map_schema is not None and isinstance(given, dict):
            value = _rename_deprecated(prop.map_schema, given)
        elif prop is not None and prop.item_schema is not None and isinstance(given, list):
            items = prop.item_schema.map_schema
            if items is not None:
                value = [_rename_deprecated(items, v) if isinstance(v, dict) else v for v in given]
        new = prop.deprecated_for if prop is not None else None
        out[new if new is not None and new not in values else key] = value
    return out


def _check_fields(
    schema: Mapping[str, Property],
    values: Mapping[str, Any],
    path: Path,
    report: Report,
    rtype: ResourceType | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        here = (*path, key)
        prop = schema.get(key)
        if prop is None:
            if rtype is not None and key in rtype.unsupported:
                report(
                    Code.UNSUPPORTED_PROPERTY,
                    f"{dotted(path)}: property {quote(key)} of {rtype.name} is not supported "
                    f"by cool: {rtype.unsupported[key]}",
                    here,
                )
            else:
                owner = f" in {rtype.name}" if rtype is not None else ""
                known = ", ".join(sorted(schema)) or "none"
                report(
                    Code.UNKNOWN_PROPERTY,
                    f"{dotted(path)}: unknown property {quote(key)}{owner}"
                    f"{suggest(key, schema)} (known: {known})",
                    here,
                )
            continue
        if value is None:
            continue  # null means "not set", as in Heat
        out[key] = check_value(prop, value, here, report)
    for key, prop in schema.items():
        if key in out:
            continue
        if prop.required:
            report(Code.MISSING_PROPERTY, f"{dotted((*path, key))} is required", (*path, key))
        elif prop.default is not None and not _replaced(schema, key, values):
            out[key] = copy.deepcopy(prop.default)
    return out


def _replaced(schema: Mapping[str, Property], key: str, values: Mapping[str, Any]) -> bool:
    """Is ``key`` given under its deprecated name (so its default does not apply)?"""
    return any(
        prop.deprecated_for == key and values.get(old) is not None for old, prop in schema.items()
    )


def check_value(prop: Property, value: Any, path: Path, report: Report) -> Any:
    """One value against one property schema, recursing into lists and maps."""
    if isinstance(value, Deferred | Unknown):
        if not compatible(value.kind, prop.type):
            source = _describe(value)
            report(
                Code.PROPERTY_TYPE,
                f"{dotted(path)} must be a {prop.type}, but {source} gives a {value.kind}",
                path,
            )
        return value
    try:
        value = _coerce(prop.type, value)
    except ValueError as exc:
        report(Code.PROPERTY_TYPE, f"{dotted(path)} {exc}", path)
        return value
    if prop.type is PropertyType.LIST and prop.item_schema is not None:
        value = [
            check_value(prop.item_schema, item, (*path, i), report)
            if item is not None
            else _null_item(path, i, report)
            for i, item in enumerate(value)
        ]
    elif prop.type is PropertyType.MAP and prop.map_schema is not None:
        value = _check_fields(prop.map_schema, value, path, report)
    for constraint in prop.constraints:
        if _has_pending(value):
            break
        message = constraint.check(value)
        if message is not None:
            report(Code.PROPERTY_CONSTRAINT, f"{dotted(path)}: {message}", path)
            break
    return value


def _null_item(path: Path, index: int, report: Report) -> None:
    report(Code.PROPERTY_TYPE, f"{dotted((*path, index))} must not be null", (*path, index))


def _has_pending(value: Any) -> bool:
    if isinstance(value, Deferred | Unknown):
        return True
    if isinstance(value, list):
        return any(isinstance(v, Deferred | Unknown) for v in value)
    return False


def _describe(value: Deferred | Unknown) -> str:
    if isinstance(value, Unknown):
        return "the parameter"
    (name,) = value.expr
    return name


def _coerce(kind: PropertyType, value: Any) -> Any:
    if kind is ANY:
        return value
    if kind is PropertyType.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int):  # Heat's str(): True -> "True"; floats refused
            return str(value)
        raise ValueError(f"must be a String, not {_kind(value)}")
    if kind in (PropertyType.INTEGER, PropertyType.NUMBER):
        if isinstance(value, bool):
            raise ValueError(f"must be an {kind}, not a boolean")
        if isinstance(value, str):
            try:
                value = parse_number(value)
            except ValueError:
                shown = repr(value) if len(value) <= 40 else f"a string of {len(value)} characters"
                raise ValueError(f"must be an {kind}, not {shown}") from None
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"must be a {kind}, not {_kind(value)}")
        if kind is PropertyType.INTEGER:
            if value != int(value):
                raise ValueError(f"must be an Integer, not {quote(value)}")
            return int(value)
        return value
    if kind is PropertyType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"  # only these, as Heat's properties
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ValueError(f"must be a Boolean (true or false), not {shown}")
    if kind is PropertyType.LIST:
        if not isinstance(value, list):
            raise ValueError(f"must be a List, not {_kind(value)}")
        return value
    if not isinstance(value, dict):
        raise ValueError(f"must be a Map, not {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"
