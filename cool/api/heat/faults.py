"""Heat's fault body for Heat's API (heat/api/middleware/fault.py)::

    {"code": 404, "title": "Not Found", "explanation": "The resource could not be found.",
     "error": {"type": "EntityNotFound", "message": "...", "traceback": null}}

heatclient prints ``error.message``, openstacksdk collects every ``message``,
gophercloud reads only the status. cool's errors keep their status; their code
names Heat's exception type, and every problem of a refused template goes into
the one message, each with where it is (file, JSON pointer, line:column).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

# cool's error codes (and families, by prefix) to Heat's exception types.
_TYPES: Mapping[str, str] = {
    "cool.build.not_found": "EntityNotFound",
    "cool.request.not_found": "EntityNotFound",
    "cool.build.name_exists": "StackExists",
    "cool.build.conflict": "ActionInProgress",
    "cool.auth.forbidden": "Forbidden",
    "cool.auth.unauthenticated": "HTTPUnauthorized",
    "cool.request.method_not_allowed": "HTTPMethodNotAllowed",
    "cool.request.too_large": "RequestLimitExceeded",
    "cool.template.too_large": "RequestLimitExceeded",
    "cool.store.unavailable": "HTTPServiceUnavailable",
    "cool.heat.not_supported": "NotSupported",
    "cool.error": "HTTPInternalServerError",
}
_FAMILIES: Sequence[tuple[str, str]] = (
    ("cool.template.", "StackValidationFailed"),
    ("cool.parameter.", "StackValidationFailed"),
    ("cool.request.", "HTTPBadRequest"),
    ("cool.auth.", "Forbidden"),
)
# webob's default explanations, which Heat's fault body carries.
_EXPLANATIONS: Mapping[int, str] = {
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you "
    "requested.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method specified is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The request is larger than the server is willing or able to process.",
    500: "The server has either erred or is incapable of performing the requested operation.",
    503: "The server is currently unavailable. Please try again at a later time.",
}


def heat_type(code: str, status: int) -> str:
    """Heat's exception type for a cool error code."""
    if code in _TYPES:
        return _TYPES[code]
    for prefix, name in _FAMILIES:
        if code.startswith(prefix):
            return name
    return "HTTP" + phrase(status).replace(" ", "").replace("-", "")


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def message(entries: Sequence[Mapping[str, Any]]) -> str:
    """One message for every entry of a cool error (a template's problems, located)."""
    lines = []
    for entry in entries:
        detail = str(entry.get("detail", ""))
        source = entry.get("source") or {}
        where = []
        if source.get("file"):
            where.append(str(source["file"]))
        if source.get("line") is not None:
            where.append(f"line {source['line']}, column {source.get('column')}")
        if source.get("pointer"):
            where.append(str(source["pointer"]))
        lines.append(f"{detail} ({'; '.join(where)})" if where else detail)
    return "\n".join(lines)


def body(status: int, entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Heat's fault body for a cool error's entries (all of one status)."""
    code = str(entries[0].get("code", "")) if entries else ""
    return {
        "code": status,
        "title": phrase(status),
        "explanation": _EXPLANATIONS.get(status, phrase(status)),
        "error": {"type": heat_type(code, status), "message": message(entries), "traceback": None},
    }


def encoded(status: int, entries: Sequence[Mapping[str, Any]]) -> bytes:
    return json.dumps(body(status, entries)).encode()
