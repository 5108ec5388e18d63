"""The chaos run's REST client: every answer counted by status, retries bounded.

cool-api is restarted during the run and ZooKeeper loses its leader, so a
request may meet a refused connection or a 503: both are retried (a submit
carries an ``Idempotency-Key``, so a retry never makes a second build) until
``retry_s`` has passed. Every answer is tallied by status; a 5xx that is not a
JSON 503 in the API-SIG format (DESIGN.md section 8) is kept as a violation.
"""

from __future__ import annotations

import collections
import http.client
import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_TIMEOUT_S = 30.0
_RETRY_PAUSE_S = 0.5


class ApiGaveUpError(RuntimeError):
    """No usable answer within the retry bound."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any  # parsed JSON, or None


class ApiClient:
    """Thread-safe: one keep-alive connection per thread, shared tallies."""

    def __init__(self, url: str, *, retry_s: float = 60.0) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.retry_s = retry_s
        self.statuses: collections.Counter[int] = collections.Counter()
        # By kind: refused while cool-api restarts; RemoteDisconnected when the server
        # closed an idle keep-alive connection (gunicorn's keepalive) as a request left.
        self.connection_errors: collections.Counter[str] = collections.Counter()
        self.bad_5xx: list[str] = []  # violations: a 5xx other than a JSON 503
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=_TIMEOUT_S)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Close every thread's connection (call once the threads are done)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def once(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer | None:
        """One request; None when the connection failed (counted)."""
        data = json.dumps(body).encode() if body is not None else None
        sent = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            sent["Content-Type"] = "application/json"
        try:
            conn = self._connection()
            conn.request(method, path, data, sent)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._drop()
            with self._lock:
                self.connection_errors[type(exc).__name__] += 1
            return None
        if response.getheader("Connection", "").lower() == "close":
            self._drop()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        with self._lock:
            self.statuses[response.status] += 1
            if response.status >= 500 and not _is_json_503(response.status, parsed):
                self.bad_5xx.append(f"{method} {path}: {response.status} {raw[:300]!r}")
        return Answer(response.status, parsed)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """Retry refused connections and 503s until ``retry_s``; any other answer is returned."""
        deadline = time.monotonic() + self.retry_s
        while True:
            answer = self.once(method, path, body, headers)
            if answer is not None and answer.status != 503:
                return answer
            if time.monotonic() > deadline:
                raise ApiGaveUpError(f"{method} {path}: no answer but 503 or refused")
            time.sleep(_RETRY_PAUSE_S)

    def pages(self, path: str, key: str) -> list[dict[str, Any]]:
        """Every item of a paged list (``limit``/``marker``)."""
        items: list[dict[str, Any]] = []
        marker = ""
        while True:
            suffix = f"&marker={marker}" if marker else ""
            answer = self.call("GET", f"{path}?limit=1000{suffix}")
            if answer.status != 200:
                raise ApiGaveUpError(f"GET {path}: {answer.status} {answer.body}")
            page = answer.body[key]
            items += page
            if not page or not any(link["rel"] == "next" for link in answer.body.get("links", [])):
                return items
            marker = str(page[-1]["id"])


def _is_json_503(status: int, body: Any) -> bool:
    if status != 503 or not isinstance(body, dict):
        return False
    errors = body.get("errors")
    return (
        isinstance(errors, list)
        and bool(errors)
        and all(isinstance(e, dict) and e.get("status") == 503 and e.get("code") for e in errors)
    )
