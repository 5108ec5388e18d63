"""Fault injection against a real ZooKeeper, and waiting on conditions.

Three ways to disturb a client, from narrowest to widest:

- :func:`expire_session`: the client's session ends on the server (its
  ephemeral nodes go); the client sees LOST, then CONNECTED with a new session.
- :class:`ConnectionProxy`: a TCP relay in front of the server for the
  clients that connect through it. ``drop()`` cuts their connections (they
  reconnect at once, same session); ``partition()`` keeps them cut until
  ``heal()`` (past the session timeout the server expires the session, and
  the client sees LOST when it gets through again); ``lose_reply()`` lets a
  request take effect and cuts the connection before its reply is relayed
  (the client cannot know the outcome: kazoo raises ``ConnectionLoss``).
- :func:`drop_connections`: restart the server itself; every client loses its
  connection, and every session survives (ZooKeeper persists sessions and
  re-arms their timeouts when it loads).

``ZooKeeperServer.pause()``/``resume()`` (SIGSTOP/SIGCONT) make a hung
server; see its docstring for what clients then see. :func:`pause_server`
also waits until the server has really stopped (a signal is not taken at once).
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from kazoo.client import KazooClient, KazooState

from harness.zk_clients import start_client, stop_client  # noqa: F401 (tests import them here)
from harness.zookeeper import HOST, ZooKeeperServer

T = TypeVar("T")


def assert_eventually(
    predicate: Callable[[], T],
    *,
    timeout_s: float = 10.0,
    interval_s: float = 0.05,
    message: str = "",
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    An ``AssertionError`` raised by the predicate counts as "not yet"; the
    last one is chained to the failure, which names the condition.
    """
    deadline = time.monotonic() + timeout_s
    last_error: AssertionError | None = None
    while True:
        try:
            result = predicate()
        except AssertionError as exc:
            last_error, result = exc, None
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            what = message or _describe(predicate)
            raise AssertionError(
                f"not true within {timeout_s:.1f}s: {what} (last result: {result!r})"
            ) from last_error
        time.sleep(interval_s)


def _describe(predicate: Callable[..., object]) -> str:
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)


def expire_session(client: KazooClient, *, timeout_s: float = 30.0) -> None:
    """Expire ``client``'s session on the server, for real, and wait for its new one.

    A second client attaches to the same session (id and password), which
    takes the session's connection away from the first, then closes the
    session; the first client then sees LOST and kazoo opens a new session.
    Returns once ``client`` is CONNECTED with that new session.
    """
    if client.client_id is None or not client.connected:
        raise ValueError("expire_session needs a connected client")
    session_id, password = client.client_id
    lost = threading.Event()

    def watch_loss(state: str) -> bool:
        if state == KazooState.LOST:
            lost.set()
            return True  # kazoo removes a listener that returns True
        return False

    client.add_listener(watch_loss)
    hosts = ",".join(f"{host}:{port}" for host, port in client.hosts)
    intruder = KazooClient(hosts=hosts, client_id=(session_id, password))
    try:
        intruder.start(timeout=timeout_s)
        if intruder.client_id is None or intruder.client_id[0] != session_id:
            raise AssertionError(f"session {session_id:#x} was already gone")
    finally:
        intruder.stop()  # closes the session: this is the expiry
        intruder.close()
    if not lost.wait(timeout_s):
        client.remove_listener(watch_loss)
        raise AssertionError(f"the client did not see session {session_id:#x} as LOST")
    assert_eventually(
        lambda: client.connected and client.client_id[0] != session_id,
        timeout_s=timeout_s,
        message=f"the client reconnects with a new session after {session_id:#x} expired",
    )


def pause_server(server: ZooKeeperServer, *, timeout_s: float = 10.0) -> None:
    """SIGSTOP ``server`` and return once every thread of it is stopped: from then on
    it answers nothing, for sure.

    ``kill()`` returns before the stop is done: one thread takes the signal and then
    stops the others, and until it runs (on a loaded machine, a while) the server
    still answers requests. Seen from ``/proc`` (Linux), state T of every thread.
    """
    server.pause()
    tasks = Path(f"/proc/{server.pid}/task")

    def stopped() -> bool:
        states = []
        for task in tasks.iterdir():
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        return bool(states) and all(state in {"T", "t"} for state in states)

    assert_eventually(
        stopped, timeout_s=timeout_s, interval_s=0.005, message=f"{server!r} is stopped"
    )


