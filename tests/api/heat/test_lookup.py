"""Heat's 302 lookup, the project in the URL, and Heat's fault body."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.api.heat.helpers import HELLO, fault
from tests.api.helpers import Caller


def _stack(alice: Caller, name: str = "hello") -> str:
    result = alice.submit(HELLO, name=name)
    assert result.status_code == 202, result.text
    return str(result.json["build"]["id"])


def test_lookup_by_id_redirects_to_the_absolute_canonical_url_with_the_query(
    alice: Caller,
) -> None:
    stack_id = _stack(alice)
    result = alice.get(
        f"/v1/p-one/stacks/{stack_id}/events", params={"sort_dir": "asc", "limit": "2"}
    )
    assert result.status_code == 302, result.text
    location = urlsplit(result.headers["location"])
    assert location.scheme == "http"  # absolute: clients follow it as is
    assert location.netloc
    assert location.path == f"/v1/p-one/stacks/hello/{stack_id}/events"
    assert sorted(location.query.split("&")) == ["limit=2", "sort_dir=asc"]
    assert result.json["title"] == "Found"
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        again = alice.request(method, f"/v1/p-one/stacks/{stack_id}")
        assert again.status_code == 302, (method, again.text)
        assert urlsplit(again.headers["location"]).path == f"/v1/p-one/stacks/hello/{stack_id}"


def test_lookup_by_name_finds_the_live_stack(alice: Caller) -> None:
    stack_id = _stack(alice, "web")
    result = alice.get("/v1/p-one/stacks/web")
    assert result.status_code == 302, result.text
    assert urlsplit(result.headers["location"]).path == f"/v1/p-one/stacks/web/{stack_id}"


def test_unknown_stack_is_a_404_in_heats_fault_body(alice: Caller) -> None:
    result = alice.get("/v1/p-one/stacks/nothing-here")
    assert result.status_code == 404
    error = fault(result)
    assert error["type"] == "EntityNotFound"
    assert error["message"] == "The Stack (nothing-here) could not be found."


def test_another_projects_url_is_forbidden_and_its_stack_not_found(
    alice: Caller, bob: Caller
) -> None:
    stack_id = _stack(alice)
    forbidden = bob.get(f"/v1/p-one/stacks/{stack_id}")
    assert forbidden.status_code == 403
    assert fault(forbidden)["type"] == "Forbidden"
    hidden = bob.get(f"/v1/p-two/stacks/{stack_id}")
    assert hidden.status_code == 404  # not "forbidden": no existence leak
    assert fault(hidden)["type"] == "EntityNotFound"


def test_unauthenticated_heat_request_gets_heats_fault_body(anonymous: Caller) -> None:
    result = anonymous.get("/v1/p-one/stacks/x")
    assert result.status_code == 401
    assert fault(result)["type"] == "HTTPUnauthorized"


def test_native_api_keeps_its_own_error_format(alice: Caller) -> None:
    result = alice.get("/v1/builds/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert result.status_code == 404
    assert result.json["errors"][0]["code"] == "cool.build.not_found"
