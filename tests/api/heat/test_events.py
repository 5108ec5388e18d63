"""Heat's events of a stack: shapes, query parameters, and the stack-level events
heatclient's and openstacksdk's ``--wait`` stop on (a real worker on the sim)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from falcon import testing

from tests.api.heat.helpers import HELLO, fault
from tests.api.helpers import Caller
from tests.worker.helpers import running_worker
from tests.zk import assert_eventually

HEAT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
GROUP = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "first": {"type": "OS::Heat::Value", "properties": {"value": "one"}},
        "web": {
            "type": "OS::Heat::ResourceGroup",
            "properties": {
                "count": 2,
                "resource_def": {"type": "OS::Heat::Value", "properties": {"value": "m"}},
            },
        },
    },
}
FAILING = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "r": {"type": "OS::Heat::TestResource", "properties": {"value": "x", "fail": True}}
    },
}


def _stack(alice: Caller, template: Any = HELLO, name: str = "hello", **fields: Any) -> str:
    result = alice.submit(template, name=name, **fields)
    assert result.status_code == 202, result.text
    return str(result.json["build"]["id"])


def _get(caller: Caller, path: str, **params: Any) -> testing.Result:
    """GET, following Heat's 302 lookup as keystoneauth does (the query is in Location)."""
    result = caller.get(path, params=params or None)
    if result.status_code == 302:
        location = urlsplit(result.headers["location"])
        result = caller.get(location.path, query_string=location.query)
    return result


def _finished(alice: Caller, stack_id: str) -> None:
    def done() -> bool:
        status = alice.get(f"/v1/builds/{stack_id}").json["build"]
        return status["finished"]

    assert_eventually(done, timeout_s=60, interval_s=0.05, message="the build finishes")


@pytest.fixture
def worker(zk_hosts: str, tmp_path: Path) -> Iterator[None]:
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        yield


def _is_stack_event(event: dict[str, Any], stack_name: str) -> bool:
    """heatclient's poll_for_events.is_stack_event (heatclient/common/event_utils.py),
    with openstacksdk's extra: the physical id may be what the caller named."""
    if event.get("resource_name") != stack_name and event.get("physical_resource_id") != stack_name:
        return False
    phys_id = event.get("physical_resource_id", "")
    links = {link.get("rel"): link.get("href") for link in event.get("links", [])}
    return links.get("stack", phys_id).rsplit("/", 1)[-1] == phys_id


def _poll_for_events(caller: Caller, stack: str, action: str, marker: str | None = None) -> str:
    """heatclient's poll_for_events loop over HTTP: ``GET /stacks/<stack>/events?
    sort_dir=asc[&marker]`` until a stack event ends ``action``. Bounded."""
    stop = (f"{action}_FAILED", f"{action}_COMPLETE")
    seen: list[str] = []

    def poll() -> str | None:
        nonlocal marker
        params = {"sort_dir": "asc", **({"marker": marker} if marker else {})}
        result = _get(caller, f"/v1/p-one/stacks/{stack}/events", **params)
        assert result.status_code == 200, result.text
        events = result.json["events"]
        if events:
            marker = events[-1]["id"]
        for event in events:
            seen.append(f"{event['resource_name']} {event['resource_status']}")
            if _is_stack_event(event, stack) and event["resource_status"] in stop:
                return str(event["resource_status"])
        return None

    return assert_eventually(poll, timeout_s=60, interval_s=0.05, message=f"{action} ends: {seen}")


def test_queued_stack_has_heats_stack_create_started_event(alice: Caller) -> None:
    stack_id = _stack(alice)
    result = _get(alice, f"/v1/p-one/stacks/{stack_id}/events")
    assert result.status_code == 200, result.text
    [event] = result.json["events"]  # queued: CREATE_QUEUED is no Heat status
    base = f"http://falconframework.org/v1/p-one/stacks/hello/{stack_id}"
    assert event == {
        "id": event["id"],
        "event_time": event["event_time"],
        "resource_name": "hello",
        "logical_resource_id": "hello",
        "physical_resource_id": stack_id,
        "resource_status": "CREATE_IN_PROGRESS",
        "resource_status_reason": "Stack CREATE started",
        "links": [
            {"href": f"{base}/resources/hello/events/{event['id']}", "rel": "self"},
            {"href": f"{base}/resources/hello", "rel": "resource"},
            {"href": base, "rel": "stack"},
        ],
    }
    assert isinstance(event["id"], str)
    assert HEAT_TIME.fullmatch(event["event_time"])
    assert _is_stack_event(event, "hello")
    shown = alice.get(f"/v1/p-one/stacks/hello/{stack_id}/resources/hello/events/{event['id']}")
    assert shown.status_code == 200, shown.text
    assert shown.json["event"]["resource_type"] == "OS::Heat::Stack"


def test_create_and_delete_end_on_the_events_heatclient_waits_for(
    alice: Caller, worker: None
) -> None:
    stack_id = _stack(alice, GROUP, name="web")
    assert _poll_for_events(alice, "web", "CREATE") == "CREATE_COMPLETE"
    newest = _get(alice, "/v1/p-one/stacks/web/events", limit=1, sort_dir="desc")
    [last] = newest.json["events"]
    assert last["resource_status"] == "CREATE_COMPLETE"
    assert last["resource_status_reason"] == "Stack CREATE completed successfully"
    _finished(alice, stack_id)
    assert alice.delete(f"/v1/builds/{stack_id}").status_code == 202
    # `stack delete --wait <id>` polls by id (a deleted stack is still found by id).
    assert _poll_for_events(alice, stack_id, "DELETE", marker=last["id"]) == "DELETE_COMPLETE"
    every = _get(alice, f"/v1/p-one/stacks/{stack_id}/events", sort_dir="asc").json["events"]
    stack_events = [
        (e["resource_status"], e["resource_status_reason"])
        for e in every
        if e["physical_resource_id"] == stack_id  # the stack's: "web" is a resource too
    ]
    assert stack_events == [
        ("CREATE_IN_PROGRESS", "Stack CREATE started"),
        ("CREATE_COMPLETE", "Stack CREATE completed successfully"),
        ("DELETE_IN_PROGRESS", "Stack DELETE started"),
        ("DELETE_COMPLETE", "Stack DELETE completed successfully"),
    ]
    ids = [int(e["id"]) for e in every]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    by_resource = {e["resource_name"] for e in every}
    assert by_resource == {"web", "first"}  # nested_depth 0: the template's own


