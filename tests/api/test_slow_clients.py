"""Hostile and slow clients against a real cool-api process, over real sockets.

Slow headers, slow bodies, huge request lines and headers, chunked bodies and a
flood of wrong passwords: none of them may delay a normal request beyond
``BOUND_S``, and every refusal is JSON in the API-SIG format. The server runs
one process with few threads, so that the slow clients far outnumber them.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import bcrypt
import pytest

from cool.local.api import ApiProcess
from tests.api.helpers import USERS, password, write_htpasswd
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

BOUND_S = 2.0  # a normal request answers within this, whatever the slow clients do
THREADS = 4
HEADER_TIMEOUT_S = 5
BODY_TIMEOUT_S = 8
FLOODED = "carol"  # a user whose bcrypt hash has the production cost
TEMPLATE = (
    '{"template": {"heat_template_version": "2018-08-31", "resources": '
    '{"v": {"type": "OS::Heat::Value", "properties": {"value": "one"}}}}}'
)


@pytest.fixture(scope="module")
def api(zookeeper: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    directory = tmp_path_factory.mktemp("slow-clients")
    htpasswd = write_htpasswd(directory / "htpasswd")
    slow_hash = bcrypt.hashpw(password(FLOODED).encode(), bcrypt.gensalt(rounds=12)).decode()
    with htpasswd.open("a") as out:
        out.write(f"{FLOODED}:{slow_hash}\n")
    users = "".join(f"user = {u}:{p[0]}:{p[1]}\n" for u, p in USERS.items() if p)
    config = (
        f"auth_strategy = http_basic\nworkers = 1\nthreads = {THREADS}\n"
        f"header_timeout = {HEADER_TIMEOUT_S}\nbody_timeout = {BODY_TIMEOUT_S}\n"
        f"[http_basic]\nhtpasswd_file = {htpasswd}\n{users}user = {FLOODED}:p-one:member\n"
        f"[zookeeper]\nhosts = {zookeeper.hosts}\nroot = /cool-slow-clients\n"
    )
    with ApiProcess(directory, config) as process:
        yield process


def _auth(user: str, secret: str | None = None) -> str:
    token = f"{user}:{password(user) if secret is None else secret}".encode()
    return "Basic " + base64.b64encode(token).decode()


def _timed_get(api: ApiProcess, path: str, user: str = "alice") -> tuple[float, int]:
    """A normal request on a fresh connection: its latency and status."""
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Authorization": _auth(user)})
        response = conn.getresponse()
        response.read()
        return time.monotonic() - start, response.status
    finally:
        conn.close()


def _assert_normal_requests_fast(api: ApiProcess) -> None:
    for path in ("/healthcheck", "/v1/builds", "/v1/builds"):
        elapsed, status = _timed_get(api, path)
        assert status == 200
        assert elapsed < BOUND_S, f"GET {path} took {elapsed:.1f} s"


def _connect(api: ApiProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", api.port), timeout=30)


def _read_response(sock: socket.socket, timeout_s: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response (the body by Content-Length)."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _closed(sock: socket.socket, timeout_s: float = 10) -> bool:
    """True once the server closed the connection (whatever it sent before)."""
    sock.settimeout(timeout_s)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def _assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    assert status == expected, body[:300]
    assert headers["content-type"].startswith("application/json"), body[:300]
    (entry,) = json.loads(body)["errors"]
    assert entry["status"] == expected
    assert entry["code"].startswith("cool.")


class _Trickle:
    """Keeps sockets alive by sending them one byte each every ``interval_s``."""

    def __init__(self, sockets: list[socket.socket], interval_s: float = 0.5) -> None:
        self.sockets = sockets
        self.interval_s = interval_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.interval_s):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    def __enter__(self) -> _Trickle:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        for sock in self.sockets:
            sock.close()


def _open_many(api: ApiProcess, count: int, prefix: Callable[[int], bytes]) -> list[socket.socket]:
    sockets = []
    for i in range(count):
        sock = _connect(api)
        sock.sendall(prefix(i))
        sockets.append(sock)
    return sockets


def test_listening_line_names_the_url_once(api: ApiProcess) -> None:
    assert api.listening_on == [f"http://127.0.0.1:{api.port}"]


def test_slow_header_clients_do_not_delay_a_normal_request(api: ApiProcess) -> None:
    sockets = _open_many(api, 100, lambda i: f"GET /v1/builds HTTP/1.1\r\nX-Slow-{i}: ".encode())
    with _Trickle(sockets):
        _assert_normal_requests_fast(api)


def test_slow_body_clients_do_not_delay_a_normal_request(api: ApiProcess) -> None:
    head = (
        "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: {_auth('alice')}\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    sockets = _open_many(api, 40, lambda _i: head)
    with _Trickle(sockets):
        _assert_normal_requests_fast(api)


def test_slow_headers_past_the_header_timeout_are_cut_off(api: ApiProcess) -> None:
    sock = _connect(api)
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nX-Slow: ")
    start = time.monotonic()
    with _Trickle([sock]):
        try:
            status, headers, body = _read_response(sock, timeout_s=HEADER_TIMEOUT_S + 10)
        except ConnectionError:
            pass  # closed without an answer: allowed too
        else:
            _assert_json_error(status, headers, body, 408)
        assert _closed(sock)
    assert time.monotonic() - start < HEADER_TIMEOUT_S + 5


def test_slow_body_past_the_body_timeout_is_refused(api: ApiProcess) -> None:
    sock = _connect(api)
    sock.sendall(
        (
            "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: {_auth('alice')}\r\nContent-Length: 100000\r\n\r\n"
        ).encode()
    )
    start = time.monotonic()
    with _Trickle([sock]):
        status, headers, body = _read_response(sock, timeout_s=BODY_TIMEOUT_S + 10)
        _assert_json_error(status, headers, body, 408)
        assert _closed(sock)
    assert time.monotonic() - start < BODY_TIMEOUT_S + 5


def test_a_chunked_body_is_read_whole(api: ApiProcess) -> None:
    body = TEMPLATE.encode()
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 40]), body[i : i + 40]) for i in range(0, len(body), 40)
    )
    sock = _connect(api)
    sock.sendall(
        (
            "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: {_auth('alice')}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + chunks
        + b"0\r\n\r\n"
    )
    status, _headers, answer = _read_response(sock)
    sock.close()
    assert status == 200, answer[:500]
    assert json.loads(answer)["resources"] is not None


def test_a_huge_request_line_is_refused_quickly_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    start = time.monotonic()

    def send() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(b"GET /v1/builds/" + b"a" * (20 * 1024 * 1024))

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    status, headers, body = _read_response(sock)
    _assert_json_error(status, headers, body, 414)
    assert _closed(sock)
    assert time.monotonic() - start < 5
    sock.close()
    sender.join(10)


def test_oversized_headers_are_refused_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 65536 + b"\r\n\r\n")
    status, headers, body = _read_response(sock)
    _assert_json_error(status, headers, body, 431)
    assert _closed(sock)
    sock.close()


def test_too_many_headers_are_refused_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(300))
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    status, headers, body = _read_response(sock)
    _assert_json_error(status, headers, body, 431)
    sock.close()


def test_a_malformed_request_is_refused_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nHost x\r\n\r\n")
    status, headers, body = _read_response(sock)
    _assert_json_error(status, headers, body, 400)
    sock.close()


def test_wrong_password_flood_does_not_starve_a_right_one(api: ApiProcess) -> None:
    stop = threading.Event()
    answered = [0] * 20

    def flood(i: int) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
                try:
                    conn.request(
                        "GET", "/v1/builds", headers={"Authorization": _auth(FLOODED, f"x{i}")}
                    )
                    response = conn.getresponse()
                    response.read()
                    if response.status == 401:  # checked, not just told to retry
                        answered[i] += 1
                finally:
                    conn.close()

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(20)]
    for thread in threads:
        thread.start()
    try:
        assert_eventually(lambda: min(answered) >= 2, timeout_s=60, message="every client refused")
        elapsed, status = _timed_get(api, "/v1/builds", user=FLOODED)
        assert status == 200
        assert elapsed < BOUND_S, f"the right password waited {elapsed:.1f} s"
    finally:
        stop.set()
        for thread in threads:
            thread.join(40)
