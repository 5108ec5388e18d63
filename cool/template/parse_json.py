"""JSON template text -> a :class:`~cool.template.parse.Document`, located.

Heat reads a template that starts with ``{`` as JSON, so cool does too,
with JSON's own rules (not YAML's, which differ on escapes, control
characters and line breaks inside strings). Strings are decoded by
:func:`json.decoder.scanstring` (the C scanner); the structure is walked
iteratively, so nesting is refused at the configured depth with its
location, never by running out of stack.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from json.decoder import JSONDecodeError, scanstring
from typing import Any

from cool.errors import TemplateInvalidError
from cool.template import numbers
from cool.template.lines import LineIndex
from cool.template.problems import Code, Path, Problem, Problems, pointer

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_LITERALS = {"true": True, "false": False, "null": None}
_NOT_FINITE = ("NaN", "-Infinity", "Infinity")
_OPEN = object()  # begin_value pushed a container


class _StopError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass(slots=True)
class _Frame:
    value: dict[str, Any] | list[Any]
    path: Path
    state: str  # object: key, colon, value, comma; array: value, comma
    first: bool = True  # nothing read yet: the closing bracket may come at once
    key: str = ""
    key_mark: tuple[int, int] = (1, 1)
    marks: dict[str | int, tuple[int, int]] = field(default_factory=dict)


class JsonBuilder:
    def __init__(self, text: str, max_depth: int, max_nodes: int) -> None:
        self.text = text
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.where = LineIndex(text)
        self.marks: dict[Path, dict[str | int, tuple[int, int]]] = {}
        self.problems = Problems()  # bounded while collecting
        self.stack: list[_Frame] = []
        self.nodes = 0

    def build(self) -> tuple[Any, dict[Path, dict[str | int, tuple[int, int]]]]:
        try:
            root = self._run()
        except _StopError as stop:
            self.problems.append(stop.problem, always=True)
            root = None
        if self.problems:
            raise TemplateInvalidError(self.problems.all())
        return root, self.marks

    # -- helpers ----------------------------------------------------------------

    def _ws(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def _stop(self, code: Code, message: str, pos: int, path: Path) -> _StopError:
        return _StopError(Problem(code, message, pointer(path), *self.where(pos)))

    def _syntax(self, expected: str, pos: int, path: Path) -> _StopError:
        found = repr(self.text[pos]) if pos < len(self.text) else "the end of the text"
        return self._stop(
            Code.SYNTAX, f"invalid JSON: expected {expected}, found {found}", pos, path
        )

    # -- the walk -----------------------------------------------------------------

    def _run(self) -> Any:
        pos = self._ws(0)
        root, pos = self._begin_value(pos, ())
        while self.stack:
            pos = self._step(self._ws(pos))
            if not self.stack:
                break
        if not self.stack and root is _OPEN:
            root = self._root
        pos = self._ws(pos)
        if pos < len(self.text):
            raise self._syntax("the end of the document", pos, ())
        return root

    def _step(self, pos: int) -> int:
        frame = self.stack[-1]
        text = self.text
        char = text[pos : pos + 1]
        if isinstance(frame.value, dict):
            if frame.state == "key":
                if char == "}" and frame.first:
                    return self._close(pos)
                if char != '"':
                    raise self._syntax("a key in double quotes", pos, frame.path)
                key, end = self._string(pos, frame.path)
                self._key(frame, key, pos)
                frame.state = "colon"
                return end
            if frame.state == "colon":
                if char != ":":
                    raise self._syntax("':' after the key", pos, (*frame.path, frame.key))
                frame.state = "value"
                return pos + 1
            if frame.state == "value":
                frame.first = False
                frame.state = "comma"
                value, end = self._begin_value(pos, (*frame.path, frame.key))
                if value is not _OPEN:
                    self._store(frame, value)
                return end
            if char == ",":
                frame.state = "key"
                return pos + 1
            if char == "}":
                return self._close(pos)
            raise self._syntax("',' or '}' after an object member", pos, frame.path)
        if frame.state == "value":
            if char == "]" and frame.first:
                return self._close(pos)
            frame.first = False
            frame.state = "comma"
            value, end = self._begin_value(pos, (*frame.path, len(frame.value)))
            if value is not _OPEN:
                self._store(frame, value)
            return end
        if char == ",":
            frame.state = "value"
            return pos + 1
        if char == "]":
            return self._close(pos)
        raise self._syntax("',' or ']' after a list item", pos, frame.path)

    def _key(self, frame: _Frame, key: str, pos: int) -> None:
        """A key written twice in one object: the last one counts, as with Python's
        ``json`` module, which Heat parses JSON templates with."""
        mark = self.where(pos)
        assert isinstance(frame.value, dict)
        frame.key = key
        frame.key_mark = mark

    def _mark(self, pos: int) -> None:
        """Where the value about to be read is, in its parent."""
        if not self.stack:
            return
        frame = self.stack[-1]
        if isinstance(frame.value, dict):
            frame.marks[frame.key] = frame.key_mark
        else:
            frame.marks[len(frame.value)] = self.where(pos)

    def _count(self, pos: int, path: Path) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise self._stop(
                Code.TOO_LARGE, f"template has more than {self.max_nodes} nodes", pos, path
            )

    def _begin_value(self, pos: int, path: Path) -> tuple[Any, int]:
        text = self.text
        char = text[pos : pos + 1]
        self._count(pos, path)
        if char in ("{", "["):
            if len(self.stack) >= self.max_depth:
                raise self._stop(
                    Code.TOO_DEEP,
                    f"template is nested deeper than {self.max_depth} levels",
                    pos,
                    path,
                )
            self._mark(pos)
            frame = _Frame({} if char == "{" else [], path, "key" if char == "{" else "value")
            self.marks[path] = frame.marks
            self.stack.append(frame)
            return _OPEN, pos + 1
        self._mark(pos)
        if char == '"':
            return self._string(pos, path)
        number = _NUMBER.match(text, pos)
        if number:
            literal = number.group(0)
            if number.group(1) is None and number.group(2) is None:
                if len(literal.lstrip("-")) > numbers.MAX_DIGITS:  # before int() reads it
                    raise self._stop(
                        Code.INVALID_VALUE,
                        f"{numbers.too_large(literal)}; quote it to use it as a string",
                        pos,
                        path,
                    )
                return int(literal), number.end()
            value = float(literal)
            if not math.isfinite(value):
                raise self._stop(Code.INVALID_VALUE, f"{literal} is not a finite number", pos, path)
            return value, number.end()
        for word, value in _LITERALS.items():
            if text.startswith(word, pos):
                return value, pos + len(word)
        for word in _NOT_FINITE:
            if text.startswith(word, pos):
                raise self._stop(Code.INVALID_VALUE, f"{word} is not a finite number", pos, path)
        raise self._syntax("a value", pos, path)

    def _string(self, pos: int, path: Path) -> tuple[str, int]:
        try:
            value, end = scanstring(self.text, pos + 1, True)
        except JSONDecodeError as exc:
            raise self._stop(Code.SYNTAX, f"invalid JSON: {exc.msg}", exc.pos, path) from None
        surrogate = _SURROGATE.search(value)
        if surrogate is not None:
            raise self._stop(
                Code.ENCODING,
                "a string holds an unpaired surrogate escape (\\ud800 to \\udfff), "
                "which is not text",
                pos,
                path,
            )
        return value, end

    def _store(self, frame: _Frame, value: Any) -> None:
        if isinstance(frame.value, list):
            frame.value.append(value)
        else:
            frame.value[frame.key] = value

    def _close(self, pos: int) -> int:
        frame = self.stack.pop()
        if self.stack:
            self._store(self.stack[-1], frame.value)
        else:
            self._root = frame.value
        return pos + 1

    _root: Any = None
