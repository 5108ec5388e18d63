"""Every refusal in the OpenStack API-SIG error format, one entry per problem.

::

    {"errors": [{"request_id": "req-...", "code": "cool.template.invalid",
                 "status": 400, "title": "Invalid template",
                 "detail": "...", "source": {"pointer": "/resources/web", "line": 12,
                 "column": 7}}]}

Errors cool raises are rendered by the falcon handlers here. Errors made by
the middlewares around the app (keystonemiddleware's 401, oslo.middleware's
413, ...) have formats of their own: :class:`ErrorFormat`, the outermost
middleware, rewrites those into the same shape, so a client parses one
format whatever refused it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import falcon
from oslo_context.context import generate_request_id

from cool.api.heat import faults as heat_faults
from cool.api.heat import paths as heat_paths
from cool.errors import (
    CoolError,
    RequestInvalidError,
    RequestProblem,
    StoreUnavailableError,
    TemplateInvalidError,
)
from cool.template.problems import Problem

LOG = logging.getLogger(__name__)

ENV_REQUEST_ID = "openstack.request_id"  # set by oslo.middleware's RequestId
ENV_RENDERED = "cool.error_rendered"  # this response's error body is already ours
JSON = "application/json"

_TITLES = {
    "cool.template": "Invalid template",
    "cool.parameter": "Invalid parameter value",
    "cool.request": "Invalid request",
}
# cool-api itself is at a limit (connections, buffered bodies): not ZooKeeper's fault.
OVERLOADED = "cool.api.overloaded"
OVERLOADED_TITLE = "cool-api overloaded"
RETRY_AFTER_S = 1  # how long a client refused by an overloaded cool-api is told to wait
# Codes for errors raised as HTTP statuses (by falcon or by a middleware).
_STATUS_CODES = {
    400: "cool.request.invalid",
    401: "cool.auth.unauthenticated",
    403: "cool.auth.forbidden",
    404: "cool.request.not_found",
    405: "cool.request.method_not_allowed",
    406: "cool.request.not_acceptable",
    408: "cool.request.timeout",
    411: "cool.request.length_required",
    413: "cool.request.too_large",
    414: "cool.request.uri_too_long",
    415: "cool.request.unsupported_media_type",
    431: "cool.request.headers_too_large",
    500: "cool.error",
    501: "cool.request.not_implemented",
    503: "cool.store.unavailable",
}


def request_id(environ: dict[str, Any]) -> str:
    return str(environ.get(ENV_REQUEST_ID, ""))


def entry(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    request_id: str,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "request_id": request_id,
        "code": code,
        "status": status,
        "title": title,
        "detail": detail,
    }
    if source:
        out["source"] = source
    return out


def _problem_entry(problem: Problem | RequestProblem, status: int, rid: str) -> dict[str, Any]:
    if isinstance(problem, Problem):
        code = str(problem.code)
        source: dict[str, Any] = {"pointer": problem.pointer}
        if problem.line is not None:
            source["line"] = problem.line
            source["column"] = problem.column
        if problem.file is not None:  # an environment's, not the template's
            source["file"] = problem.file
        detail = problem.message
    else:
        code = problem.code
        source = {}
        if problem.pointer is not None:
            source["pointer"] = problem.pointer
        if problem.parameter is not None:
            source["parameter"] = problem.parameter
        detail = problem.detail
    family = code.rsplit(".", 1)[0]
    title = _TITLES.get(family, "Invalid request")
    return entry(
        status=status, code=code, title=title, detail=detail, request_id=rid, source=source
    )


def entries_for(error: CoolError, rid: str) -> list[dict[str, Any]]:
    if isinstance(error, TemplateInvalidError | RequestInvalidError):
        return [_problem_entry(p, error.status, rid) for p in error.problems]
    return [
        entry(
            status=error.status,
            code=error.code,
            title=error.title,
            detail=error.message,
            request_id=rid,
        )
    ]


def render(resp: falcon.Response, req: falcon.Request, status: int, entries: list[Any]) -> None:
    resp.status = status
    resp.content_type = JSON
    if heat_paths.is_heat_path(req.path):  # Heat's API answers in Heat's fault body
        resp.text = json.dumps(heat_faults.body(status, entries))
    else:
        resp.text = json.dumps({"errors": entries})  # ASCII: safe whatever a caller sent
    req.env[ENV_RENDERED] = True


# -- falcon handlers ----------------------------------------------------------------


def handle_cool_error(
    req: falcon.Request, resp: falcon.Response, error: CoolError, _params: Any
) -> None:
    if error.status == 503 and error.retryable and not isinstance(error, StoreUnavailableError):
        LOG.warning("request %s: %s", request_id(req.env), error)  # Keystone, not cool
        resp.set_header("Retry-After", str(req.env.get("cool.retry_after", 5)))
    elif error.status >= 500 and not isinstance(error, StoreUnavailableError):
        LOG.error("request %s failed: %s", request_id(req.env), error, exc_info=error)
    elif isinstance(error, StoreUnavailableError):
        LOG.warning("request %s: %s", request_id(req.env), error)
        metrics = req.env.get("cool.metrics")
        if metrics is not None:
            metrics.zookeeper_errors.labels(kind=type(error.__cause__).__name__).inc()
        resp.set_header("Retry-After", str(req.env.get("cool.retry_after", 5)))
        build_id = getattr(error, "build_id", None)
        if build_id:  # a submit whose outcome is unknown: where to look
            resp.location = f"{req.prefix}/v1/builds/{build_id}"
    render(resp, req, error.status, entries_for(error, request_id(req.env)))


def handle_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, _params: Any
) -> None:
    """falcon's own refusals (no route, method not allowed, ...)."""
    status = error.status_code
    detail = error.description or phrase(status)
    for name, value in (error.headers or {}).items():
        resp.set_header(name, value)
    code = code_for(status)
    title = phrase(status)
    render(
        resp,
        req,
        status,
        [
            entry(
                status=status, code=code, title=title, detail=detail, request_id=request_id(req.env)
            )
        ],
    )


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, error: Exception, _params: Any
) -> None:
    """A bug: logged with its traceback, answered without one."""
    if isinstance(error, falcon.HTTPError):
        handle_http_error(req, resp, error, _params)
        return
    if _is_webob_too_large(error):  # oslo.middleware's limit hit while reading a chunked body
        render(
            resp,
            req,
            413,
            [
                entry(
                    status=413,
                    code="cool.request.too_large",
                    title="Request too large",
                    detail="the request body is over the size limit",
                    request_id=request_id(req.env),
                )
            ],
        )
        return
    rid = request_id(req.env)
    LOG.exception("request %s failed with an unexpected error", rid)
    render(
        resp,
        req,
        500,
        [
            entry(
                status=500,
                code="cool.error",
                title="Internal error",
                detail=f"an unexpected error occurred; quote request id {rid} to the operator",
                request_id=rid,
            )
        ],
    )


