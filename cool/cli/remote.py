"""What every command that talks to cool-api shares: API errors shown one line per
problem (template problems located in the user's file), never as a traceback."""

from __future__ import annotations

import argparse
import json
from typing import Any

from cool.cli.client import ApiError, ApiProblem, ApiUnreachableError, CoolClient
from cool.cli.diagnostics import ReportedError, render
from cool.template.problems import Problem

# Problems whose pointer is into the template (DESIGN.md section 8).
_TEMPLATE_CODES = ("cool.template.", "cool.parameter.")


class RemoteMixin:
    """For cliff commands: ``self.client`` and :meth:`reported`."""

    app: Any

    @property
    def client(self) -> CoolClient:
        return self.app.client

    def reported(
        self,
        exc: ApiError | ApiUnreachableError,
        filename: str | None = None,
        text: str | None = None,
        sources: dict[str, tuple[str, str]] | None = None,
    ) -> ReportedError:
        """The error to raise for ``exc``: its one line, or the summary of the
        problems written to stderr first (one line each, template ones located)."""
        if isinstance(exc, ApiUnreachableError):
            return ReportedError(str(exc))
        request = f", request {exc.request_id}" if exc.request_id else ""
        suffix = f" (HTTP {exc.status}{request})"
        count = len(exc.problems)
        if filename and _located(exc.problems):
            self.app.stderr.write(describe(exc, filename, text, sources) + "\n")
            plural = "s" if count > 1 else ""
            return ReportedError(f"{filename}: {count} problem{plural} found{suffix}")
        if count == 1:
            return ReportedError(describe(exc, None, None) + suffix)
        self.app.stderr.write(describe(exc, None, None) + "\n")
        return ReportedError(f"{count} problems{suffix}")


def _located(problems: list[ApiProblem]) -> bool:
    return any(p.code.startswith(_TEMPLATE_CODES) for p in problems)


def describe(
    exc: ApiError,
    filename: str | None,
    text: str | None,
    sources: dict[str, tuple[str, str]] | None = None,
) -> str:
    """Template problems compiler style (``file:line:col: code: detail [pointer]``, the
    line and a caret); any other problem ``code: detail``. ``sources``: the environment
    files sent, by their name in the request, as (path, text)."""
    lines = []
    located = [p for p in exc.problems if filename and p.code.startswith(_TEMPLATE_CODES)]
    by_file: dict[str | None, list[Problem]] = {}
    for p in located:
        by_file.setdefault(p.source.get("file"), []).append(
            Problem(
                code=p.code,  # type: ignore[arg-type]  # a code string from the API
                message=p.detail,
                pointer=str(p.source.get("pointer", "")),
                line=_int(p.source.get("line")),
                column=_int(p.source.get("column")),
            )
        )
    for name, problems in by_file.items():
        shown, body = (sources or {}).get(str(name), (str(name), None))
        lines.append(
            render(problems, str(filename), text) if name is None else render(problems, shown, body)
        )
    for problem in exc.problems:
        if problem in located:
            continue
        where = _source(problem.source)
        lines.append(f"{problem.code}: {problem.detail}{where}")
    return "\n".join(lines)


def _source(source: dict[str, Any]) -> str:
    if "pointer" in source:
        return f" [{source['pointer']}]"
    if "parameter" in source:
        return f" [{source['parameter']}]"
    return ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def add_build_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("build_id", metavar="ID", help="the build's id")


def shown(value: Any, formatter: str) -> Any:
    """Structured values as JSON in a table; as themselves for json and yaml."""
    if formatter in ("json", "yaml"):
        return value
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return value


# The widest a `key: value` line of attributes gets in a table, ellipsis included.
ATTRIBUTE_LINE_CHARS = 60


def shown_attributes(attributes: dict[str, Any] | None, formatter: str) -> Any:
    """A resource's attributes: whole for json and yaml; one ``key: value`` line each
    otherwise (nested values as compact JSON), cut with an ellipsis in a table, where a
    server's ``show`` would otherwise fill the terminal."""
    if formatter in ("json", "yaml"):
        return attributes
    lines = []
    for key, value in sorted((attributes or {}).items()):
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        line = f"{key}: {text}".replace("\n", " ")
        if formatter == "table" and len(line) > ATTRIBUTE_LINE_CHARS:
            line = line[: ATTRIBUTE_LINE_CHARS - 1] + "…"
        lines.append(line)
    return "\n".join(lines)
