"""``did you mean`` for a misspelt name, bounded whatever the choices."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from cool.template.quoting import quote

# difflib compares two names in quadratic time, and each of the choices: a
# suggestion looks at names of at most this length, among at most this many.
MAX_SUGGESTED = 100
MAX_CANDIDATES = 200


def suggest(name: str, choices: Iterable[Any]) -> str:
    """``; did you mean 'x'?`` for the closest choice, or nothing.

    Bounded whatever the choices: difflib's ratio reaches its 0.6 cutoff only
    between names of close lengths (2 * shorter / both >= 0.6), so only those
    are candidates, the ones with the same first character first.
    """
    if not name or len(name) > MAX_SUGGESTED:
        return ""
    low, high = (3 * len(name) + 6) // 7, min(7 * len(name) // 3, MAX_SUGGESTED)
    first: list[str] = []
    others: list[str] = []
    for choice in choices:
        if isinstance(choice, str) and low <= len(choice) <= high:
            if choice[0] == name[0]:
                first.append(choice)
                if len(first) == MAX_CANDIDATES:
                    break
            elif len(others) < MAX_CANDIDATES:
                others.append(choice)
    candidates = (first + others)[:MAX_CANDIDATES]
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {quote(close[0])}?" if close else ""