def _is_webob_too_large(error: Exception) -> bool:
    return getattr(error, "code", None) == 413 and type(error).__module__.startswith("webob")


def phrase(status: int) -> str:
    """The standard reason phrase of ``status``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def code_for(status: int) -> str:
    return _STATUS_CODES.get(status, f"cool.http.{status}")


def document(status: int, code: str, detail: str, rid: str, title: str | None = None) -> bytes:
    """One error's whole body, for those answering outside falcon (middlewares, the server)."""
    title = title or phrase(status)
    one = entry(status=status, code=code, title=title, detail=detail, request_id=rid)
    return json.dumps({"errors": [one]}).encode()


def refusal(
    status: int,
    detail: str,
    *,
    overloaded: bool = False,
    close: bool = True,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> tuple[bytes, list[tuple[str, str]]]:
    """A refusal made by the server before the app ran (the gunicorn worker's
    protocol, the ASGI adapter): the body and its headers, in the order sent.
    ``overloaded``: cool-api at its own limit, retry later; ``close``: the
    connection cannot be reused (the rest of the request was not read)."""
    rid = generate_request_id()
    if overloaded:
        body = document(status, OVERLOADED, detail, rid, OVERLOADED_TITLE)
        extra_headers = (*extra_headers, ("Retry-After", str(RETRY_AFTER_S)))
    else:
        body = document(status, code_for(status), detail, rid)
    headers = [
        ("Content-Type", JSON),
        ("Content-Length", str(len(body))),
        ("X-OpenStack-Request-ID", rid),
        *extra_headers,
    ]
    if close:
        headers.append(("Connection", "close"))
    return body, headers


def respond(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    exc_info: Any = None,
) -> list[bytes]:
    """An error answered by a WSGI middleware, in the same format as the app's
    (``exc_info`` when a response may have been started already, as PEP 3333 says)."""
    title = phrase(status)
    if heat_paths.is_heat_path(environ.get("PATH_INFO", "")):
        one = entry(status=status, code=code, title=title, detail=detail, request_id="")
        body = heat_faults.encoded(status, [one])
    else:
        body = document(status, code, detail, request_id(environ))
    environ[ENV_RENDERED] = True
    start_response(
        f"{status} {title}",
        [("Content-Type", JSON), ("Content-Length", str(len(body))), *(headers or {}).items()],
        exc_info,
    )
    return [body]


# -- the outermost middleware ---------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")
_KEEP_HEADERS = frozenset(
    {"www-authenticate", "retry-after", "allow", "x-openstack-request-id", "location"}
)
_MAX_FOREIGN_BODY = 64 * 1024


class ErrorFormat:
    """Rewrites error responses the app did not render into the API-SIG format.

    ``passthrough`` paths (the healthcheck, whose 503 body load balancers
    read) are left alone.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        passthrough: Iterable[str] = (),
        details: dict[int, str] | None = None,
    ):
        self.app = app
        self.passthrough = frozenset(passthrough)
        self.details = details or {}  # better words than a middleware's, by status

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "") in self.passthrough:
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            code = int(status.split(" ", 1)[0])
            if code < 400 or environ.get(ENV_RENDERED):
                return start_response(status, headers, exc_info)
            captured.update(status=code, headers=headers)
            return lambda _data: None  # the foreign body is read from the iterable below

        try:
            body = self.app(environ, capture)
        except Exception:  # a middleware's bug or misconfiguration, past falcon's handlers
            return _crashed(environ, start_response)
        if not captured:
            return body
        try:
            original = _read(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        status = captured["status"]
        kept = {k: v for k, v in captured["headers"] if k.lower() in _KEEP_HEADERS}
        detail = self.details.get(status) or _foreign_detail(original) or phrase(status)
        code = code_for(status)
        return respond(environ, start_response, status, code, detail, headers=kept)


def _crashed(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """What ``handle_unexpected`` answers, for an error no handler saw (gunicorn's own
    page otherwise: HTML, no request id)."""
    rid = request_id(environ)
    LOG.exception("request %s failed with an unexpected error", rid)
    detail = f"an unexpected error occurred; quote request id {rid} to the operator"
    headers = {"X-OpenStack-Request-ID": rid} if rid else {}
    return respond(
        environ, start_response, 500, "cool.error", detail, headers=headers, exc_info=sys.exc_info()
    )


def _read(body: Iterable[bytes]) -> bytes:
    out = bytearray()
    for chunk in body:
        if len(out) < _MAX_FOREIGN_BODY:
            out += chunk
    return bytes(out[:_MAX_FOREIGN_BODY])


def _foreign_detail(body: bytes) -> str:
    """The message inside another component's error body, if it has one."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        inner = data.get("error")
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("title") or "")
        if isinstance(data.get("message"), str):
            return data["message"]
    lines = [line.strip() for line in _TAGS.sub("\n", text).splitlines() if line.strip()]
    # webob's pages repeat the status as a title: keep the explanation.
    meaningful = [line for line in lines if not re.fullmatch(r"\d{3}\s.*", line)]
    return " ".join(meaningful or lines)[:1000]
