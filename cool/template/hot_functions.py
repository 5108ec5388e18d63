"""HOT's value functions beyond references, str_replace and list_join: each written once.

Each implementation is a pure function of its resolved arguments and the
resolution :class:`~cool.template.budget.Budget`; the compiler calls it to fold
what parameters determine (:func:`fold`) and the run-time walk
(:func:`cool.template.functions.resolve`) to evaluate what a plan kept. An
argument known only later (a :class:`~cool.template.values.Deferred` or an
:class:`~cool.template.values.Unknown`) is checked as far as its kind allows,
and stops the evaluation (:class:`Pending`) only where its value matters;
wrong arguments raise :class:`ArgumentError`, located by its ``path`` under
the function. What a function produces is charged before it is returned, and
before it is made where it can multiply (``repeat``, ``str_split``). Heat's
semantics are followed, its odd ones included (see docs/templates.md).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cool.resources.schema import PropertyType
from cool.template import functions as fn
from cool.template import urls, versions, yaql_function
from cool.template.budget import Budget, text_bytes
from cool.template.quoting import clip, quote
from cool.template.values import ANY, Deferred, Unknown, contains_unknown, materialize

Path = tuple[str | int, ...]


class ArgumentError(ValueError):
    """A function's arguments are wrong; ``path`` leads to the wrong one."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.path = path


class Pending(Exception):  # noqa: N818 (not an error: a value known later)
    """An argument whose value the function needs is known only later."""


def _waiting(value: Any) -> bool:
    return isinstance(value, Deferred | Unknown)


def _pair(args: Any, usage: str) -> list[Any]:
    """The two arguments of a function that takes ``[a, b]``; ``usage`` says how."""
    if _waiting(args):
        raise Pending
    if not isinstance(args, list) or len(args) != 2:
        raise ArgumentError(usage)
    return args


def _fits(value: Any, python: type | tuple[type, ...], kind: PropertyType) -> bool:
    """A ``python`` value, or one known later that may turn out to be one."""
    if _waiting(value):
        return value.kind in (ANY, kind)
    return isinstance(value, python)


def _has_pending(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Deferred | Unknown):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _known(value: Any) -> Any:
    """``value``, if nothing in it waits for the build."""
    if _has_pending(value):
        raise Pending
    return value


def _what(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def _unbounded() -> Budget:
    return Budget(max_value_bytes=sys.maxsize, max_resolved_bytes=sys.maxsize)


class _Meter:
    """The size of one value being made piece by piece, refused past the budget's
    ceiling as soon as a piece would cross it; charged once, when whole."""

    def __init__(self, function: str, budget: Budget) -> None:
        self.function = function
        self.budget = budget
        self.size = 0

    def check(self, more: int) -> None:
        """Refuse if ``more`` bytes on top of what is counted would be over the ceiling."""
        if self.size + more > self.budget.ceiling:
            self.budget.charge(self.function, self.size + more, at_least=True)

    def add(self, more: int) -> None:
        self.check(more)
        self.size += more

    def charge(self) -> None:
        self.budget.charge(self.function, self.size)


def _freeze(value: Any) -> Any:
    """A hashable stand-in equal where Python's ``==`` says equal (1 == 1.0 == True)."""
    if isinstance(value, list):
        return ("list", tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _freeze(v)) for k, v in value.items()))
    return value


# -- maps and lists ----------------------------------------------------------------


def map_merge(args: Any, budget: Budget) -> dict[str, Any]:
    """The maps merged in order, later keys winning; a null item counts as ``{}``."""
    if _waiting(args):
        raise Pending
    if not isinstance(args, list):
        raise ArgumentError("map_merge takes a list of maps")
    pending = False
    for index, item in enumerate(args):
        if item is None or isinstance(item, dict):
            continue
        if not _fits(item, dict, PropertyType.MAP):
            raise ArgumentError(f"map_merge merges maps; this item is {_what(item)}", (index,))
        pending = True
    if pending:
        raise Pending
    merged: dict[str, Any] = {}
    for item in args:
        merged.update(item or {})
    budget.charge_value(MAP_MERGE, merged)
    return merged


