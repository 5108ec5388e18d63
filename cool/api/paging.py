"""``limit``, ``marker`` and the other query parameters, checked before any read.

Following the API-SIG pagination guideline: a ``limit`` over the maximum is
lowered to it; a ``limit`` that is not a positive integer, or a ``marker``
that cannot be one of ours, is a 400. A marker is a position, not a record:
a build pruned between two pages does not break the paging.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

import falcon

from cool.errors import RequestInvalidError, RequestProblem


def query(req: falcon.Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query parameters, each given at most once, none unknown."""
    allowed = frozenset(allowed)
    parsed = falcon.uri.parse_query_string(req.query_string, keep_blank=True, csv=False)
    problems = []
    out: dict[str, str] = {}
    for key, value in sorted(parsed.items()):
        if key not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            problems.append(
                RequestProblem(
                    "cool.request.unknown_parameter",
                    f"unknown query parameter {key!r} (known: {known})",
                    parameter=key,
                )
            )
        elif isinstance(value, list):
            problems.append(
                RequestProblem(
                    "cool.request.invalid_value", f"{key} is given more than once", parameter=key
                )
            )
        else:
            out[key] = value
    if problems:
        raise RequestInvalidError(problems)
    return out


def problem(parameter: str, detail: str) -> RequestInvalidError:
    return RequestInvalidError(
        [RequestProblem("cool.request.invalid_value", detail, parameter=parameter)]
    )


def limit(params: dict[str, str], *, default: int, maximum: int) -> int:
    text = params.get("limit")
    if text is None:
        return min(default, maximum)
    digits = text.lstrip("0")
    if not text.isascii() or not text.isdigit() or not digits:
        raise problem("limit", f"limit must be a positive whole number, not {text[:40]!r}")
    # No int() of thousands of digits (Python refuses past 4,300): huge is huge.
    return maximum if len(digits) > 18 else min(int(digits), maximum)


def boolean(params: dict[str, str], name: str) -> bool:
    text = params.get(name)
    if text is None:
        return False
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if text.lower() not in value:
        raise problem(name, f"{name} must be true or false, not {text[:40]!r}")
    return value[text.lower()]


def seconds(params: dict[str, str], name: str, *, maximum: float) -> float:
    text = params.get(name)
    if text is None:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):  # also refuses nan
        raise problem(name, f"{name} must be a number of seconds, 0 or more, not {text[:40]!r}")
    return min(value, maximum)


def next_link(req: falcon.Request, base: str, params: dict[str, str], marker: str) -> str:
    return f"{base}{req.path}?{urlencode({**params, 'marker': marker})}"
