"""Template text -> a :class:`Document`: plain data plus where every node is.

libyaml's event stream is read directly (no PyYAML composer or constructor),
which lets the parser refuse what a template must never contain before it is
ever built in memory: explicit tags, over-deep nesting and alias bombs (the
expanded size of every anchor is known as soon as the anchor ends, so a
"billion laughs" document is refused after reading a few lines). A key written
twice in one mapping is not refused: the last counts, as in Heat.

JSON is what Heat takes when the text starts with ``{``: it is checked with
:mod:`json` first (for JSON's own error messages), then read through the same
event stream so that it gets the same locations and refusals.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from cool.errors import TemplateInvalidError, TemplateTooLargeError
from cool.template import numbers
from cool.template.lines import clamp, line_column
from cool.template.parse_json import JsonBuilder
from cool.template.problems import Code, Path, Problem, Problems, dotted, pointer
from cool.template.quoting import quote

try:
    _Parser: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = yaml.SafeLoader

_resolver = Resolver()
_constructor = SafeConstructor()

DEFAULT_MAX_SIZE = 512 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What a template may weigh. Defaults follow Heat where Heat has one."""

    max_size: int = DEFAULT_MAX_SIZE  # bytes of UTF-8 text, like Heat's max_template_size
    max_depth: int = 64  # nesting of mappings and sequences
    max_nodes: int = 250_000  # nodes after expanding aliases
    max_resources: int = 1000  # one template's own, like Heat's max_resources_per_stack
    # Nested stacks (cool.template.nested): how deep (Heat's max_nested_stack_depth),
    # and how many resources the whole tree may make (those standing for nested
    # stacks count, as Heat counts a root stack's total; Heat's bound on it is 1000).
    max_stack_depth: int = 5
    max_total_resources: int = 2000
    # What resolving functions may produce (cool.template.budget): one value, and
    # everything one template's resolution (or one run-time resolution) produces.
    max_value_bytes: int = 256 * 1024
    max_resolved_bytes: int = 2 * 1024 * 1024
    # A whole plan: every template of a nested tree (each its own max_resolved_bytes),
    # and the copies a group makes of its members' definitions.
    max_plan_bytes: int = 16 * 1024 * 1024
    # Seconds the yaql expressions of one resolution may run in all (one: 1 s).
    max_yaql_seconds: float = 2.0


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed template: plain JSON-like data and the location of each node.

    ``marks`` maps the path of each mapping and list to the 1-based (line,
    column) of each of its members: for a mapping member, where its key is
    written, which is what a person looks for in an editor. (One entry per
    collection, not per node: locations are only looked up for problems.)
    """

    data: dict[str, Any]
    marks: dict[Path, dict[str | int, tuple[int, int]]] = field(repr=False)
    nodes: int = 0  # nodes counted so far: this document's and the ``spent`` it began with
    # Where problems point: the request's file that holds the text (None: the template
    # itself), and the path of ``data`` inside it (a template written inline in another,
    # as OS::Heat::Stack's ``template`` may be: :meth:`within`).
    file: str | None = None
    at: Path = ()

    def within(self, path: Path, data: dict[str, Any]) -> Document:
        """The mapping at ``path`` of this document, as a document of its own whose
        problems point into this one's text."""
        return Document(data, self.marks, self.nodes, self.file, (*self.at, *path))

    def locate(self, path: Path) -> tuple[int, int]:
        """The location of ``path``, or of its nearest ancestor that exists."""
        path = (*self.at, *path)
        for end in range(len(path), 0, -1):
            members = self.marks.get(path[: end - 1])
            if members is not None and path[end - 1] in members:
                return members[path[end - 1]]
        return 1, 1

    def problem(self, code: Code, message: str, path: Path) -> Problem:
        line, column = self.locate(path)
        return Problem(code, message, pointer((*self.at, *path)), line, column, self.file)


