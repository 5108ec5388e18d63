"""Template parameters: their declarations, and the values a build is given.

Values are coerced the way Heat coerces them ("3" for a number, "a,b" for a
list, "true" for a boolean), then checked against the declared constraints.
The value of a hidden parameter never appears in a message.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cool.model import ParameterSpec, ParameterType
from cool.resources.constraints import HEAT_CONSTRAINTS
from cool.resources.schema import (
    AllowedPattern,
    AllowedValues,
    Constraint,
    CustomConstraint,
    Length,
    Modulo,
    Range,
)
from cool.template.functions import function_name
from cool.template.numbers import MAX_DIGITS, parse_number, too_large
from cool.template.problems import Code, Path
from cool.template.quoting import quote
from cool.template.suggest import suggest

KEYS = frozenset(
    {"type", "description", "label", "default", "hidden", "constraints", "immutable", "tags"}
)
# Which constraint applies to which type.
APPLIES: Mapping[str, frozenset[ParameterType]] = {
    "length": frozenset(
        {ParameterType.STRING, ParameterType.COMMA_DELIMITED_LIST, ParameterType.JSON}
    ),
    "range": frozenset({ParameterType.NUMBER}),
    "modulo": frozenset({ParameterType.NUMBER}),
    "allowed_values": frozenset(
        {
            ParameterType.STRING,
            ParameterType.NUMBER,
            ParameterType.COMMA_DELIMITED_LIST,
            ParameterType.BOOLEAN,
        }
    ),
    "allowed_pattern": frozenset({ParameterType.STRING, ParameterType.COMMA_DELIMITED_LIST}),
    "custom_constraint": frozenset(
        {ParameterType.STRING, ParameterType.COMMA_DELIMITED_LIST, ParameterType.NUMBER}
    ),
}

_TRUE = frozenset({"1", "t", "true", "on", "y", "yes"})
_FALSE = frozenset({"0", "f", "false", "off", "n", "no"})

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]{0,254}")


@dataclass(frozen=True, slots=True)
class Declared:
    """A parameter declaration with its constraints ready to check values."""

    spec: ParameterSpec
    checks: tuple[Constraint, ...]
    path: Path


@dataclass(frozen=True, slots=True)
class DeclarationProblem:
    code: Code
    message: str
    path: Path


def coerce(kind: ParameterType, value: Any) -> Any:
    """The value in the parameter's type, or ValueError saying why it cannot be."""
    if kind is ParameterType.STRING:
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise ValueError("must be a string")
    if kind is ParameterType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("must be a number, not a boolean")
        if isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("must be a finite number")
            return value
        if isinstance(value, str):
            return parse_number(value)
        raise ValueError("must be a number")
    if kind is ParameterType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise ValueError("must be a boolean (true or false)")
    if kind is ParameterType.JSON:
        if isinstance(value, dict | list):
            return value
        if isinstance(value, str):
            try:
                parsed = (
                    json.loads(
                        value,
                        parse_constant=_refuse_constant,
                        parse_int=_bounded_int,
                        parse_float=_finite_float,
                    )
                    if value.strip()
                    else {}
                )
            except ValueError as exc:
                raise ValueError(f"must be JSON: {exc}") from None
            if isinstance(parsed, dict | list):
                return parsed
        raise ValueError("must be a JSON object or list")
    # comma_delimited_list
    if isinstance(value, str):
        return [item.strip() for item in value.split(",")] if value.strip() else []
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, dict | list) or item is None:
                raise ValueError("must be a list of strings")
            items.append(coerce(ParameterType.STRING, item))
        return items
    raise ValueError("must be a comma-delimited list")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_DIGITS:  # before int() reads it
        raise ValueError(too_large(literal))
    return int(literal)


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError(too_large(literal))
    return number


