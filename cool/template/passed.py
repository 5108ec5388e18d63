"""Property checks whose refused values go no further.

:func:`~cool.template.properties.check_properties` reports a wrong value and keeps
it, so that a plan-less report still shows every property. What makes a nested
stack (a group's count, a stack's parameters, an update_policy's batches) must not
use a value already reported as wrong: here each becomes :class:`Unknown`, which
the nested-stack code takes as "reported, make nothing of it".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.schema import ResourceType
from cool.template.problems import Code, Path
from cool.template.properties import Report, check_properties
from cool.template.values import Unknown


def passed_properties(
    rtype: ResourceType, properties: Mapping[str, Any], path: Path, report: Report
) -> dict[str, Any]:
    """check_properties, each refused value (the deepest mapping entry on its path)
    replaced by Unknown."""
    refused: list[Path] = []

    def collect(code: Code, message: str, at: Path) -> None:
        report(code, message, at)
        if len(at) > len(path) and tuple(at[: len(path)]) == tuple(path):
            refused.append(tuple(at[len(path) :]))

    out = check_properties(rtype, properties, path, collect)
    for relative in refused:
        out = _without(out, relative)
    return out


def _without(value: dict[str, Any], relative: Path) -> dict[str, Any]:
    key, rest = relative[0], relative[1:]
    if key not in value:
        return value  # an unknown key (never kept) or one renamed
    inner = value[key]
    if rest and isinstance(inner, dict) and rest[0] in inner:
        return {**value, key: _without(inner, rest)}
    return {**value, key: Unknown()}
