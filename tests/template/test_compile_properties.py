"""Property-based tests of :func:`cool.template.compile.check`.

Valid templates (the examples and a few small utility templates) are mutated,
either as data (``yaml.safe_load``-style data, re-serialised to YAML and to
JSON) or as raw text, and whatever comes out, ``check`` must answer with a
sound report:

* nothing is raised (the only exception ``check`` may raise is
  :class:`~cool.errors.TemplateTooLargeError`, and every input here is far
  under the size limit, so any exception at all is a bug);
* a report without problems has a plan, unless it lists missing parameters;
  a report with problems has no plan;
* every problem's pointer is a well-formed RFC 6901 pointer that lies inside
  the document (see :func:`_pointer_problem` for exactly what that means),
  and every line and column lies inside the text.

And compiling is deterministic: the same text gives the same report and
byte-identical plan JSON, a plan survives ``to_json``/``from_json``, and the
plan depends neither on the order of mapping keys nor on whether the same
data was written as YAML or JSON, nor on the interpreter's hash seed.

Every test is derandomized and uses no example database, so CI runs the
same examples every time.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from cool.errors import TemplateInvalidError
from cool.model import Plan
from cool.template.compile import Report, check
from cool.template.functions import SUPPORTED, UNSUPPORTED
from cool.template.parse import parse
from cool.template.problems import Code

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))

Draw = Callable[[st.SearchStrategy[Any]], Any]
TreePath = tuple[str | int, ...]


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        # No explain phase: it re-runs a failing test hundreds of times (a minute here).
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# -- the valid templates everything starts from ----------------------------

UTILITY_TEMPLATES = {
    "inline-functions": """\
heat_template_version: 2018-08-31
description: Every supported function, over utility resources only.
parameters:
  name: {type: string, default: world, constraints: [{length: {min: 1, max: 20}}]}
  count: {type: number, default: 3, constraints: [{range: {min: 0, max: 10}}]}
  flags: {type: comma_delimited_list, default: "a,b,c"}
  blob: {type: json, default: {k: [1, 2], nested: {deep: x}}}
  enabled: {type: boolean, default: false}
resources:
  first:
    type: OS::Heat::Value
    properties:
      value: {get_param: [blob, k, 0]}
  second:
    type: OS::Heat::Value
    depends_on: [first]
    properties:
      type: string
      value:
        str_replace:
          template: hello NAME from ID
          params:
            NAME: {get_param: name}
            ID: {get_resource: first}
  third:
    type: OS::Heat::None
    depends_on: second
    metadata: {note: {get_param: enabled}}
    properties:
      joined: {list_join: [",", {get_param: flags}, [{get_attr: [second, value]}]]}
      deep: {get_param: [blob, nested, deep]}
      count: {get_param: count}
outputs:
  joined: {value: {get_attr: [third, show]}, description: all of third}
  name: {value: {get_param: OS::stack_name}}
""",
    "inline-random": """\
heat_template_version: rocky
parameters:
  length: {type: number, default: 12}
resources:
  secret:
    type: OS::Heat::RandomString
    deletion_policy: Retain
    properties:
      length: {get_param: length}
      character_classes: [{class: digits, min: 2}, {class: uppercase}]
      character_sequences: [{sequence: "!@#", min: 1}]
  check:
    type: OS::Heat::TestResource
    properties:
      value: {get_attr: [secret, value]}
      wait_secs: 0
      action_wait_secs: {create: 1, delete: 0}
outputs:
  secret: {value: {get_attr: [secret, value]}}
  check: {value: {list_join: ["-", [{get_attr: [check, output]}, {get_resource: check}]]}}
""",
    "inline-required": """\
heat_template_version: 2021-04-16
parameters:
  who: {type: string}
  tags: {type: comma_delimited_list, default: []}
resources:
  hello:
    type: OS::Heat::Value
    properties:
      value: {str_replace: {template: hi W, params: {W: {get_param: who}}}}
  later:
    type: OS::Heat::None
    depends_on: [hello]
outputs:
  hello: {value: {get_attr: [hello, value]}}
