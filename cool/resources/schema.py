"""How a resource type declares its properties and attributes.

Names and semantics follow Heat's ``properties.Schema`` and
``attributes.Schema`` so that Heat templates keep working: a property has a
type (String, Integer, Number, Boolean, List, Map), may be required, may have
a default and constraints, and a List or Map may declare the schema of its
items or keys. Declared once, these are used by the validator, by
``cool resource-type show`` and, later, by the providers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from cool.resources import constraints


class PropertyType(StrEnum):
    STRING = "String"
    INTEGER = "Integer"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    LIST = "List"
    MAP = "Map"
    ANY = "Any"  # any JSON value (Heat's Schema.ANY)


class AttributeType(StrEnum):
    STRING = "String"
    INTEGER = "Integer"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    LIST = "List"
    MAP = "Map"
    ANY = "Any"


# -- constraints ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllowedValues:
    values: tuple[Any, ...]
    description: str = ""

    def check(self, value: Any) -> str | None:
        if value in self.values:
            return None
        allowed = ", ".join(repr(v) for v in self.values)
        return self.description or f"{value!r} is not one of the allowed values: {allowed}"

    def to_dict(self) -> dict[str, Any]:
        return {"allowed_values": list(self.values)}


@dataclass(frozen=True, slots=True)
class Range:
    min: float | None = None
    max: float | None = None
    description: str = ""

    def check(self, value: Any) -> str | None:
        if (self.min is None or value >= self.min) and (self.max is None or value <= self.max):
            return None
        return self.description or f"{value!r} is out of range {_bounds(self.min, self.max)}"

    def to_dict(self) -> dict[str, Any]:
        return {"range": _drop_none({"min": self.min, "max": self.max})}


@dataclass(frozen=True, slots=True)
class Modulo:
    """Heat's (HOT 2017-02-24 on): a number ``offset`` more than a multiple of ``step``,
    with Python's ``%`` as Heat computes it."""

    step: int
    offset: int
    description: str = ""

    def check(self, value: Any) -> str | None:
        if value % self.step == self.offset:
            return None
        return self.description or (
            f"{value!r} is not a multiple of {self.step} with an offset of {self.offset}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"modulo": {"step": self.step, "offset": self.offset}}


@dataclass(frozen=True, slots=True)
class Length:
    min: int | None = None
    max: int | None = None
    description: str = ""

    def check(self, value: Any) -> str | None:
        n = len(value)
        if (self.min is None or n >= self.min) and (self.max is None or n <= self.max):
            return None
        return self.description or f"length {n} is out of range {_bounds(self.min, self.max)}"

    def to_dict(self) -> dict[str, Any]:
        return {"length": _drop_none({"min": self.min, "max": self.max})}


@dataclass(frozen=True, slots=True)
class AllowedPattern:
    pattern: str
    description: str = ""

    def check(self, value: Any) -> str | None:
        if re.fullmatch(self.pattern, value):
            return None
        return self.description or f"{value!r} does not match pattern {self.pattern!r}"

    def to_dict(self) -> dict[str, Any]:
        return {"allowed_pattern": self.pattern}


# Heat's custom constraints (cool.resources.constraints): the ones checked without a
# cloud, and every other name Heat registers, accepted and checked (if at all) when the
# build looks the name up.
OFFLINE_CONSTRAINTS = constraints.OFFLINE
CLOUD_CONSTRAINTS = frozenset(constraints.HEAT_CONSTRAINTS) - frozenset(OFFLINE_CONSTRAINTS)


@dataclass(frozen=True, slots=True)
class CustomConstraint:
    name: str
    description: str = ""

    def check(self, value: Any) -> str | None:
        known = OFFLINE_CONSTRAINTS.get(self.name)
        if known is None or not isinstance(value, str):
            return None  # checked by the provider when the build runs, if at all
        reason = known(value)
        return None if reason is None else self.description or reason

    def to_dict(self) -> dict[str, Any]:
        return {"custom_constraint": self.name}


Constraint = AllowedValues | Range | Modulo | Length | AllowedPattern | CustomConstraint


def _bounds(low: float | None, high: float | None) -> str:
    return f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# -- properties and attributes -------------------------------------------


@dataclass(frozen=True, slots=True)
class Property:
    """One property, as Heat's ``properties.Schema``.

    ``schema`` is the item schema of a List, or the key schemas of a Map
    (a Map without one takes any keys).
    """

    type: PropertyType
    description: str = ""
    required: bool = False
    default: Any = None
    constraints: tuple[Constraint, ...] = ()
    schema: Property | Mapping[str, Property] | None = None
    update_allowed: bool = False
    immutable: bool = False
    # Heat's deprecated name of another property: accepted, and renamed to
    # that property in the plan so providers read one name only.
    deprecated_for: str | None = None

    @property
    def item_schema(self) -> Property | None:
        return self.schema if isinstance(self.schema, Property) else None

    @property
    def map_schema(self) -> Mapping[str, Property] | None:
        return self.schema if isinstance(self.schema, Mapping) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": str(self.type),
            "description": self.description,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": self.immutable,
        }
        if self.default is not None:
            out["default"] = self.default
        if self.deprecated_for is not None:
            out["deprecated_for"] = self.deprecated_for
        if self.constraints:
            out["constraints"] = [c.to_dict() for c in self.constraints]
        if self.item_schema is not None:
            out["schema"] = {"*": self.item_schema.to_dict()}
        elif self.map_schema is not None:
            out["schema"] = {k: v.to_dict() for k, v in self.map_schema.items()}
        return out


