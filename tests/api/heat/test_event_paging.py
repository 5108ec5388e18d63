"""Heat's events of a big stack: markers that are no visible event, and what a page
costs in ZooKeeper reads (counted on the app's real client: no worker runs here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kazoo.client import KazooClient

from cool.api.heat import events
from cool.model import ResourceStatus
from cool.store import codec
from cool.store.layout import Layout
from cool.store.records import Event, ResourceRecord
from tests.api.heat.helpers import fault
from tests.api.helpers import ZK_ROOT, Caller

MEMBERS = 40
GROUP = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "web": {
            "type": "OS::Heat::ResourceGroup",
            "properties": {
                "count": MEMBERS,
                "resource_def": {"type": "OS::Heat::Value", "properties": {"value": "m"}},
            },
        },
    },
}


def _big_stack(alice: Caller, kazoo_client: KazooClient) -> tuple[str, list[int]]:
    """A stack whose members each went IN_PROGRESS then COMPLETE, as a worker leaves
    them (records and events written directly): 2 x MEMBERS + 3 events."""
    result = alice.submit(GROUP, name="web")
    assert result.status_code == 202, result.text
    build_id = str(result.json["build"]["id"])
    layout = Layout(ZK_ROOT)
    names = ["web", *(f"web/{i}" for i in range(MEMBERS))]
    transaction = kazoo_client.transaction()

    def event(resource: str | None, old: str | None, new: str) -> None:
        data = Event(at=1.0, resource=resource, old=old, new=new, reason="x").to_dict()
        transaction.create(layout.event_prefix(build_id), codec.dumps(data), sequence=True)

    event(None, "CREATE_QUEUED", "CREATE_IN_PROGRESS")  # hidden: the same Heat status
    for name in names:
        event(name, "PENDING", "CREATE_IN_PROGRESS")
    for name in names:
        event(name, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
        record = ResourceRecord(
            name, "OS::Heat::Value", ResourceStatus.CREATE_COMPLETE, physical_id=f"p-{name}"
        )
        transaction.create(layout.resource(build_id, name), codec.dumps(record.to_dict()))
    event(None, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    assert not [r for r in transaction.commit() if isinstance(r, Exception)]
    numbers = sorted(
        int(child.rpartition("-")[2])
        for child in kazoo_client.get_children(layout.events(build_id))
    )
    return build_id, numbers


@pytest.fixture
def reads(api_client: KazooClient) -> Iterator[Counter[str]]:
    """The app's ZooKeeper reads of events and resource records, counted."""
    counts: Counter[str] = Counter()
    originals: dict[str, Callable[..., Any]] = {}
    for method in ("get", "get_async"):
        original = getattr(api_client, method)
        originals[method] = original

        def counted(path: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            for kind in ("/events/", "/resources/"):
                if kind in path:
                    counts[kind.strip("/")] += 1
            return _original(path, *args, **kwargs)

        setattr(api_client, method, counted)
    try:
        yield counts
    finally:
        for method in originals:
            delattr(api_client, method)  # the class's own again


def test_a_marker_that_is_no_visible_event_is_no_500(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id, numbers = _big_stack(alice, kazoo_client)
    url = f"/v1/p-one/stacks/web/{build_id}/events"
    hidden = numbers[1]  # queued -> in progress: the stack-level event heat_events hides
    for marker in (hidden, numbers[-1] + 1000):
        by_type = alice.get(url, params={"sort_keys": "resource_type", "marker": str(marker)})
        assert by_type.status_code == 200, by_type.text
    # In the events' order a marker is a position: after the hidden one is all the rest.
    after = alice.get(url, params={"sort_dir": "asc", "marker": str(hidden)})
    assert after.status_code == 200, after.text
    web = [numbers[2], numbers[2 + MEMBERS + 1]]  # "web" is the template's (depth 0)
    assert [int(e["id"]) for e in after.json["events"]] == [*web, numbers[-1]]


def test_heat_ignores_a_marker_it_cannot_find_in_resource_type_order(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id, numbers = _big_stack(alice, kazoo_client)
    url = f"/v1/p-one/stacks/web/{build_id}/events"
    query = {"sort_keys": "resource_type", "sort_dir": "asc", "nested_depth": "1"}
    every = alice.get(url, params=query).json["events"]
    unknown = alice.get(url, params={**query, "marker": str(numbers[1])})
    assert unknown.status_code == 200, unknown.text
    assert unknown.json["events"] == every  # heat/db/api.py: no such marker, no marker


def test_a_page_in_the_events_order_reads_only_what_it_shows(
    alice: Caller, kazoo_client: KazooClient, reads: Counter[str]
) -> None:
    build_id, numbers = _big_stack(alice, kazoo_client)
    url = f"/v1/p-one/stacks/web/{build_id}/events"
    reads.clear()
    # heatclient's poll: everything after the last event it saw.
    query = {"sort_dir": "asc", "marker": str(numbers[-3]), "nested_depth": "1"}
    polled = alice.get(url, params=query)
    assert polled.status_code == 200, polled.text
    assert [int(e["id"]) for e in polled.json["events"]] == numbers[-2:]
    assert polled.json["events"][0]["physical_resource_id"] == f"p-web/{MEMBERS - 1}"
    assert reads["events"] <= 2, reads
    assert reads["resources"] <= 1, reads
    reads.clear()
    newest = alice.get(url, params={"limit": "1", "sort_dir": "desc"})
    assert [e["resource_status"] for e in newest.json["events"]] == ["CREATE_COMPLETE"]
    assert reads["events"] <= 4, reads
    assert reads["resources"] == 0, reads
    reads.clear()
    members = alice.get(url, params={"nested_depth": "1", "limit": "3"}).json["events"]
    assert [int(e["id"]) for e in members] == numbers[-1:-4:-1]
    assert reads["events"] <= 8, reads
    assert reads["resources"] <= 2, reads
    reads.clear()
    completed = numbers[2 + MEMBERS + 1 + 4]  # after 2 stack events and every IN_PROGRESS
    member = f"/v1/p-one/stacks/web/{build_id}/resources/web/3/events/{completed}"
    shown = alice.get(member)
    assert shown.status_code == 200, shown.text
    assert shown.json["event"]["physical_resource_id"] == "p-web/3"
    assert reads["events"] == 1, reads
    assert reads["resources"] <= 1, reads


def test_a_query_that_would_read_past_the_cap_is_a_400(
    alice: Caller, kazoo_client: KazooClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_id, _ = _big_stack(alice, kazoo_client)
    url = f"/v1/p-one/stacks/web/{build_id}/events"
    monkeypatch.setattr(events, "SCAN_CAP", 10)
    by_type = alice.get(url, params={"sort_keys": "resource_type"})
    assert by_type.status_code == 400, by_type.text
    assert "events' own order" in fault(by_type)["message"]
    # In the events' order: a page found within the cap is fine, a longer search is not.
    assert alice.get(url, params={"limit": "2", "nested_depth": "1"}).status_code == 200
    members = alice.get(url, params={"resource_name": "web/0"})
    assert members.status_code == 400, members.text
    assert fault(members)["type"] == "HTTPBadRequest"