""",
}


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader without timestamps: dates stay strings, as cool reads them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
}


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


SEED_TEXTS: dict[str, str] = {
    **{path.name: path.read_text(encoding="utf-8") for path in EXAMPLES},
    **UTILITY_TEMPLATES,
}
SEEDS: dict[str, dict[str, Any]] = {name: _load(text) for name, text in SEED_TEXTS.items()}
# Smallest first, so that failing examples shrink towards the smallest template.
SEED_NAMES = sorted(SEEDS, key=lambda name: len(SEED_TEXTS[name]))


def test_seeds_are_valid(registry):
    """The starting points are valid, so what a mutation breaks is the mutation's doing."""
    assert len(EXAMPLES) == 5
    for name, text in SEED_TEXTS.items():
        report = check(text, registry, {"who": "you"} if name == "inline-required" else {})
        assert report.problems == (), name
        assert report.plan is not None, name


# -- serialising -------------------------------------------------------------

FORMATS = ("yaml", "yaml-flow", "json", "json-ascii")


def _dump(doc: Any, fmt: str) -> str:
    if fmt == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if fmt == "yaml-flow":
        # Text that starts with "{" is JSON (as in Heat), so the comment keeps this YAML.
        flow = yaml.safe_dump(doc, sort_keys=False, default_flow_style=True, width=60)
        return "# flow style\n" + flow
    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False, indent=2)
    return json.dumps(doc)  # ASCII, astral characters as surrogate pairs


def _written(text: str, fmt: str) -> Any:
    """The data ``text`` holds, read by PyYAML (libyaml) or by :mod:`json`.

    Pointers are resolved in this rather than in the data that was dumped:
    PyYAML's emitter does not round-trip every string (a "-" followed by
    U+0085 comes back as "- "), and that is no concern of cool's.
    """
    return json.loads(text) if fmt.startswith("json") else _load(text)


# -- random data ---------------------------------------------------------------

NASTY_KEYS = (
    "",
    " ",
    "~",
    "/",
    "~0",
    "~1",
    "a/b",
    "a~b",
    "~01",
    "0",
    "-1",
    "<<",
    "on",
    "null",
    "é",
    "\u2028",
    "\x00",
)
# Characters where YAML and JSON part ways: line breaks only YAML has (NEL, LS, PS),
# characters YAML must not contain raw (DEL, C1 controls), and what JSON escapes as
# surrogate pairs (astral characters).
NASTY_STRINGS = ("a\x85b", "\u2028", "a\u2029", "\x7f", "\x9c", "\U0001f600", "\r", "\t", "\ufeff")
KNOWN_WORDS = (
    "heat_template_version",
    "description",
    "parameters",
    "parameter_groups",
    "resources",
    "outputs",
    "conditions",
    "type",
    "properties",
    "depends_on",
    "deletion_policy",
    "metadata",
    "update_policy",
    "value",
    "default",
    "constraints",
    "hidden",
    "get_param",
    "get_attr",
    "get_resource",
    "str_replace",
    "list_join",
    "repeat",
    "template",
    "params",
)
KEYS = st.one_of(st.text(max_size=10), st.sampled_from(NASTY_KEYS), st.sampled_from(KNOWN_WORDS))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(("", "Delete", "Retain", "OS::Heat::None", "2018-08-31", "1e5", "yes")),
    st.sampled_from(NASTY_STRINGS),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
# Data that is never taken for a function call (a one-key mapping naming one).
DATA_KEYS = KEYS.filter(lambda key: key not in SUPPORTED and key not in UNSUPPORTED)
DATA_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(DATA_KEYS, inner, max_size=3)
    ),
    max_leaves=8,
)


