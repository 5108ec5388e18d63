"""Request bodies and query strings -> what a handler needs, or every problem at once.

A template comes one of three ways: a JSON object in the JSON body
(``"template": {...}``), a YAML or JSON string in the JSON body
(``"template": "heat_template_version: ..."``), or the raw body itself
(``Content-Type: application/yaml``, with ``name``, ``timeout_mins``,
``rollback`` and repeated ``parameter=NAME=VALUE`` in the query string).

Problems with the request itself carry a JSON pointer into the body or the
name of the query parameter; problems with the template are the template's
own, with pointers into the template and line:column where it was text.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import falcon

from cool.errors import (
    RequestInvalidError,
    RequestProblem,
    RequestTooLargeError,
    TemplateInvalidError,
    TemplateTooLargeError,
    UnsupportedMediaTypeError,
)
from cool.store.builds import Idempotency
from cool.template import numbers
from cool.template.environment import INLINE, Source
from cool.template.parse_json import JsonBuilder
from cool.template.problems import Code, Problem

JSON_TYPES = frozenset({"application/json"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml"})
# Heat's companions of a template: what get_file reads, and environments.
FILE_FIELDS = frozenset({"files", "environment", "environment_files"})
BUILD_FIELDS = frozenset(
    {"template", "parameters", "name", "timeout_mins", "rollback", *FILE_FIELDS}
)
VALIDATE_FIELDS = frozenset({"template", "parameters", *FILE_FIELDS})
YAML_QUERY = frozenset({"name", "timeout_mins", "rollback", "parameter"})
_HINTS = {
    "stack_name": "the field is called 'name'",
    "disable_rollback": "the field is 'rollback' (true or false)",
}
MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True, slots=True)
class FileLimits:
    """What ``files`` and environments may weigh ([template] options)."""

    max_files: int = 500
    max_file_size: int = 512 * 1024
    max_total_size: int = 1024 * 1024  # template, files and environment together


@dataclass(frozen=True, slots=True)
class TemplateRequest:
    """A template and what goes with it, as the caller sent them."""

    text: str | bytes  # what the template compiler reads
    is_text: bool  # False: it came as a JSON object, so only pointers locate problems
    parameters: dict[str, Any] | None  # None: none given (validate lists what is needed)
    name: str = ""
    timeout_mins: int | None = None
    rollback: bool = True
    problems: list[RequestProblem] = field(default_factory=list)
    parameters_in_url: bool = False  # raw YAML: values came in the query string
    files: dict[str, str] = field(default_factory=dict)
    environments: tuple[Source, ...] = ()
    environment_is_text: bool = True  # False: 'environment' came as a JSON object

    def digest(self) -> str:
        """What an Idempotency-Key is checked against: same request, same digest."""
        canonical = json.dumps(
            {
                "template": self.text if isinstance(self.text, str) else self.text.hex(),
                "parameters": self.parameters,
                "name": self.name,
                "timeout_mins": self.timeout_mins,
                "rollback": self.rollback,
                "files": self.files,
                # A listed file by its name ('files' holds its text), the inline one by its text.
                "environments": [
                    [e.name, e.text if e.name == INLINE else None] for e in self.environments
                ],
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def media_type(req: falcon.Request) -> str:
    return (req.content_type or "").split(";", 1)[0].strip().lower()


def read_body(req: falcon.Request, max_bytes: int) -> bytes:
    """The whole body; 413 past ``max_bytes`` without reading further."""
    length = req.content_length
    if length is not None and length > max_bytes:
        raise RequestTooLargeError(f"the request body is {length} bytes, over {max_bytes}")
    data = req.bounded_stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise RequestTooLargeError(f"the request body is over {max_bytes} bytes")
    return data


def parse_template_request(
    req: falcon.Request,
    *,
    max_template_bytes: int,
    max_name_length: int,
    fields: frozenset[str] = BUILD_FIELDS,
    file_limits: FileLimits = FileLimits(),
) -> TemplateRequest:
    """The template and its companions from a submit or validate request."""
    kind = media_type(req)
    # A JSON body carries the template escaped in a string: allow it room to grow.
    total = max(max_template_bytes, file_limits.max_total_size)
    body = read_body(req, total * 2 + 64 * 1024)
    if kind in YAML_TYPES:
        if len(body) > max_template_bytes:
            raise _template_too_large(len(body), max_template_bytes)
        return _from_query(req, body, max_name_length, fields)
    if kind not in JSON_TYPES:
        shown = kind or "none"
        raise UnsupportedMediaTypeError(
            f"Content-Type {shown} is not supported: send application/json, or a raw "
            "template as application/yaml"
        )
    data = parse_json(body)
    if not isinstance(data, dict):
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.request.invalid_type", "the body must be a JSON object", pointer=""
                )
            ]
        )
    return template_request(
        data,
        max_template_bytes=max_template_bytes,
        max_name_length=max_name_length,
        fields=fields,
        file_limits=file_limits,
    )


def template_request(
    data: dict[str, Any],
    *,
    max_template_bytes: int,
    max_name_length: int,
    fields: frozenset[str] = BUILD_FIELDS,
    file_limits: FileLimits = FileLimits(),
) -> TemplateRequest:
    """A JSON body's object as a template request (Heat's API maps its own body's
    fields onto these, then reads it here, as a native submit is read)."""
    request = _from_json(data, max_template_bytes, max_name_length, fields)
    return _with_files(request, data, file_limits)


def parse_json(body: bytes) -> Any:
    """JSON by its RFC: no NaN or Infinity, no duplicate keys; errors located."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.request.malformed",
                    f"the body is not UTF-8: invalid byte at offset {exc.start}",
                )
            ]
        ) from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
        # "\ud800" is valid JSON but no text: it could never be stored or shown.
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.request.malformed",
                    "the body holds a string with an unpaired UTF-16 surrogate (\\ud800-\\udfff)",
                )
            ]
        ) from None
    except json.JSONDecodeError as exc:
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.request.malformed",
                    f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column "
                    f"{exc.colno}",
                )
            ]
        ) from None
    except _BadNumberError as exc:
        raise RequestInvalidError([_located_number(text, exc)]) from None
    except _BadJsonError as exc:
        raise RequestInvalidError([RequestProblem("cool.request.malformed", str(exc))]) from None
    except RecursionError:
        raise RequestInvalidError(
            [RequestProblem("cool.request.malformed", "the body is nested too deeply")]
        ) from None
    return data