@dataclass(frozen=True, slots=True)
class Attribute:
    description: str
    type: AttributeType = AttributeType.ANY

    def to_dict(self) -> dict[str, Any]:
        return {"type": str(self.type), "description": self.description}


class ProblemKind(StrEnum):
    """What a cross-check found wrong; the validator gives each kind its problem code."""

    MISSING = "missing"  # a property is required given the others
    CONFLICT = "conflict"  # two properties cannot be given together
    CONSTRAINT = "constraint"  # a value is out of what the others allow
    UNSUPPORTED = "unsupported"  # a Heat feature cool does not implement


class PropertyProblem(NamedTuple):
    """One problem a cross-check found, at ``path`` relative to the resource's properties.

    Not a :class:`cool.template.problems.Problem`: a resource type knows neither where
    its properties sit in the template (the pointer, the line) nor the template's
    problem codes; the validator adds both. A named tuple, so a plugin's check that
    returns plain ``(path, kind, message)`` tuples (as cool's own did) still works.
    """

    path: tuple[str | int, ...]
    kind: ProblemKind
    message: str


# Constructors, so a check reads in a line: ``at`` is a property's name, or the path to
# a value inside one (``("networks", 0, "port")``).


def missing(at: str | tuple[str | int, ...], message: str) -> PropertyProblem:
    return PropertyProblem(_path(at), ProblemKind.MISSING, message)


def conflict(at: str | tuple[str | int, ...], message: str) -> PropertyProblem:
    return PropertyProblem(_path(at), ProblemKind.CONFLICT, message)


def constraint(at: str | tuple[str | int, ...], message: str) -> PropertyProblem:
    return PropertyProblem(_path(at), ProblemKind.CONSTRAINT, message)


def unsupported(at: str | tuple[str | int, ...], message: str) -> PropertyProblem:
    return PropertyProblem(_path(at), ProblemKind.UNSUPPORTED, message)


def _path(at: str | tuple[str | int, ...]) -> tuple[str | int, ...]:
    return (at,) if isinstance(at, str) else at


# A check across properties (Heat's per-resource validate()): given the
# resolved properties, the problems it finds.
CrossCheck = Callable[[Mapping[str, Any]], Sequence[PropertyProblem]]


@dataclass(frozen=True, slots=True)
class ResourceType:
    """A resource type: what a template may say about it and read back from it.

    ``unsupported`` lists Heat properties of this type that cool knows about
    but does not implement, with why; a template using one is refused with
    a message that says so, rather than "unknown property".
    """

    name: str
    description: str
    properties: Mapping[str, Property]
    attributes: Mapping[str, Attribute]
    needs_cloud: bool = True
    free_properties: bool = False  # takes any properties unchecked (OS::Heat::None)
    unsupported: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[CrossCheck, ...] = ()
    # What a resource's ``update_policy`` may hold (Heat's update_policy_schema): most
    # types take none, and a template giving one is refused, as Heat refuses it.
    update_policy: Mapping[str, Property] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource_type": self.name,
            "description": self.description,
            "needs_cloud": self.needs_cloud,
            "free_properties": self.free_properties,
            "properties": {k: v.to_dict() for k, v in sorted(self.properties.items())},
            "attributes": {k: v.to_dict() for k, v in sorted(self.attributes.items())},
            "unsupported_properties": dict(sorted(self.unsupported.items())),
            "update_policy": {k: v.to_dict() for k, v in sorted(self.update_policy.items())},
        }


# Attributes every resource has, as in Heat.
COMMON_ATTRIBUTES: Mapping[str, Attribute] = {
    "show": Attribute(
        "All attributes of the resource as the provider reports them.", AttributeType.MAP
    ),
}