def _values(seed: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Values for some of the seed's parameters, sometimes for an undeclared one too."""
    names = sorted(seed.get("parameters") or {})
    value = st.one_of(
        SCALARS,
        st.lists(st.text(max_size=4), max_size=3),
        st.sampled_from(("a,b", "3", "true", "world", '{"k": [1]}', "10.10.0.0/24")),
        JSON_VALUES,
    )
    given = st.dictionaries(st.sampled_from(names), value) if names else st.just({})
    extra = st.dictionaries(st.text(min_size=1, max_size=6), value, max_size=1)
    return st.one_of(given, st.builds(lambda a, b: {**a, **b}, given, extra))


# -- paths into data -----------------------------------------------------------


def _nodes(doc: Any) -> list[TreePath]:
    """The path of every node of ``doc``, the root first."""
    out: list[TreePath] = []
    stack: list[tuple[TreePath, Any]] = [((), doc)]
    while stack:
        path, node = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(node))))
    return out


def _get(doc: Any, path: TreePath) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def _set(doc: Any, path: TreePath, value: Any) -> Any:
    """``doc`` with the node at ``path`` replaced (the root if ``path`` is empty)."""
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _members(doc: Any) -> list[TreePath]:
    """Paths of the members of mappings."""
    return [p for p in _nodes(doc) if p and isinstance(_get(doc, p[:-1]), dict)]


def _resource_bodies(doc: Any) -> dict[str, dict[str, Any]]:
    resources = doc.get("resources") if isinstance(doc, dict) else None
    if not isinstance(resources, dict):
        return {}
    return {name: body for name, body in resources.items() if isinstance(body, dict)}


def _reference_name(node: Any) -> str | None:
    """The resource a get_resource/get_attr node names, if it is one."""
    if isinstance(node, dict) and len(node) == 1:
        ((fname, args),) = node.items()
        if fname == "get_resource" and isinstance(args, str):
            return args
        if fname == "get_attr" and isinstance(args, list) and args and isinstance(args[0], str):
            return args[0]
    return None


# -- mutations of data -------------------------------------------------------


def _delete(draw: Draw, doc: Any) -> Any:
    paths = [p for p in _nodes(doc) if p]
    if paths:
        path = draw(st.sampled_from(paths))
        del _get(doc, path[:-1])[path[-1]]
    return doc


def _replace(draw: Draw, doc: Any) -> Any:
    return _set(doc, draw(st.sampled_from(_nodes(doc))), draw(JSON_VALUES))


def _rename(draw: Draw, doc: Any) -> Any:
    members = _members(doc)
    if members:
        path = draw(st.sampled_from(members))
        parent = _get(doc, path[:-1])
        new = draw(KEYS)
        items = [(new if key == path[-1] else key, value) for key, value in parent.items()]
        parent.clear()
        parent.update(items)
    return doc


def _insert(draw: Draw, doc: Any) -> Any:
    """A random key into a mapping, or a random item into a list."""
    containers = [p for p in _nodes(doc) if isinstance(_get(doc, p), dict | list)]
    if not containers:
        return doc
    path = draw(st.sampled_from(containers))
    container = _get(doc, path)
    existing = [copy.deepcopy(_get(doc, p)) for p in _nodes(doc) if p]
    value = draw(st.one_of(JSON_VALUES, st.sampled_from(existing))) if existing else None
    at = draw(st.integers(0, len(container)))
    if isinstance(container, list):
        container.insert(at, value)
        return doc
    items = list(container.items())
    items.insert(at, (draw(KEYS), value))
    container.clear()
    container.update(items)
    return doc


def _dangling_reference(draw: Draw, doc: Any) -> Any:
    """A reference to a resource that does not exist, somewhere in the template."""
    bodies = _resource_bodies(doc)
    ghost = draw(
        st.one_of(st.sampled_from(("ghost", "Web", "web ", "", "a/b~c")), st.text(max_size=8))
    )
    if ghost in bodies:
        ghost += "-ghost"
    how = draw(st.sampled_from(("copy", "get_resource", "get_attr", "depends_on")))
    if how == "depends_on" and bodies:
        body = bodies[draw(st.sampled_from(sorted(bodies)))]
        existing = body.get("depends_on")
        if isinstance(existing, list):
            existing.insert(draw(st.integers(0, len(existing))), ghost)
        elif isinstance(existing, str):
            body["depends_on"] = [existing, ghost]
        else:
            body["depends_on"] = ghost
        return doc
    references = [p for p in _nodes(doc) if _reference_name(_get(doc, p)) is not None]
    if how == "copy" and references:
        reference = copy.deepcopy(_get(doc, draw(st.sampled_from(references))))
        if "get_resource" in reference:
            reference["get_resource"] = ghost
        else:
            reference["get_attr"][0] = ghost
    elif how == "get_attr":
        reference = {"get_attr": [ghost, draw(st.sampled_from(("value", "show", "x")))]}
    else:
        reference = {"get_resource": ghost}
    where = [p for p in _nodes(doc) if p]
    if not where:
        return doc
    return _set(doc, draw(st.sampled_from(where)), reference)