class _BadJsonError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _BadJsonError(
                f"the body is not valid JSON: key {key!r} appears twice in an object"
            )
        out[key] = value
    return out


class _BadNumberError(_BadJsonError):
    """A number cool cannot hold (``code`` says whether JSON allows it at all)."""

    def __init__(self, message: str, code: Code) -> None:
        super().__init__(message)
        self.code = code


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > numbers.MAX_DIGITS:  # before int() reads it
        raise _BadNumberError(numbers.too_large(literal), Code.REQUEST_VALUE)
    return int(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _BadNumberError(numbers.too_large(literal), Code.REQUEST_VALUE)
    return value


def _no_constant(name: str) -> Any:
    raise _BadNumberError(
        f"the body is not valid JSON: {name} is not a JSON number", Code.REQUEST_MALFORMED
    )


def _located_number(text: str, exc: _BadNumberError) -> Problem:
    """Where the number json refused is: the template's located JSON reader finds
    the same first number (both read left to right), with its pointer and line."""
    try:
        JsonBuilder(text, max_depth=len(text) + 1, max_nodes=len(text) + 1).build()
    except TemplateInvalidError as invalid:
        found = [p for p in invalid.problems if p.code is Code.INVALID_VALUE]
        if found:
            return Problem(exc.code, str(exc), found[0].pointer, found[0].line, found[0].column)
    return Problem(exc.code, str(exc), "")


def _template_too_large(size: int, limit: int) -> TemplateTooLargeError:
    message = f"template is {size} bytes, over the limit of {limit} bytes"
    return TemplateTooLargeError([Problem(Code.TOO_LARGE, message, "")])


def _from_json(
    data: dict[str, Any], max_template_bytes: int, max_name_length: int, fields: frozenset[str]
) -> TemplateRequest:
    problems: list[RequestProblem] = []
    for key in sorted(set(data) - fields):
        hint = _HINTS.get(key, f"known fields: {', '.join(sorted(fields))}")
        problems.append(
            RequestProblem(
                "cool.request.unknown_field",
                f"unknown field {key!r} ({hint})",
                pointer=_pointer(key),
            )
        )
    template = data.get("template")
    text: str | bytes = ""
    is_text = True
    if template is None:
        problems.append(
            RequestProblem(
                "cool.request.missing_field", "'template' is required", pointer="/template"
            )
        )
    elif isinstance(template, str):
        text = template
    elif isinstance(template, dict):
        # The object's own JSON: the compiler reads it like any JSON template.
        text = json.dumps(template, ensure_ascii=False, indent=1)
        is_text = False
    else:
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "'template' must be an object or a string of YAML or JSON",
                pointer="/template",
            )
        )
    size = len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
    if size > max_template_bytes:
        raise _template_too_large(size, max_template_bytes)
    parameters = data.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "'parameters' must be an object of parameter names to values",
                pointer="/parameters",
            )
        )
        parameters = None
    name, timeout_mins, rollback = "", None, True
    if "name" in fields:
        name = _name(data.get("name"), max_name_length, problems, pointer="/name")
        timeout_mins = _timeout(data.get("timeout_mins"), problems, pointer="/timeout_mins")
        rollback = _rollback(data.get("rollback", True), problems, pointer="/rollback")
    return TemplateRequest(text, is_text, parameters, name, timeout_mins, rollback, problems)


