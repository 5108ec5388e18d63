"""Lines and columns the way YAML counts them, for every location cool reports.

YAML (and so libyaml's marks) breaks lines at CR LF, CR, LF, NEL (U+0085),
LS (U+2028) and PS (U+2029). Every location cool computes itself (JSON
errors, encoding errors) and every line it shows back to a user uses the
same rule, so a line:column always points where the user looks.
"""

from __future__ import annotations

import bisect
import re

_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their breaks (a final break ends the last line)."""
    lines = _BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


class LineIndex:
    """Maps character offsets to 1-based (line, column) in O(log n)."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(m.end() for m in _BREAK.finditer(text))]
        self._length = len(text)

    def __call__(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, self._length))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    @property
    def lines(self) -> int:
        """How many lines there are (a final break does not start another)."""
        starts = len(self._starts)
        return starts - 1 if starts > 1 and self._starts[-1] == self._length else starts


def line_column(text: str, offset: int) -> tuple[int, int]:
    return LineIndex(text)(offset)


def clamp(text: str, line: int, column: int) -> tuple[int, int]:
    """A location inside ``text``: libyaml reports end-of-stream one line past the end."""
    index = LineIndex(text)
    if line <= index.lines:
        return line, column
    last = split_lines(text)[-1] if text else ""
    return max(index.lines, 1), len(last) + 1
