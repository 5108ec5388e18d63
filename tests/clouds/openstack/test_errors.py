"""Cloud errors as the services send them, parsed by openstacksdk itself
(``raise_from_response`` on real ``requests`` responses), then translated."""

from __future__ import annotations

import json

import pytest
import requests
from keystoneauth1 import exceptions as ks_exceptions
from openstack import exceptions as os_exceptions

from cool.clouds.base import ProviderError, ResourceGoneError
from cool.clouds.openstack.errors import QuotaExceededError, quota_of, translate


def _sdk_error(status: int, body: dict) -> os_exceptions.SDKException:
    response = requests.Response()
    response.status_code = status
    response.headers["content-type"] = "application/json"
    response._content = json.dumps(body).encode()
    response.url = "http://127.0.0.1:8774/v2.1/servers"
    with pytest.raises(os_exceptions.SDKException) as raised:
        os_exceptions.raise_from_response(response)
    return raised.value


@pytest.mark.parametrize(
    ("status", "body", "quota"),
    [
        (
            403,
            {
                "forbidden": {
                    "code": 403,
                    "message": "Quota exceeded for instances: Requested 1, but already "
                    "used 0 of 0 instances",
                }
            },
            "instances",
        ),
        (
            409,
            {
                "NeutronError": {
                    "type": "OverQuota",
                    "message": "Quota exceeded for resources: ['port'].",
                    "detail": "",
                }
            },
            "port",
        ),
        (
            413,
            {
                "overLimit": {
                    "code": 413,
                    "message": "VolumeLimitExceeded: Maximum number of volumes allowed (0) "
                    "exceeded for quota 'volumes'.",
                }
            },
            "volumes",
        ),
        (
            413,
            {
                "overLimit": {
                    "code": 413,
                    "message": "VolumeSizeExceedsAvailableQuota: Requested volume or "
                    "snapshot exceeds allowed gigabytes quota. Requested 5G, quota is 1G "
                    "and 0G has been consumed.",
                }
            },
            "gigabytes",
        ),
    ],
)
def test_a_quota_is_never_retryable_and_is_named(status: int, body: dict, quota: str) -> None:
    error = translate(_sdk_error(status, body), "create server web")
    assert isinstance(error, QuotaExceededError)
    assert error.retryable is False
    assert error.quota == quota
    assert str(error).startswith(f"create server web: quota '{quota}' exceeded: ")
    assert str(error).endswith(f"(HTTP {status})")


def test_a_conflict_that_is_no_quota_is_retryable() -> None:
    busy = {
        "conflictingRequest": {
            "code": 409,
            "message": "Cannot 'attach_volume' instance 42 while it is in task_state spawning",
        }
    }
    error = translate(_sdk_error(409, busy), "attach volume data")
    assert not isinstance(error, QuotaExceededError)
    assert error.retryable is True
    assert "while it is in task_state spawning" in str(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_server_errors_and_throttling_are_retryable(status: int) -> None:
    error = translate(_sdk_error(status, {"error": {"message": "try later"}}), "create port p")
    assert error.retryable is True
    assert f"(HTTP {status})" in str(error)


def test_bad_flavor_or_image_is_not_retryable_and_keeps_the_clouds_words() -> None:
    bad = {"badRequest": {"code": 400, "message": "Flavor m1.nope could not be found."}}
    error = translate(_sdk_error(400, bad), "create server web")
    assert type(error) is ProviderError
    assert error.retryable is False
    assert str(error) == "create server web: Flavor m1.nope could not be found. (HTTP 400)"


def test_not_found_is_a_failure_not_a_resource_gone() -> None:
    """A 404 at the boundary may be about anything the call named (a subnet, a network
    of the template's): only a handler's GET of its own resource says "gone"."""
    missing = {"itemNotFound": {"code": 404, "message": "Network 42 could not be found."}}
    error = translate(_sdk_error(404, missing), "create port web")
    assert type(error) is ProviderError
    assert not isinstance(error, ResourceGoneError)
    assert error.retryable is False
    assert str(error) == "create port web: Network 42 could not be found. (HTTP 404)"


def test_connection_failures_are_retryable_but_tls_errors_are_not() -> None:
    assert translate(ks_exceptions.ConnectFailure("refused"), "list ports").retryable
    assert translate(ks_exceptions.ConnectTimeout("slow"), "list ports").retryable
    assert translate(os_exceptions.ResourceTimeout("waited"), "wait server").retryable
    assert not translate(ks_exceptions.SSLError("bad certificate"), "list ports").retryable


def test_a_forbidden_call_that_is_no_quota_is_not_retryable() -> None:
    policy = {"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api"}}
    error = translate(_sdk_error(403, policy), "create server web")
    assert not isinstance(error, QuotaExceededError)
    assert error.retryable is False


def test_quota_names() -> None:
    assert quota_of("Quota exceeded for cores: Requested 4, but already used 8 of 8 cores") == (
        "cores"
    )
    assert quota_of("Quota exceeded for resources: ['port', 'subnet'].") == "port, subnet"
    assert quota_of("OverQuota") == ""
    assert quota_of("No valid host was found") is None