def declare(name: str, body: Any, path: Path) -> tuple[Declared | None, list[DeclarationProblem]]:
    """Read one parameter declaration; every problem in it, not just the first."""
    problems: list[DeclarationProblem] = []
    if not NAME.fullmatch(name):
        problems.append(
            DeclarationProblem(
                Code.INVALID_NAME,
                f"parameter name {quote(name)} is not valid (letters, digits, '_', '-', '.', ':'; "
                "starting with a letter or '_')",
                path,
            )
        )
    if not isinstance(body, dict):
        problems.append(
            DeclarationProblem(
                Code.INVALID_PARAMETER, f"parameter {quote(name)} must be a mapping", path
            )
        )
        return None, problems
    for key in body:
        if key not in KEYS:
            problems.append(
                DeclarationProblem(
                    Code.UNKNOWN_KEY,
                    f"unknown key {quote(key)} in parameter {quote(name)} "
                    f"(allowed: {', '.join(sorted(KEYS))})",
                    (*path, key),
                )
            )
    raw_type = body.get("type")
    try:
        kind = ParameterType(raw_type)
    except ValueError:
        allowed = ", ".join(t.value for t in ParameterType)
        problems.append(
            DeclarationProblem(
                Code.MISSING_KEY if raw_type is None else Code.INVALID_PARAMETER,
                f"parameter {quote(name)} needs a type"
                if raw_type is None
                else f"parameter {quote(name)} has unknown type {quote(raw_type)} "
                f"(allowed: {allowed})",
                (*path, "type") if raw_type is not None else path,
            )
        )
        return None, problems
    for key in ("description", "label"):
        # null: none given (Heat stores either without a check; templates say `label:`)
        if body.get(key) is not None and not isinstance(body[key], str):
            problems.append(
                DeclarationProblem(
                    Code.INVALID_TYPE,
                    f"{key} of parameter {quote(name)} must be a string",
                    (*path, key),
                )
            )
    # Heat's: immutable forbids a change on a stack update (cool's builds are not
    # updated: nothing to forbid); tags are labels for tools (HOT 2018-03-02 on).
    if not isinstance(body.get("immutable", False), bool):
        problems.append(
            DeclarationProblem(
                Code.INVALID_TYPE,
                f"immutable of parameter {quote(name)} must be true or false",
                (*path, "immutable"),
            )
        )
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        problems.append(
            DeclarationProblem(
                Code.INVALID_TYPE,
                f"tags of parameter {quote(name)} must be a list of strings",
                (*path, "tags"),
            )
        )
    hidden = body.get("hidden", False)
    if not isinstance(hidden, bool):
        problems.append(
            DeclarationProblem(
                Code.INVALID_TYPE,
                f"hidden of parameter {quote(name)} must be true or false",
                (*path, "hidden"),
            )
        )
        hidden = True  # never echo a value that may be secret
    checks, raw_constraints = _constraints(name, kind, body.get("constraints"), path, problems)
    spec = ParameterSpec(
        name=name,
        type=kind,
        description=body.get("description") if isinstance(body.get("description"), str) else "",
        label=body.get("label") if isinstance(body.get("label"), str) else "",
        default=None,
        has_default=body.get("default") is not None,  # an empty default is none, as in Heat
        hidden=hidden,
        constraints=raw_constraints,
    )
    if body.get("default") is not None:
        default = body["default"]
        message = None
        function = _function_in(default)
        if function is not None:
            # cool would run it when the build runs; Heat would hand the mapping out as it is.
            message = (
                f"holds the function {quote(function)}: a default is a plain value, and "
                "functions are not evaluated in it"
            )
        else:
            try:
                default = coerce(kind, default)
            except ValueError as exc:
                message = str(exc)
            else:
                function = _function_in(default)  # a json default written as JSON text
                message = violation(spec, checks, default) if function is None else None
            if function is not None:
                message = (
                    f"holds {quote(function)} as a one-key mapping, which would read as a "
                    "call to that function when the build runs"
                )
        if message is not None:
            problems.append(
                DeclarationProblem(
                    Code.INVALID_PARAMETER,
                    f"default of parameter {quote(name)} {message}"
                    if not message[0].isupper()
                    else f"default of parameter {quote(name)}: {message}",
                    (*path, "default"),
                )
            )
        spec = ParameterSpec(
            name=spec.name,
            type=spec.type,
            description=spec.description,
            label=spec.label,
            default=default,
            has_default=True,
            hidden=spec.hidden,
            constraints=spec.constraints,
        )
    return Declared(spec, checks, path), problems


def _constraints(
    name: str,
    kind: ParameterType,
    raw: Any,
    path: Path,
    problems: list[DeclarationProblem],
) -> tuple[tuple[Constraint, ...], tuple[dict[str, Any], ...]]:
    if raw is None:
        return (), ()
    here = (*path, "constraints")
    if not isinstance(raw, list):
        problems.append(
            DeclarationProblem(
                Code.INVALID_CONSTRAINT,
                f"constraints of parameter {quote(name)} must be a list",
                here,
            )
        )
        return (), ()
    checks: list[Constraint] = []
    kept: list[dict[str, Any]] = []
    for index, entry in enumerate(raw):
        at = (*here, index)
        if not isinstance(entry, dict):
            problems.append(
                DeclarationProblem(Code.INVALID_CONSTRAINT, "a constraint must be a mapping", at)
            )
            continue
        description = entry.get("description", "")
        if not isinstance(description, str):
            problems.append(
                DeclarationProblem(
                    Code.INVALID_CONSTRAINT,
                    "a constraint's description must be a string",
                    (*at, "description"),
                )
            )
            description = ""
        kinds = [k for k in entry if k != "description"]
        if len(kinds) != 1:
            problems.append(
                DeclarationProblem(
                    Code.INVALID_CONSTRAINT,
                    "a constraint names exactly one of: "
                    + ", ".join(sorted(APPLIES))
                    + (f" (found {', '.join(map(str, kinds))})" if kinds else ""),
                    at,
                )
            )
            continue
        (key,) = kinds
        if key not in APPLIES:
            problems.append(
                DeclarationProblem(
                    Code.INVALID_CONSTRAINT,
                    f"unknown constraint {quote(key)} (allowed: {', '.join(sorted(APPLIES))})",
                    (*at, key),
                )
            )
            continue
        if kind not in APPLIES[key]:
            problems.append(
                DeclarationProblem(
                    Code.INVALID_CONSTRAINT,
                    f"constraint {quote(key)} does not apply to a parameter of type {kind}",
                    (*at, key),
                )
            )
            continue
        try:
            checks.append(build_constraint(key, entry[key], kind, description))
        except ValueError as exc:
            problems.append(DeclarationProblem(Code.INVALID_CONSTRAINT, str(exc), (*at, key)))
            continue
        kept.append({key: entry[key], **({"description": description} if description else {})})
    return tuple(checks), tuple(kept)


