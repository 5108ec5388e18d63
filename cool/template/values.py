"""Values the compiler cannot know yet, and how they type-check.

A :class:`Deferred` is known when the build runs (a resource's id or
attribute, or anything computed from one); it carries the HOT expression the
plan keeps for run time. An :class:`Unknown` is the value of a parameter
that was not given (validation without values): the compiler checks all it
can around it, but no plan is made.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cool.model import ParameterType
from cool.resources.schema import AttributeType, PropertyType

ANY = PropertyType.ANY


class Deferred:
    __slots__ = ("expr", "kind")

    def __init__(self, expr: dict[str, Any], kind: PropertyType = ANY) -> None:
        self.expr = expr
        self.kind = kind

    def __repr__(self) -> str:
        return f"Deferred({self.expr!r}, {self.kind})"


class Unknown:
    __slots__ = ("kind",)

    def __init__(self, kind: PropertyType = ANY) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"Unknown({self.kind})"


# What a resource attribute of each type is known as before the build runs.
ATTRIBUTE_KINDS = {
    AttributeType.STRING: PropertyType.STRING,
    AttributeType.INTEGER: PropertyType.INTEGER,
    AttributeType.NUMBER: PropertyType.NUMBER,
    AttributeType.BOOLEAN: PropertyType.BOOLEAN,
    AttributeType.LIST: PropertyType.LIST,
    AttributeType.MAP: PropertyType.MAP,
    AttributeType.ANY: ANY,
}

PARAMETER_KINDS: dict[ParameterType, PropertyType] = {
    ParameterType.STRING: PropertyType.STRING,
    ParameterType.NUMBER: PropertyType.NUMBER,
    ParameterType.BOOLEAN: PropertyType.BOOLEAN,
    ParameterType.JSON: ANY,  # a mapping or a list
    ParameterType.COMMA_DELIMITED_LIST: PropertyType.LIST,
}

_SCALARS = frozenset(
    {PropertyType.STRING, PropertyType.INTEGER, PropertyType.NUMBER, PropertyType.BOOLEAN}
)


def compatible(have: PropertyType, want: PropertyType) -> bool:
    """Can a value known only as ``have`` fill a property of type ``want``?

    Scalars convert into each other at run time (as in Heat, "5" fills an
    Integer), so only scalar-versus-collection mismatches are certain errors.
    """
    if ANY in (have, want) or have == want:
        return True
    return have in _SCALARS and want in _SCALARS


def is_pending(value: Any) -> bool:
    return isinstance(value, Deferred | Unknown)


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Deferred):
        return False
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_unknown(v) for v in value)
    return False


def contains_pending(value: Any) -> bool:
    """Anything in ``value`` not known yet (at run time, or never: a missing value)?"""
    return contains_unknown(value) or contains_deferred(value)


def contains_deferred(value: Any) -> bool:
    if isinstance(value, Deferred):
        return True
    if isinstance(value, dict):
        return any(contains_deferred(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_deferred(v) for v in value)
    return False


def materialize(value: Any) -> Any:
    """Plain JSON data for the plan: deferred values become their expressions."""
    if isinstance(value, Deferred):
        return value.expr
    if isinstance(value, Unknown):
        raise ValueError("a value is unknown; no plan can be made without it")
    if isinstance(value, dict):
        changed = None
        for k, v in value.items():
            plain = materialize(v) if isinstance(v, dict | list | Deferred | Unknown) else v
            if plain is not v:
                changed = changed if changed is not None else dict(value)
                changed[k] = plain
        return value if changed is None else changed
    if isinstance(value, list):
        items = None
        for i, v in enumerate(value):
            plain = materialize(v) if isinstance(v, dict | list | Deferred | Unknown) else v
            if plain is not v:
                items = items if items is not None else list(value)
                items[i] = plain
        return value if items is None else items
    return value


def secret_texts(values: Iterable[Any]) -> list[str]:
    """The text of every hidden value (of a list or map, each key and item), longest
    first: what a message or a preview must never show."""
    found: set[str] = set()
    stack: list[Any] = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += [*value, *value.values()]
        elif isinstance(value, list | tuple):
            stack += value
        elif isinstance(value, str | int | float) and not isinstance(value, bool) and str(value):
            found.add(str(value))
    return sorted(found, key=lambda text: (-len(text), text))
