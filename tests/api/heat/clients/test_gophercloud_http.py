"""Terraform's ``openstack_orchestration_stack_v1`` against cool, without Go: the
requests gophercloud's ``stacks.Create/Get/Find/Delete`` and ``stackresources.List``
send (gophercloud openstack/orchestration/v1/{stacks,stackresources}/requests.go,
urls.go), and the strict types its results.go decode (a field of another JSON type
fails Terraform's whole read)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.api.heat.clients.helpers import TEMPLATES, HeatService, unique

pytestmark = pytest.mark.slow

# Go's encoding/json into these Go types: null leaves the zero value, anything else
# must be of this JSON type (gophercloud stacks/results.go RetrievedStack).
_STRINGS = ("description", "id", "stack_name", "stack_status", "stack_status_reason")
_LISTS = ("capabilities", "links", "notification_topics", "outputs")
_WAIT_S = 60.0


def _go_time(value: Any) -> None:
    """time.Parse(time.RFC3339) or gophercloud.RFC3339NoZ, as results.go tries them."""
    if value in (None, ""):
        return
    assert isinstance(value, str), value
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")  # RFC3339NoZ
    except ValueError:
        parsed = dt.datetime.fromisoformat(value)  # RFC 3339 needs the zone
        assert parsed.tzinfo is not None, value


def _check_retrieved_stack(stack: dict[str, Any]) -> None:
    for key in (*_STRINGS, "template_description"):
        assert stack.get(key) is None or isinstance(stack[key], str), (key, stack.get(key))
    for key in _LISTS:
        assert stack.get(key) is None or isinstance(stack[key], list), (key, stack.get(key))
    assert all(isinstance(o, dict) for o in stack.get("outputs") or [])
    assert isinstance(stack.get("disable_rollback"), bool | None)
    parameters = stack.get("parameters") or {}
    assert all(isinstance(v, str | None) for v in parameters.values()), parameters
    tags = stack.get("tags")
    assert tags is None or (isinstance(tags, list) and all(isinstance(t, str) for t in tags))
    timeout = stack.get("timeout_mins")
    assert timeout is None or (isinstance(timeout, int) and not isinstance(timeout, bool))
    _go_time(stack.get("creation_time"))
    _go_time(stack.get("updated_time"))


def _check_resource(resource: dict[str, Any]) -> None:
    """stackresources/results.go Resource."""
    for key in (
        "description",
        "logical_resource_id",
        "resource_name",
        "parent_resource",
        "physical_resource_id",
        "resource_status",
        "resource_status_reason",
        "resource_type",
    ):
        assert resource.get(key) is None or isinstance(resource[key], str), (key, resource)
    assert resource.get("attributes") is None or isinstance(resource["attributes"], dict)
    for key in ("links", "required_by"):
        assert resource.get(key) is None or isinstance(resource[key], list), (key, resource)
    _go_time(resource.get("creation_time"))
    _go_time(resource.get("updated_time"))


@pytest.fixture(scope="module")
def client(heat_service: HeatService) -> Iterator[tuple[requests.Session, str]]:
    """A session with the member's token and the catalog's orchestration endpoint,
    as gophercloud's NewOrchestrationV1 gets them."""
    token, endpoint = heat_service.token_and_endpoint(heat_service.member)
    assert endpoint == f"{heat_service.url}/v1/{heat_service.member.project_id}"
    with requests.Session() as session:
        session.headers.update(
            {"X-Auth-Token": token, "Accept": "application/json", "User-Agent": "gophercloud/v2"}
        )
        yield session, endpoint


def _get(session: requests.Session, url: str) -> requests.Response:
    """A GET as Go's net/http sends it: redirects followed (and kept in ``history``)."""
    return session.get(url, timeout=30)


def _wait_status(session: requests.Session, url: str, pending: set[str]) -> requests.Response:
    """Terraform's StateChangeConf: poll until the status leaves ``pending`` (or a 404)."""
    deadline = time.monotonic() + _WAIT_S
    while True:
        got = _get(session, url)
        if got.status_code == 404 or got.json()["stack"]["stack_status"] not in pending:
            return got
        assert time.monotonic() < deadline, got.json()
        time.sleep(0.2)


