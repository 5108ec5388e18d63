"""A build with nested stacks through the API: the template's own resources by default,
the whole tree with ``nested=true``, and the parent of each resource and event."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from cool.model import ResourceStatus
from cool.store.builds import BuildStore
from cool.store.fence import claim
from cool.store.layout import Layout
from cool.store.records import Event, ResourceRecord
from tests.api.helpers import ZK_ROOT, Caller, error_codes
from tests.nested_plan import group_plan


def _stored(client: KazooClient) -> str:
    """A nested build of alice's project (p-one), with records and events as a worker
    leaves them (no worker runs in these tests)."""
    store = BuildStore(client, Layout(ZK_ROOT))
    store.ensure_layout()  # the claims a worker makes (cool-api needs none)
    plan = group_plan()
    build_id = store.submit(plan, project_id="p-one", user_id="alice").build_id
    fence = claim(client, store.layout, build_id, "w1")
    assert fence is not None
    done = ResourceStatus.CREATE_COMPLETE
    fence.write(
        resources=[
            (ResourceRecord(r.name, r.type, done, physical_id="x"), None) for r in plan.resources
        ],
        events=[
            Event(at=1.0, resource=name, old="PENDING", new=str(done))
            for name in ("web/0/net", "web/0", "web")
        ],
    )
    return build_id


def test_resources_show_the_templates_own_by_default_and_the_tree_when_asked(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    build_id = _stored(kazoo_client)
    path = f"/v1/builds/{build_id}/resources"
    top = alice.get(path)
    assert top.status_code == 200, top.text
    shown = [(r["name"], r["parent"], r["nested"]) for r in top.json["resources"]]
    assert shown == [("web", None, "group"), ("after", None, None)]
    for flag in ("true", "True", "1"):
        tree = alice.get(path, params={"nested": flag}).json["resources"]
        assert [(r["name"], r["parent"], r["nested"], r["status"]) for r in tree] == [
            ("web/0/net", "web/0", None, "CREATE_COMPLETE"),
            ("web/0/value", "web/0", None, "CREATE_COMPLETE"),
            ("web/1/net", "web/1", None, "CREATE_COMPLETE"),
            ("web/1/value", "web/1", None, "CREATE_COMPLETE"),
            ("web/0", "web", "template", "CREATE_COMPLETE"),
            ("web/1", "web", "template", "CREATE_COMPLETE"),
            ("web", None, "group", "CREATE_COMPLETE"),
            ("after", None, None, "CREATE_COMPLETE"),
        ]
    assert alice.get(path, params={"nested": "false"}).json == top.json


@pytest.mark.parametrize("value", ["maybe", "", "2"])
def test_resources_nested_that_is_not_a_boolean_is_a_400(
    alice: Caller, kazoo_client: KazooClient, value: str
) -> None:
    build_id = _stored(kazoo_client)
    result = alice.get(f"/v1/builds/{build_id}/resources", params={"nested": value})
    assert result.status_code == 400, result.text
    assert error_codes(result) == ["cool.request.invalid_value"]
    assert result.json["errors"][0]["source"] == {"parameter": "nested"}


def test_events_name_the_parent_of_their_resource(alice: Caller, kazoo_client: KazooClient) -> None:
    build_id = _stored(kazoo_client)
    events = alice.get(f"/v1/builds/{build_id}/events").json["events"]
    assert [(e["resource"], e["parent"]) for e in events] == [
        (None, None),  # the build's own (submitted)
        ("web/0/net", "web/0"),
        ("web/0", "web"),
        ("web", None),
    ]