def _swap(draw: Draw, doc: Any) -> Any:
    paths = [p for p in _nodes(doc) if p]
    if len(paths) < 2:
        return doc
    a = draw(st.sampled_from(paths))
    others = [p for p in paths if p[: len(a)] != a and a[: len(p)] != p]
    if not others:
        return doc
    b = draw(st.sampled_from(others))
    value_a, value_b = _get(doc, a), _get(doc, b)
    _set(doc, a, value_b)
    return _set(doc, b, value_a)


WRAPPERS: dict[str, Callable[[Any, str, str], Any]] = {
    "get_param": lambda v, r, p: {"get_param": v},
    "get_param path": lambda v, r, p: {"get_param": [p, v]},
    "get_param pseudo path": lambda v, r, p: {"get_param": ["OS::stack_id", v]},
    "get_resource": lambda v, r, p: {"get_resource": v},
    "get_attr bare": lambda v, r, p: {"get_attr": v},
    "get_attr name": lambda v, r, p: {"get_attr": [v, "value"]},
    "get_attr attribute": lambda v, r, p: {"get_attr": [r, v]},
    "get_attr path": lambda v, r, p: {"get_attr": [r, "show", v]},
    "str_replace template": lambda v, r, p: {
        "str_replace": {"template": v, "params": {"$x": {"get_resource": r}}}
    },
    "str_replace params": lambda v, r, p: {"str_replace": {"template": "a $x", "params": v}},
    "str_replace bare": lambda v, r, p: {"str_replace": v},
    "list_join": lambda v, r, p: {"list_join": [",", v]},
    "list_join delimiter": lambda v, r, p: {"list_join": [v, ["a"]]},
    "list_join bare": lambda v, r, p: {"list_join": v},
    "repeat": lambda v, r, p: {"repeat": {"for_each": {"%x%": v}, "template": "%x%"}},
    "Fn::Join": lambda v, r, p: {"Fn::Join": ["", [v]]},
    "if": lambda v, r, p: {"if": ["c", v, None]},
    "get_file": lambda v, r, p: {"get_file": v},
    "list": lambda v, r, p: [v],
    "mapping": lambda v, r, p: {"value": v},
}


def _wrap(draw: Draw, doc: Any) -> Any:
    """A node wrapped into a function call (or a list, or a mapping)."""
    path = draw(st.sampled_from(_nodes(doc)))
    resource = draw(st.sampled_from(sorted(_resource_bodies(doc)) or ["nothing"]))
    parameters = doc.get("parameters") if isinstance(doc, dict) else None
    names = sorted(parameters) if isinstance(parameters, dict) and parameters else ["nothing"]
    wrapper = WRAPPERS[draw(st.sampled_from(sorted(WRAPPERS)))]
    return _set(doc, path, wrapper(_get(doc, path), resource, draw(st.sampled_from(names))))


def _cycle(draw: Draw, doc: Any) -> Any:
    """A ring of 1 to 4 resources, each depending on the next."""
    bodies = _resource_bodies(doc)
    if not bodies:
        return doc
    ring = draw(st.lists(st.sampled_from(sorted(bodies)), min_size=1, max_size=4, unique=True))
    for index, name in enumerate(ring):
        target = ring[(index + 1) % len(ring)]
        body = bodies[name]
        how = draw(st.sampled_from(("depends_on", "metadata", "properties")))
        properties = body.get("properties")
        if how == "properties" and isinstance(properties, dict):
            properties[draw(st.sampled_from(("value", "ref", *properties)))] = {
                "get_attr": [target, "show"]
            }
        elif how == "metadata":
            body["metadata"] = {"after": {"get_resource": target}}
        else:
            existing = body.get("depends_on")
            if isinstance(existing, list):
                existing.append(target)
            else:
                body["depends_on"] = target if existing is None else [existing, target]
    return doc


