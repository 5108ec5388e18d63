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
from pathlib import Path
from typing import Any

import bcrypt
import pytest

from harness.api import ApiProcess
from tests.api.helpers import USERS, password, read_response, write_htpasswd
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

BOUND_S = 2.0  # a normal request answers within this, whatever the slow clients do
THREADS = 16  # more than the password check places, far fewer than slow clients
HEADER_TIMEOUT_S = 5
BODY_TIMEOUT_S = 8
FLOODED = "carol"  # a user whose bcrypt hash has the production cost
VICTIM = "dave"  # another, whose password no other test checks (never remembered)
SEND_TIMEOUT_S = 2
CROWDED_CONNECTIONS = 8
CROWDED_BUFFER = 1024 * 1024  # [api] max_buffered_bytes of the crowded server
TEMPLATE = (
    '{"template": {"heat_template_version": "2018-08-31", "resources": '
    '{"v": {"type": "OS::Heat::Value", "properties": {"value": "one"}}}}}'
)


@pytest.fixture(scope="module")
def api(zookeeper: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    directory = tmp_path_factory.mktemp("slow-clients")
    htpasswd = write_htpasswd(directory / "htpasswd")
    users = "".join(f"user = {u}:{p[0]}:{p[1]}\n" for u, p in USERS.items() if p)
    with htpasswd.open("a") as out:
        for user in (FLOODED, VICTIM):
            slow_hash = bcrypt.hashpw(password(user).encode(), bcrypt.gensalt(rounds=12))
            out.write(f"{user}:{slow_hash.decode()}\n")
            users += f"user = {user}:p-one:member\n"
    config = (
        f"auth_strategy = http_basic\nworkers = 1\nthreads = {THREADS}\n"
        f"header_timeout = {HEADER_TIMEOUT_S}\nbody_timeout = {BODY_TIMEOUT_S}\n"
        f"[http_basic]\nhtpasswd_file = {htpasswd}\n{users}"
        f"[zookeeper]\nhosts = {zookeeper.hosts}\nroot = /cool-slow-clients\n"
    )
    with ApiProcess(directory, config) as process:
        yield process


@pytest.fixture(scope="module")
def crowded(zookeeper: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    """A server with few connections, a short send timeout and a small body budget."""
    directory = tmp_path_factory.mktemp("crowded")
    config = (
        f"auth_strategy = noauth\nworkers = 1\nthreads = {THREADS}\n"
        f"max_connections = {CROWDED_CONNECTIONS}\nsend_timeout = {SEND_TIMEOUT_S}\n"
        f"max_buffered_bytes = {CROWDED_BUFFER}\nheader_timeout = 20\nbody_timeout = 20\n"
        f"[zookeeper]\nhosts = {zookeeper.hosts}\nroot = /cool-crowded\n"
    )
    with ApiProcess(directory, config, name="crowded") as process:
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
            status, headers, body = read_response(sock, timeout_s=HEADER_TIMEOUT_S + 10)
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
        status, headers, body = read_response(sock, timeout_s=BODY_TIMEOUT_S + 10)
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
    status, _headers, answer = read_response(sock)
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
    status, headers, body = read_response(sock)
    _assert_json_error(status, headers, body, 414)
    assert _closed(sock)
    assert time.monotonic() - start < 5
    sock.close()
    sender.join(10)


def test_oversized_headers_are_refused_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 65536 + b"\r\n\r\n")
    status, headers, body = read_response(sock)
    _assert_json_error(status, headers, body, 431)
    assert _closed(sock)
    sock.close()


def test_too_many_headers_are_refused_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(300))
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    status, headers, body = read_response(sock)
    _assert_json_error(status, headers, body, 431)
    sock.close()


def test_a_malformed_request_is_refused_as_json(api: ApiProcess) -> None:
    sock = _connect(api)
    sock.sendall(b"GET /v1/builds HTTP/1.1\r\nHost x\r\n\r\n")
    status, headers, body = read_response(sock)
    _assert_json_error(status, headers, body, 400)
    sock.close()


def test_wrong_password_flood_does_not_starve_a_right_one(api: ApiProcess) -> None:
    answered = [0] * 20

    def tried(i: int, _try: int) -> tuple[str, str]:
        return FLOODED, f"x{i}"  # one wrong password each: remembered after its check

    def seen(i: int, status: int) -> None:
        if status == 401:  # checked, not just told to retry
            answered[i] += 1

    with _flooding(api, tried, seen):
        assert_eventually(lambda: min(answered) >= 2, timeout_s=60, message="every client refused")
        elapsed, status = _timed_get(api, "/v1/builds", user=FLOODED)
        assert status == 200
        assert elapsed < BOUND_S, f"the right password waited {elapsed:.1f} s"