def drop_connections(server: ZooKeeperServer, *, timeout_s: float = 30.0) -> None:
    """Cut every client's connection to ``server`` by restarting it.

    Sessions survive: clients see SUSPENDED, then CONNECTED with the same
    session, as long as the server is back within their session timeout.
    """
    server.restart(timeout_s=timeout_s)


class ConnectionProxy:
    """A TCP relay to one server, so a test can cut some clients' connections.

    Clients connect to :attr:`hosts` instead of the server (add a chroot as
    usual). Only connections through this proxy are affected, so one worker
    can be partitioned while the others carry on.
    """

    def __init__(self, target_port: int, *, target_host: str = HOST) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server((HOST, 0))
        self._listener.settimeout(0.1)  # so the accept loop notices close()
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._links: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._partitioned = False
        self._lose_reply_to: bytes | None = None
        self._reply_lost = threading.Event()
        self._closed = threading.Event()
        self._accepter = threading.Thread(target=self._accept_loop, name="zk-proxy", daemon=True)
        self._accepter.start()

    @property
    def hosts(self) -> str:
        return f"{HOST}:{self.port}"

    def drop(self) -> None:
        """Close every relayed connection now; clients may reconnect at once."""
        with self._lock:
            links, self._links = self._links, set()
        for sock in links:
            _shut(sock)

    def partition(self) -> None:
        """Drop, and refuse reconnections until :meth:`heal` (new ones are closed at once)."""
        with self._lock:
            self._partitioned = True
        self.drop()

    def lose_reply(self, containing: bytes) -> threading.Event:
        """Arm a lost reply: the next request whose bytes contain ``containing`` reaches
        the server, which answers it; that answer is not relayed: the connection is cut
        instead (the client reconnects at once, same session). Returns an event set once
        a reply was lost. Deterministic: the cut follows the server's answer, so the
        request took effect exactly when the server says it did."""
        with self._lock:
            self._lose_reply_to = containing
            self._reply_lost.clear()
        return self._reply_lost

    def heal(self) -> None:
        with self._lock:
            self._partitioned = False

    def close(self) -> None:
        self._closed.set()
        self._accepter.join()
        self._listener.close()
        self.drop()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                downstream, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            downstream.settimeout(None)
            with self._lock:
                refuse = self._partitioned or self._closed.is_set()
            if refuse:
                _shut(downstream)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _shut(downstream)
                continue
            with self._lock:
                self._links |= {downstream, upstream}
            self._threads = [t for t in self._threads if t.is_alive()]
            awaited: set[bytes] = set()  # xids of requests whose reply is to be lost
            for source, sink, requests in (
                (downstream, upstream, True),
                (upstream, downstream, False),
            ):
                thread = threading.Thread(
                    target=self._pump,
                    args=(source, sink, requests, awaited),
                    name="zk-proxy-pump",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)

    def _pump(
        self, source: socket.socket, sink: socket.socket, requests: bool, awaited: set[bytes]
    ) -> None:
        """Copy ZooKeeper's frames (a 4-byte length, then the body) one way until either
        side closes; then close both. After the connect handshake, a request's body
        starts with its xid, and so does the reply to it."""
        buffer, handshake = b"", True
        try:
            while data := source.recv(65536):
                buffer += data
                relay = bytearray()
                while len(buffer) >= 4 and len(buffer) >= 4 + (
                    size := int.from_bytes(buffer[:4], "big")
                ):
                    frame, buffer = buffer[: 4 + size], buffer[4 + size :]
                    xid = frame[4:8]
                    if handshake:
                        handshake = False
                    elif requests:
                        with self._lock:
                            marker = self._lose_reply_to
                            if marker is not None and marker in frame:
                                self._lose_reply_to = None
                                awaited.add(xid)
                    elif xid in awaited:
                        sink.sendall(bytes(relay))  # what came before it, not the reply
                        self._reply_lost.set()
                        return
                    relay += frame
                if relay:
                    sink.sendall(bytes(relay))
        except OSError:
            pass
        finally:
            with self._lock:
                self._links -= {source, sink}
            _shut(source)
            _shut(sink)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a recv() blocked in another thread
    sock.close()
