"""openstacksdk's errors in cool's terms, at the provider's boundary (DESIGN.md 6).

Whether trying again can help is decided here, once: 5xx, 429, connection
failures and timeouts (not TLS errors), and 409 conflicts (a resource busy in
another task) are retryable; other 4xx are not (a bad flavor, a missing image,
a forbidden call). A 404 is a failure like the others here: only around a GET
of the step's own resource does it mean "gone"
(:func:`cool.clouds.openstack.cloud.own`). A quota is never retryable, whatever
status its service answers with (Nova 403, Neutron 409, Cinder 413), and its
error names the quota.
"""

from __future__ import annotations

import re

from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from cool.clouds.base import ProviderError

_RETRYABLE_STATUSES = frozenset({408, 409, 429})
_QUOTA_NAMES = (
    # Nova: "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"
    re.compile(r"Quota exceeded for (?!resources\b)(\w+)", re.IGNORECASE),
    # Neutron: "Quota exceeded for resources: ['port']."
    re.compile(r"Quota exceeded for resources: \[([^\]]*)\]", re.IGNORECASE),
    # Cinder: "... exceeded for quota 'volumes'." / "... exceeds allowed gigabytes quota"
    re.compile(r"for quota '([^']+)'", re.IGNORECASE),
    re.compile(r"exceeds allowed (\w+) quota", re.IGNORECASE),
)
_QUOTA_HINT = re.compile(r"\bquota\b|OverQuota|LimitExceeded", re.IGNORECASE)


class QuotaExceededError(ProviderError):
    """The project's quota does not allow it: not retryable until someone changes it."""

    code = "cool.provider.quota_exceeded"

    def __init__(self, message: str, *, quota: str) -> None:
        super().__init__(message, retryable=False)
        self.quota = quota


def quota_of(message: str) -> str | None:
    """The quota a cloud's message names (``"port"``, ``"instances"``), ``""`` when it
    is a quota error that names none, None when it is not a quota error."""
    for pattern in _QUOTA_NAMES:
        found = pattern.search(message)
        if found:
            return ", ".join(part.strip(" '\"") for part in found.group(1).split(","))
    return "" if _QUOTA_HINT.search(message) else None


def cloud_message(exc: BaseException) -> str:
    """What the service said (openstacksdk joins the JSON body's messages into
    ``details``), without the URL-laden preamble keystoneauth adds."""
    if isinstance(exc, os_exceptions.HttpException):
        text = exc.details or exc.message or ""
        return " ".join(str(text).split()) or f"HTTP {exc.status_code}"
    return " ".join(str(exc).split()) or type(exc).__name__


def translate(exc: BaseException, doing: str) -> ProviderError:
    """``exc`` from an openstacksdk call as cool's error; ``doing`` says what the call
    was for ("create server web"), and starts the message."""
    message = cloud_message(exc)
    if isinstance(exc, os_exceptions.HttpException) and exc.status_code is not None:
        status = int(exc.status_code)
        said = f"{doing}: {message} (HTTP {status})"
        quota = quota_of(message) if status in (403, 409, 413) else None
        if quota is not None:
            named = f"quota {quota!r} exceeded" if quota else "a quota is exceeded"
            return QuotaExceededError(f"{doing}: {named}: {message} (HTTP {status})", quota=quota)
        retryable = status >= 500 or status in _RETRYABLE_STATUSES
        return ProviderError(said, retryable=retryable)
    if isinstance(
        exc,
        ks_exceptions.RetriableConnectionFailure  # refused, timed out
        | ks_exceptions.UnknownConnectionError  # reset
        | os_exceptions.ResourceTimeout,
    ):
        return ProviderError(f"{doing}: {message}", retryable=True)
    if isinstance(exc, ks_exceptions.http.HttpError) and exc.http_status is not None:
        # keystoneauth's own (a Keystone answer while getting a token): same rules
        retryable = exc.http_status >= 500 or exc.http_status in _RETRYABLE_STATUSES
        return ProviderError(f"{doing}: {message} (HTTP {exc.http_status})", retryable=retryable)
    return ProviderError(f"{doing}: {message}", retryable=False)
