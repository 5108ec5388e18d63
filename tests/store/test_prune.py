"""Pruning finished builds against a real ZooKeeper: what goes, and that nothing else does."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from kazoo.client import KazooClient

from cool.errors import LeadershipLostError
from cool.model import BuildStatus, Plan, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.control import Requests
from cool.store.fence import claim
from cool.store.layout import Layout
from cool.store.prune import Pruner, PruneResult, znode_count
from cool.store.records import Event, ResourceRecord
from cool.store.retention import FinishedBuild
from cool.store.trusts import TrustRecords
from cool.template.compile import compile_template

TEMPLATE = (
    "heat_template_version: wallaby\n"
    "resources:\n  a: {type: OS::Heat::None}\n  b: {type: OS::Heat::None}\n"
)
NOW = 1_800_000_000.0
DAY = 86_400.0


@pytest.fixture
def plan(registry: ResourceTypeRegistry) -> Plan:
    return compile_template(TEMPLATE, registry, {})


@pytest.fixture
def store(kazoo_client: KazooClient) -> BuildStore:
    store = BuildStore(kazoo_client, Layout("/cool"), clock=lambda: NOW - 30 * DAY)
    store.ensure_layout()
    return store


@pytest.fixture
def pruner(kazoo_client: KazooClient) -> Pruner:
    return Pruner(kazoo_client, Layout("/cool"))


def finish_build(
    store: BuildStore,
    plan: Plan,
    *,
    finished_at: float,
    status: BuildStatus = BuildStatus.CREATE_COMPLETE,
    project_id: str = "p1",
    events: int = 2,
    trust_id: str = "",
    name: str = "",
) -> str:
    """Submit a build, claim it and finish it as a worker would, at ``finished_at``."""
    build_id = store.submit(
        plan, project_id=project_id, user_id="u1", trust_id=trust_id, name=name
    ).build_id
    fence = claim(store.client, store.layout, build_id, "test-worker")
    assert fence is not None
    state, version = store.state(build_id)
    records = [
        (ResourceRecord(r.name, r.type, ResourceStatus.CREATE_COMPLETE, physical_id=r.name), None)
        for r in plan.resources
    ]
    history = [
        Event(at=finished_at, resource=None, old=None, new=str(status), reason=f"step {n}")
        for n in range(events)
    ]
    fence.write(
        resources=records,
        state=(state.but(status=status, reason="done", updated_at=finished_at), version),
        events=history,
        finish=True,
    )
    return build_id


def listed(pruner: Pruner) -> dict[str, FinishedBuild]:
    return {b.build_id: b for chunk in pruner.finished() for b in chunk}


def subtree(client: KazooClient, path: str) -> list[str]:
    nodes = [path]
    for child in client.get_children(path):
        nodes += subtree(client, f"{path}/{child}")
    return nodes


# -- listing ------------------------------------------------------------------------


def test_finished_lists_terminal_builds_that_are_neither_pending_nor_claimed(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    done = finish_build(store, plan, finished_at=NOW - DAY, status=BuildStatus.CREATE_FAILED)
    queued = store.submit(plan, project_id="p1", user_id="u1").build_id
    running = store.submit(plan, project_id="p1", user_id="u1").build_id
    assert claim(store.client, store.layout, running, "w") is not None
    # Terminal, but its finish did not complete: still pending, so not finished.
    half = store.submit(plan, project_id="p1", user_id="u1").build_id
    fence = claim(store.client, store.layout, half, "w")
    assert fence is not None
    state, version = store.state(half)
    fence.write(state=(state.but(status=BuildStatus.CREATE_COMPLETE), version), release=True)

    found = listed(pruner)

    assert set(found) == {done}
    assert found[done].finished_at == NOW - DAY
    assert found[done].status is BuildStatus.CREATE_FAILED
    assert found[done].version == store.state(done)[1]
    assert {queued, running, half}.isdisjoint(found)


def test_finished_goes_shard_by_shard(store: BuildStore, pruner: Pruner, plan: Plan) -> None:
    built = {finish_build(store, plan, finished_at=NOW - DAY, events=0) for _ in range(12)}
    chunks = list(pruner.finished(shards_per_round=1))
    shards_per_chunk = [{Layout.shard(b.build_id) for b in chunk} for chunk in chunks]
    assert all(len(shards) == 1 for shards in shards_per_chunk)
    assert len(chunks) == len({Layout.shard(b) for b in built})
    assert {b.build_id for chunk in chunks for b in chunk} == built


# -- pruning ------------------------------------------------------------------------


def test_prune_deletes_the_whole_subtree_and_the_index_entry(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    client, layout = store.client, store.layout
    doomed = finish_build(store, plan, finished_at=NOW - DAY, events=5)
    kept = finish_build(store, plan, finished_at=NOW - DAY)
    # Something deeper than cool writes today: deleted children first all the same.
    client.create(f"{layout.control(doomed)}/extra/deeper", b"x", makepath=True)
    assert len(subtree(client, layout.build(doomed))) > 15
    kept_before = subtree(client, layout.build(kept))

    result = pruner.prune([listed(pruner)[doomed]])

    assert result.pruned == [doomed]
    assert result.refused == []
    assert result.projects == {doomed: "p1"}
    # The first transaction, planned where cool puts children, meets "extra" not
    # empty; the second is planned from a listing to the bottom.
    assert result.transactions == 2
    assert client.exists(layout.build(doomed)) is None
    assert client.exists(layout.project_build("p1", doomed)) is None
    assert client.exists(layout.pending_build(doomed)) is None
    assert store.project_builds("p1") == [kept]
    assert subtree(client, layout.build(kept)) == kept_before


def test_prune_hands_a_builds_trust_over_in_its_transaction(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    client, layout = store.client, store.layout
    trust_id = uuid.uuid4().hex
    trusted = finish_build(store, plan, finished_at=NOW - DAY, trust_id=trust_id)
    plain = finish_build(store, plan, finished_at=NOW - DAY)
    records = TrustRecords(client, layout)
    assert records.waiting() == []  # nothing waits before a prune (no container yet)

    result = pruner.prune([listed(pruner)[trusted], listed(pruner)[plain]])

    assert sorted(result.pruned) == sorted([trusted, plain])
    assert result.transactions == 1
    assert records.waiting() == [trust_id]
    data, _ = client.get(layout.trust(trust_id))
    assert codec.loads(data) == {"build_id": trusted}
    records.forget(trust_id)
    records.forget(trust_id)  # already forgotten: fine
    assert records.waiting() == []


def test_prune_never_touches_an_unfinished_build(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    client, layout = store.client, store.layout
    queued = store.submit(plan, project_id="p1", user_id="u1").build_id
    running = store.submit(plan, project_id="p1", user_id="u1").build_id
    assert claim(client, layout, running, "w") is not None
    before = {b: subtree(client, layout.build(b)) for b in (queued, running)}
    # Handed in as if finished, with their current versions: the re-check refuses.
    claimed = [
        FinishedBuild(b, NOW - 9 * DAY, BuildStatus.CREATE_COMPLETE, store.state(b)[1])
        for b in (queued, running)
    ]

    result = pruner.prune(claimed)

    assert result.pruned == []
    assert {r.build_id for r in result.refused} == {queued, running}
    assert result.transactions == 0
    assert {b: subtree(client, layout.build(b)) for b in (queued, running)} == before
    assert set(store.pending()) == {queued, running}


def _delete_requested(client: KazooClient, layout: Layout, build_id: str) -> None:
    """A delete request for a finished build: DELETE_IN_PROGRESS, and pending again."""
    Requests(BuildStore(client, layout)).delete(build_id, user_id="u1")


def _pending_again(client: KazooClient, layout: Layout, build_id: str) -> None:
    """Pending again with its state untouched: only the not-pending guard can see it."""
    client.create(layout.pending_build(build_id), b"")


def _claimed_again(client: KazooClient, layout: Layout, build_id: str) -> None:
    client.create(layout.pending_build(build_id), b"")
    assert claim(client, layout, build_id, "w2") is not None


def _new_event(client: KazooClient, layout: Layout, build_id: str) -> None:
    client.create(layout.event_prefix(build_id), b"{}", sequence=True)


class RacingPruner(Pruner):
    """Changes a build once, after the pruner's own re-read and before its transaction."""

    def __init__(self, client: KazooClient, race: Callable[[], None]) -> None:
        super().__init__(client, Layout("/cool"))
        self.race: Callable[[], None] | None = race

    def _plan(
        self, builds: Sequence[FinishedBuild], result: PruneResult, *, deep: bool
    ) -> list[Any]:
        doomed = super()._plan(builds, result, deep=deep)
        if self.race is not None:
            self.race()
            self.race = None
        return doomed


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_delete_requested, "its state changed since it was listed"),
        (_pending_again, "it is pending again"),
        (_claimed_again, "it was claimed since it was listed"),
    ],
)
def test_prune_refuses_a_build_that_changes_between_listing_and_deleting(
    store: BuildStore,
    kazoo_client: KazooClient,
    plan: Plan,
    change: Callable[[KazooClient, Layout, str], None],
    why: str,
) -> None:
    layout = store.layout
    builds = [finish_build(store, plan, finished_at=NOW - 2 * DAY) for _ in range(3)]
    victim = builds[1]
    listing = listed(Pruner(kazoo_client, layout))
    assert victim in listing
    before = subtree(kazoo_client, layout.build(victim))
    pruner = RacingPruner(kazoo_client, lambda: change(kazoo_client, layout, victim))

    result = pruner.prune([listing[b] for b in builds])

    assert [(r.build_id, r.why) for r in result.refused] == [(victim, why)]
    assert sorted(result.pruned) == sorted(set(builds) - {victim})
    assert result.transactions == 2  # refused whole, then again without the victim
    assert kazoo_client.exists(layout.build(victim)) is not None
    assert set(before) <= set(subtree(kazoo_client, layout.build(victim)))
    assert kazoo_client.exists(layout.project_build("p1", victim)) is not None


