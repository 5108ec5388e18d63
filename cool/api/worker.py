"""cool-api's gunicorn worker: gunicorn's asyncio (ASGI) worker, with the limits it lacks.

gunicorn's ASGI worker parses requests on an event loop, so a slow client
costs a socket, not a thread, and it keeps gunicorn's process management.
What it lacks, added here on its protocol:

- a header timeout: nothing bounds how long a new connection may take to send
  its request headers (the keep-alive timer only starts after a first
  response); here a connection whose headers are not complete within
  ``[api] header_timeout`` gets a JSON 408 and is closed;
- a connection limit: it counts connections (``worker_connections``) but
  never refuses one; here connections past it get a JSON 503 and are closed;
- JSON errors: its own refusals (400, 414, 431, 501) are ``text/plain``;
  here they use the API-SIG format like every other answer of cool-api.
"""

from __future__ import annotations

from typing import Any

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi
from oslo_context.context import generate_request_id

from cool.api.errors import code_for, document, phrase

# Words for the refusals gunicorn's parser makes; its own message is appended.
_DETAILS = {
    400: "the request is not valid HTTP",
    414: "the request line is over the limit of {line} bytes",
    431: "the request headers are over the limits ({fields} fields of {field} bytes at most)",
    501: "the transfer coding is not supported",
}


class Protocol(ASGIProtocol):  # type: ignore[misc]
    """One connection: gunicorn's HTTP/1.1 protocol with a header timeout, a
    connection limit and JSON refusals."""

    def __init__(self, worker: Any) -> None:
        super().__init__(worker)
        self._header_timer: Any = None
        self._headers_seen = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if self.worker.nr_conns > self.cfg.worker_connections:
            self.worker.log.warning(
                "refusing a connection: %d open, the limit is %d",
                self.worker.nr_conns - 1,
                self.cfg.worker_connections,
            )
            self._refuse(503, "cool-api has too many connections open; retry later")
            return
        self._header_timer = self.worker.loop.call_later(
            self.worker.header_timeout_s, self._header_timed_out
        )

    def _on_headers_complete(self) -> Any:
        if not self._headers_seen:
            self._headers_seen = True
            self._cancel_header_timer()
        return super()._on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self._headers_seen or self._closed:
            return
        timeout = self.worker.header_timeout_s
        self._refuse(408, f"the request headers did not arrive within {timeout:g} s")

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, status: int, detail: str) -> None:
        """Answer, close, and let the connection's task see it is closed."""
        self._write_error(status, detail)
        self._close_transport()
        if self._request_ready is not None:
            self._request_ready.set()

    def _send_error_response(self, status: int, message: str, extra_headers: Any = ()) -> None:
        """gunicorn's refusals (malformed requests, limits), in cool's error format."""
        cfg = self.cfg
        detail = _DETAILS.get(status, phrase(status)).format(
            line=cfg.limit_request_line,
            fields=cfg.limit_request_fields,
            field=cfg.limit_request_field_size,
        )
        if message and status in (400, 501):
            detail = f"{detail}: {message[:200]}"
        self._write_error(status, detail, extra_headers)

    def _write_error(self, status: int, detail: str, extra_headers: Any = ()) -> None:
        rid = generate_request_id()
        body = document(status, code_for(status), detail, rid)
        extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
        head = (
            f"HTTP/1.1 {status} {phrase(status)}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-OpenStack-Request-ID: {rid}\r\n"
            f"{extra}"
            "Connection: close\r\n\r\n"
        )
        self._safe_write(head.encode("latin-1") + body)


class Worker(gasgi.ASGIWorker):  # type: ignore[misc]
    """gunicorn's ASGI worker serving :class:`Protocol` connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = float(self.app.conf.api.header_timeout)

    def init_process(self) -> None:
        # gunicorn's worker names its protocol class in its module: in this worker
        # process (forked, serving nothing else), that name is ours.
        gasgi.ASGIProtocol = Protocol
        super().init_process()
