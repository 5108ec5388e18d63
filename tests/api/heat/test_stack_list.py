"""Heat's stack list: filters, paging, sorting, count, deleted stacks, other projects."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from falcon import testing
from kazoo.client import KazooClient

from cool.model import BuildStatus
from tests.api.heat.helpers import fault
from tests.api.heat.stack_helpers import HEAT_TIME, STACK_KEYS, TEMPLATE, create, finish
from tests.api.helpers import Caller


def _names(result: testing.Result) -> list[str]:
    return [s["stack_name"] for s in result.json["stacks"]]


def test_list_shows_each_stack_as_heat_does_newest_first(alice: Caller, bob: Caller) -> None:
    first = create(alice, "one", tags="t1,t2")
    create(alice, "two")
    theirs = bob.post("/v1/p-two/stacks", json={"stack_name": "theirs", "template": TEMPLATE})
    assert theirs.status_code == 201, theirs.text
    result = alice.get("/v1/p-one/stacks", params={"unknown": "ignored"})
    assert result.status_code == 200, result.text
    assert _names(result) == ["two", "one"]
    stack = result.json["stacks"][1]
    assert set(stack) == STACK_KEYS
    assert stack["id"] == first
    assert stack["links"] == [
        {"href": f"http://falconframework.org/v1/p-one/stacks/one/{first}", "rel": "self"}
    ]
    assert stack["stack_status"] == "CREATE_IN_PROGRESS"
    assert HEAT_TIME.fullmatch(stack["creation_time"])
    assert stack["tags"] == ["t1", "t2"]
    assert stack["description"] == ""
    assert "links" not in result.json  # not a full page
    assert "count" not in result.json


def test_list_pages_with_limit_and_marker_and_counts(alice: Caller) -> None:
    ids = [create(alice, f"s{i}") for i in range(5)]
    first = alice.get("/v1/p-one/stacks", params={"limit": "2", "with_count": "true"})
    assert [s["id"] for s in first.json["stacks"]] == ids[::-1][:2]
    assert first.json["count"] == 5
    (link,) = first.json["links"]
    assert link["rel"] == "next"
    query = parse_qs(urlsplit(link["href"]).query)
    assert query["marker"] == [ids[3]]
    second = alice.get("/v1/p-one/stacks", params={"limit": "2", "marker": ids[3]})
    assert [s["id"] for s in second.json["stacks"]] == [ids[2], ids[1]]
    last = alice.get("/v1/p-one/stacks", params={"limit": "2", "marker": ids[1]})
    assert [s["id"] for s in last.json["stacks"]] == [ids[0]]
    assert "links" not in last.json
    unknown = alice.get("/v1/p-one/stacks", params={"marker": "nothing"})
    assert unknown.status_code == 404
    assert fault(unknown)["type"] == "EntityNotFound"


def test_list_sorts_by_name_either_way(alice: Caller) -> None:
    for name in ("b", "c", "a"):
        create(alice, name)
    up = alice.get("/v1/p-one/stacks", params={"sort_keys": "stack_name", "sort_dir": "asc"})
    assert _names(up) == ["a", "b", "c"]
    down = alice.get("/v1/p-one/stacks", params={"sort_keys": "name", "sort_dir": "desc"})
    assert _names(down) == ["c", "b", "a"]
    oldest = alice.get("/v1/p-one/stacks", params={"sort_keys": "created_at", "sort_dir": "asc"})
    assert _names(oldest) == ["b", "c", "a"]
    bad = alice.get("/v1/p-one/stacks", params={"sort_dir": "sideways"})
    assert bad.status_code == 400
    assert fault(bad)["type"] == "HTTPBadRequest"
    bad_key = alice.get("/v1/p-one/stacks", params={"sort_keys": "colour"})
    assert bad_key.status_code == 400


def test_list_filters_and_hides_deleted_stacks_unless_asked(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    done = create(alice, "done")
    create(alice, "queued")
    deleted = create(alice, "deleted")
    finish(kazoo_client, done)
    finish(kazoo_client, deleted, BuildStatus.DELETE_COMPLETE)
    assert _names(alice.get("/v1/p-one/stacks")) == ["queued", "done"]
    shown = alice.get("/v1/p-one/stacks", params={"show_deleted": "True"})
    assert _names(shown) == ["deleted", "queued", "done"]
    gone = shown.json["stacks"][0]
    assert gone["stack_status"] == "DELETE_COMPLETE"
    assert HEAT_TIME.fullmatch(gone["deletion_time"])
    assert _names(alice.get("/v1/p-one/stacks", params={"status": "COMPLETE"})) == ["done"]
    by_full = alice.get("/v1/p-one/stacks", params={"status": "CREATE_IN_PROGRESS"})
    assert _names(by_full) == ["queued"]
    assert _names(alice.get("/v1/p-one/stacks", params={"name": "done"})) == ["done"]
    assert _names(alice.get("/v1/p-one/stacks", params={"id": done})) == ["done"]
    both = alice.get("/v1/p-one/stacks?name=done&name=queued")
    assert _names(both) == ["queued", "done"]
    action = alice.get("/v1/p-one/stacks", params={"action": "DELETE", "show_deleted": "1"})
    assert _names(action) == ["deleted"]


def test_global_tenant_is_for_admins_and_adds_the_project(
    alice: Caller, ada: Caller, bob: Caller
) -> None:
    create(alice, "mine")
    assert (
        bob.post(
            "/v1/p-two/stacks", json={"stack_name": "theirs", "template": TEMPLATE}
        ).status_code
        == 201
    )
    refused = alice.get("/v1/p-one/stacks", params={"global_tenant": "true"})
    assert refused.status_code == 403
    assert fault(refused)["type"] == "Forbidden"
    every = ada.get("/v1/p-admin/stacks", params={"global_tenant": "true"})
    assert every.status_code == 200, every.text
    assert {(s["stack_name"], s["project"]) for s in every.json["stacks"]} == {
        ("mine", "p-one"),
        ("theirs", "p-two"),
    }