def _deep_nest(draw: Draw, doc: Any) -> Any:
    """A node buried under about as many levels as the parser allows."""
    path = draw(st.sampled_from(_nodes(doc)))
    value = _get(doc, path)
    for _ in range(draw(st.integers(55, 70))):
        value = [value] if draw(st.booleans()) else {"k": value}
    return _set(doc, path, value)


MUTATIONS: dict[str, Callable[[Draw, Any], Any]] = {
    "delete": _delete,
    "replace": _replace,
    "rename": _rename,
    "insert": _insert,
    "dangling reference": _dangling_reference,
    "swap": _swap,
    "wrap": _wrap,
    "cycle": _cycle,
    "deep nest": _deep_nest,
}


def _mutated(draw: Draw) -> tuple[str, Any]:
    """A seed's name and its data after one to three mutations."""
    name = draw(st.sampled_from(SEED_NAMES))
    doc = copy.deepcopy(SEEDS[name])
    for _ in range(draw(st.integers(1, 3))):
        mutation = draw(st.sampled_from(sorted(MUTATIONS)))
        note(f"mutation: {mutation}")
        doc = MUTATIONS[mutation](draw, doc)
    return name, doc


# -- what a sound report is -----------------------------------------------------

_TOKEN = re.compile(r"(?:[^~]|~[01])*")
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_ABSENT = object()


