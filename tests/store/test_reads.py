"""Reading builds back from a real ZooKeeper (what a submit stored, or nothing)."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from cool.errors import BuildNotFoundError
from cool.model import Plan
from cool.store.builds import BuildStore
from cool.store.layout import new_build_id
from cool.store.reads import BuildReads


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