def test_prune_takes_nodes_added_while_pruning_along(
    store: BuildStore, kazoo_client: KazooClient, plan: Plan
) -> None:
    layout = store.layout
    builds = [finish_build(store, plan, finished_at=NOW - 2 * DAY) for _ in range(3)]
    victim = builds[1]
    listing = listed(Pruner(kazoo_client, layout))
    pruner = RacingPruner(kazoo_client, lambda: _new_event(kazoo_client, layout, victim))

    result = pruner.prune([listing[b] for b in builds])

    # Refused once (events not empty), the others pruned, then the victim re-listed.
    assert (sorted(result.pruned), result.refused) == (sorted(builds), [])
    assert result.transactions == 3
    assert kazoo_client.exists(layout.build(victim)) is None


def test_prune_refuses_a_build_deleted_between_listing_and_pruning(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    build_id = finish_build(store, plan, finished_at=NOW - 2 * DAY)
    listing = listed(pruner)
    _delete_requested(store.client, store.layout, build_id)
    result = pruner.prune([listing[build_id]])
    assert result.pruned == []
    assert [r.build_id for r in result.refused] == [build_id]
    assert store.state(build_id)[0].status is BuildStatus.DELETE_IN_PROGRESS
    assert store.is_pending(build_id)


def test_prune_deletes_a_batch_in_one_transaction(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    builds = [finish_build(store, plan, finished_at=NOW - DAY, events=1) for _ in range(6)]
    result = pruner.prune(list(listed(pruner).values()))
    assert sorted(result.pruned) == sorted(builds)
    assert (result.transactions, result.largest_transaction) == (1, 6)


def test_prune_splits_a_batch_over_the_transaction_budget(
    store: BuildStore, kazoo_client: KazooClient, plan: Plan
) -> None:
    builds = [finish_build(store, plan, finished_at=NOW - DAY, events=1) for _ in range(6)]
    pruner = Pruner(kazoo_client, store.layout, max_transaction_bytes=4_000)
    result = pruner.prune(list(listed(pruner).values()))
    assert sorted(result.pruned) == sorted(builds)
    assert result.transactions >= 3
    assert result.largest_transaction < 6
    assert listed(pruner) == {}


def test_prune_deletes_a_build_too_big_for_one_transaction_in_guarded_chunks(
    store: BuildStore, kazoo_client: KazooClient, plan: Plan
) -> None:
    build_id = finish_build(store, plan, finished_at=NOW - DAY, events=60)
    pruner = Pruner(kazoo_client, store.layout, max_transaction_bytes=2_000)
    result = pruner.prune(list(listed(pruner).values()))
    assert result.pruned == [build_id]
    assert result.transactions > 3
    assert kazoo_client.exists(store.layout.build(build_id)) is None


class InterruptedPruner(Pruner):
    """Changes a build once, right after the first transaction that pruned part of it."""

    def __init__(self, client: KazooClient, race: Callable[[], None], budget: int) -> None:
        super().__init__(client, Layout("/cool"), max_transaction_bytes=budget)
        self.race: Callable[[], None] | None = race

    def _commit(self, ops: Any, guard_path: str | None, result: PruneResult) -> Any:
        refused = super()._commit(ops, guard_path, result)
        if refused is None and self.race is not None:
            self.race()
            self.race = None
        return refused


def test_a_build_deleted_half_way_through_a_chunked_prune_keeps_its_resources(
    store: BuildStore, kazoo_client: KazooClient, plan: Plan
) -> None:
    layout = store.layout
    build_id = finish_build(store, plan, finished_at=NOW - DAY, events=60)
    listing = listed(Pruner(kazoo_client, layout))
    pruner = InterruptedPruner(
        kazoo_client, lambda: _delete_requested(kazoo_client, layout, build_id), budget=2_000
    )

    result = pruner.prune([listing[build_id]])

    assert result.pruned == []
    assert [r.build_id for r in result.refused] == [build_id]
    # Only history went ahead of the state: the teardown finds every resource record.
    assert sorted(store.resources(build_id)) == ["a", "b"]
    assert store.state(build_id)[0].status is BuildStatus.DELETE_IN_PROGRESS
    assert store.is_pending(build_id)
    assert 0 < len(store.events(build_id)) < 60


def test_prune_with_a_lost_leadership_deletes_nothing(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    build_id = finish_build(store, plan, finished_at=NOW - DAY)
    with pytest.raises(LeadershipLostError):
        pruner.prune(list(listed(pruner).values()), guard_path="/cool/election/gc/gone")
    assert store.client.exists(store.layout.build(build_id)) is not None


def test_znode_count_reads_mntr_and_falls_after_a_prune(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    for _ in range(3):
        finish_build(store, plan, finished_at=NOW - DAY)
    before = znode_count(store.client)
    assert before is not None
    result = pruner.prune(list(listed(pruner).values()))
    after = znode_count(store.client)
    assert after is not None
    # Other tests may share the server, but never write under this test's chroot.
    assert len(result.pruned) == 3
    assert after <= before - 3 * 8


def test_prune_deletes_a_build_whose_resource_records_alone_pass_zookeepers_limit(
    store: BuildStore, pruner: Pruner, plan: Plan
) -> None:
    """3,000 records named with 200 characters: deleting them all in one
    transaction would be over ZooKeeper's 1 MiB, so the build was never pruned."""
    client, layout = store.client, store.layout
    build_id = finish_build(store, plan, finished_at=NOW - DAY)
    data = codec.dumps(
        ResourceRecord("x", "OS::Heat::None", ResourceStatus.CREATE_COMPLETE).to_dict()
    )
    names = [f"{n:04d}".ljust(200, "r") for n in range(3_000)]
    for start in range(0, len(names), 250):
        transaction = client.transaction()
        for name in names[start : start + 250]:
            transaction.create(layout.resource(build_id, name), data)
        assert not any(isinstance(r, Exception) for r in transaction.commit())

    result = pruner.prune(list(listed(pruner).values()))

    assert result.pruned == [build_id]
    assert result.refused == []
    assert client.exists(layout.build(build_id)) is None
    assert listed(pruner) == {}