def _tokens(pointer: str) -> list[str] | None:
    """The unescaped reference tokens of an RFC 6901 pointer, or None if it is malformed."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        return None
    raw = pointer.split("/")[1:]
    if not all(_TOKEN.fullmatch(token) for token in raw):
        return None
    return [token.replace("~1", "/").replace("~0", "~") for token in raw]


def _step(node: Any, token: str) -> Any:
    """The child ``token`` names, or _ABSENT."""
    if isinstance(node, dict):
        return node.get(token, _ABSENT)
    if isinstance(node, list) and _ARRAY_INDEX.fullmatch(token) and int(token) < len(node):
        return node[int(token)]
    return _ABSENT


def _pointer_problem(pointer: str, doc: Any) -> str | None:
    """Why ``pointer`` is not inside ``doc``, or None when it is.

    A pointer is inside the document when every reference token leads, from
    the root, through an existing mapping key or an in-range list index
    ("" is the root itself); or when all tokens but the last do, the parent
    they reach is a mapping or null, and the last token is a key absent from
    it. That second case is a problem about something missing (a required
    key or property, a parameter given a value but not declared), reported
    where the missing key would be written, in a parent a client can still
    show; null counts as an empty mapping because templates use it so
    ("properties:" with nothing after it). A pointer through any other
    scalar, past the end of a list, or two or more levels under an absent
    key points at nothing a user can find.

    One deliberate exception: a required property of a resource written with
    no ``properties`` at all is reported at ``/resources/R/properties/NAME``
    (where it must be written, as the API's error format shows it), one
    level under the absent ``properties`` key of an existing resource.
    """
    tokens = _tokens(pointer)
    if tokens is None:
        return f"{pointer!r} is not an RFC 6901 pointer"
    node = doc
    for depth, token in enumerate(tokens):
        child = _step(node, token)
        if child is _ABSENT:
            if depth == len(tokens) - 1 and (node is None or isinstance(node, dict)):
                return None  # a missing member of an existing mapping
            if (
                depth == len(tokens) - 2
                and len(tokens) == 4
                and tokens[0] == "resources"
                and token == "properties"
                and isinstance(node, dict)
            ):
                return None  # a required property of a resource without properties
            where = "/".join(tokens[:depth]) or "the root"
            return f"{pointer!r}: nothing at token {depth} ({token!r}) under {where}"
        node = child
    return None


def _pointer_problems(report: Report, doc: Any) -> list[str]:
    return [
        f"{p.code}: {why} ({p.message})"
        for p in report.problems
        if (why := _pointer_problem(p.pointer, doc)) is not None
    ]


def _malformed_pointers(report: Report) -> list[str]:
    return [f"{p.code}: {p.pointer!r}" for p in report.problems if _tokens(p.pointer) is None]


def _lines(text: str | bytes) -> list[str]:
    """The lines of the text as libyaml counts them (an empty last line after a final break)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _LINE_BREAK.split(text)


def _location_problems(report: Report, text: str | bytes) -> list[str]:
    """Every line is a line of the text, every column at most one past its end."""
    lines = _lines(text)
    out = []
    for p in report.problems:
        if p.line is None and p.column is None:
            continue
        if p.line is None or p.column is None:
            out.append(f"{p.code}: line {p.line} column {p.column}: one without the other")
        elif not 1 <= p.line <= len(lines):
            out.append(f"{p.code}: line {p.line} of a {len(lines)}-line text ({p.message})")
        elif not 1 <= p.column <= len(lines[p.line - 1]) + 1:
            width = len(lines[p.line - 1])
            out.append(f"{p.code}: column {p.column} of line {p.line}, {width} long ({p.message})")
    return out


def _outcome_problems(report: Report) -> list[str]:
    """No problems means a plan (unless parameters are missing); problems mean none."""
    if not isinstance(report, Report):
        return [f"check returned {type(report).__name__}, not a Report"]
    if not all(isinstance(p.code, Code) and p.message for p in report.problems):
        return ["a problem without a code or a message"]
    if not report.problems and report.plan is None and not report.missing:
        return ["no problems, no missing parameters, and still no plan"]
    if report.problems and report.plan is not None:
        return ["a plan despite problems"]
    return []


def _show(text: str | bytes, values: Any) -> None:
    note(f"text:\n{text!r}" if isinstance(text, bytes) else f"text:\n{text}")
    note(f"values: {values!r}")


# -- the properties --------------------------------------------------------------


@pytest.mark.slow
@_settings(1000)
@given(data=st.data())
def test_check_is_sound_for_mutated_data(registry, data):
    """Any mutation of a valid template's data, as YAML or JSON: a sound report, no exception."""
    name, doc = _mutated(data.draw)
    fmt = data.draw(st.sampled_from(FORMATS))
    text = _dump(doc, fmt)
    values = data.draw(_values(SEEDS[name]))
    written = _written(text, fmt)
    for given_values in (None, values):
        _show(text, given_values)
        report = check(text, registry, given_values)
        assert _outcome_problems(report) == []
        assert _pointer_problems(report, written) == []
        assert _location_problems(report, text) == []


@pytest.mark.slow
@_settings(800)
@given(data=st.data())
def test_parse_reads_the_data_that_was_written(data):
    """Whatever cool accepts, it reads as the data PyYAML (or json) reads from the text."""
    _, doc = _mutated(data.draw)
    fmt = data.draw(st.sampled_from(FORMATS))
    text = _dump(doc, fmt)
    written = _written(text, fmt)
    note(f"{fmt}:\n{text}")
    try:
        parsed = parse(text).data
    except TemplateInvalidError as exc:
        refused = exc.problems
    else:
        assert parsed == written
        return
    # Valid YAML or JSON data may only be refused for being too deep or not a mapping;
    # or, for text read as YAML (all but JSON objects, as Heat decides), for a
    # character YAML does not allow (DEL, C0/C1 controls), which PyYAML's emitter
    # and json.dumps both write raw.
    allowed = {Code.TOO_DEEP, Code.NOT_A_MAPPING}
    if not text.lstrip(" \t\r\n").startswith("{") and _YAML_FORBIDDEN.search(text):
        allowed.add(Code.SYNTAX)
    assert {p.code for p in refused} <= allowed, refused


# YAML 1.1's printable set is TAB, LF, CR, x20-x7E, NEL, xA0-xD7FF, xE000-xFFFD
# and the astral planes: everything else is refused by libyaml.
_YAML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")

SPECIAL_CHARACTERS = (
    "\x00",
    "\x07",
    "\t",
    "\r",
    "\r\n",
    "\x85",
    "\u2028",
    "\ufeff",
    "\ud800",
    "\U0001f600",
    "{",
    "}",
    "[",
    "]",
    ":",
    ": ",
    "- ",
    "#",
    "'",
    '"',
    "\\",
    "&a ",
    "*a",
    "!!python/object ",
    "!foo ",
    "<<: ",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "\n  ",
    "\n",
    ",",
    "?",
    "|",
    ">",
    "@",
    "`",
    ".inf",
    "1e400",
    "NaN",
)
CONTROL_CHARACTERS = st.characters(codec=None, categories=["Cc", "Cs", "Zl", "Zp", "Cf"])
SPECIAL_BYTES = (
    b"\xff",
    b"\xfe",
    b"\xc3",
    b"\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\x1b",
)


def _text_seeds() -> dict[str, str]:
    """Each seed as written, as JSON and in YAML's flow style; smallest first."""
    out = dict(SEED_TEXTS)
    out.update({f"{name} ({fmt})": _dump(SEEDS[name], fmt) for name in SEEDS for fmt in FORMATS})
    return dict(sorted(out.items(), key=lambda item: len(item[1])))


TEXT_SEEDS = _text_seeds()


def _mutated_text(draw: Draw) -> str | bytes:
    text = TEXT_SEEDS[draw(st.sampled_from(list(TEXT_SEEDS)))]
    as_bytes = draw(st.booleans())
    subject: str | bytes = text.encode("utf-8") if as_bytes else text
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(subject)))
        how = draw(st.sampled_from(("truncate", "insert", "delete span")))
        note(f"text mutation: {how} at {at}")
        if how == "truncate":
            subject = subject[:at]
        elif how == "delete span":
            subject = subject[:at] + subject[at + draw(st.integers(1, 40)) :]
        elif isinstance(subject, bytes):
            insert = draw(
                st.one_of(st.binary(min_size=1, max_size=4), st.sampled_from(SPECIAL_BYTES))
            )
            subject = subject[:at] + insert + subject[at:]
        else:
            insert = draw(
                st.one_of(
                    st.text(min_size=1, max_size=4),
                    st.text(CONTROL_CHARACTERS, min_size=1, max_size=3),
                    st.sampled_from(SPECIAL_CHARACTERS),
                )
            )
            subject = subject[:at] + insert + subject[at:]
    return subject


