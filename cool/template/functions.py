"""HOT intrinsic functions: which exist, and how the supported ones evaluate.

The arithmetic of ``str_replace``, ``list_join`` and attribute/parameter
paths lives here once, used both when a template is compiled (to fold what
parameters already determine) and when a build runs (to resolve references
to other resources' attributes). Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cool.template import hot_functions, numbers
from cool.template.budget import Budget, text_bytes
from cool.template.quoting import listing, quote

GET_PARAM = "get_param"
GET_RESOURCE = "get_resource"
GET_ATTR = "get_attr"
STR_REPLACE = "str_replace"
LIST_JOIN = "list_join"
GET_FILE = "get_file"  # resolved when the template is compiled (cool.template.files)

# The value functions of hot_functions (by name here: that module imports this one).
VALUE_FUNCTIONS = frozenset(
    {
        "digest",
        "filter",
        "list_concat",
        "list_concat_unique",
        "make_url",
        "map_merge",
        "map_replace",
        "repeat",
        "str_replace_strict",
        "str_replace_vstrict",
        "str_split",
        "yaql",
        "Fn::Base64",
        "Fn::Join",
        "Fn::MemberListToMap",
        "Fn::Replace",
        "Fn::Select",
        "Fn::Split",
    }
)
# Ref (HOT 2013-05-23) is a get_resource or a get_param: it is never kept for run time.
REF = "Ref"
# The resource a nested template stands for (cool.template.nested): resolved when the
# template is compiled, from what its parent template wrote.
RESOURCE_FACADE = "resource_facade"
CFN_RESOURCE_FACADE = "Fn::ResourceFacade"

# if, contains and the condition functions (cool.template.conditions).
CONDITIONAL = frozenset({"if", "contains", "equals", "not", "and", "or"})

SUPPORTED = frozenset(
    {
        GET_PARAM,
        GET_RESOURCE,
        GET_ATTR,
        STR_REPLACE,
        LIST_JOIN,
        GET_FILE,
        REF,
        RESOURCE_FACADE,
        CFN_RESOURCE_FACADE,
        *VALUE_FUNCTIONS,
        *CONDITIONAL,
    }
)

# Heat's other functions (HOT and CFN): refused by name, never taken as data.
UNSUPPORTED = frozenset(
    {
        "Fn::And",
        "Fn::Equals",
        "Fn::FindInMap",
        "Fn::GetAZs",
        "Fn::GetAtt",
        "Fn::If",
        "Fn::Not",
        "Fn::Or",
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


def function_shape(value: Any) -> tuple[str, tuple[Any, ...]] | None:
    """The first one-key mapping naming a function in plain data ``value`` (its name and
    where it is), or None. Values known later (Deferred, Unknown) are not looked into.

    The run-time walk (:func:`resolve`) takes such a mapping for a call: a value computed
    when the template is compiled must not hold one, or it would run when the build does.
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, where = stack.pop()
        name = function_name(node)
        if name is not None:
            return name, where
        if isinstance(node, dict):
            stack.extend((v, (*where, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*where, i)) for i, v in enumerate(node))
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
                raise PathError(index, f"key {quote(step)} must be a string to index a mapping")
            if step not in value:
                # The first 20 shown, found without sorting them all: a message stays short.
                raise PathError(index, f"key {quote(step)} not found (keys: {listing(value)})")
            value = value[step]
        elif isinstance(value, list):
            position = _as_index(step)
            if position is None:
                raise PathError(index, f"{_shown(step)} is not a list index")
            if not -len(value) <= position < len(value):
                raise PathError(
                    index, f"index {_shown(step)} is out of range for {len(value)} items"
                )
            value = value[position]
        else:
            raise PathError(index, f"cannot index {type(value).__name__} value with {quote(step)}")
    return value


def _as_index(step: Any) -> int | None:
    if isinstance(step, bool):
        return None
    if isinstance(step, int):
        return step
    if isinstance(step, str):
        return numbers.index(step)
    return None


def _shown(step: Any) -> str:
    """A path step for a message: long ones shortened (and never str() of a huge int)."""
    if isinstance(step, int) and not isinstance(step, bool):
        return str(step) if numbers.fits(step) else "(a number too large to show)"
    text = step if isinstance(step, str) else repr(step)
    short = text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"
    if isinstance(step, str) and numbers.index(step) is None:
        return repr(short)
    return short


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


