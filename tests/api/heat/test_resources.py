"""Heat's resources of a stack: list (nested_depth, with_detail, filters), show,
metadata, and what cool refuses (mark unhealthy, signal)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.heat.helpers import fault
from tests.api.heat.test_events import GROUP, HEAT_TIME, _finished, _stack
from tests.api.helpers import Caller
from tests.worker.helpers import running_worker

META = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "a": {"type": "OS::Heat::Value", "properties": {"value": "x"}, "metadata": {"k": "v"}},
        "b": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["a", "value"]}}},
    },
}


@pytest.fixture
def worker(zk_hosts: str, tmp_path: Path) -> Iterator[None]:
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        yield


def test_unstarted_resources_are_init_complete_with_heats_fields(alice: Caller) -> None:
    stack_id = _stack(alice, META, name="meta")
    base = f"/v1/p-one/stacks/meta/{stack_id}"
    result = alice.get(base + "/resources")
    assert result.status_code == 200, result.text
    by_name = {r["resource_name"]: r for r in result.json["resources"]}
    a = by_name["a"]
    url = f"http://falconframework.org{base}"
    assert a == {
        "resource_name": "a",
        "logical_resource_id": "a",
        "physical_resource_id": "",
        "resource_type": "OS::Heat::Value",
        "resource_status": "INIT_COMPLETE",
        "resource_status_reason": "",
        "creation_time": a["creation_time"],
        "updated_time": a["updated_time"],
        "required_by": ["b"],
        "links": [{"href": f"{url}/resources/a", "rel": "self"}, {"href": url, "rel": "stack"}],
    }
    assert HEAT_TIME.fullmatch(a["creation_time"])
    assert by_name["b"]["required_by"] == []
    assert alice.get(base + "/resources/a/metadata").json == {"metadata": {"k": "v"}}
    shown = alice.get(base + "/resources/b", params={"with_attr": ["show", "extra"]})
    assert shown.status_code == 200, shown.text
    resource = shown.json["resource"]
    assert resource["attributes"] == {"value": None, "show": None, "extra": None}
    assert resource["description"] == ""


def test_list_nested_depth_detail_and_filters(alice: Caller, worker: None) -> None:
    stack_id = _stack(alice, GROUP, name="grp")
    _finished(alice, stack_id)
    base = f"/v1/p-one/stacks/grp/{stack_id}/resources"
    top = alice.get(base).json["resources"]
    assert sorted(r["resource_name"] for r in top) == ["first", "web"]
    assert {r["resource_status"] for r in top} == {"CREATE_COMPLETE"}
    assert all(r["physical_resource_id"] for r in top)
    nested = alice.get(base, params={"nested_depth": 1}).json["resources"]
    members = {r["resource_name"]: r for r in nested if "parent_resource" in r}
    assert sorted(members) == ["web/0", "web/1"]
    assert members["web/0"]["parent_resource"] == "web"
    assert members["web/0"]["required_by"] == []  # in its own (nested) stack
    detail = alice.get(base, params={"with_detail": "true", "name": "first"}).json["resources"]
    assert [r["resource_name"] for r in detail] == ["first"]
    assert detail[0]["attributes"] == {"value": "one"}
    assert "description" in detail[0]
    typed = alice.get(base, params={"type": "OS::Heat::ResourceGroup"}).json["resources"]
    assert [r["resource_name"] for r in typed] == ["web"]
    by_status = alice.get(base, params={"status": "COMPLETE", "action": "CREATE"}).json
    assert len(by_status["resources"]) == 2
    phys = top[0]["physical_resource_id"]
    by_phys = alice.get(base, params={"physical_resource_id": phys}).json["resources"]
    assert [r["physical_resource_id"] for r in by_phys] == [phys]
    member = alice.get(base + "/web/0")
    assert member.status_code == 200, member.text
    assert member.json["resource"]["resource_name"] == "web/0"
    assert member.json["resource"]["links"][0]["href"].endswith("/resources/web/0")


def test_unknown_filter_is_heats_400_and_unknown_resource_a_404(alice: Caller) -> None:
    stack_id = _stack(alice, META, name="meta")
    base = f"/v1/p-one/stacks/meta/{stack_id}/resources"
    bad = alice.get(base, params={"colour": "red"})
    assert bad.status_code == 400
    assert fault(bad)["message"] == "Invalid filter parameters ['colour']"
    assert alice.get(base, params={"nested_depth": "x"}).status_code == 400
    assert alice.get(base, params={"with_detail": "maybe"}).status_code == 400
    missing = alice.get(base + "/nope")
    assert missing.status_code == 404
    assert fault(missing)["type"] == "EntityNotFound"
    assert re.search(r"nope", fault(missing)["message"])


def test_mark_unhealthy_and_signal_are_not_supported(alice: Caller) -> None:
    stack_id = _stack(alice, META, name="meta")
    base = f"/v1/p-one/stacks/meta/{stack_id}/resources/a"
    patched = alice.request("PATCH", base, json={"mark_unhealthy": True})
    assert patched.status_code == 400
    assert fault(patched)["type"] == "NotSupported"
    assert "cool" in fault(patched)["message"]
    signalled = alice.post(base + "/signal", json={})
    assert signalled.status_code == 400
    assert fault(signalled)["type"] == "NotSupported"
    assert alice.post(base + "/signal/x").status_code == 404
    assert (
        alice.request("PATCH", f"/v1/p-one/stacks/meta/{stack_id}/resources/zz").status_code == 404
    )


def test_another_project_cannot_read_resources(alice: Caller, bob: Caller) -> None:
    stack_id = _stack(alice, META, name="meta")
    hidden = bob.get(f"/v1/p-two/stacks/meta/{stack_id}/resources")
    assert hidden.status_code == 404
    assert fault(hidden)["type"] == "EntityNotFound"
