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
- a send timeout: once a response has started, nothing bounds how long a
  client that does not read may keep it (and its connection) waiting; here a
  write that cannot go out within ``[api] send_timeout``, or the last bytes
  of a closed connection, end with the connection dropped;
- plain HTTP only: a WebSocket upgrade request (cool-api serves none) is
  answered as an ordinary request, not handed to the app as a WebSocket;
- JSON errors: its own refusals (400, 414, 431, 501) are ``text/plain``;
  here they use the API-SIG format like every other answer of cool-api.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gunicorn.asgi.protocol import ASGIProtocol, ClientDisconnected, FlowControl
from gunicorn.workers import gasgi

from cool.api.errors import phrase, refusal

# Words for the refusals gunicorn's parser makes; its own message is appended.
_DETAILS = {
    400: "the request is not valid HTTP",
    414: "the request line is over the limit of {line} bytes",
    431: "the request headers are over the limits ({fields} fields of {field} bytes at most)",
    501: "the transfer coding is not supported",
}
_PIECE_COST = 64  # bytes of memory one waiting body piece costs beyond its data


class BoundedFlowControl(FlowControl):  # type: ignore[misc]
    """gunicorn's write flow control, whose wait for a client to read is bounded:
    past ``timeout_s`` the connection is dropped and the sender told it is gone."""

    __slots__ = ("_drop", "_timeout_s")

    def __init__(self, transport: Any, timeout_s: float, drop: Any) -> None:
        super().__init__(transport)
        self._timeout_s = timeout_s
        self._drop = drop

    async def drain(self) -> None:
        try:
            async with asyncio.timeout(self._timeout_s):
                await super().drain()
        except TimeoutError:
            self._drop(f"the client read nothing for {self._timeout_s:g} s")
            raise ClientDisconnected("the client does not read its response") from None


class Protocol(ASGIProtocol):  # type: ignore[misc]
    """One connection: gunicorn's HTTP/1.1 protocol with a header timeout, a
    connection limit, a send timeout and JSON refusals."""

    def __init__(self, worker: Any) -> None:
        super().__init__(worker)
        self._header_timer: Any = None
        self._headers_seen = False
        self._drop_timer: Any = None
        self._partial = False  # bytes of a request not yet wholly received

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.worker.connections.add(self)
        if self._flow_control is not None:
            self._flow_control = BoundedFlowControl(
                transport, self.worker.send_timeout_s, self._drop
            )
        if self.worker.nr_conns > self.cfg.worker_connections:
            self.worker.log.warning(
                "refusing a connection: %d open, the limit is %d",
                self.worker.nr_conns - 1,
                self.cfg.worker_connections,
            )
            self._refuse(
                503, "cool-api has too many connections open; retry later", overloaded=True
            )
            return
        self._header_timer = self.worker.loop.call_later(
            self.worker.header_timeout_s, self._header_timed_out
        )

    def _on_headers_complete(self) -> Any:
        if not self._headers_seen:
            self._headers_seen = True
            self._cancel_header_timer()
        return super()._on_headers_complete()

    def _feed_callback_parser(self, data: bytes) -> Any:
        # What a client sent, and a pipelined request's bytes re-fed after the one
        # before it was answered: part of a request until the parser has all of it.
        self._partial = self._partial or bool(data)
        return super()._feed_callback_parser(data)

    def _on_message_complete(self) -> Any:
        self._partial = False
        return super()._on_message_complete()

    def close_if_idle(self) -> None:
        """Close the connection if it waits for a request no byte of which has come,
        as its keep-alive timeout would; one with a request under way is left."""
        if (
            not self._closed
            and self._awaiting_request
            and not self._finishing_calls
            and not self._partial
        ):
            self._keepalive_timeout()

    def connection_lost(self, exc: Exception | None) -> None:
        self.worker.connections.discard(self)
        self._cancel_header_timer()
        if self._drop_timer is not None:
            self._drop_timer.cancel()
            self._drop_timer = None
        super().connection_lost(exc)

    def _http1_buffered(self) -> int:
        """gunicorn pauses reading once this is past 256 KB; it counts the body bytes
        waiting for the app, not what each piece costs: 256 K one-byte chunks would
        hold ~15 MB. Each waiting piece counts its own cost here too."""
        receiver = self._body_receiver
        pieces = len(receiver._chunks) if receiver is not None else 0
        return int(super()._http1_buffered()) + _PIECE_COST * pieces

    def _is_websocket_upgrade(self, _request: Any) -> bool:
        """Never: gunicorn would hand the app a WebSocket scope (a 500); cool-api
        answers the request over HTTP, as if it had no Upgrade header."""
        return False

    def _close_transport(self) -> None:
        """gunicorn's close waits for the write buffer to go out, for ever if the
        client does not read: the connection (and its place under the limit) then
        stays. Here it is dropped if the bytes have not gone within the send timeout."""
        transport = self.transport
        super()._close_transport()
        if (
            transport is not None
            and self._drop_timer is None
            and not self._conn_lost_handled
            and transport.get_write_buffer_size() > 0
        ):
            self._drop_timer = self.worker.loop.call_later(
                self.worker.send_timeout_s, self._drop, "its last bytes were not read"
            )

    def _drop(self, why: str) -> None:
        """Abort the connection, unsent bytes and all (a client that does not read)."""
        self._drop_timer = None
        if self.transport is None or self._conn_lost_handled:
            return
        self.worker.log.info("dropping a connection: %s", why)
        self._closed = True
        self.transport.abort()
        if self._request_ready is not None:
            self._request_ready.set()

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

    def _refuse(self, status: int, detail: str, *, overloaded: bool = False) -> None:
        """Answer, close, and let the connection's task see it is closed."""
        self._write_error(status, detail, overloaded=overloaded)
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

    def _write_error(
        self, status: int, detail: str, extra_headers: Any = (), *, overloaded: bool = False
    ) -> None:
        body, headers = refusal(status, detail, overloaded=overloaded, extra_headers=extra_headers)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        self._safe_write(
            f"HTTP/1.1 {status} {phrase(status)}\r\n{head}\r\n".encode("latin-1") + body
        )


class Worker(gasgi.ASGIWorker):  # type: ignore[misc]
    """gunicorn's ASGI worker serving :class:`Protocol` connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = float(self.app.conf.api.header_timeout)
        self.send_timeout_s = float(self.app.conf.api.send_timeout)
        self.connections: set[Protocol] = set()

    async def _shutdown(self) -> None:
        """gunicorn's graceful stop waits up to ``graceful_timeout`` (30 s) for every
        open connection to close, the kept-alive idle ones too, which only their
        clients or ``[api] idle_timeout`` (75 s) would close: a stop took 30 s
        whenever a client held one (a requests session, heatclient, a proxy's
        pool). Idle ones are closed first, as their keep-alive timeout would close
        them; a request under way still finishes, and then its connection closes."""
        for connection in list(self.connections):
            connection.close_if_idle()
        await super()._shutdown()

    def init_process(self) -> None:
        # gunicorn's worker names its protocol class in its module: in this worker
        # process (forked, serving nothing else), that name is ours.
        gasgi.ASGIProtocol = Protocol
        super().init_process()
