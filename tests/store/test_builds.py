"""Builds in a real ZooKeeper: submitted whole or not at all, read back, listed."""

from __future__ import annotations

import json
import random
import string
import zlib

import pytest
from kazoo.client import KazooClient

from cool.errors import BuildConflictError, BuildRequestInvalidError
from cool.model import BuildStatus, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.layout import IdInvalidError, Layout, new_build_id
from cool.template.compile import compile_template
from cool.template.parse import Limits


def test_layout_builds_every_path_under_the_root_from_checked_ids() -> None:
    layout = Layout("/cool")
    build_id = "01JDQ3S7F8M2V5X9Z0ABCDEFGH"
    assert layout.build(build_id) == f"/cool/builds/GH/{build_id}"
    assert layout.resource(build_id, "web") == f"/cool/builds/GH/{build_id}/resources/web"
    assert layout.event_prefix(build_id) == f"/cool/builds/GH/{build_id}/events/ev-"
    assert layout.pending_build(build_id) == f"/cool/pending/GH/{build_id}"
    assert layout.flat_pending_build(build_id) == f"/cool/pending/{build_id}"
    assert layout.claim(build_id) == f"/cool/claims/{build_id}"
    # The project index's time buckets: the id's first 5 characters, then the next 2.
    assert layout.project_build("p1", build_id) == f"/cool/index/projects/p1/01JDQ/3S/{build_id}"
    assert layout.flat_project_build("p1", build_id) == f"/cool/index/projects/p1/{build_id}"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "..",
        "../../etc",
        "01JDQ3S7F8M2V5X9Z0ABCDEFG/",
        "01jdq3s7f8m2v5x9z0abcdefgh",
        "01JDQ3S7F8M2V5X9Z0ABCDEFGI",
        "x" * 10_000,
        "01JDQ3S7F8M2V5X9Z0ABCDEFG\u00e9",
        "%2F",
        "01JDQ3S7F8M2V5X9Z0ABCDEFGH\n",
    ],
)
def test_layout_refuses_ids_that_are_not_ulids(bad: str) -> None:
    with pytest.raises(IdInvalidError):
        Layout("/cool").build(bad)


@pytest.mark.parametrize("bad", ["", "a//b", "..", ".hidden", "x" * 300, "caf\u00e9"])
def test_layout_refuses_bad_names(bad: str) -> None:
    layout = Layout("/cool")
    with pytest.raises(IdInvalidError):
        layout.resource(new_build_id(), bad)
    with pytest.raises(IdInvalidError):
        layout.project(bad)


def test_layout_shard_spreads_ids() -> None:
    shards = {Layout.shard(new_build_id()) for _ in range(500)}
    assert len(shards) > 250  # 1,024 possible; random part of the ULID


