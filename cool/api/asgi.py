"""cool's WSGI app served by an asyncio server: complete requests only reach a thread.

gunicorn's ASGI worker parses requests on an event loop (see
:mod:`cool.api.worker`); this adapter reads each request's whole body there,
bounded in time (``[api] body_timeout``) and size (``[oslo_middleware]
max_request_body_size``), chunked bodies already decoded by the server, and
only then runs the WSGI app (falcon inside keystonemiddleware and
oslo.middleware, which are WSGI) in a bounded pool of threads. A slow client
so costs a coroutine and its buffered bytes, never a thread. The bytes of all
bodies a process holds are bounded too (``[api] max_buffered_bytes``, see
:mod:`cool.api.body_budget`), each body kept in one buffer whatever the size
of the pieces it came in. Refusals made here are JSON in the API-SIG format,
like the app's.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes

from cool.api.body_budget import BodyBudget
from cool.api.errors import refusal

LOG = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
# Framing the server did (chunked decoded, the body complete): not for the app.
_HOP_BY_HOP = frozenset({"transfer-encoding", "connection", "keep-alive", "te", "trailer"})
BUDGET_WAIT_S = 1.0  # longest a body waits for room in the budget before a 503


class RefusedError(Exception):
    """A request refused before the app saw it: status and detail of the answer."""

    def __init__(self, status: int, detail: str, *, overloaded: bool = False) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.overloaded = overloaded  # cool-api at its limit: retry later


class WsgiOnAsgi:
    """An ASGI app that buffers each request, then calls ``app`` in ``threads`` threads."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        threads: int,
        max_body_bytes: int,
        body_timeout_s: float,
        max_buffered_bytes: int,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = body_timeout_s
        self.budget = BodyBudget(max_buffered_bytes)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="cool-api")

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"cool-api serves HTTP only, not {scope['type']}")
        charged = [0]  # bytes of this request's body taken from the budget
        try:
            await self._serve(scope, receive, send, charged)
        except OSError:  # the client is gone (or was dropped for not reading)
            pass
        finally:
            self.budget.give_back(charged[0])

    async def _serve(
        self, scope: dict[str, Any], receive: Receive, send: Send, charged: list[int]
    ) -> None:
        try:
            body = await self._read_body(scope, receive, charged)
        except RefusedError as refused:
            await answer(
                send, refused.status, refused.detail, close=True, overloaded=refused.overloaded
            )
            return
        if body is None:  # the client left
            return
        environ = wsgi_environ(scope, body)
        del body  # environ's wsgi.input holds it until the call is done
        loop = asyncio.get_running_loop()
        try:
            status, headers, content = await loop.run_in_executor(self.pool, self._call, environ)
        except Exception:  # past ErrorFormat's own net: a bug, never an HTML page
            LOG.exception("%s %s failed outside the app", scope["method"], scope["path"])
            await answer(send, 500, "an unexpected error occurred; see cool-api's log")
            return
        finally:
            del environ  # the body is no longer needed: its bytes go back at once
            self.budget.give_back(charged[0])
            charged[0] = 0
        # How long a client that does not read may hold these: the worker's send
        # timeout (cool.api.worker), on every write.
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def _read_body(
        self, scope: dict[str, Any], receive: Receive, charged: list[int]
    ) -> bytes | None:
        """The whole body, its bytes taken from the budget (counted in ``charged``);
        None if the client left."""
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            raise RefusedError(413, self._too_large())
        held = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    if len(held) + len(chunk) > self.max_body_bytes:
                        raise RefusedError(413, self._too_large())
                    if chunk and not await self.budget.take(len(chunk), BUDGET_WAIT_S):
                        raise RefusedError(
                            503,
                            "cool-api holds too many request bodies at once; retry later",
                            overloaded=True,
                        )
                    charged[0] += len(chunk)
                    held += chunk  # one buffer: a body in tiny pieces costs its size
                    if not message.get("more_body", False):
                        return bytes(held)
        except TimeoutError:
            raise RefusedError(
                408, f"the request body did not arrive within {self.body_timeout_s:g} s"
            ) from None

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_body_bytes} bytes"

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The WSGI call, in a pool thread: status, headers and the whole body."""
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda _data: None  # the body comes from the iterable

        result = self.app(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        encoded = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers
            if name.lower() not in _HOP_BY_HOP
        ]
        return int(status.split(" ", 1)[0]), encoded, content

    def close(self) -> None:
        """Stop taking requests; those running finish in their threads."""
        self.pool.shutdown(wait=False, cancel_futures=True)


async def answer(
    send: Send, status: int, detail: str, *, close: bool = False, overloaded: bool = False
) -> None:
    body, headers = refusal(status, detail, overloaded=overloaded, close=close)
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1")).strip()
    return None


def wsgi_environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """PEP 3333's environ for a buffered request (the path as bytes in latin-1, as
    gunicorn's WSGI workers give it)."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", ""),
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in scope["headers"]:
        lowered = name.decode("latin-1").lower()
        key = lowered.upper().replace("-", "_")
        if lowered in _HOP_BY_HOP or key == "CONTENT_LENGTH":
            continue
        text = value.decode("latin-1")
        if key == "CONTENT_TYPE":
            environ[key] = text
            continue
        key = "HTTP_" + key
        environ[key] = f"{environ[key]},{text}" if key in environ else text
    return environ