def map_replace(args: Any, budget: Budget) -> dict[str, Any]:
    """``[map, {keys: {old: new}, values: {old: new}}]``: keys and values renamed.

    A new key that is another key of the map, or one already made, is an error,
    as in Heat; values are replaced only where they equal a key of ``values``.
    """
    args = _pair(args, "map_replace takes a list of two maps: [map, {keys: {...}, values: {...}}]")
    pending = False
    for index, item in enumerate(args):
        if item is not None and not _fits(item, dict, PropertyType.MAP):
            raise ArgumentError(
                f"map_replace's arguments are maps; this is {_what(item)}", (index,)
            )
        pending = pending or _waiting(item)
    if pending:
        raise Pending
    source, replacements = args[0] or {}, args[1] or {}
    tables = []
    for key in replacements:
        if key not in ("keys", "values"):
            raise ArgumentError(
                f"map_replace replaces keys and values; {quote(key)} is neither", (1, key)
            )
    for key in ("keys", "values"):
        table = replacements.get(key)
        if table is not None and not _fits(table, dict, PropertyType.MAP):
            raise ArgumentError(f"map_replace's {key} must be a map", (1, key))
        tables.append(table or {})
    new_keys, new_values = (_known(t) for t in tables)
    if new_values:
        _known(source)
    result: dict[str, Any] = {}
    for key, value in source.items():
        renamed = new_keys.get(key)
        if renamed is None:
            renamed = key
        elif not isinstance(renamed, str):
            raise ArgumentError(
                f"map_replace's new key for {quote(key)} must be a string", (1, "keys", key)
            )
        elif renamed in source and renamed != key:
            raise ArgumentError(
                f"key replacement {quote(renamed)} collides with a key in the input map",
                (1, "keys", key),
            )
        elif renamed in result:
            raise ArgumentError(
                f"key replacement {quote(renamed)} collides with a key in the output map",
                (1, "keys", key),
            )
        result[renamed] = new_values.get(value, value) if isinstance(value, str) else value
    budget.charge_value(MAP_REPLACE, result)
    return result


def _concat(name: str, args: Any, budget: Budget, *, unique: bool) -> list[Any]:
    if _waiting(args):
        raise Pending
    if not isinstance(args, list):
        raise ArgumentError(f"{name} takes a list of lists")
    pending = False
    for index, item in enumerate(args):
        if item is None or isinstance(item, list):
            continue
        if not _fits(item, list, PropertyType.LIST):
            raise ArgumentError(f"{name} concatenates lists; this item is {_what(item)}", (index,))
        pending = True
    if pending or (unique and _has_pending(args)):
        raise Pending
    meter = _Meter(name, budget)
    for item in args:  # measured before one list is made of them
        meter.add(budget.measure(item or [])[0])
    joined = [value for item in args for value in item or ()]
    if unique:
        seen: set[Any] = set()
        kept = []
        for value in joined:
            frozen = _freeze(value)
            if frozen not in seen:
                seen.add(frozen)
                kept.append(value)
        joined = kept
    budget.charge_value(name, joined)
    return joined


def list_concat(args: Any, budget: Budget) -> list[Any]:
    """The lists one after the other; a null item counts as ``[]``."""
    return _concat(LIST_CONCAT, args, budget, unique=False)


def list_concat_unique(args: Any, budget: Budget) -> list[Any]:
    """list_concat keeping the first of equal items, in order."""
    return _concat(LIST_CONCAT_UNIQUE, args, budget, unique=True)


def filter_values(args: Any, budget: Budget) -> Any:
    """``[values, list]``: the list without the values (Heat's quirks: an empty or
    null list, or no values, give the list back as it is)."""
    args = _pair(args, "filter takes a list of two: [values to remove, list]")
    values, sequence = args
    if _waiting(sequence):
        if not _fits(sequence, list, PropertyType.LIST):
            raise ArgumentError("filter only works with lists", (1,))
        raise Pending
    if not sequence:
        return sequence
    if not isinstance(sequence, list):
        raise ArgumentError(f"filter only works with lists; this is {_what(sequence)}", (1,))
    if not _waiting(values) and not values:
        return sequence
    if not _fits(values, list, PropertyType.LIST):
        raise ArgumentError(f"filter removes a list of values; this is {_what(values)}", (0,))
    _known(args)
    if not values:
        return sequence
    removed = {_freeze(v) for v in values}
    kept = [item for item in sequence if _freeze(item) not in removed]
    budget.charge_value(FILTER, kept)
    return kept


