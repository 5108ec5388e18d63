"""Checking a template text in a test, and where its problems are."""

from __future__ import annotations

import textwrap
from typing import Any

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import Report, check
from cool.template.parse import DEFAULT_LIMITS, Limits
from cool.template.problems import Code

Where = tuple[Code, str, int | None, int | None]


def check_text(
    text: str,
    registry: ResourceTypeRegistry,
    values: dict[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Report:
    """The report on ``text``, dedented (tests write templates indented)."""
    return check(textwrap.dedent(text), registry, values, limits)


def where(report: Report) -> list[Where]:
    """Each problem's code, pointer, line and column, in order."""
    return sorted((p.code, p.pointer, p.line, p.column) for p in report.problems)
