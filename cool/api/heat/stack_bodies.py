"""Heat's create, preview and validate bodies, read into cool's template request.

Heat's fields are mapped onto the native ones (``stack_name`` -> ``name``,
``disable_rollback`` -> not ``rollback``) and read by :mod:`cool.api.bodies`, as
a native submit is: the same limits, the same located problems. Unknown keys
are ignored, as Heat ignores them (Horizon sends ``password``); ``template_url``
is refused, since cool never fetches a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import falcon

from cool.api import bodies
from cool.api.services import Services
from cool.errors import (
    CoolError,
    RequestInvalidError,
    RequestProblem,
    UnsupportedMediaTypeError,
)

# Heat's stack name (heat/engine/stack.py, Stack.__init__).
STACK_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_.-]{0,254}")
MAX_TAG = 80  # Heat's limit on one tag's length (heat/common/param_utils.py)
_PASSED = ("template", "parameters", "files", "environment", "environment_files")


class NotSupportedError(CoolError):
    """What Heat does and cool does not (Heat's NotSupported, 400)."""

    code = "cool.heat.not_supported"
    status = 400
    title = "Not supported"


@dataclass(frozen=True, slots=True)
class StackRequest:
    """A create's template request, and the stack's tags."""

    request: bodies.TemplateRequest
    tags: tuple[str, ...] = ()


def read(req: falcon.Request, services: Services, *, named: bool = True) -> StackRequest:
    """A create or preview body (``named``: ``stack_name`` is required), or validate's."""
    limits = services.settings.file_limits
    kind = bodies.media_type(req)
    if kind not in bodies.JSON_TYPES:
        raise UnsupportedMediaTypeError(
            f"Content-Type {kind or 'none'} is not supported: send application/json"
        )
    total = max(services.limits.max_size, limits.max_total_size)
    data = bodies.parse_json(bodies.read_body(req, total * 2 + 64 * 1024))
    if not isinstance(data, dict):
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.request.invalid_type", "the body must be a JSON object", pointer=""
                )
            ]
        )
    if data.get("adopt_stack_data") is not None:
        raise NotSupportedError(
            "Stack Adopt is not supported: cool does not adopt resources it did not create"
        )
    problems: list[RequestProblem] = []
    native: dict[str, Any] = {k: data[k] for k in _PASSED if k in data}
    if data.get("template") is None:
        native.pop("template", None)
        if data.get("template_url") is not None:
            problems.append(
                RequestProblem(
                    "cool.request.invalid_value",
                    "template_url is not supported: cool never fetches a template; send "
                    "the template itself in 'template'",
                    pointer="/template_url",
                )
            )
    tags: tuple[str, ...] = ()
    fields = bodies.VALIDATE_FIELDS
    if named:
        fields = bodies.BUILD_FIELDS
        native["name"] = _stack_name(data.get("stack_name"), problems)
        native["rollback"] = not _boolean(data, "disable_rollback", True, problems)
        native["timeout_mins"] = _timeout(data.get("timeout_mins"), problems)
        tags = _tags(data.get("tags"), problems)
    request = bodies.template_request(
        native,
        max_template_bytes=services.limits.max_size,
        max_name_length=services.settings.max_name_length,
        fields=fields,
        file_limits=limits,
    )
    if data.get("template") is None and data.get("template_url") is not None:
        # The request's own "'template' is required" says less than template_url's.
        request.problems[:] = [p for p in request.problems if p.pointer != "/template"]
    request.problems[:0] = problems
    return StackRequest(request, tags)


def _stack_name(value: Any, problems: list[RequestProblem]) -> str | None:
    if value is None:
        problems.append(
            RequestProblem(
                "cool.request.missing_field", "No stack name specified", pointer="/stack_name"
            )
        )
        return None
    if not isinstance(value, str) or not STACK_NAME.fullmatch(value):
        problems.append(
            RequestProblem(
                "cool.request.invalid_value",
                f"Invalid stack name {str(value)[:60]!r}: it must start with a letter and "
                "contain only alphanumeric, '_', '-' or '.' characters (at most 255)",
                pointer="/stack_name",
            )
        )
        return None
    return value


def _boolean(data: dict[str, Any], key: str, default: bool, problems: list[RequestProblem]) -> bool:
    """Heat's bool parameters: a JSON boolean or one of its words for one."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    words = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
    if isinstance(value, str) and value.lower() in words:
        return words[value.lower()]
    problems.append(
        RequestProblem(
            "cool.request.invalid_value",
            f"Unrecognized value {str(value)[:40]!r} for {key}, acceptable values are: "
            "'true', 'false'",
            pointer=f"/{key}",
        )
    )
    return default


def _timeout(value: Any, problems: list[RequestProblem]) -> Any:
    """An integer, or its digits as a string (Heat takes both)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    problems.append(
        RequestProblem(
            "cool.request.invalid_type",
            "timeout_mins must be a whole number of minutes",
            pointer="/timeout_mins",
        )
    )
    return None


def _tags(value: Any, problems: list[RequestProblem]) -> tuple[str, ...]:
    """``"a,b"`` (heatclient, gophercloud), a list (older openstacksdk) or null."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        tags = value.split(",")
    elif isinstance(value, list) and all(isinstance(t, str) for t in value):
        tags = list(value)
    else:
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "tags must be a comma-separated string or a list of strings",
                pointer="/tags",
            )
        )
        return ()
    for tag in tags:
        if len(tag) > MAX_TAG:
            problems.append(
                RequestProblem(
                    "cool.request.invalid_value",
                    f'Invalid tag, "{tag[:MAX_TAG]}..." is longer than {MAX_TAG} characters',
                    pointer="/tags",
                )
            )
    return tuple(tags)