def parse(text: str | bytes, limits: Limits | None = None, *, spent: int = 0) -> Document:
    """Parse template text, or raise :class:`TemplateInvalidError`.

    Size is checked before anything else is done with the text. ``spent``: nodes
    already counted against ``max_nodes`` (a request's template and environments
    share one budget, so many small alias bombs cannot each spend all of it).
    """
    limits = limits or DEFAULT_LIMITS
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(raw) > limits.max_size:
        raise TemplateTooLargeError(
            [
                Problem(
                    Code.TOO_LARGE,
                    f"template is {len(raw)} bytes, over the limit of {limits.max_size} bytes",
                    "",
                )
            ]
        )
    if isinstance(text, bytes):
        text = _decode(text)
    else:
        _check_surrogates(text)
    text = text.removeprefix("\ufeff")  # a byte order mark is not content
    if text.lstrip(" \t\r\n").startswith("{"):  # JSON, as Heat decides it
        builder = JsonBuilder(text, limits.max_depth, limits.max_nodes)
        builder.nodes = spent
        data, marks = builder.build()
        return Document(data, marks, builder.nodes)
    return _Builder(text, limits, spent).build()


def _check_surrogates(text: str) -> None:
    """Refuse text with unpaired surrogates, which no UTF-8 byte string holds."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line, column = line_column(text, exc.start)
        message = f"template text contains an unpaired surrogate at line {line} column {column}"
        raise TemplateInvalidError([Problem(Code.ENCODING, message, "", line, column)]) from None


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Lines and columns count characters, as everywhere else, not bytes.
        before = raw[: exc.start].decode("utf-8", "replace")
        line, column = line_column(before, len(before))
        bad = raw[exc.start : exc.end].hex(" ")
        message = f"template is not valid UTF-8: byte(s) {bad} at line {line} column {column}"
        raise TemplateInvalidError([Problem(Code.ENCODING, message, "", line, column)]) from None


class _FatalError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(slots=True)
class _Frame:
    """A collection being built: its value, path, anchor and node count."""

    value: dict[str, Any] | list[Any]
    path: Path
    anchor: str | None
    size: int = 1
    weight: int = 0  # characters of the scalars and keys it holds, aliases expanded
    key: str | None = None  # a mapping's pending key, once read
    key_mark: tuple[int, int] | None = None
    marks: dict[str | int, tuple[int, int]] = field(default_factory=dict)


class _Builder:
    def __init__(self, text: str, limits: Limits, spent: int = 0) -> None:
        self._text = text
        self._limits = limits
        self._root_mark = (1, 1)
        self._marks: dict[Path, dict[str | int, tuple[int, int]]] = {}
        self._anchors: dict[str, tuple[Any, int, int]] = {}  # value, nodes, weight
        self._aliased = 0  # characters added by expanding aliases
        self._problems = Problems()  # bounded while collecting
        self._stack: list[_Frame] = []
        self._nodes = spent
        self._root: Any = None
        self._documents = 0

    def build(self) -> Document:
        parser = _Parser(self._text)
        try:
            self._run(parser.get_event)
        except yaml.MarkedYAMLError as exc:
            self._problems.append(self._syntax_problem(exc), always=True)
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow
            self._problems.append(
                Problem(
                    Code.SYNTAX,
                    f"invalid YAML: character {quote(exc.character)} is not allowed in YAML text "
                    "(control characters are not)",
                    "",
                    *line_column(self._text, exc.position),
                ),
                always=True,
            )
        except yaml.YAMLError as exc:
            self._problems.append(
                Problem(Code.SYNTAX, f"invalid YAML: {exc}", "", 1, 1), always=True
            )
        except _FatalError as fatal:
            self._problems.append(fatal.problem, always=True)
        finally:
            parser.dispose()
        if self._problems:
            raise TemplateInvalidError(self._problems.all())
        if not isinstance(self._root, dict):
            kind = "empty" if self._root is None else _kind(self._root)
            raise TemplateInvalidError(
                [
                    Problem(
                        Code.NOT_A_MAPPING,
                        f"a template must be a mapping, not {kind}",
                        "",
                        *self._root_mark,
                    )
                ]
            )
        return Document(self._root, self._marks, self._nodes)

    def _run(self, next_event: Callable[[], yaml.Event]) -> None:
        handlers: dict[type, Callable[[Any], None]] = {
            yaml.ScalarEvent: self._scalar,
            yaml.MappingStartEvent: self._start,
            yaml.SequenceStartEvent: self._start,
            yaml.MappingEndEvent: lambda _event: self._end(),
            yaml.SequenceEndEvent: lambda _event: self._end(),
            yaml.AliasEvent: self._alias,
        }
        while True:
            event = next_event()
            if isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.DocumentStartEvent):
                self._documents += 1
                if self._documents > 1:
                    raise _FatalError(
                        Problem(
                            Code.MULTIPLE_DOCUMENTS,
                            "a template is one YAML document; found a second one",
                            "",
                            *_mark(event),
                        )
                    )
            else:
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)

    # -- nodes -----------------------------------------------------------

    def _is_key(self) -> bool:
        """Is the node about to be read a mapping key?"""
        if not self._stack:
            return False
        top = self._stack[-1]
        return top.key is None and isinstance(top.value, dict)

    def _value_path(self) -> Path:
        """The path of the (non-key) node about to be read; built only when needed."""
        if not self._stack:
            return ()
        top = self._stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        assert top.key is not None
        return (*top.path, top.key)

    def _check_tag(self, event: Any, path: Path | None = None) -> None:
        tag = event.tag
        if tag is None or (isinstance(event, yaml.ScalarEvent) and tag == "!"):
            return
        if isinstance(event, yaml.CollectionStartEvent) and event.implicit:
            return
        if path is None:
            path = self._value_path()
        self._problems.append(
            Problem(
                Code.YAML_TAG,
                f"YAML tags are not allowed in templates (found {quote(tag)} at {dotted(path)})",
                pointer(path),
                *_mark(event),
            )
        )

    def _count(self, n: int, event: Any) -> None:
        self._nodes += n
        if self._nodes > self._limits.max_nodes:
            path = self._current_path()
            raise _FatalError(
                Problem(
                    Code.ALIAS_EXPANSION if isinstance(event, yaml.AliasEvent) else Code.TOO_LARGE,
                    f"template expands to more than {self._limits.max_nodes} nodes"
                    + (" through YAML aliases" if isinstance(event, yaml.AliasEvent) else ""),
                    pointer(path),
                    *_mark(event),
                )
            )

    def _current_path(self) -> Path:
        return self._stack[-1].path if self._stack else ()

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        if self._is_key():
            self._key(event)
            return
        self._check_tag(event)
        self._count(1, event)
        value = self._resolve(event)
        self._attach(value, event, 1, len(event.value))

    def _key(self, event: yaml.ScalarEvent) -> None:
        top = self._stack[-1]
        key = event.value
        if event.tag is not None and event.tag != "!":
            self._check_tag(event, (*top.path, key))
        if event.anchor is not None:
            self._problems.append(
                Problem(
                    Code.INVALID_KEY,
                    "anchors on mapping keys are not allowed",
                    pointer((*top.path, key)),
                    *_mark(event),
                )
            )
        if event.implicit[0] and key == "<<":
            raise _FatalError(
                Problem(
                    Code.UNSUPPORTED_FEATURE,
                    "YAML merge keys ('<<') are not supported in templates",
                    pointer(top.path),
                    *_mark(event),
                )
            )
        assert isinstance(top.value, dict)
        # A key written twice in one mapping: the last one counts, as with PyYAML's
        # SafeLoader, which Heat parses templates with (templates in use have them).
        mark = _mark(event)
        top.key = key
        top.key_mark = mark
        top.weight += len(key)

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        if self._is_key():
            top = self._stack[-1]
            raise _FatalError(
                Problem(
                    Code.INVALID_KEY,
                    "mapping keys must be plain strings, not collections",
                    pointer(top.path),
                    *_mark(event),
                )
            )
        path = self._value_path()
        self._check_tag(event, path)
        self._count(1, event)
        if len(self._stack) >= self._limits.max_depth:
            raise _FatalError(
                Problem(
                    Code.TOO_DEEP,
                    f"template is nested deeper than {self._limits.max_depth} levels",
                    pointer(path),
                    *_mark(event),
                )
            )
        value: dict[str, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self._mark_value(event)
        frame = _Frame(value, path, event.anchor)
        self._marks[path] = frame.marks
        self._stack.append(frame)

    def _end(self) -> None:
        frame = self._stack.pop()
        if frame.anchor is not None:
            self._anchors[frame.anchor] = (frame.value, frame.size, frame.weight)
        if not self._stack:
            self._root = frame.value
            return
        self._store(frame.value, frame.size, frame.weight)

    def _alias(self, event: yaml.AliasEvent) -> None:
        if self._is_key():
            top = self._stack[-1]
            raise _FatalError(
                Problem(
                    Code.INVALID_KEY,
                    "aliases cannot be used as mapping keys",
                    pointer(top.path),
                    *_mark(event),
                )
            )
        anchored = self._anchors.get(event.anchor)
        if anchored is None:  # libyaml reports undefined aliases itself; be safe
            raise _FatalError(
                Problem(
                    Code.SYNTAX,
                    f"unknown alias {quote(event.anchor)}",
                    pointer(self._value_path()),
                    *_mark(event),
                )
            )
        value, size, weight = anchored
        self._count(size, event)
        # Shared, an alias costs nothing until something joins or writes it: bound
        # the text it adds by what a whole resolution may produce.
        self._aliased += weight
        if self._aliased > self._limits.max_resolved_bytes:
            raise _FatalError(
                Problem(
                    Code.ALIAS_EXPANSION,
                    f"template expands to more than {self._limits.max_resolved_bytes:,} "
                    "bytes through YAML aliases",
                    pointer(self._value_path()),
                    *_mark(event),
                )
            )
        self._attach(copy.deepcopy(value), event, size, weight)

    def _attach(self, value: Any, event: Any, size: int, weight: int) -> None:
        if getattr(event, "anchor", None) is not None and isinstance(event, yaml.ScalarEvent):
            self._anchors[event.anchor] = (value, 1, weight)
        self._mark_value(event)
        if not self._stack:
            self._root = value
            return
        self._store(value, size, weight)

    def _mark_value(self, event: Any) -> None:
        if not self._stack:
            self._root_mark = _mark(event)
            return
        top = self._stack[-1]
        if isinstance(top.value, dict):
            assert top.key is not None
            assert top.key_mark is not None
            top.marks[top.key] = top.key_mark
        else:
            top.marks[len(top.value)] = _mark(event)

    def _store(self, value: Any, size: int, weight: int) -> None:
        top = self._stack[-1]
        top.size += size
        top.weight += weight
        if isinstance(top.value, list):
            top.value.append(value)
            return
        assert top.key is not None
        top.value[top.key] = value
        top.key = None

    def _resolve(self, event: yaml.ScalarEvent) -> Any:
        if not event.implicit[0]:
            return event.value  # quoted, or tagged (already reported)
        tag = _resolver.resolve(yaml.ScalarNode, event.value, (True, False))
        node = yaml.ScalarNode(tag, event.value)
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            return _constructor.construct_yaml_bool(node)
        if tag == "tag:yaml.org,2002:int":
            # Measured before it is converted: hex, binary, octal and sexagesimal
            # literals become ints of any size, at any cost, without a check.
            if len(event.value) <= numbers.MAX_LITERAL:
                number = _constructor.construct_yaml_int(node)
                if numbers.fits(number):
                    return number
            self._problems.append(
                Problem(
                    Code.INVALID_VALUE,
                    f"{numbers.too_large(event.value)}; quote it to use it as a string",
                    pointer(self._value_path()),
                    *_mark(event),
                )
            )
            return event.value
        if tag == "tag:yaml.org,2002:float":
            number = _constructor.construct_yaml_float(node)
            if not math.isfinite(number):
                self._problems.append(
                    Problem(
                        Code.INVALID_VALUE,
                        f"{quote(event.value)} is not a finite number; quote it to use it as a "
                        "string",
                        pointer(self._value_path()),
                        *_mark(event),
                    )
                )
            return number
        # Timestamps stay strings, as in Heat (heat_template_version: 2013-05-23).
        return event.value

    def _syntax_problem(self, exc: yaml.MarkedYAMLError) -> Problem:
        mark = exc.problem_mark or exc.context_mark
        where = clamp(self._text, mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if exc.problem and "maximum nesting depth" in exc.problem:
            return Problem(
                Code.TOO_DEEP,
                f"template is nested deeper than {self._limits.max_depth} levels",
                pointer(self._current_path()),
                *where,
            )
        parts = [p for p in (exc.context, exc.problem) if p]
        message = "invalid YAML: " + ("; ".join(parts) if parts else str(exc))
        return Problem(Code.SYNTAX, message, pointer(self._current_path()), *where)


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"