def test_terraforms_create_read_find_list_and_delete(
    client: tuple[requests.Session, str],
) -> None:
    session, endpoint = client
    name = unique("tf")
    body = {
        "stack_name": name,
        "template": (TEMPLATES / "hello.yaml").read_text(),  # TemplateOpts.Bin, a string
        "environment": "parameters:\n  greeting: hej\n",  # EnvironmentOpts.Bin, a string
        "parameters": {"times": 3},
        "disable_rollback": True,
        "timeout_mins": 30,
        "tags": "a,b",  # strings.Join(opts.Tags, ",")
    }
    created = session.post(f"{endpoint}/stacks", json=body, timeout=30)
    assert created.status_code in (201, 202), created.text  # gophercloud's defaultOkCodes
    stack_id = created.json()["stack"]["id"]
    assert isinstance(stack_id, str)

    # Read: GET /stacks/{id}, the 302 followed by net/http
    got = _wait_status(session, f"{endpoint}/stacks/{stack_id}", {"CREATE_IN_PROGRESS"})
    assert got.status_code == 200, got.text
    (redirect,) = got.history
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    assert location.scheme == "http"
    assert location.path == f"{urlsplit(endpoint).path}/stacks/{name}/{stack_id}"
    stack = got.json()["stack"]
    _check_retrieved_stack(stack)
    assert stack["stack_status"] == "CREATE_COMPLETE", stack
    assert stack["tags"] == ["a", "b"]
    assert stack["timeout_mins"] == 30
    assert stack["parameters"]["greeting"] == "hej"
    assert stack["parameters"]["times"] == "3"
    assert stack["outputs"] == [
        {"output_key": "said", "output_value": "hej", "description": "What the speaker said."}
    ]

    # Find: GET /stacks/{name}
    found = _get(session, f"{endpoint}/stacks/{name}")
    assert found.status_code == 200, found.text
    assert found.json()["stack"]["id"] == stack_id

    # stackresources.List(name, id, {Depth: 1}): the canonical URL, no redirect
    listed = session.get(
        f"{endpoint}/stacks/{name}/{stack_id}/resources",
        params={"nested_depth": 1},
        timeout=30,
        allow_redirects=False,
    )
    assert listed.status_code == 200, listed.text
    (resource,) = listed.json()["resources"]
    _check_resource(resource)
    assert resource["resource_name"] == "speaker"
    assert resource["resource_status"] == "CREATE_COMPLETE"

    # Delete: DELETE on the canonical URL (Go turns a 302 on DELETE into a GET)
    deleted = session.delete(
        f"{endpoint}/stacks/{name}/{stack_id}", timeout=30, allow_redirects=False
    )
    assert deleted.status_code in (202, 204), deleted.text
    gone = _wait_status(
        session, f"{endpoint}/stacks/{stack_id}", {"CREATE_COMPLETE", "DELETE_IN_PROGRESS"}
    )
    assert gone.status_code == 404 or gone.json()["stack"]["stack_status"] == "DELETE_COMPLETE"


def test_a_template_sent_as_yaml_text_is_refused_with_its_lines(
    client: tuple[requests.Session, str],
) -> None:
    """A refused template in Heat's fault body (gophercloud reads the status; Terraform
    shows the body): as YAML text, each problem is located to its line and column."""
    session, endpoint = client
    body = {"stack_name": unique("tf-broken"), "template": (TEMPLATES / "broken.yaml").read_text()}
    refused = session.post(f"{endpoint}/stacks", json=body, timeout=30)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["type"] == "StackValidationFailed"
    assert "unknown property 'valeu'" in error["message"]
    assert "line 7, column" in error["message"], error["message"]
    assert "unknown resource 'nobody'" in error["message"]
    assert "line 11, column" in error["message"], error["message"]