def test_submit_writes_every_node_in_one_transaction(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    meta = store.submit(plan, project_id="p1", user_id="u1", name="demo", request_id="req-1")
    layout = store.layout
    build_id = meta.build_id
    for path in (
        layout.build(build_id),
        layout.state(build_id),
        layout.lease(build_id),
        layout.control(build_id),
        layout.resources(build_id),
        layout.events(build_id),
        layout.pending_build(build_id),
        layout.project_build("p1", build_id),
    ):
        assert kazoo_client.exists(path), path
    state, _ = store.state(build_id)
    assert state.status is BuildStatus.CREATE_QUEUED
    assert state.total == 2
    events = store.events(build_id)
    assert [(e.new, e.request_id) for _, e in events] == [("CREATE_QUEUED", "req-1")]
    assert store.pending() == [build_id]
    assert store.project_builds("p1") == [build_id]


def test_submit_is_all_or_nothing(store: BuildStore, plan: Plan, kazoo_client: KazooClient) -> None:
    """A submit that fails half way (its id already taken) leaves no trace of itself."""
    first = store.submit(plan, project_id="p1", user_id="u1")
    with pytest.raises(BuildConflictError, match="exists already"):
        store.submit(plan, project_id="p2", user_id="u2", build_id=first.build_id)
    assert store.project_builds("p2") == []
    assert store.pending() == [first.build_id]
    meta, _ = BuildStore(kazoo_client, store.layout).meta_and_plan(first.build_id)
    assert meta.project_id == "p1"


def test_plans_are_stored_compressed_and_large_ones_fit(
    store: BuildStore, registry: ResourceTypeRegistry, kazoo_client: KazooClient
) -> None:
    """A plan bigger than ZooKeeper's 1 MiB node limit uncompressed is stored whole."""
    words = random.Random(7)
    resources = "\n".join(
        f"  r{i}:\n    type: OS::Heat::Value\n    properties:\n      value: "
        + "".join(words.choice(string.ascii_lowercase + " ") for _ in range(600))
        for i in range(1800)
    )
    text = f"heat_template_version: wallaby\nresources:\n{resources}\n"
    limits = Limits(max_size=2 * 1024 * 1024, max_resources=2000)
    plan = compile_template(text, registry, {}, limits)
    assert len(plan.to_json()) > 1024 * 1024
    meta = store.submit(plan, project_id="p1", user_id="u1")
    raw, _ = kazoo_client.get(store.layout.build(meta.build_id))
    assert len(raw) < 1024 * 1024
    fresh = BuildStore(kazoo_client, store.layout)
    assert fresh.get(meta.build_id).plan == plan


def test_plans_too_large_even_compressed_are_refused_not_truncated() -> None:
    noise = random.Random(3).randbytes(1024 * 1024).hex()
    with pytest.raises(codec.PlanTooLargeError, match="over the"):
        codec.dumps_compressed({"noise": noise})


def test_codec_refuses_bytes_it_did_not_write() -> None:
    with pytest.raises(codec.CorruptRecordError):
        codec.loads(b"Z not zlib")
    assert codec.loads(codec.dumps({"a": 1})) == {"a": 1}
    assert json.loads(codec.dumps({"b": 1, "a": 2})) == {"a": 2, "b": 1}


def test_submit_gives_every_build_a_deadline_within_the_allowed_range(
    kazoo_client: KazooClient, plan: Plan
) -> None:
    store = BuildStore(kazoo_client, Layout("/cool"), default_timeout_mins=30, max_timeout_mins=120)
    store.ensure_layout()
    meta = store.submit(plan, project_id="p1", user_id="u1")
    assert meta.timeout_mins == 30
    assert meta.deadline == pytest.approx(meta.created_at + 30 * 60)
    assert store.submit(plan, project_id="p1", user_id="u1", timeout_mins=120).timeout_mins == 120
    for bad in (0, 121, -5, True):
        with pytest.raises(BuildRequestInvalidError, match="from 1 to 120"):
            store.submit(plan, project_id="p1", user_id="u1", timeout_mins=bad)
    assert len(store.pending()) == 2


def test_submit_makes_missing_parents_and_commits_again(
    kazoo_client: KazooClient, plan: Plan
) -> None:
    """A submit commits at once, assuming its shard, project and pending exist (one
    round trip); when one is missing (a new root, a project's first build) the
    transaction fails whole, the parents are made, and it commits again."""
    layout = Layout("/fresh")
    store = BuildStore(kazoo_client, layout)
    first = store.submit(plan, project_id="p1", user_id="u")
    assert kazoo_client.exists(layout.build(first.build_id))
    # Every parent gone: the next submit still lands, whole.
    kazoo_client.delete(layout.root, recursive=True)
    second = store.submit(plan, project_id="p1", user_id="u")
    assert store.pending() == [second.build_id]
    assert store.project_builds("p1") == [second.build_id]
    assert kazoo_client.exists(layout.project_build("p1", second.build_id))


def test_codec_refuses_a_record_that_would_inflate_past_its_bound() -> None:
    """A 770 KB record inflated to 442 MB in every reader (review of issue 17)."""
    bomb = b"Z" + zlib.compress(b'"' + b"a" * (codec.MAX_DECOMPRESSED + 10) + b'"', 9)
    assert len(bomb) < codec.MAX_NODE_BYTES
    with pytest.raises(codec.CorruptRecordError, match="inflates past"):
        codec.loads(bomb)
    assert codec.loads(codec.dumps_compressed({"a": "b" * 1000})) == {"a": "b" * 1000}