def _from_query(
    req: falcon.Request, body: bytes, max_name_length: int, fields: frozenset[str]
) -> TemplateRequest:
    problems: list[RequestProblem] = []
    allowed = YAML_QUERY if "name" in fields else frozenset({"parameter"})
    query = _query(req)
    for key in sorted(set(query) - allowed):
        problems.append(
            RequestProblem(
                "cool.request.unknown_parameter",
                f"unknown query parameter {key!r} (known: {', '.join(sorted(allowed))})",
                parameter=key,
            )
        )
    for key in sorted(set(query) & {"name", "timeout_mins", "rollback"}):
        if len(query[key]) > 1:
            problems.append(
                RequestProblem(
                    "cool.request.invalid_value", f"{key} is given more than once", parameter=key
                )
            )
    first = {key: values[0] for key, values in query.items()}
    parameters: dict[str, Any] | None = None
    for assignment in query.get("parameter", []):
        pname, sep, value = assignment.partition("=")
        if not sep or not pname:
            problems.append(
                RequestProblem(
                    "cool.request.invalid_value",
                    f"parameter must be NAME=VALUE, not {assignment!r}",
                    parameter="parameter",
                )
            )
            continue
        parameters = parameters or {}
        parameters[pname] = value
    name, timeout_mins, rollback = "", None, True
    if "name" in fields:
        name = _name(first.get("name"), max_name_length, problems, parameter="name")
        raw_timeout = first.get("timeout_mins")
        timeout_mins = _timeout(
            _as_int(raw_timeout) if raw_timeout is not None else None,
            problems,
            parameter="timeout_mins",
        )
        raw_rollback = first.get("rollback")
        rollback = _rollback(
            _as_bool(raw_rollback) if raw_rollback is not None else True,
            problems,
            parameter="rollback",
        )
    return TemplateRequest(
        body, True, parameters, name, timeout_mins, rollback, problems, parameters_in_url=True
    )


def _query(req: falcon.Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in falcon.uri.parse_query_string(
        req.query_string, keep_blank=True, csv=False
    ).items():
        out[key] = value if isinstance(value, list) else [value]
    return out


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _where(pointer: str | None, parameter: str | None) -> dict[str, str | None]:
    return {"pointer": pointer, "parameter": parameter}


def _name(
    value: Any,
    max_length: int,
    problems: list[RequestProblem],
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> str:
    if value is None:
        return ""
    where = _where(pointer, parameter)
    if not isinstance(value, str):
        problems.append(
            RequestProblem("cool.request.invalid_type", "name must be a string", **where)
        )
        return ""
    if not value or len(value) > max_length or not value.isprintable():
        problems.append(
            RequestProblem(
                "cool.request.invalid_value",
                f"name must be 1 to {max_length} printable characters",
                **where,
            )
        )
        return ""
    return value


def _timeout(
    value: Any,
    problems: list[RequestProblem],
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "timeout_mins must be a whole number of minutes",
                **_where(pointer, parameter),
            )
        )
        return None
    return value  # its range is the store's to check, against the deployment's maximum


def _rollback(
    value: Any,
    problems: list[RequestProblem],
    *,
    pointer: str | None = None,
    parameter: str | None = None,
) -> bool:
    if not isinstance(value, bool):
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "rollback must be true or false",
                **_where(pointer, parameter),
            )
        )
        return True
    return value


