"""Planning a prune's deletes against a real ZooKeeper (the commits: test_prune.py)."""

from __future__ import annotations

from kazoo.client import KazooClient

from cool.model import BuildStatus
from cool.store import codec
from cool.store.deletion import Refusal, plan_deletes, read_meta
from cool.store.layout import Layout, new_build_id
from cool.store.retention import FinishedBuild


def test_a_build_gone_since_it_was_listed_is_refused_with_no_ops(
    kazoo_client: KazooClient,
) -> None:
    gone = new_build_id()
    planned = plan_deletes(
        kazoo_client,
        Layout("/cool"),
        [FinishedBuild(gone, 0.0, BuildStatus.CREATE_COMPLETE, 0)],
        deep=False,
    )
    assert planned.doomed == []
    assert planned.refused == [Refusal(gone, "it is gone or incomplete")]
    assert planned.projects == {gone: None}


def test_read_meta_of_a_missing_or_unreadable_record_is_none() -> None:
    assert read_meta(new_build_id(), None) is None
    assert read_meta(new_build_id(), b"Z not zlib") is None
    assert read_meta(new_build_id(), codec.dumps({"no meta": 1})) is None
