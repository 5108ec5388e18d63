"""User values as problem messages show them: shortened, never whole.

A message that quotes a 300 KB key, or lists the 20,000 keys of a mapping,
costs what the user sent times the number of problems (a reviewer's 295 KB
template made 160 MB of messages). Here every quoted value has a bounded
length and every listing a bounded number of names, whatever the input.
Pure: no I/O.
"""

from __future__ import annotations

import heapq
import reprlib
from collections.abc import Iterable
from typing import Any

MAX_QUOTED = 120  # characters of one quoted value, quotes included (about)
MAX_LISTED = 20  # names a listing shows before "and N more"
MAX_NAME = 60  # characters of one name in a listing

_ELLIPSIS = "…"
_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxdict = _repr.maxlist = _repr.maxtuple = _repr.maxset = 6
_repr.maxstring = _repr.maxother = 40


def clip(text: str, limit: int) -> str:
    """``text``, or its head and tail around an ellipsis when longer than ``limit``."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    return text[: limit - tail - 1] + _ELLIPSIS + text[len(text) - tail :]


def quote(value: Any) -> str:
    """``repr(value)`` for a message, at most about :data:`MAX_QUOTED` characters.

    A long string keeps its head and tail (one repr, so a hidden value's
    shortened form is the same wherever it is quoted, and can be masked).
    """
    if isinstance(value, str):
        return repr(clip(value, MAX_QUOTED - 2))
    try:
        text = _repr.repr(value)  # bounded work on containers, unlike repr()
    except ValueError:  # str() of an int past Python's digit limit
        return "(a value too large to show)"
    return clip(text, MAX_QUOTED)


def listing(names: Iterable[Any], limit: int = MAX_LISTED) -> str:
    """The first ``limit`` names in sorted order, then how many more: ``a, b, and 3 more``.

    Costs one pass over ``names`` (no sort of them all), each name clipped.
    """
    every = [str(name) for name in names]
    if not every:
        return "none"
    shown = heapq.nsmallest(limit, every)
    text = ", ".join(clip(name, MAX_NAME) for name in shown)
    more = len(every) - len(shown)
    return f"{text}, and {more:,} more" if more else text