def replace(
    template: str,
    params: Mapping[str, Any],
    budget: Budget | None = None,
    *,
    missing: list[str] | None = None,
    function: str = STR_REPLACE,
) -> str:
    """str_replace as Heat does it: longest key first, replaced text never rescanned.

    ``missing`` collects the keys that replaced nothing (for str_replace_strict).

    Heat splits the text on the longest key, then each piece on the next
    key, and so on. The same result is found here as spans of the text
    claimed by keys (``claimed`` marks them), each key searched only where
    it occurs: no step per key per piece (3,000 keys over 20,000 pieces
    took seconds). The result's size is known, and charged to ``budget``,
    before the result is built.
    """
    claimed = bytearray(len(template))  # 1 where a key's occurrence was replaced
    found: list[tuple[int, str, str]] = []  # (position, key, its value as text)
    size = text_bytes(template)
    for key in sorted(params, key=lambda k: (-len(k), k)):
        count = 0
        if key in template:
            value = stringify(params[key])
            count = _claim(template, key, claimed, found, value)
            size += count * (text_bytes(value) - text_bytes(key))
        if not count and missing is not None:
            missing.append(key)
    if budget is not None:
        budget.charge(function, size)
    if not found:
        return template
    found.sort()
    parts: list[str] = []
    end = 0
    for position, key, value in found:
        parts += (template[end:position], value)
        end = position + len(key)
    parts.append(template[end:])
    return "".join(parts)


def _claim(
    template: str, key: str, claimed: bytearray, found: list[tuple[int, str, str]], value: str
) -> int:
    """Claim ``key``'s occurrences in the unclaimed pieces, as str.split finds them
    (leftmost, not overlapping); how many."""
    width = len(key)
    count = 0
    position = template.find(key)
    while position >= 0:
        taken = claimed.find(1, position, position + width)
        if taken < 0:
            claimed[position : position + width] = b"\x01" * width
            found.append((position, key, value))
            count += 1
            position = template.find(key, position + width)
            continue
        # An occurrence starting before the claimed span would cross it: go past it.
        free = claimed.find(0, taken)
        if free < 0:
            break
        position = template.find(key, free)
    return count


def _joined_size(
    size: int, lists: Sequence[Sequence[Any]], step: int, done: int
) -> tuple[int, bool]:
    """For the message: the whole size if the rest is ASCII text (free to measure),
    else the size so far and False."""
    seen = 0
    for items in lists:
        for item in items:
            seen += 1
            if seen <= done:
                continue
            if not isinstance(item, str) or not item.isascii():
                return size, False
            size += len(item) + step
    return size, True


def join(delimiter: str, lists: Sequence[Sequence[Any]], budget: Budget | None = None) -> str:
    """list_join: the items of every list, in order, joined by ``delimiter``.

    Each part's size is known, and the sum charged, before anything is joined.
    """
    parts: list[str] = []
    size = 0
    step = text_bytes(delimiter)
    for items in lists:
        for item in items:
            if budget is not None and isinstance(item, dict | list):
                # Its JSON is measured before json.dumps makes it.
                measured, _ = budget.measure(item)
                if size + measured > budget.ceiling:
                    budget.charge(LIST_JOIN, size + measured, at_least=True)
            text = stringify(item)
            size += text_bytes(text) + (step if parts else 0)
            parts.append(text)
            if budget is not None and size > budget.ceiling:
                total, exact = _joined_size(size, lists, step, len(parts))
                budget.charge(LIST_JOIN, total, at_least=not exact)
    if budget is not None:
        budget.charge(LIST_JOIN, size)
    return delimiter.join(parts)


CONTAINS_SEQUENCE = "contains's second argument must be a list or a string"


def contains(value: Any, sequence: Any) -> bool:
    """contains as Heat has it: membership in a list, or a substring of a string."""
    if isinstance(sequence, str):
        if not isinstance(value, str):
            raise ValueError("contains looks for a string in a string; this value is not one")
        return value in sequence
    if not isinstance(sequence, list):
        raise ValueError(CONTAINS_SEQUENCE)
    return value in sequence


# -- run time --------------------------------------------------------------


def resolve(
    value: Any,
    *,
    get_resource: Callable[[str], Any],
    get_attr: Callable[[str, str | None], Any],
    pseudo: Mapping[str, Any],
    budget: Budget | None = None,
) -> Any:
    """Evaluate the expressions a plan kept for run time.

    ``get_resource(name)`` gives a resource's physical id and
    ``get_attr(name, attribute)`` one of its recorded attributes (``attribute`` None:
    every one but ``show``, for ``get_attr: [name]``); the caller
    only calls this once the referenced resources are complete. What each
    function produces is charged to ``budget`` before it is produced
    (:class:`~cool.errors.ResolutionTooLargeError` when over it).
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
            resource, *rest = walk(args)
            if not rest:  # get_attr: [resource], every attribute
                value = get_attr(resource, None)
            else:
                value = follow(get_attr(resource, rest[0]), rest[1:])
            if budget is not None:  # one attribute may be referenced many times
                budget.charge_value(GET_ATTR, value)
            return value
        if name == GET_PARAM:
            key, *path = [args] if isinstance(args, str) else walk(args)
            return follow(pseudo[key], path)
        if name == STR_REPLACE:
            args = walk(args)
            return replace(args["template"], args["params"], budget)
        if name == LIST_JOIN:
            delimiter, *lists = walk(args)
            return join(delimiter, lists, budget)
        if name in VALUE_FUNCTIONS:
            return hot_functions.evaluate(name, walk(args), budget)
        if name == "contains":
            value, sequence = walk(args)
            return contains(value, sequence)
        raise ValueError(f"function {name} cannot be evaluated")

    return walk(value)