@contextlib.contextmanager
def _flooding(
    api: ApiProcess,
    tried: Callable[[int, int], tuple[str, str]],
    seen: Callable[[int, int], None] = lambda _i, _status: None,
    *,
    clients: int = 20,
) -> Iterator[list[int]]:
    """``clients`` threads sending GET /v1/builds as ``tried(client, try)`` (user,
    password) over and over, each answer's status to ``seen``; yields the tries so far
    of each client, and stops them all on the way out."""
    stop = threading.Event()
    tries = [0] * clients

    def flood(i: int) -> None:
        while not stop.is_set():
            tries[i] += 1
            user, secret = tried(i, tries[i])
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
                try:
                    conn.request(
                        "GET", "/v1/builds", headers={"Authorization": _auth(user, secret)}
                    )
                    response = conn.getresponse()
                    response.read()
                    seen(i, response.status)
                finally:
                    conn.close()

    threads = [threading.Thread(target=flood, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield tries
    finally:
        stop.set()
        for thread in threads:
            thread.join(40)


def _new_log(process: ApiProcess, since: int) -> str:
    return process.log.read_text(errors="replace")[since:]


def _log_size(process: ApiProcess) -> int:
    return len(process.log.read_text(errors="replace"))


def _worker_pid(process: ApiProcess) -> int:
    assert process.process is not None
    master = process.process.pid
    children = Path(f"/proc/{master}/task/{master}/children")
    assert_eventually(lambda: len(children.read_text().split()) == 1, message="one worker")
    return int(children.read_text())


def _status_kb(pid: int, field: str) -> int:
    """A size from /proc/PID/status: VmRSS now, VmHWM its peak."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_too_many_connections_say_overloaded_not_zookeeper(crowded: ApiProcess) -> None:
    sockets = _open_many(crowded, CROWDED_CONNECTIONS, lambda i: b"GET /healthcheck HTTP/1.1\r\n")
    try:
        extra = _connect(crowded)
        status, headers, body = read_response(extra)
        extra.close()
        _assert_json_error(status, headers, body, 503)
        (entry,) = json.loads(body)["errors"]
        assert entry["code"] == "cool.api.overloaded", entry
        assert "Retry-After" in {k.title(): v for k, v in headers.items()}
    finally:
        for sock in sockets:
            sock.close()


def test_clients_that_never_read_are_cut_off_after_the_send_timeout(
    crowded: ApiProcess,
) -> None:
    """Each pipelines requests of a 24 KB document, more than the kernel's buffers
    take, into a 4 KB receive buffer and never reads: without a send timeout they
    held every connection for ever."""
    count = 200
    pipelined = b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * count
    sockets = []
    try:
        for _ in range(CROWDED_CONNECTIONS):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.settimeout(30)
            sock.connect(("127.0.0.1", crowded.port))
            sock.sendall(pipelined)
            sockets.append(sock)
        # Every connection stays busy at least while its send is blocked, so a
        # request then gets in only once the server gave up on the readers.
        assert_eventually(
            lambda: _timed_get(crowded, "/healthcheck")[1] == 200,
            timeout_s=SEND_TIMEOUT_S + 30,
            message="a normal request is served again",
        )
        for sock in sockets:  # the server dropped them, with their responses unread
            received = 0
            with contextlib.suppress(ConnectionResetError):
                sock.settimeout(10)
                while chunk := sock.recv(65536):
                    received += len(chunk)
            assert received < count * 20_000, received
    finally:
        for sock in sockets:
            sock.close()


def test_a_body_sent_a_byte_a_chunk_costs_its_size_not_fifty_times(crowded: ApiProcess) -> None:
    pid = _worker_pid(crowded)
    size = 150_000
    head = (
        b"POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    for _ in range(THREADS):  # warm: threads started, the validation code loaded
        assert _post_validate(crowded, b"a" * 1000) == 400
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak starts again from now
    before = _status_kb(pid, "VmRSS")
    sockets = _open_many(crowded, 4, lambda _i: head)
    try:
        for sock in sockets:
            sock.sendall(b"1\r\na\r\n" * size)
        for sock in sockets:
            sock.sendall(b"0\r\n\r\n")  # complete: answered once the whole body was read
        for sock in sockets:
            status, _headers, _body = read_response(sock, timeout_s=60)
            assert status in (400, 413), status  # not JSON: refused, but read whole
    finally:
        for sock in sockets:
            sock.close()
    growth_kb = _status_kb(pid, "VmHWM") - before
    # 4 × 150 KB of body (3.6 MB on the wire): ~9 MB measured with the parser's and
    # the server's own costs; each byte kept as its own object cost ~35 MB.
    assert growth_kb < 20 * 1024, f"the worker grew by {growth_kb} KB"


def test_bodies_past_the_buffer_budget_are_told_to_retry(crowded: ApiProcess) -> None:
    """Two bodies that do not fit in the budget together: one of them (or both, when
    each was charged part of the budget before either could finish) waits briefly,
    then is refused with a JSON 503 and Retry-After."""
    length = CROWDED_BUFFER * 3 // 4
    head = (
        "POST /v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    sockets = _open_many(crowded, 2, lambda _i: head)
    try:
        for sock in sockets:
            sock.sendall(b" " * (length - 10))  # held until the rest comes
        answers = []
        for sock in sockets:
            sock.settimeout(0.2)
        deadline = time.monotonic() + 15
        while not answers and time.monotonic() < deadline:
            for sock in sockets:
                with contextlib.suppress(TimeoutError):
                    if sock.recv(1, socket.MSG_PEEK):
                        answers.append(read_response(sock))
        assert answers, "a body past the budget is refused"
        for status, headers, body in answers:
            _assert_json_error(status, headers, body, 503)
            assert json.loads(body)["errors"][0]["code"] == "cool.api.overloaded"
            assert headers["retry-after"].isdigit()
    finally:
        for sock in sockets:
            sock.close()
    # The budget is given back with the connections: a body fits again.
    assert_eventually(
        lambda: _post_validate(crowded) == 200, timeout_s=30, message="a body is taken again"
    )


def _post_validate(process: ApiProcess, body: bytes | None = None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", process.port, timeout=30)
    if body is None:
        body = TEMPLATE.encode() + b" " * (CROWDED_BUFFER * 3 // 4)
    try:
        conn.request("POST", "/v1/validate", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/healthcheck", "/v1/builds", "/nowhere"])
def test_a_websocket_upgrade_is_answered_as_plain_http(api: ApiProcess, path: str) -> None:
    since = _log_size(api)
    sock = _connect(api)
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        ).encode()
    )
    status, headers, body = read_response(sock)
    sock.close()
    assert status in (200, 401, 404), body[:300]
    if path != "/healthcheck":  # oslo.middleware's healthcheck answers plain text
        assert headers["content-type"].startswith("application/json")
    assert "Traceback" not in _new_log(api, since)


def test_an_h2c_upgrade_is_answered_over_http_1(api: ApiProcess) -> None:
    since = _log_size(api)
    sock = _connect(api)
    sock.sendall(
        b"GET /v1/builds HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"
    )
    status, headers, body = read_response(sock)
    sock.close()
    _assert_json_error(status, headers, body, 401)
    assert "Traceback" not in _new_log(api, since)


def test_an_http2_preface_is_refused_as_json_or_closed(api: ApiProcess) -> None:
    since = _log_size(api)
    sock = _connect(api)
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
    try:
        status, headers, body = read_response(sock)
    except ConnectionError:
        pass  # closed without an answer: clean too
    else:
        assert 400 <= status < 500, body[:300]
        assert headers["content-type"].startswith("application/json"), body[:300]
    assert _closed(sock)
    sock.close()
    assert "Traceback" not in _new_log(api, since)


def test_a_flood_of_distinct_wrong_passwords_does_not_lock_out_another_user(
    api: ApiProcess,
) -> None:
    """Each try a new password (none remembered): the flooded user's checks take
    its own share of the check slots, not another user's."""

    def tried(i: int, attempt: int) -> tuple[str, str]:
        user = FLOODED if i % 2 else f"nobody-{i}-{attempt}"
        return user, f"wrong-{i}-{attempt}"

    with _flooding(api, tried) as tries:
        assert_eventually(lambda: min(tries) >= 3, timeout_s=60, message="the flood is on")
        elapsed, status = _timed_get(api, "/v1/builds", user=VICTIM)
        assert status == 200, f"{VICTIM}'s right password was answered {status}"
        assert elapsed < 5, f"{VICTIM}'s right password waited {elapsed:.1f} s"
