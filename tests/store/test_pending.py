"""The sharded queue: every shard made once, a build queued in its own, entries of the
unsharded queue moved, and a worker's reader that learns of changes without reading."""

from __future__ import annotations

import threading

from kazoo.client import KazooClient

from cool.model import Plan
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.pending import (
    SHARDS,
    ShardReader,
    all_pending,
    ensure_shards,
    flat_entries,
    listing_bytes,
    move_flat,
)


def test_there_are_1024_shards_and_a_build_ids_last_two_characters_name_one() -> None:
    assert len(SHARDS) == len(set(SHARDS)) == 1024
    layout = Layout("/cool")
    assert layout.shard("01JDQ3S7F8M2V5X9Z0ABCDEFGH") in SHARDS


def test_ensure_layout_makes_every_shard_and_again_changes_nothing(
    kazoo_client: KazooClient,
) -> None:
    store = BuildStore(kazoo_client, Layout("/cool"))
    store.ensure_layout()
    assert sorted(kazoo_client.get_children("/cool/pending")) == sorted(SHARDS)
    before = kazoo_client.exists("/cool/pending").cversion
    ensure_shards(kazoo_client, store.layout)
    assert kazoo_client.exists("/cool/pending").cversion == before


def test_a_build_is_queued_in_its_shard_only(store: BuildStore, plan: Plan) -> None:
    build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
    layout = store.layout
    assert store.client.exists(f"/cool/pending/{layout.shard(build_id)}/{build_id}")
    assert store.client.exists(layout.flat_pending_build(build_id)) is None
    assert store.pending() == [build_id]
    assert store.is_pending(build_id)


def test_all_pending_reads_every_shard_and_the_unsharded_entries(
    store: BuildStore, plan: Plan
) -> None:
    queued = sorted(store.submit(plan, project_id="p1", user_id="u1").build_id for _ in range(5))
    old = store.submit(plan, project_id="p1", user_id="u1").build_id
    _unshard(store, old)
    assert all_pending(store.client, store.layout) == sorted([*queued, old])
    assert flat_entries(store.client.get_children("/cool/pending")) == [old]


def test_move_flat_moves_an_old_entry_and_drops_one_that_repeats_a_sharded_entry(
    store: BuildStore, plan: Plan
) -> None:
    layout, client = store.layout, store.client
    old = store.submit(plan, project_id="p1", user_id="u1").build_id
    _unshard(store, old)
    twice = store.submit(plan, project_id="p1", user_id="u1").build_id
    client.create(layout.flat_pending_build(twice), b"")  # also queued the old way
    gone = store.submit(plan, project_id="p1", user_id="u1").build_id  # finished meanwhile

    assert move_flat(client, layout, [old, twice, gone]) == 1

    assert client.exists(layout.pending_build(old))
    assert client.exists(layout.flat_pending_build(old)) is None
    assert client.exists(layout.pending_build(twice))
    assert client.exists(layout.flat_pending_build(twice)) is None
    assert client.exists(layout.flat_pending_build(gone)) is None  # nothing made for it
    assert flat_entries(client.get_children("/cool/pending")) == []


def test_a_reader_reads_every_shard_first_then_only_what_changed(
    store: BuildStore, plan: Plan
) -> None:
    changed = threading.Event()
    reader = ShardReader(store.client, store.layout, changed.set)
    dirty, nonempty = reader.worth_reading()
    assert dirty == set(SHARDS)  # never read: every shard is unknown
    assert not nonempty

    reader.read(list(SHARDS))
    assert reader.worth_reading() == (frozenset(), frozenset())
    assert reader.reads == len(SHARDS)

    build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
    shard = store.layout.shard(build_id)
    assert changed.wait(10), "the shard's watch fired"
    dirty, _ = reader.worth_reading()
    assert dirty == {shard}
    assert reader.reads == len(SHARDS)  # a change costs a flag, not a read

    assert reader.read([shard]) == {shard: [build_id]}
    assert reader.worth_reading() == (frozenset(), frozenset({shard}))
    assert reader.largest_listing_bytes == listing_bytes([build_id])


def test_reading_a_shard_again_keeps_one_watcher(store: BuildStore) -> None:
    reader = ShardReader(store.client, store.layout, lambda: None)
    path = store.layout.pending_shard("GH")
    for _ in range(5):
        reader.read(["GH"])
    # kazoo keys its watchers by the path as sent: behind the client's chroot.
    (watchers,) = [w for key, w in store.client._child_watchers.items() if key.endswith(path)]
    assert len(watchers) == 1


def test_a_lost_session_makes_every_shard_worth_reading_again(store: BuildStore) -> None:
    reader = ShardReader(store.client, store.layout, lambda: None)
    reader.read(list(SHARDS))
    reader.forget_watches()
    assert reader.worth_reading()[0] == set(SHARDS)


def _unshard(store: BuildStore, build_id: str) -> None:
    """Queue the build as cool did before the queue was sharded."""
    layout = store.layout
    transaction = store.client.transaction()
    transaction.delete(layout.pending_build(build_id))
    transaction.create(layout.flat_pending_build(build_id), b"")
    assert not any(isinstance(r, Exception) for r in transaction.commit())
