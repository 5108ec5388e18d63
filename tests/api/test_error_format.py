"""The outermost middleware: an exception no handler saw is still an API-SIG 500."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cool.api.errors import ENV_REQUEST_ID, ErrorFormat


def _call(app: ErrorFormat, environ: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.update(status=status, headers=dict(headers))
        return lambda _data: None

    body = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], body


def test_an_exception_from_an_inner_middleware_is_a_500_with_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        # what keystonemiddleware raised when its identity endpoint was not in the catalog
        raise RuntimeError("internal endpoint for identity service not found")

    environ = {"PATH_INFO": "/v1/builds", "REQUEST_METHOD": "POST", ENV_REQUEST_ID: "req-42"}
    status, headers, body = _call(ErrorFormat(broken), environ)
    assert status == "500 Internal Server Error"
    assert headers["Content-Type"] == "application/json"
    assert headers["X-OpenStack-Request-ID"] == "req-42"
    (error,) = json.loads(body)["errors"]
    assert error["code"] == "cool.error"
    assert error["status"] == 500
    assert error["request_id"] == "req-42"
    assert "req-42" in error["detail"]
    assert "identity" not in error["detail"]  # the cause is for the log, not the caller
    assert "internal endpoint for identity service not found" in caplog.text
