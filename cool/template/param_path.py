"""The path of a ``get_param``, walked as Heat walks it.

Heat's GetParam.result (heat/engine/hot/functions.py) indexes the value with
each step, a mapping by key and a sequence (a list, or a string's characters)
by position, a string step read as an integer there; a step that leads nowhere
(a missing key, an index out of range, a value that cannot be indexed) makes
the whole result the empty string, not an error. Templates rely on it (an
optional key of a json parameter), so cool does the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def follow(value: Any, path: Sequence[Any]) -> Any:
    """``value`` at ``path``, or ``""`` where Heat's walk fails (KeyError, IndexError,
    TypeError)."""
    for step in path:
        if not isinstance(value, Mapping | list | str) or not isinstance(step, str | int):
            return ""
        key = step
        if not isinstance(value, Mapping) and isinstance(step, str):
            try:
                key = int(step)
            except ValueError:
                return ""
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return ""
    return value
