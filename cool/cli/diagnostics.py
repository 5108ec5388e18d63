"""Template problems shown as a compiler shows them: where, what, and the line."""

from __future__ import annotations

from collections.abc import Iterable

from cool.errors import CoolError
from cool.template.lines import split_lines
from cool.template.problems import Problem


class ReportedError(CoolError):
    """Problems were already shown to the user; this is the one-line summary (cliff
    prints it and the command exits 1)."""

    code = "cool.cli.reported"
    title = "Command failed"


def render(problems: Iterable[Problem], filename: str, text: str | None) -> str:
    """``file:line:col: code: message``, then the offending line with a caret."""
    lines = split_lines(text) if text is not None else []
    out: list[str] = []
    for problem in sorted(problems, key=lambda p: (p.line or 0, p.column or 0, p.pointer, p.code)):
        where = f"{filename}:{problem.line}:{problem.column}" if problem.line else filename
        pointer = f" [{problem.pointer}]" if problem.pointer else ""
        out.append(f"{where}: {problem.code}: {problem.message}{pointer}")
        if problem.line and 0 < problem.line <= len(lines):
            source = lines[problem.line - 1].replace("\t", " ")
            out.append(f"  {source}")
            out.append("  " + " " * max((problem.column or 1) - 1, 0) + "^")
    return "\n".join(out)