def test_failed_create_ends_on_create_failed_with_the_reason(alice: Caller, worker: None) -> None:
    _stack(alice, FAILING, name="bad", rollback=False)
    assert _poll_for_events(alice, "bad", "CREATE") == "CREATE_FAILED"
    events = _get(alice, "/v1/p-one/stacks/bad/events", resource_status="FAILED").json["events"]
    names = [e["resource_name"] for e in events]
    assert names == ["bad", "r"]  # newest first, as Heat
    assert events[0]["resource_status_reason"]  # the failure, in words
    assert "r" in events[0]["resource_status_reason"]


def test_marker_limit_sort_filters_and_nested_depth(alice: Caller, worker: None) -> None:
    stack_id = _stack(alice, GROUP, name="web")
    _finished(alice, stack_id)
    url = f"/v1/p-one/stacks/web/{stack_id}/events"
    newest_first = alice.get(url).json["events"]
    ids = [int(e["id"]) for e in newest_first]
    assert ids == sorted(ids, reverse=True)  # Heat's default: newest first
    asc = alice.get(url, params={"sort_dir": "asc"}).json["events"]
    assert asc == newest_first[::-1]
    page = alice.get(url, params={"sort_dir": "asc", "limit": 2, "marker": asc[0]["id"]})
    assert page.json["events"] == asc[1:3]  # strictly after the marker
    desc_page = alice.get(url, params={"limit": 1, "marker": newest_first[0]["id"]})
    assert desc_page.json["events"] == newest_first[1:2]
    done = alice.get(url, params={"resource_status": "COMPLETE", "resource_action": "CREATE"})
    assert {e["resource_status"] for e in done.json["events"]} == {"CREATE_COMPLETE"}
    first = alice.get(url, params={"resource_name": "first"}).json["events"]
    assert first
    assert {e["resource_name"] for e in first} == {"first"}
    typed = alice.get(url, params={"resource_type": "OS::Heat::Stack"}).json["events"]
    assert {e["resource_name"] for e in typed} == {"web"}
    assert len(typed) == 2
    nested = alice.get(url, params={"nested_depth": 2, "sort_dir": "asc"}).json["events"]
    names = {e["resource_name"] for e in nested}
    assert {"web/0", "web/1", "first", "web"} <= names
    assert all("root_stack" in {link["rel"] for link in e["links"]} for e in nested)
    one = alice.get(url, params={"nested_depth": 1}).json["events"]
    assert {e["resource_name"] for e in one} == {"web", "first", "web/0", "web/1"}
    by_type = alice.get(url, params={"sort_keys": "resource_type", "sort_dir": "asc"}).json
    kinds = [e["physical_resource_id"] == stack_id for e in by_type["events"]]
    # OS::Heat::ResourceGroup < OS::Heat::Stack < OS::Heat::Value: the stack's together
    assert kinds == [False] * kinds.index(True) + [True, True] + [False] * (
        len(kinds) - kinds.index(True) - 2
    )
    assert sorted(e["id"] for e in by_type["events"]) == sorted(e["id"] for e in newest_first)
    # A resource's events, and one of them.
    res = alice.get(f"/v1/p-one/stacks/web/{stack_id}/resources/first/events")
    assert res.status_code == 200, res.text
    assert {e["resource_name"] for e in res.json["events"]} == {"first"}
    member = alice.get(f"/v1/p-one/stacks/web/{stack_id}/resources/web/0/events")
    assert member.status_code == 200, member.text
    assert {e["resource_name"] for e in member.json["events"]} == {"web/0"}
    one_id = res.json["events"][0]["id"]
    shown = alice.get(f"/v1/p-one/stacks/web/{stack_id}/resources/first/events/{one_id}")
    assert shown.status_code == 200, shown.text
    assert shown.json["event"]["resource_type"] == "OS::Heat::Value"
    assert shown.json["event"]["id"] == one_id


def test_bad_query_and_unknown_things_are_heat_faults(alice: Caller) -> None:
    stack_id = _stack(alice)
    url = f"/v1/p-one/stacks/hello/{stack_id}"
    for params in ({"limit": "x"}, {"sort_dir": "up"}, {"nested_depth": "-1"}, {"marker": "x"}):
        result = alice.get(url + "/events", params=params)
        assert result.status_code == 400, (params, result.text)
        assert fault(result)["type"] == "HTTPBadRequest"
    none_yet = alice.get(url + "/resources/r/events")  # a resource with no events
    assert none_yet.status_code == 404
    assert fault(none_yet)["message"] == "No events found for resource r"
    missing = alice.get(url + "/resources/r/events/99")
    assert missing.status_code == 404
    assert fault(missing)["type"] == "EntityNotFound"
    wrong_name = alice.get(f"/v1/p-one/stacks/other/{stack_id}/events")
    assert wrong_name.status_code == 404