@pytest.mark.slow
@_settings(3000)
@given(data=st.data())
def test_check_is_sound_for_mutated_text(registry, data):
    """Truncated text, random characters and bytes: a sound report, no exception.

    When the text still parses, its pointers must lie inside the document cool
    read; when it does not, there is no document, and pointers need only be
    well formed.
    """
    text = _mutated_text(data.draw)
    try:
        doc: Any = parse(text).data
    except TemplateInvalidError:
        doc = _ABSENT
    for given_values in (None, {}):
        _show(text, given_values)
        report = check(text, registry, given_values)
        assert _outcome_problems(report) == []
        assert _malformed_pointers(report) == []
        if doc is not _ABSENT:
            assert _pointer_problems(report, doc) == []
        assert _location_problems(report, text) == []


# -- determinism --------------------------------------------------------------


def _still_valid(draw: Draw) -> tuple[str, Any, dict[str, Any]]:
    """A seed with changes that keep it valid: new descriptions, values and outputs."""
    name = draw(st.sampled_from(SEED_NAMES))
    doc = copy.deepcopy(SEEDS[name])
    doc["description"] = draw(st.text(max_size=30))
    for body in _resource_bodies(doc).values():
        if body.get("type") == "OS::Heat::Value" and draw(st.booleans()):
            body["properties"]["value"] = draw(DATA_VALUES.filter(lambda v: v is not None))
        elif body.get("type") == "OS::Heat::None" and draw(st.booleans()):
            body["properties"] = draw(st.dictionaries(DATA_KEYS, DATA_VALUES, max_size=4))
    outputs = doc.setdefault("outputs", {})
    for key in draw(st.lists(st.text(min_size=1, max_size=8), max_size=2, unique=True)):
        outputs[key] = {"value": draw(DATA_VALUES), "description": draw(st.text(max_size=10))}
    values = {"who": draw(st.text(min_size=1, max_size=10))} if name == "inline-required" else {}
    return name, doc, values