def _bound(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{what} must be a number")
    try:
        return coerce(ParameterType.NUMBER, value)
    except ValueError:
        raise ValueError(f"{what} must be a number") from None


def build_constraint(key: str, arg: Any, kind: ParameterType, description: str) -> Constraint:
    if key in ("length", "range"):
        if not isinstance(arg, dict) or not arg or set(arg) - {"min", "max"}:
            raise ValueError(f"{key} takes a mapping with min and/or max")
        low, high = _bound(arg.get("min"), "min"), _bound(arg.get("max"), "max")
        if low is not None and high is not None and low > high:
            raise ValueError(f"{key} min {low} is greater than max {high}")
        if key == "range":
            return Range(low, high, description)
        for bound in (low, high):
            if bound is not None and (bound != int(bound) or bound < 0):
                raise ValueError("length bounds must be whole numbers, 0 or more")
        return Length(
            None if low is None else int(low), None if high is None else int(high), description
        )
    if key == "modulo":
        return _modulo(arg, description)
    if key == "allowed_values":
        if not isinstance(arg, list) or not arg:
            raise ValueError("allowed_values takes a non-empty list")
        item_kind = ParameterType.STRING if kind is ParameterType.COMMA_DELIMITED_LIST else kind
        values = []
        for item in arg:
            try:
                values.append(coerce(item_kind, item))
            except ValueError as exc:
                raise ValueError(f"allowed value {quote(item)} {exc}") from None
        return AllowedValues(tuple(values), description)
    if key == "allowed_pattern":
        if not isinstance(arg, str):
            raise ValueError("allowed_pattern takes a regular expression string")
        try:
            re.compile(arg)
        except re.error as exc:
            raise ValueError(
                f"allowed_pattern {quote(arg)} is not a valid regular expression: {exc}"
            ) from None
        return AllowedPattern(arg, description)
    # custom_constraint
    if not isinstance(arg, str):
        raise ValueError("custom_constraint takes a constraint name")
    if arg not in HEAT_CONSTRAINTS:
        raise ValueError(
            f"unknown custom constraint {quote(arg)}{suggest(arg, HEAT_CONSTRAINTS)} "
            "(cool takes every constraint Heat registers)"
        )
    return CustomConstraint(arg, description)


def _modulo(arg: Any, description: str) -> Modulo:
    """Heat's checks of a modulo constraint (heat.engine.constraints.Modulo)."""
    if not isinstance(arg, dict) or set(arg) - {"step", "offset"}:
        raise ValueError("modulo takes a mapping with step and offset")
    if arg.get("step") is None or arg.get("offset") is None:
        raise ValueError("a modulo constraint needs both a step and an offset")
    for key in ("step", "offset"):
        value = arg[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise ValueError(f"modulo {key} must be a whole number")
    step, offset = int(arg["step"]), int(arg["offset"])
    if step == 0:
        raise ValueError("modulo step cannot be 0")
    if abs(offset) >= abs(step):
        raise ValueError("modulo offset must be smaller (by absolute value) than step")
    if step * offset < 0:
        raise ValueError("modulo step and offset must be both positive or both negative")
    return Modulo(step, offset, description)


def _function_in(value: Any) -> str | None:
    """The name of the first intrinsic function (a one-key mapping naming one) in ``value``."""
    stack = [value]
    while stack:
        node = stack.pop()
        name = function_name(node)
        if name is not None:
            return name
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def violation(spec: ParameterSpec, checks: tuple[Constraint, ...], value: Any) -> str | None:
    """The first constraint ``value`` breaks, as a message, or None."""
    for check in checks:
        targets = (
            value
            if spec.type is ParameterType.COMMA_DELIMITED_LIST and not isinstance(check, Length)
            else [value]
        )
        for target in targets:
            message = check.check(target)
            if message is not None:
                if spec.hidden and not check.description:
                    return "does not satisfy its constraints"
                return message
    return None
