"""What the types' cross-checks share: whether a property is set, the maps in a list
property, a property given under its name or under the name Heat deprecated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.schema import PropertyProblem, conflict, missing


def is_given(value: Any) -> bool:
    """Whether a property is set: not absent, null or empty (a runtime reference is set)."""
    if value is None:
        return False
    return not (isinstance(value, str | list | dict) and len(value) == 0)


def map_entries(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The (index, item) pairs of a list property whose items are plain maps."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def one_name(
    props: Mapping[str, Any],
    new: str,
    old: str,
    *,
    required: bool = False,
    path: tuple[str | int, ...] = (),
) -> list[PropertyProblem]:
    """Property ``new`` or its deprecated Heat name ``old``: not both, and one if required."""
    has_new, has_old = is_given(props.get(new)), is_given(props.get(old))
    if has_new and has_old:
        return [conflict((*path, old), f"{old} is the deprecated name of {new}: give one")]
    if required and not has_new and not has_old:
        return [missing((*path, new), f"{new} (or its deprecated name {old}) is required")]
    return []
