"""The cool API over a keystoneauth1 session: the one place the CLI speaks HTTP.

Whatever authenticates the session (a Keystone token, HTTP basic, nothing)
is keystoneauth's business; this module only knows the API's paths, its
error format and which requests are safe to send again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.session import Session

from cool.errors import CoolError

# Retried by keystoneauth with backoff: a 503 is what cool-api answers while
# ZooKeeper is unreachable, with a Retry-After it honours.
_RETRIED_STATUSES = (503,)
# Answers that say cool-api (or a proxy in front of it) is unavailable now.
_TRANSIENT_STATUSES = frozenset({502, 503, 504})
_RETRIES = 3
# Longer than any long-poll the API grants ([api] max_event_wait is 60 s).
_SLACK_S = 15.0
DEFAULT_TIMEOUT_S = 30.0
_PAGE = 1000  # the API lowers a larger limit to its [api] max_limit


@dataclass(frozen=True)
class ApiProblem:
    """One entry of an API-SIG error body."""

    status: int
    code: str
    title: str
    detail: str
    source: dict[str, Any] = field(default_factory=dict)


class ApiError(CoolError):
    """The API refused a request: every problem it gave, in its order.

    ``status`` is the answer's; ``retryable`` when that says cool-api or what is in
    front of it is unavailable now (the CLI's follow tries again then).
    """

    code = "cool.cli.api_refused"
    title = "Request refused"

    def __init__(self, status: int, problems: list[ApiProblem], request_id: str | None) -> None:
        first = problems[0] if problems else None
        super().__init__(first.detail if first else f"HTTP {status}")
        self.status = status
        self.retryable = status in _TRANSIENT_STATUSES
        self.problems = problems
        self.request_id = request_id


class ApiUnreachableError(CoolError):
    """No answer from the API at all (refused, timed out, unknown host, no token)."""

    code = "cool.cli.api_unreachable"
    status = 503
    title = "Service unavailable"
    retryable = True  # as the CLI's follow has always treated it


def _problems(status: int, body: Any, fallback: str) -> list[ApiProblem]:
    entries = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(entries, list) or not entries:
        return [ApiProblem(status, f"http.{status}", fallback, fallback)]
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        source = entry.get("source")
        out.append(
            ApiProblem(
                status=int(entry.get("status") or status),
                code=str(entry.get("code") or f"http.{status}"),
                title=str(entry.get("title") or ""),
                detail=str(entry.get("detail") or entry.get("title") or fallback),
                source=source if isinstance(source, dict) else {},
            )
        )
    return out or [ApiProblem(status, f"http.{status}", fallback, fallback)]


class CoolClient:
    """The endpoints of DESIGN.md section 8, as Python calls answering JSON."""

    def __init__(self, session: Session, endpoint: str, *, timeout_s: float = DEFAULT_TIMEOUT_S):
        self.session = session
        self.endpoint = endpoint.rstrip("/")
        self.timeout_s = timeout_s

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        timeout_s: float | None = None,
        retry: bool = True,
    ) -> tuple[int, Any]:
        url = path if path.startswith(("http://", "https://")) else self.endpoint + path
        try:
            response = self.session.request(
                url,
                method,
                params=params,
                json=json,
                headers={"Accept": "application/json", **(headers or {})},
                raise_exc=False,
                # The session's own auth (token, basic) applies; the URL is ours.
                authenticated=None,
                timeout=timeout_s or self.timeout_s,
                connect_retries=_RETRIES if retry else 0,
                status_code_retries=_RETRIES if retry else 0,
                retriable_status_codes=list(_RETRIED_STATUSES),
            )
        except ks_exceptions.ConnectFailure as exc:
            raise ApiUnreachableError(
                f"cannot reach cool at {self.endpoint}: {_why(exc)}"
            ) from None
        except ks_exceptions.ConnectTimeout:
            raise ApiUnreachableError(f"cool at {self.endpoint} did not answer in time") from None
        except ks_exceptions.RequestTimeout:
            raise ApiUnreachableError(f"cool at {self.endpoint} did not answer in time") from None
        except (ks_exceptions.Unauthorized, ks_exceptions.AuthorizationFailure) as exc:
            raise ApiUnreachableError(f"cannot authenticate: {exc}") from None
        except ks_exceptions.ClientException as exc:
            # keystoneauth's own refusals: no catalog entry, Keystone unreachable...
            raise ApiUnreachableError(str(exc)) from None
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = None
        if response.status_code >= 400:
            reason = response.reason or f"HTTP {response.status_code}"
            raise ApiError(
                response.status_code,
                _problems(response.status_code, body, reason),
                response.headers.get("X-OpenStack-Request-ID"),
            )
        return response.status_code, body

    # -- builds

    def submit(self, request: dict[str, Any], *, idempotency_key: str) -> dict:
        """``POST /v1/builds``; resent on a lost answer with the same key, so at most
        one build results however many times it goes out."""
        headers = {"Idempotency-Key": idempotency_key}
        _, body = self._request("POST", "/v1/builds", json=request, headers=headers)
        return body["build"]

    def validate(self, request: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/v1/validate", json=request)[1]

    def build(self, build_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/builds/{_segment(build_id)}")[1]["build"]

    def builds(
        self, *, statuses: list[str] | None = None, all_projects: bool = False, limit: int = 0
    ) -> Iterator[dict[str, Any]]:
        """Every build the caller may list, newest first, following ``next`` links."""
        params: dict[str, Any] = {}
        if statuses:
            params["status"] = ",".join(statuses)
        if all_projects:
            params["all_projects"] = "true"
        params["limit"] = str(min(limit, _PAGE) if limit else _PAGE)
        yield from self._pages("/v1/builds", "builds", params, limit)

    def resources(self, build_id: str, *, nested: bool = False) -> list[dict[str, Any]]:
        """The template's own resources; with ``nested``, nested stacks' too."""
        path = f"/v1/builds/{_segment(build_id)}/resources"
        if nested:
            path += "?nested=true"
        return self._request("GET", path)[1]["resources"]

    def events(
        self, build_id: str, *, marker: int | None = None, wait_s: float = 0, limit: int = 0
    ) -> list[dict[str, Any]]:
        """One page of events after ``marker``; with ``wait_s`` a long-poll that
        answers as soon as there is one."""
        params: dict[str, Any] = {}
        if marker is not None:
            params["marker"] = str(marker)
        if wait_s > 0:
            params["wait"] = f"{wait_s:g}"
        if limit:
            params["limit"] = str(limit)
        _, body = self._request(
            "GET",
            f"/v1/builds/{_segment(build_id)}/events",
            params=params,
            timeout_s=max(self.timeout_s, wait_s + _SLACK_S),
        )
        return body["events"]

    def all_events(self, build_id: str) -> Iterator[dict[str, Any]]:
        yield from self._pages(f"/v1/builds/{_segment(build_id)}/events", "events", {}, 0)

    def last_event_id(self, build_id: str) -> int | None:
        """The id of the build's latest event (None before the first)."""
        last = None
        for event in self._pages(
            f"/v1/builds/{_segment(build_id)}/events", "events", {"limit": str(_PAGE)}, 0
        ):
            last = int(event["id"])
        return last

    def cancel(self, build_id: str) -> dict[str, Any]:
        return self._request("POST", f"/v1/builds/{_segment(build_id)}/cancel")[1]["build"]

    def delete(self, build_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/v1/builds/{_segment(build_id)}")[1]["build"]

    def workers(self) -> list[dict[str, Any]]:
        return self._request("GET", "/v1/workers")[1]["workers"]

    def _pages(
        self, path: str, key: str, params: dict[str, Any], limit: int
    ) -> Iterator[dict[str, Any]]:
        count = 0
        url: str | None = path
        while url is not None:
            _, body = self._request("GET", url, params=params)
            for item in body[key]:
                yield item
                count += 1
                if limit and count >= limit:
                    return
            links = body.get("links", ())
            href = next((link["href"] for link in links if link["rel"] == "next"), None)
            # Only the link's query counts: its host and path are what cool-api was
            # called as behind a proxy, and credentials go wherever the URL points.
            url = f"{path}?{urlsplit(href).query}" if href else None
            params = {}  # the next link's query carries them


def _why(exc: Exception) -> str:
    """The socket's own words (``Connection refused``), not urllib3's paragraph."""
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return found.group(1).strip() if found else str(exc)[:200]


def _segment(text: str) -> str:
    """A path segment as given: the API answers 404 to what cannot be an id."""
    return quote(text, safe="")