def _shuffled(draw: Draw, node: Any) -> Any:
    """``node`` with the keys of every mapping in a random order (lists keep theirs)."""
    if isinstance(node, list):
        return [_shuffled(draw, item) for item in node]
    if not isinstance(node, dict):
        return node
    keys = draw(st.permutations(list(node)))
    return {key: _shuffled(draw, node[key]) for key in keys}


def _plan_json(report: Report) -> str | None:
    return report.plan.to_json() if report.plan is not None else None


@pytest.mark.slow
@_settings(400)
@given(data=st.data())
def test_check_is_deterministic(registry, data):
    """The same text twice: the same problems and byte-identical plan JSON that round-trips."""
    if data.draw(st.booleans()):
        _, doc, values = _still_valid(data.draw)
    else:
        name, doc = _mutated(data.draw)
        values = data.draw(_values(SEEDS[name]))
    text = _dump(doc, data.draw(st.sampled_from(FORMATS)))
    _show(text, values)
    first, second = check(text, registry, values), check(text, registry, values)
    assert first.problems == second.problems
    assert _plan_json(first) == _plan_json(second)
    if first.plan is not None:
        serialised = first.plan.to_json()
        again = Plan.from_json(serialised)
        assert again == first.plan
        assert again.to_json() == serialised


@pytest.mark.slow
@_settings(300)
@given(data=st.data())
def test_plan_does_not_depend_on_key_order(registry, data):
    """Re-ordering the keys of every mapping changes nothing in the plan.

    (Whether each text is accepted at all is the business of the tests above;
    here both texts hold the same data, so both must give the same plan.)
    """
    _, doc, values = _still_valid(data.draw)
    fmt = data.draw(st.sampled_from(FORMATS))
    text = _dump(doc, fmt)
    reordered = _dump(_shuffled(data.draw, doc), fmt)
    _show(text, values)
    _show(reordered, values)
    assert _plan_json(check(reordered, registry, values)) == _plan_json(
        check(text, registry, values)
    )


@pytest.mark.slow
@_settings(300)
@given(data=st.data())
def test_plan_does_not_depend_on_yaml_or_json(registry, data):
    """The same data written as YAML or as JSON gives the same plan.

    Only texts that hold the data faithfully are compared: PyYAML's emitter
    does not round-trip every string, and that is no concern of cool's.
    """
    _, doc, values = _still_valid(data.draw)
    outcomes = {}
    for fmt in FORMATS:
        text = _dump(doc, fmt)
        if _written(text, fmt) == doc:
            _show(text, values)
            report = check(text, registry, values)
            outcomes[fmt] = _plan_json(report) or [p.message for p in report.problems]
    assert outcomes == dict.fromkeys(outcomes, outcomes["json"])


_COMPILE_SEEDS = """
import json, sys
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
registry = ResourceTypeRegistry.load()
out = {}
for name, (text, values) in json.load(sys.stdin).items():
    report = check(text, registry, values)
    out[name] = report.plan.to_json() if report.plan is not None else repr(report.problems)
print(json.dumps(out, sort_keys=True))
"""


def test_plan_does_not_depend_on_the_hash_seed():
    """Sets of names (depends_on, references) must never leak their order into a plan."""
    request = json.dumps(
        {
            name: [text, {"who": "you"} if name == "inline-required" else {}]
            for name, text in SEED_TEXTS.items()
        }
    )
    plans = []
    for seed in ("0", "1", "4242"):
        done = subprocess.run(
            [sys.executable, "-c", _COMPILE_SEEDS],
            input=request,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        plans.append(json.loads(done.stdout))
    assert all(plan.startswith("{") for plan in plans[0].values()), plans[0]
    assert plans[1] == plans[0]
    assert plans[2] == plans[0]
