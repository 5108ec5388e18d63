"""A stopped cool-api leaves at once when its clients' kept-alive connections are idle.

gunicorn's graceful stop waits up to ``graceful_timeout`` (30 s) for every open
connection to close, and an idle kept-alive one closes only when its client or
``[api] idle_timeout`` (75 s) says so: each stop of cool-api took 30 s whenever
a client (a requests session, heatclient, a proxy's pool) held one, as a test's
tear-down showed. Idle ones are now closed first; a request that has started
to arrive still gets its answer.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.api import ApiProcess
from tests.api.helpers import read_response
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

STOP_BOUND_S = 12.0  # gunicorn looks at its flag every second; 30 s before the fix
REQUEST = b"GET /healthcheck HTTP/1.1\r\nHost: cool\r\n\r\n"


@pytest.fixture
def api(zookeeper: Any, tmp_path: Path) -> Iterator[ApiProcess]:
    config = (
        "auth_strategy = noauth\nworkers = 1\nthreads = 4\nidle_timeout = 75\n"
        f"[zookeeper]\nhosts = {zookeeper.hosts}\nroot = /cool-shutdown\n"
    )
    with ApiProcess(tmp_path, config) as process:
        yield process


def _terminate(api: ApiProcess) -> None:
    assert api.process is not None
    os.killpg(api.process.pid, signal.SIGTERM)


def _stopped_within(api: ApiProcess, bound_s: float) -> float:
    assert api.process is not None
    started = time.monotonic()
    try:
        api.process.wait(bound_s)
    except subprocess.TimeoutExpired:
        pytest.fail(f"cool-api still running {bound_s:g} s after SIGTERM")
    return time.monotonic() - started


def test_a_stop_closes_idle_kept_alive_connections_instead_of_waiting_for_them(
    api: ApiProcess,
) -> None:
    with socket.create_connection(("127.0.0.1", api.port), timeout=30) as sock:
        sock.sendall(REQUEST)
        assert read_response(sock)[0] == 200
        # Kept alive, and idle: nothing of a next request has come.
        _terminate(api)
        _stopped_within(api, STOP_BOUND_S)
        assert sock.recv(1) == b""  # closed by the server, as a keep-alive timeout would


def test_a_request_that_started_arriving_before_the_stop_is_still_answered(
    api: ApiProcess,
) -> None:
    first, rest = REQUEST[:20], REQUEST[20:]
    with socket.create_connection(("127.0.0.1", api.port), timeout=30) as sock:
        # One write: a whole request and the start of the next. The first's answer
        # shows the server has read both.
        sock.sendall(REQUEST + first)
        assert read_response(sock)[0] == 200
        _terminate(api)
        # Its idle connections are closed as the stop begins, before this line.
        assert_eventually(
            lambda: "Worker shutting down" in api.log.read_text(),
            timeout_s=STOP_BOUND_S,
            message="cool-api's worker begins its stop",
        )
        sock.sendall(rest)
        status, _, body = read_response(sock)
        assert status == 200, body
        assert sock.recv(1) == b""  # then closed: the server is stopping
    _stopped_within(api, STOP_BOUND_S)
