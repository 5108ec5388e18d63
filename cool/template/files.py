"""``get_file``: the content of a file the request carried in ``files``. Pure: no I/O.

As in Heat, the name is looked up exactly as written (heatclient rewrites
relative names to the ``file://`` URLs it keys ``files`` by); a name the
request did not carry is a located error: cool never fetches a URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cool.resources.schema import PropertyType
from cool.template.budget import Budget, text_bytes
from cool.template.problems import Code, Path
from cool.template.quoting import listing, quote
from cool.template.values import Deferred, Unknown

GET_FILE = "get_file"


def get_file(
    name: Any,
    files: Mapping[str, str],
    here: Path,
    budget: Budget,
    problem: Callable[[Code, str, Path], None],
) -> Any:
    """The content of ``files[name]`` (``name`` already resolved), or Unknown with a problem."""
    if isinstance(name, Unknown):
        return Unknown(PropertyType.STRING)  # known once parameters have values
    if isinstance(name, Deferred) or not isinstance(name, str):
        problem(
            Code.INVALID_FUNCTION,
            "get_file takes a file name (a string known before the build runs)",
            here,
        )
        return Unknown(PropertyType.STRING)
    content = files.get(name)
    if content is None:
        given = f" (files given: {listing(files)})" if files else " (the request has no files)"
        problem(
            Code.MISSING_FILE,
            f"get_file names {quote(name)}, which is not in the request's files{given}; "
            "cool never fetches a file itself",
            here,
        )
        return Unknown(PropertyType.STRING)
    budget.charge(GET_FILE, text_bytes(content))
    return content
