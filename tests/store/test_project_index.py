"""The project index in time buckets, against a real ZooKeeper: newest first, lazily,
with entries from before the buckets, and emptied buckets pruned with their builds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice

import pytest
from kazoo.client import KazooClient
from ulid import ULID

from cool.errors import BuildNameExistsError
from cool.model import BuildStatus, Plan
from cool.store.builds import BuildStore
from cool.store.fence import claim
from cool.store.project_index import newest_first
from cool.store.prune import Pruner
from cool.store.retention import FinishedBuild

T0 = 1_800_000_000.0
HOUR = 3600.0


def build_id(at: float) -> str:
    return str(ULID.from_timestamp(at))


def submit(store: BuildStore, plan: Plan, at: float, project_id: str = "p1") -> str:
    return store.submit(plan, project_id=project_id, user_id="u", build_id=build_id(at)).build_id


@pytest.fixture
def counted(kazoo_client: KazooClient) -> Iterator[list[str]]:
    """The paths listed through the client's pipelined reads, as they are sent."""
    paths: list[str] = []
    listing = kazoo_client.get_children_async

    def counting(path: str, *args: object, **kwargs: object) -> object:
        paths.append(path)
        return listing(path, *args, **kwargs)

    kazoo_client.get_children_async = counting  # type: ignore[method-assign]
    yield paths
    del kazoo_client.get_children_async


def test_builds_come_newest_first_across_buckets(store: BuildStore, plan: Plan) -> None:
    # Seconds, minutes, hours and days apart: first- and second-level buckets both.
    times = [T0, T0 + 1, T0 + 40, T0 + 400, T0 + 12 * HOUR, T0 + 30 * HOUR, T0 + 30 * HOUR + 2]
    made = [submit(store, plan, at) for at in reversed(times)]
    layout = store.layout

    assert store.project_builds("p1") == sorted(made, reverse=True)
    assert len({layout.project_bucket("p1", b) for b in made}) == 5
    assert len({layout.project_bucket("p1", b).rsplit("/", 1)[0] for b in made}) == 3
    newest = sorted(made, reverse=True)
    for at in range(len(newest)):
        assert [b for b, _ in store.newest_builds("p1", before=newest[at])] == newest[at + 1 :]


def test_a_first_page_lists_only_the_newest_buckets(
    store: BuildStore, plan: Plan, counted: list[str]
) -> None:
    # 200 builds a minute apart: 200 second-level buckets in 1 or 2 first-level ones.
    made = [submit(store, plan, T0 + 60 * n) for n in range(200)]
    counted.clear()

    page = [b for b, _ in islice(store.newest_builds("p1"), 3)]

    assert page == sorted(made, reverse=True)[:3]
    # The project, its newest first-level buckets (2 at most), 8 second-level
    # buckets: far from the 200 a full listing reads.
    assert len(counted) <= 1 + 2 + 8
    counted.clear()
    assert len(store.project_builds("p1")) == 200
    assert len(counted) >= 200


def test_entries_from_before_the_buckets_are_listed_in_order(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    layout = store.layout
    new = [submit(store, plan, T0 + n * 50) for n in range(4)]
    # Entries as cool wrote them before the buckets, right under the project:
    # one older than all, one between the bucketed ones, one in the same bucket.
    old = [build_id(T0 - HOUR), build_id(T0 + 75), build_id(T0 + 100.5)]
    for entry in old:
        kazoo_client.create(layout.flat_project_build("p1", entry), b"{}")
    # A stray name in each level is not a build.
    kazoo_client.create(f"{layout.project('p1')}/zz", b"")
    kazoo_client.create(f"{layout.project_bucket('p1', new[0]).rsplit('/', 1)[0]}/not-a", b"")
    kazoo_client.create(f"{layout.project_bucket('p1', new[0])}/stray", b"")

    assert store.project_builds("p1") == sorted(new + old, reverse=True)
    assert store.is_indexed("p1", old[1])
    assert store.is_indexed("p1", new[1])
    assert not store.is_indexed("p2", new[1])
    assert not store.is_indexed("p1", "nope")
    assert store.is_indexed(None, new[1])


def test_every_project_merged_newest_first(store: BuildStore, plan: Plan) -> None:
    made = {
        (submit(store, plan, T0 + n * 700 + p, project_id=f"p{p}"), f"p{p}")
        for n in range(5)
        for p in range(3)
    }
    everyone = list(store.newest_builds(None))
    assert everyone == sorted(made, reverse=True)
    marker = everyone[6][0]
    assert list(store.newest_builds(None, before=marker)) == everyone[7:]
    assert list(newest_first(store.client, store.layout, [])) == []


def test_a_bucket_left_empty_by_the_gc_goes_and_a_submit_makes_it_again(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    layout = store.layout
    lone = submit(store, plan, T0)
    pair = [submit(store, plan, T0 + 12 * HOUR), submit(store, plan, T0 + 12 * HOUR + 0.5)]
    for doomed in (lone, pair[0]):
        fence = claim(kazoo_client, layout, doomed, "w")
        assert fence is not None
        state, version = store.state(doomed)
        finished = state.but(status=BuildStatus.CREATE_FAILED, updated_at=T0)
        fence.write(state=(finished, version), finish=True)
    listed = [
        FinishedBuild(b, T0, BuildStatus.CREATE_FAILED, store.state(b)[1]) for b in (lone, pair[0])
    ]

    result = Pruner(kazoo_client, layout).prune(listed)

    assert sorted(result.pruned) == sorted([lone, pair[0]])
    # The lone build's buckets (both levels) are gone; the pair's stay for the other.
    lone_bucket = layout.project_bucket("p1", lone)
    assert kazoo_client.exists(lone_bucket) is None
    assert kazoo_client.exists(lone_bucket.rsplit("/", 1)[0]) is None
    assert kazoo_client.exists(layout.project_bucket("p1", pair[1])) is not None
    assert store.project_builds("p1") == [pair[1]]
    # A build of the emptied bucket's time is indexed again (its bucket remade).
    again = submit(store, plan, T0 + 0.25)
    assert store.project_builds("p1") == [pair[1], again]


def test_a_name_taken_in_a_new_bucket_leaves_no_empty_bucket(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    """The name (and an Idempotency-Key) come before the index entry in the submit's
    transaction: a conflict is what fails it, not the bucket not made yet."""
    store.submit(plan, project_id="p1", user_id="u", name="web", build_id=build_id(T0))
    refused = build_id(T0 + 12 * HOUR)
    with pytest.raises(BuildNameExistsError):
        store.submit(plan, project_id="p1", user_id="u", name="web", build_id=refused)
    bucket = store.layout.project_bucket("p1", refused)
    assert kazoo_client.exists(bucket.rsplit("/", 1)[0]) is None


def test_an_entry_from_before_the_buckets_gives_its_summary(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    made = submit(store, plan, T0)
    layout = store.layout
    # Moved to where cool put it before the buckets, its summary saying another name.
    kazoo_client.delete(layout.project_build("p1", made))
    summary = {"name": "from-the-flat-entry", "created_at": T0, "user_id": "u", "tags": []}
    kazoo_client.create(layout.flat_project_build("p1", made), json.dumps(summary).encode())

    (item,) = store.summaries(list(store.newest_builds("p1")))

    assert item.build_id == made
    assert item.name == "from-the-flat-entry"
