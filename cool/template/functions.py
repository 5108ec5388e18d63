"""HOT intrinsic functions: which exist, and how the supported ones evaluate.

The arithmetic of ``str_replace``, ``list_join`` and attribute/parameter
paths lives here once, used both when a template is compiled (to fold what
parameters already determine) and when a build runs (to resolve references
to other resources' attributes). Pure: no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

GET_PARAM = "get_param"
GET_RESOURCE = "get_resource"
GET_ATTR = "get_attr"
STR_REPLACE = "str_replace"
LIST_JOIN = "list_join"

SUPPORTED = frozenset({GET_PARAM, GET_RESOURCE, GET_ATTR, STR_REPLACE, LIST_JOIN})

# Heat's other functions (HOT and CFN): refused by name, never taken as data.
UNSUPPORTED = frozenset(
    {
        "and",
        "contains",
        "digest",
        "equals",
        "filter",
        "get_file",
        "if",
        "list_concat",
        "list_concat_unique",
        "make_url",
        "map_merge",
        "map_replace",
        "not",
        "or",
        "repeat",
        "resource_facade",
        "str_replace_strict",
        "str_replace_vstrict",
        "str_split",
        "yaql",
        "Fn::And",
        "Fn::Base64",
        "Fn::Equals",
        "Fn::FindInMap",
        "Fn::GetAZs",
        "Fn::GetAtt",
        "Fn::If",
        "Fn::Join",
        "Fn::MemberListToMap",
        "Fn::Not",
        "Fn::Or",
        "Fn::Replace",
        "Fn::ResourceFacade",
        "Fn::Select",
        "Fn::Split",
        "Ref",
    }
)

# Heat's pseudo parameters, known only when a build runs.
PSEUDO_PARAMETERS: Mapping[str, str] = {
    "OS::stack_name": "the build's name",
    "OS::stack_id": "the build id",
    "OS::project_id": "the id of the project that owns the build",
}


def function_name(value: object) -> str | None:
    """The function a value calls, if it is a one-key mapping naming one."""
    if type(value) is dict and len(value) == 1:
        (key,) = value
        if key in SUPPORTED or key in UNSUPPORTED:
            return key
    return None


class PathError(ValueError):
    """A path into a value does not lead anywhere; ``index`` says which step failed."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


def follow(value: Any, path: Sequence[Any]) -> Any:
    """Walk ``path`` (keys and list indexes) into ``value``, as get_param/get_attr do."""
    for index, step in enumerate(path):
        if isinstance(value, Mapping):
            if not isinstance(step, str):
                raise PathError(index, f"key {step!r} must be a string to index a mapping")
            if step not in value:
                known = ", ".join(sorted(map(str, value))) or "none"
                raise PathError(index, f"key {step!r} not found (keys: {known})")
            value = value[step]
        elif isinstance(value, list):
            position = _as_index(step)
            if position is None:
                raise PathError(index, f"{step!r} is not a list index")
            if not -len(value) <= position < len(value):
                raise PathError(index, f"index {position} is out of range for {len(value)} items")
            value = value[position]
        else:
            raise PathError(index, f"cannot index {type(value).__name__} value with {step!r}")
    return value


def _as_index(step: Any) -> int | None:
    if isinstance(step, bool):
        return None
    if isinstance(step, int):
        return step
    if isinstance(step, str) and re.fullmatch(r"-?[0-9]+", step):
        return int(step)
    return None


def stringify(value: Any) -> str:
    """How str_replace and list_join turn a value into text, as Heat does.

    Scalars as Python writes them (so ``True``, as Heat's ``str()``), lists
    and mappings as JSON (keys sorted, so that plans are deterministic).
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    raise TypeError(f"cannot turn {type(value).__name__} into a string")


def replace(template: str, params: Mapping[str, Any]) -> str:
    """str_replace as Heat does it: longest key first, replaced text never rescanned.

    The text is split on the longest key; the pieces between are searched
    for the next key, and so on; then everything is joined back with the
    values. (Iterative: a template may have many keys.)
    """
    # Each segment is (text, replaced): replaced segments are values, final.
    segments: list[tuple[str, bool]] = [(template, False)]
    for key in sorted(params, key=lambda k: (-len(k), k)):
        value = stringify(params[key])
        split: list[tuple[str, bool]] = []
        for text, replaced in segments:
            if replaced or key not in text:
                split.append((text, replaced))
                continue
            for index, piece in enumerate(text.split(key)):
                if index:
                    split.append((value, True))
                split.append((piece, False))
        segments = split
    return "".join(text for text, _ in segments)


def join(delimiter: str, lists: Sequence[Sequence[Any]]) -> str:
    """list_join: the items of every list, in order, joined by ``delimiter``."""
    return delimiter.join(stringify(item) for items in lists for item in items)


# -- run time --------------------------------------------------------------


def resolve(
    value: Any,
    *,
    get_resource: Callable[[str], Any],
    get_attr: Callable[[str, str], Any],
    pseudo: Mapping[str, Any],
) -> Any:
    """Evaluate the expressions a plan kept for run time.

    ``get_resource(name)`` gives a resource's physical id and
    ``get_attr(name, attribute)`` one of its recorded attributes; the caller
    only calls this once the referenced resources are complete.
    """

    def walk(node: Any) -> Any:
        name = function_name(node)
        if name is None:
            if isinstance(node, dict):
                return {k: walk(v) for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node
        args = node[name]
        if name == GET_RESOURCE:
            return get_resource(args)
        if name == GET_ATTR:
            resource, attribute, *path = walk(args)
            return follow(get_attr(resource, attribute), path)
        if name == GET_PARAM:
            key, *path = [args] if isinstance(args, str) else walk(args)
            return follow(pseudo[key], path)
        if name == STR_REPLACE:
            args = walk(args)
            return replace(args["template"], args["params"])
        if name == LIST_JOIN:
            delimiter, *lists = walk(args)
            return join(delimiter, lists)
        raise ValueError(f"function {name} cannot be evaluated")

    return walk(value)