# -- strings -----------------------------------------------------------------------


def _split_index(raw: Any) -> int:
    """Heat's ``int(index)``: a number, or text of one."""
    if isinstance(raw, bool | int):
        return int(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            pass
    raise ArgumentError(f"str_split's index must be an integer, not {quote(raw)}", (2,))


def _split(name: str, delimiter: str, text: str, budget: Budget, index: int | None = None) -> Any:
    """``text.split(delimiter)``, or one piece of it, sized before it is made."""
    if delimiter == "":
        raise ArgumentError(f"{name}'s delimiter cannot be empty", (0,))
    count = text.count(delimiter) + 1
    if index is None:
        # The pieces as JSON: the text less the delimiters, and quotes and ", " per piece.
        size = text_bytes(text) - (count - 1) * text_bytes(delimiter) + 4 * count
        budget.charge(name, size)
        return text.split(delimiter)
    if not -count <= index < count:
        raise ArgumentError(
            f"{name}'s index {index} is out of range: the text has {count} pieces "
            f"(0 to {count - 1})",
            (2,),
        )
    piece = (
        text.split(delimiter, index + 1)[index]
        if index >= 0
        else (text.rsplit(delimiter, -index)[index])
    )
    budget.charge(name, text_bytes(piece))
    return piece


def str_split(args: Any, budget: Budget) -> Any:
    """``[delimiter, text]`` or ``[delimiter, text, index]``: the pieces, or one of them."""
    if _waiting(args):
        raise Pending
    if not isinstance(args, list) or len(args) < 2:
        raise ArgumentError("str_split takes a list: [delimiter, text, optional index]")
    delimiter, text, *rest = args
    if not _fits(delimiter, str, PropertyType.STRING):
        raise ArgumentError(f"str_split's delimiter must be a string, not {_what(delimiter)}", (0,))
    if text is not None and not _fits(text, str, PropertyType.STRING):
        raise ArgumentError(f"str_split splits a string; this is {_what(text)}", (1,))
    index = _split_index(rest[0]) if rest and not _waiting(rest[0]) else None
    _known(args[:3])
    if text is None:
        return None  # Heat's answer for an attribute not there yet
    return _split(STR_SPLIT, delimiter, text, budget, index)


def digest(args: Any, budget: Budget) -> str:
    """``[algorithm, text]``: the hex digest of the text (encoded as Latin-1, as Heat does)."""
    args = _pair(args, 'digest takes a list of two strings: ["<algorithm>", "<value>"]')
    for index, item in enumerate(args):
        if not _fits(item, str, PropertyType.STRING):
            raise ArgumentError(f"digest's arguments are strings; this is {_what(item)}", (index,))
    algorithm, text = args
    if not _waiting(algorithm) and algorithm.lower() not in DIGESTS:
        raise ArgumentError(
            f"digest's algorithm must be one of {', '.join(sorted(DIGESTS))}, "
            f"not {quote(algorithm)}",
            (0,),
        )
    _known(args)
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ArgumentError(
            f"digest hashes text as Latin-1 (as Heat does); character {exc.start} is not in "
            "Latin-1",
            (1,),
        ) from None
    hasher = hashlib.new(algorithm.lower())
    budget.charge(DIGEST, 2 * hasher.digest_size)
    hasher.update(data)
    return hasher.hexdigest()


def _digests() -> frozenset[str]:
    """Heat takes hashlib's algorithms; only those that work here, and not shake (whose
    digest needs a length)."""
    usable = set()
    for name in hashlib.algorithms_available:
        try:
            hashlib.new(name.lower()).hexdigest()
        except (TypeError, ValueError):
            continue
        usable.add(name.lower())
    return frozenset(usable)


DIGESTS = _digests()


def _strict_replace(name: str, args: Any, budget: Budget, *, empty_allowed: bool) -> str:
    if _waiting(args):
        raise Pending
    if not isinstance(args, dict) or set(args) != {"template", "params"}:
        raise ArgumentError(f"{name} takes a mapping with exactly two keys: template and params")
    template, params = args["template"], args["params"]
    if not _fits(template, str, PropertyType.STRING):
        raise ArgumentError(f"{name}'s template must be a string", ("template",))
    if not _fits(params, dict, PropertyType.MAP):
        raise ArgumentError(f"{name}'s params must be a mapping", ("params",))
    if isinstance(params, dict):
        for key, value in params.items():
            if key == "":
                raise ArgumentError(f"{name}'s params cannot have an empty key", ("params", key))
            if not empty_allowed and (value is None or value in ("", [], {})):
                raise ArgumentError(
                    f"{name} has an undefined or empty value for param {quote(key)}, must be "
                    "a defined non-empty value",
                    ("params", key),
                )
    _known(args)
    missing: list[str] = []
    result = fn.replace(template, params, budget, missing=missing)
    if missing:
        shown = ", ".join(quote(k) for k in sorted(sorted(missing), key=len, reverse=True))
        raise ArgumentError(
            f"{name}: the following params were not found in the template: {shown}", ("params",)
        )
    return result


def str_replace_strict(args: Any, budget: Budget) -> str:
    """str_replace that fails when a param is not found in the template."""
    return _strict_replace(STR_REPLACE_STRICT, args, budget, empty_allowed=True)


def str_replace_vstrict(args: Any, budget: Budget) -> str:
    """str_replace_strict that also fails on a null or empty param value."""
    return _strict_replace(STR_REPLACE_VSTRICT, args, budget, empty_allowed=False)


_URL_KEYS = ("scheme", "username", "password", "host", "port", "path", "query", "fragment")


def make_url(args: Any, budget: Budget) -> str:
    """A URL from its parts, each escaped as Heat escapes it."""
    if _waiting(args):
        raise Pending
    if not isinstance(args, dict):
        raise ArgumentError("make_url takes a mapping of URL parts: " + ", ".join(_URL_KEYS))
    for key, value in args.items():
        if key not in _URL_KEYS:
            raise ArgumentError(
                f"make_url has no part {quote(key)} (parts: {', '.join(_URL_KEYS)})", (key,)
            )
        if key == "query":
            if not _fits(value, dict, PropertyType.MAP):
                raise ArgumentError("make_url's query must be a map", (key,))
        elif key == "port":
            if not _waiting(value):
                _port(value)
        elif not _fits(value, str, PropertyType.STRING):
            raise ArgumentError(f"make_url's {key} must be a string", (key,))
    _known(args)
    scheme = args.get("scheme", "")
    if ":" in scheme:
        raise ArgumentError("make_url's scheme should not contain ':'", ("scheme",))
    netloc = []
    username = urls.quote(args.get("username", ""), safe="")
    password = urls.quote(args.get("password", ""), safe="")
    if username or password:
        netloc += [username, ":" + password if password else "", "@"]
    host = args.get("host", "")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = urls.quote(host, safe=":")
    netloc.append(f"[{host}]" if ":" in host else host)
    if args.get("port"):
        netloc += [":", str(args["port"])]
    path = urls.quote(args.get("path", ""))
    query = urls.urlencode(args.get("query", {})).replace("%2F", "/")
    fragment = urls.quote(args.get("fragment", ""))
    # Escaping at most triples the parts, which exist already: the URL is measured made.
    url = urls.urlunsplit(scheme, "".join(netloc), path, query, fragment)
    budget.charge(MAKE_URL, text_bytes(url))
    return url


def _port(value: Any) -> int:
    """Heat's check: ``int(port)`` in 1-65535 (a float passes, and is written as it is)."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        port = int(value)
    except (ValueError, OverflowError):
        raise ArgumentError(
            f"make_url's port {quote(value)} is not a port number", ("port",)
        ) from None
    if not 0 < port <= 65535:
        raise ArgumentError(f"make_url's port {port} must be in range 1-65535", ("port",))
    return port


# -- repeat ------------------------------------------------------------------------


def repeat(args: Any, budget: Budget) -> list[Any]:
    """One copy of ``template`` per item of ``for_each`` (every combination of the
    lists, or, with ``permutations: false``, the lists' items side by side), each
    variable replaced in every string of the copy."""
    if _waiting(args):
        raise Pending
    if not isinstance(args, dict) or "for_each" not in args or "template" not in args:
        raise ArgumentError("repeat takes a mapping with template and for_each")
    nested = args.get("permutations", True)
    if not isinstance(nested, bool):
        raise ArgumentError("repeat's permutations must be a boolean", ("permutations",))
    for_each, template = args["for_each"], args["template"]
    if not _fits(for_each, dict, PropertyType.MAP):
        raise ArgumentError("repeat's for_each must be a map of variables to lists", ("for_each",))
    if isinstance(for_each, dict):
        if not for_each:
            raise ArgumentError("repeat's for_each names no variable", ("for_each",))
        for key, items in for_each.items():
            where = ("for_each", key)
            allowed: tuple[type, ...] = (list, dict) if nested else (list,)
            if items is not None and not (_waiting(items) or isinstance(items, allowed)):
                what = "lists or maps" if nested else "lists (permutations is false)"
                raise ArgumentError(f"repeat's for_each values must be {what}", where)
            for index, item in enumerate(items if isinstance(items, list) else ()):
                if not _fits(item, str, PropertyType.STRING):
                    raise ArgumentError(
                        f"repeat replaces text: its items must be strings, not {_what(item)}",
                        (*where, index),
                    )
    _known(args)
    keys = list(for_each)
    lists = [list(items) if items is not None else [] for items in for_each.values()]
    # Heat leaves a null list out of this check (and zips it as an empty list).
    if not nested and len({len(items) for items in for_each.values() if items is not None}) > 1:
        raise ArgumentError(
            "repeat's for_each lists must be of the same length when permutations is false",
            ("for_each",),
        )
    count = math.prod(len(items) for items in lists) if nested else min(map(len, lists))
    meter = _Meter(REPEAT, budget)
    meter.check(2 * count)  # each copy is at least an item of the list: sized before any
    combinations: Iterator[Sequence[str]] = (
        itertools.product(*lists) if nested else zip(*lists, strict=False)  # a null list: none
    )
    copies = []
    for values in combinations:
        copy = _substitute(template, keys, values, meter)
        meter.add(budget.measure(copy)[0] + 2)
        copies.append(copy)
    meter.charge()
    return copies


def _substitute(node: Any, keys: list[str], values: Sequence[str], meter: _Meter) -> Any:
    if isinstance(node, str):
        for key, value in zip(keys, values, strict=True):
            if key in node:
                # Sized before it is made: a long value many times over is refused here.
                grown = text_bytes(node) + node.count(key) * (text_bytes(value) - text_bytes(key))
                meter.check(grown)
                node = node.replace(key, value)
        return node
    if isinstance(node, list):
        return [_substitute(item, keys, values, meter) for item in node]
    if isinstance(node, dict):
        return {
            _substitute(k, keys, values, meter): _substitute(v, keys, values, meter)
            for k, v in node.items()
        }
    return node


# -- CloudFormation functions of HOT 2013-05-23 ---------------------------------------


def select(args: Any, budget: Budget) -> Any:
    """``Fn::Select: [index, list or map]``, as Heat: ``''`` where nothing is found."""
    args = _pair(args, "Fn::Select takes a list of two: [index, list or map]")
    index, collection = _known(args)
    if collection == "" or collection is None:
        return ""
    if isinstance(collection, str):
        try:
            collection = json.loads(collection, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise ArgumentError(f"Fn::Select: {exc}", (1,)) from None
    if isinstance(collection, dict):
        if not isinstance(index, str):
            raise ArgumentError("Fn::Select's index into a map must be a string", (0,))
        found = collection.get(index, "")
    elif isinstance(collection, list):
        try:
            position = int(index)
        except (TypeError, ValueError, OverflowError):
            raise ArgumentError("Fn::Select's index into a list must be an integer", (0,)) from None
        found = collection[position] if -len(collection) <= position < len(collection) else ""
    else:
        raise ArgumentError(f"Fn::Select selects from a list or a map, not {_what(collection)}")
    budget.charge_value(FN_SELECT, found)
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number cool takes")


def cfn_join(args: Any, budget: Budget) -> str:
    """``Fn::Join: [delimiter, [strings]]`` (strings only, null as ``''``)."""
    args = _pair(args, 'Fn::Join takes [delimiter, list], for example [" ", ["a", "b"]]')
    delimiter, items = args
    if not _fits(delimiter, str, PropertyType.STRING):
        raise ArgumentError("Fn::Join's delimiter must be a string", (0,))
    if items is not None and not _fits(items, list, PropertyType.LIST):
        raise ArgumentError("Fn::Join must operate on a list", (1,))
    for index, item in enumerate(items if isinstance(items, list) else ()):
        if item is not None and not _fits(item, str, PropertyType.STRING):
            raise ArgumentError(f"items to join must be strings, not {_what(item)}", (1, index))
    _known(args)
    return fn.join(delimiter, [items or []], budget)


def cfn_split(args: Any, budget: Budget) -> list[str]:
    """``Fn::Split: [delimiter, text]``."""
    args = _pair(args, 'Fn::Split takes [delimiter, text], for example [",", "a,b"]')
    delimiter, text = args
    if not isinstance(delimiter, str):
        raise ArgumentError("Fn::Split's delimiter must be a string", (0,))
    if not _fits(text, str, PropertyType.STRING):
        raise ArgumentError(f"Fn::Split splits a string; this is {_what(text)}", (1,))
    _known(text)
    return _split(FN_SPLIT, delimiter, text, budget)


def cfn_replace(args: Any, budget: Budget) -> str:
    """``Fn::Replace: [{key: value}, template]`` (values: strings, numbers, null)."""
    args = _pair(args, 'Fn::Replace takes [{"$var": "value"}, "text with $var"]')
    params, template = args
    if not _fits(params, dict, PropertyType.MAP):
        raise ArgumentError("Fn::Replace's parameters must be a mapping", (0,))
    if not _fits(template, str, PropertyType.STRING):
        raise ArgumentError("Fn::Replace's template must be a string", (1,))
    for key, value in params.items() if isinstance(params, dict) else ():
        if isinstance(value, dict | list):
            raise ArgumentError("Fn::Replace's values must be strings or numbers", (0, key))
    _known(args)
    return fn.replace(template, params, budget)


def base64(args: Any, budget: Budget) -> str:
    """``Fn::Base64: text``: the text unchanged, as in Heat (which takes user data as is)."""
    if not _fits(args, str, PropertyType.STRING):
        raise ArgumentError(f"Fn::Base64's argument must be a string, not {_what(args)}")
    return _known(args)


_MEMBER = re.compile(r"\.member\.([0-9]+)\.(.*)")


def member_list_to_map(args: Any, budget: Budget) -> dict[str, Any]:
    """``Fn::MemberListToMap: [key name, value name, ['.member.0.Name=k', ...]]``."""
    if _waiting(args):
        raise Pending
    if not isinstance(args, list) or len(args) != 3:
        raise ArgumentError(
            "Fn::MemberListToMap takes [key name, value name, ['.member.0.<key name>=key', "
            "'.member.0.<value name>=value', ...]]"
        )
    for index in (0, 1):
        if not isinstance(args[index], str):
            raise ArgumentError("Fn::MemberListToMap's key and value names are strings", (index,))
    if not _fits(args[2], list, PropertyType.LIST):
        raise ArgumentError("Fn::MemberListToMap's member list must be a list", (2,))
    keyname, valuename, members = _known(args)
    partials: dict[str, str] = {}
    for index, item in enumerate(members):
        if not isinstance(item, str) or "=" not in item:
            raise ArgumentError("member list items are strings of the form name=value", (2, index))
        name, value = item.split("=", 1)
        partials[name] = value
    grouped: dict[int, dict[str, str]] = {}
    for name, value in partials.items():
        match = _MEMBER.match(name)
        if match:
            try:
                index = int(match.group(1))
            except ValueError:  # over Python's 4,300 digits: Heat skips it
                continue
            grouped.setdefault(index, {})[match.group(2)] = value
    result = {
        group[keyname]: group[valuename]
        for _, group in sorted(grouped.items())
        if keyname in group and valuename in group
    }
    budget.charge_value(FN_MEMBER_LIST_TO_MAP, result)
    return result


# Heat functions cool refuses, and why.
REFUSED = {
    "Fn::GetAZs": "it asks the cloud for its availability zones; use a parameter",
}


# -- yaql (cool.template.yaql_function) ----------------------------------------------


def yaql_value(args: Any, budget: Budget) -> Any:
    """Heat's Yaql: the expression checked as soon as it is known, evaluated once its
    data is (data from resources: at run time)."""
    if _waiting(args):
        raise Pending
    try:
        expression, data = yaql_function.check_arguments(args)
    except yaql_function.YaqlError as exc:
        raise ArgumentError(str(exc)) from None
    if _waiting(expression):
        raise Pending
    try:
        yaql_function.parse(expression)
    except yaql_function.YaqlError as exc:
        raise ArgumentError(str(exc), ("expression",)) from None
    if contains_unknown(data) or _holds_deferred(data):
        raise Pending
    try:
        return yaql_function.evaluate(expression, data, budget)
    except yaql_function.YaqlError as exc:
        raise ArgumentError(str(exc)) from None


def _holds_deferred(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Deferred):
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


# -- the table -----------------------------------------------------------------------

MAP_MERGE = "map_merge"
MAP_REPLACE = "map_replace"
LIST_CONCAT = "list_concat"
LIST_CONCAT_UNIQUE = "list_concat_unique"
STR_SPLIT = "str_split"
REPEAT = "repeat"
DIGEST = "digest"
MAKE_URL = "make_url"
FILTER = "filter"
STR_REPLACE_STRICT = "str_replace_strict"
STR_REPLACE_VSTRICT = "str_replace_vstrict"
FN_SELECT = "Fn::Select"
FN_JOIN = "Fn::Join"
FN_SPLIT = "Fn::Split"
FN_REPLACE = "Fn::Replace"
FN_BASE64 = "Fn::Base64"
FN_MEMBER_LIST_TO_MAP = "Fn::MemberListToMap"
YAQL = "yaql"


@dataclass(frozen=True, slots=True)
class Function:
    """One value function: how it evaluates, and what it makes (for type checks)."""

    evaluate: Callable[[Any, Budget], Any]
    kind: PropertyType


FUNCTIONS: dict[str, Function] = {
    MAP_MERGE: Function(map_merge, PropertyType.MAP),
    MAP_REPLACE: Function(map_replace, PropertyType.MAP),
    LIST_CONCAT: Function(list_concat, PropertyType.LIST),
    LIST_CONCAT_UNIQUE: Function(list_concat_unique, PropertyType.LIST),
    STR_SPLIT: Function(str_split, ANY),  # a list, or one piece with an index
    REPEAT: Function(repeat, PropertyType.LIST),
    DIGEST: Function(digest, PropertyType.STRING),
    MAKE_URL: Function(make_url, PropertyType.STRING),
    FILTER: Function(filter_values, PropertyType.LIST),
    STR_REPLACE_STRICT: Function(str_replace_strict, PropertyType.STRING),
    STR_REPLACE_VSTRICT: Function(str_replace_vstrict, PropertyType.STRING),
    FN_SELECT: Function(select, ANY),
    FN_JOIN: Function(cfn_join, PropertyType.STRING),
    FN_SPLIT: Function(cfn_split, PropertyType.LIST),
    FN_REPLACE: Function(cfn_replace, PropertyType.STRING),
    FN_BASE64: Function(base64, PropertyType.STRING),
    FN_MEMBER_LIST_TO_MAP: Function(member_list_to_map, PropertyType.MAP),
    YAQL: Function(yaql_value, ANY),
}

# Which HOT versions have each function (Heat's HOTemplate20xx ``functions``): the
# first that has it, and the first that no longer does (with what to use instead).
# if, contains and the condition functions are the conditions' own.
AVAILABLE: dict[str, tuple[str, str | None, str]] = {
    "get_param": ("2013-05-23", None, ""),
    "get_resource": ("2013-05-23", None, ""),
    "get_attr": ("2013-05-23", None, ""),
    "get_file": ("2013-05-23", None, ""),
    "list_join": ("2013-05-23", None, ""),
    "str_replace": ("2013-05-23", None, ""),
    "resource_facade": ("2013-05-23", None, ""),
    REPEAT: ("2015-04-30", None, ""),
    DIGEST: ("2015-04-30", None, ""),
    STR_SPLIT: ("2015-10-15", None, ""),
    MAP_MERGE: ("2016-04-08", None, ""),
    YAQL: ("2016-10-14", None, ""),
    MAP_REPLACE: ("2016-10-14", None, ""),
    FILTER: ("2017-02-24", None, ""),
    STR_REPLACE_STRICT: ("2017-02-24", None, ""),
    MAKE_URL: ("2017-09-01", None, ""),
    LIST_CONCAT: ("2017-09-01", None, ""),
    LIST_CONCAT_UNIQUE: ("2017-09-01", None, ""),
    STR_REPLACE_VSTRICT: ("2017-09-01", None, ""),
    FN_SELECT: ("2013-05-23", "2015-10-15", "get_attr or get_param with a path"),
    FN_JOIN: ("2013-05-23", "2014-10-16", "list_join"),
    FN_SPLIT: ("2013-05-23", "2014-10-16", "str_split"),
    FN_REPLACE: ("2013-05-23", "2014-10-16", "str_replace"),
    FN_BASE64: ("2013-05-23", "2014-10-16", "the text itself"),
    FN_MEMBER_LIST_TO_MAP: ("2013-05-23", "2014-10-16", "a map"),
    "Fn::GetAZs": ("2013-05-23", "2014-10-16", "an availability zone parameter"),
    "Fn::ResourceFacade": ("2013-05-23", "2014-10-16", "resource_facade"),
    "Ref": ("2013-05-23", "2014-10-16", "get_param or get_resource"),
}


def unavailable(name: str, version: str | None) -> str | None:
    """Why HOT ``version`` lacks ``name``, or None when it has it (or is unknown)."""
    known = AVAILABLE.get(name)
    if known is None or not version:
        return None  # an unknown version is reported as such
    since, removed, instead = known
    if versions.older(version, since):
        return (
            f"intrinsic function {quote(name)} is not in heat_template_version "
            f"{versions.label(version)}; it came in {versions.label(since)}"
        )
    if removed is not None and not versions.older(version, removed):
        return (
            f"intrinsic function {quote(name)} is not in heat_template_version "
            f"{versions.label(version)}: it was removed in {versions.label(removed)}; "
            f"use {instead}"
        )
    return None


def fold(name: str, args: Any, budget: Budget, version: str | None = None) -> Any:
    """At compile time: the value of ``name`` over its resolved ``args``, or an
    :class:`Unknown` or a :class:`Deferred` (kept for run time) when it needs
    values not known yet; ArgumentError when they are wrong."""
    function = FUNCTIONS[name]
    if name == REPEAT and isinstance(args, dict):
        args = _repeat_of(version, args)
    try:
        value = function.evaluate(args, budget)
    except Pending:
        if contains_unknown(args):
            return Unknown(function.kind)
        return Deferred({name: materialize(args)}, function.kind)
    _refuse_function_shape(name, value)
    return value


def _refuse_function_shape(name: str, value: Any) -> None:
    """A folded value is plain data in the plan, and the run-time walk takes a one-key
    mapping naming a function for a call: such a value would run when the build does.
    Heat keeps it as data; cool has no way to mark it so, and refuses it."""
    shape = fn.function_shape(value)
    if shape is None:
        return
    function, where = shape
    inside = "".join(f"/{step}" for step in where)
    raise ArgumentError(
        f"the result of {name} would hold {quote(function)} as a one-key mapping"
        + (f" (at {clip(inside, 80)})" if inside else "")
        + f", which would read as a call to the function {quote(function)} when the build "
        "runs; cool refuses it (Heat takes it as data): change a key, or add one"
    )


def _repeat_of(version: str | None, args: dict[str, Any]) -> dict[str, Any]:
    """repeat as ``version`` has it: ``permutations`` came in 2017-09-01 (before, Heat
    ignores the key), maps in ``for_each`` in 2016-10-14."""
    if not version or not versions.older(version, "2017-09-01"):
        return args
    if versions.older(version, "2016-10-14") and isinstance(args.get("for_each"), dict):
        for key, items in args["for_each"].items():
            if isinstance(items, dict):
                raise ArgumentError(
                    "repeat's for_each values must be lists before heat_template_version "
                    "2016-10-14",
                    ("for_each", key),
                )
    return {k: v for k, v in args.items() if k != "permutations"}


def evaluate(name: str, args: Any, budget: Budget | None) -> Any:
    """At run time: the value of ``name`` over fully resolved ``args``."""
    return FUNCTIONS[name].evaluate(args, budget if budget is not None else _unbounded())