def _as_int(text: str) -> Any:
    if text.isascii() and text.isdigit() and len(text) <= numbers.MAX_DIGITS:
        return int(text)
    return text


def _as_bool(text: str) -> Any:
    return {"true": True, "false": False}.get(text.lower(), text)


def idempotency(req: falcon.Request, user_id: str, request_digest: str) -> Idempotency | None:
    """The Idempotency-Key header, as digests; None without one."""
    key = req.get_header("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not all(33 <= ord(c) < 127 for c in key):
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.request.invalid_header",
                    f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters",
                    parameter="Idempotency-Key",
                )
            ]
        )
    key_digest = hashlib.sha256(f"{user_id}\0{key}".encode()).hexdigest()
    return Idempotency(key_digest=key_digest, request_digest=request_digest)


def _with_files(
    request: TemplateRequest, data: dict[str, Any], limits: FileLimits
) -> TemplateRequest:
    """``files``, ``environment`` and ``environment_files`` read as Heat reads them:
    with environment files, the ``environment`` field is ignored (heatclient sends
    both), and the files are merged in their order."""
    problems = request.problems
    files = _files(data.get("files"), limits, problems)
    environments: list[Source] = []
    names = data.get("environment_files")
    is_text = True
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "'environment_files' must be a list of names in 'files'",
                pointer="/environment_files",
            )
        )
    elif names is not None and len(names) > limits.max_files:
        problems.append(
            RequestProblem(
                "cool.request.invalid_value",
                f"'environment_files' lists {len(names)} names, over the limit of "
                f"{limits.max_files} ([template] max_files)",
                pointer="/environment_files",
            )
        )
    elif names:
        first: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in first:
                # Each listing would be merged again: say so rather than multiply the work.
                problems.append(
                    RequestProblem(
                        "cool.request.invalid_value",
                        f"environment file {name!r} is listed twice (at {first[name]} and "
                        f"{index}): list each once",
                        pointer=f"/environment_files/{index}",
                    )
                )
            elif name in files:
                first[name] = index
                environments.append(Source(name, files[name]))
            else:
                first[name] = index
                problems.append(
                    RequestProblem(
                        "cool.request.invalid_value",
                        f"environment file {name!r} is not in 'files'",
                        pointer=f"/environment_files/{index}",
                    )
                )
    elif data.get("environment") is not None:
        environment = data["environment"]
        if isinstance(environment, dict):
            text = json.dumps(environment, ensure_ascii=False, indent=1)
            environments.append(Source(INLINE, text))
            is_text = False
        elif isinstance(environment, str):
            environments.append(Source(INLINE, environment))
        else:
            problems.append(
                RequestProblem(
                    "cool.request.invalid_type",
                    "'environment' must be an object or a string of YAML or JSON",
                    pointer="/environment",
                )
            )
    size = _size(request.text) + sum(_size(t) for t in files.values())
    size += sum(_size(e.text) for e in environments if e.name == INLINE)
    if size > limits.max_total_size:
        raise RequestTooLargeError(
            f"the template, its files and its environment are {size} bytes together, over "
            f"the limit of {limits.max_total_size} bytes"
        )
    return TemplateRequest(
        request.text,
        request.is_text,
        request.parameters,
        request.name,
        request.timeout_mins,
        request.rollback,
        problems,
        files=files,
        environments=tuple(environments),
        environment_is_text=is_text,
    )


def _files(raw: Any, limits: FileLimits, problems: list[RequestProblem]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(
            RequestProblem(
                "cool.request.invalid_type",
                "'files' must be an object of file names to their content (strings)",
                pointer="/files",
            )
        )
        return {}
    if len(raw) > limits.max_files:
        raise RequestTooLargeError(
            f"'files' holds {len(raw)} files, over the limit of {limits.max_files}"
        )
    files: dict[str, str] = {}
    for name, content in raw.items():
        if not isinstance(content, str):
            problems.append(
                RequestProblem(
                    "cool.request.invalid_type",
                    f"the content of file {name!r} must be a string",
                    pointer="/files/" + name.replace("~", "~0").replace("/", "~1"),
                )
            )
            continue
        if _size(content) > limits.max_file_size:
            raise RequestTooLargeError(
                f"file {name!r} is {_size(content)} bytes, over the limit of "
                f"{limits.max_file_size} bytes"
            )
        files[name] = content
    return files


def _size(text: str | bytes) -> int:
    return len(text.encode("utf-8", "surrogatepass")) if isinstance(text, str) else len(text)
