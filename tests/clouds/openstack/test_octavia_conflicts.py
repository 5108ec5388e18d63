"""Octavia's 409s, as its API sends them (a faultstring body) and openstacksdk parses
them: "immutable" and "invalid state" (a load balancer PENDING_*) are retried, every
other conflict is a failure with Octavia's words; and the marks Octavia's tags carry."""

from __future__ import annotations

import json

import pytest
import requests
from openstack import exceptions as os_exceptions

from cool.clouds.base import ProviderError, StepContext
from cool.clouds.openstack.octavia import conflicts, tags


def _octavia_409(message: str) -> os_exceptions.SDKException:
    response = requests.Response()
    response.status_code = 409
    response.headers["content-type"] = "application/json"
    response._content = json.dumps(
        {"faultcode": "Client", "faultstring": message, "debuginfo": None}
    ).encode()
    response.url = "http://127.0.0.1:9876/v2.0/lbaas/listeners"
    with pytest.raises(os_exceptions.SDKException) as raised:
        os_exceptions.raise_from_response(response)
    return raised.value


@pytest.mark.parametrize(
    ("message", "retryable"),
    [
        ("Load Balancer 5f1c is immutable and cannot be updated.", True),
        ("Invalid state PENDING_UPDATE of loadbalancer resource 5f1c", True),
        ("Another Listener on this Load Balancer is already using protocol HTTP and "
         "protocol_port 80", False),
        ("This pool already has a health monitor", False),
    ],
)  # fmt: skip
def test_octavia_conflicts_are_retried_only_while_busy(message: str, retryable: bool) -> None:
    with pytest.raises(ProviderError) as raised, conflicts("create listener"):
        raise _octavia_409(message)
    assert raised.value.retryable is retryable
    assert str(raised.value) == f"create listener: {message} (HTTP 409)"


def test_octavia_tags_are_the_marks_and_a_long_name_is_digested() -> None:
    ctx = StepContext("01HXAAAAAAAAAAAAAAAAAAAAAA", "web", "OS::Octavia::Pool", "p")
    assert tags(ctx) == ["cool-build=01HXAAAAAAAAAAAAAAAAAAAAAA", "cool-resource=web"]
    long = StepContext("01HXAAAAAAAAAAAAAAAAAAAAAA", "x" * 300, "OS::Octavia::Pool", "p")
    assert all(len(tag) <= 255 for tag in tags(long))
    assert tags(long)[1].startswith("cool-resource=sha256:")
