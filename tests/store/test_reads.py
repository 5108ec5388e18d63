"""Reading builds back from a real ZooKeeper (what a submit stored, or nothing)."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from cool.errors import BuildNotFoundError
from cool.model import Plan, ResourceStatus
from cool.store.builds import BuildStore
from cool.store.fence import claim
from cool.store.layout import new_build_id
from cool.store.reads import BuildReads
from cool.store.records import ResourceRecord
from tests.nested_plan import group_plan, nested_names


def test_get_reads_back_what_was_submitted(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    meta = store.submit(plan, project_id="p1", user_id="u1", timeout_mins=5, rollback=False)
    fresh = BuildReads(kazoo_client, store.layout)  # no cache
    build = fresh.get(meta.build_id)
    assert build.meta == meta
    assert build.plan == plan
    assert build.plan.to_json() == plan.to_json()
    assert build.meta.deadline == pytest.approx(build.meta.created_at + 300)


def test_get_unknown_or_malformed_build_is_not_found(store: BuildStore) -> None:
    with pytest.raises(BuildNotFoundError):
        store.get(new_build_id())
    with pytest.raises(BuildNotFoundError):
        store.get("../../zookeeper")


def test_nested_resources_are_recorded_and_read_back_by_their_names(
    store: BuildStore, kazoo_client: KazooClient
) -> None:
    plan = group_plan()
    build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
    fence = claim(kazoo_client, store.layout, build_id, "w1")
    assert fence is not None
    records = [
        (ResourceRecord(r.name, r.type, ResourceStatus.CREATE_IN_PROGRESS), None)
        for r in plan.resources
    ]
    fence.write(resources=records)
    fresh = BuildReads(kazoo_client, store.layout)
    assert fresh.get(build_id).plan == plan
    read = fresh.resources(build_id)
    assert sorted(read) == nested_names()
    assert all(record.name == name for name, (record, _) in read.items())
    children = kazoo_client.get_children(store.layout.resources(build_id))
    assert "web~0~net" in children
    assert "web" in children  # plain names stay as they were
