"""Build names in a real ZooKeeper: unique among a project's live builds, found in one
read, freed by pruning (DELETE_COMPLETE frees them too: tests/worker/test_names.py)."""

from __future__ import annotations

import threading

import pytest
from kazoo.client import KazooClient

from cool.errors import BuildNameExistsError
from cool.model import BuildStatus, Plan
from cool.store import codec
from cool.store.builds import BuildStore, Idempotency
from cool.store.layout import Layout
from cool.store.prune import Pruner
from cool.store.retention import FinishedBuild
from tests.store.test_prune import finish_build

KEY = Idempotency("a" * 64, "b" * 64)


def test_a_name_is_refused_for_a_second_live_build_of_its_project(
    store: BuildStore, plan: Plan
) -> None:
    first = store.submit(plan, project_id="p1", user_id="u1", name="web")
    with pytest.raises(BuildNameExistsError) as refused:
        store.submit(plan, project_id="p1", user_id="u2", name="web")
    assert refused.value.status == 409
    assert refused.value.code == "cool.build.name_exists"
    assert refused.value.build_id == first.build_id
    # Nothing of the refused build was stored: one build in the project's index.
    assert store.project_builds("p1") == [first.build_id]
    # Another project may use the name; so may another name in this project.
    store.submit(plan, project_id="p2", user_id="u1", name="web")
    store.submit(plan, project_id="p1", user_id="u1", name="web2")


def test_find_by_name_is_one_read_of_the_live_build(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    meta = store.submit(plan, project_id="p1", user_id="u1", name="odd/name with spaces ✓")
    unnamed = store.submit(plan, project_id="p1", user_id="u1")
    assert store.find_by_name("p1", "odd/name with spaces ✓") == meta.build_id
    assert store.find_by_name("p1", unnamed.build_id) == unnamed.build_id  # named by its id
    assert store.find_by_name("p2", "odd/name with spaces ✓") is None
    assert store.find_by_name("p1", "nothing") is None
    assert store.find_by_name("../p1", "x") is None  # never a path from an odd project id
    path = Layout("/cool").name("p1", "odd/name with spaces ✓")
    data, _ = kazoo_client.get(path)
    assert codec.loads(data) == {"build_id": meta.build_id, "name": "odd/name with spaces ✓"}


def test_concurrent_submits_of_one_name_make_exactly_one_build(
    store: BuildStore, plan: Plan
) -> None:
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def submit() -> None:
        start.wait(timeout=10)
        try:
            outcomes.append(store.submit(plan, project_id="p1", user_id="u1", name="race"))
        except BuildNameExistsError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2
    refused = [o for o in outcomes if isinstance(o, BuildNameExistsError)]
    assert len(refused) == 1
    assert store.project_builds("p1") == [refused[0].build_id]


def test_an_idempotent_retry_gets_its_build_not_a_409(store: BuildStore, plan: Plan) -> None:
    first, created = store.submit_once(
        plan, project_id="p1", user_id="u1", name="web", idempotency=KEY
    )
    again, created_again = store.submit_once(
        plan, project_id="p1", user_id="u1", name="web", idempotency=KEY
    )
    assert created
    assert not created_again
    assert again.build_id == first.build_id


def test_a_retry_racing_its_first_attempt_gets_the_build_not_a_409(
    store: BuildStore, plan: Plan, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry's read of the key finds nothing (the first attempt is not stored yet);
    then both its key and its name are taken by the time its transaction runs: the
    key's refusal comes first, and the answer is the first attempt's build."""
    reads = iter([None])  # the retry's first look finds no build for the key
    real = store.idempotent_build
    first: list[str] = []

    def racing(project_id: str, idempotency: Idempotency):  # type: ignore[no-untyped-def]
        found = next(reads, "real")
        if found is None:  # the first attempt commits between the look and the write
            first.append(
                store.submit(
                    plan, project_id="p1", user_id="u1", name="web", idempotency=KEY
                ).build_id
            )
            return None
        return real(project_id, idempotency)

    monkeypatch.setattr(store, "idempotent_build", racing)
    meta, created = store.submit_once(
        plan, project_id="p1", user_id="u1", name="web", idempotency=KEY
    )
    assert not created
    assert meta.build_id == first[0]


def test_a_new_key_with_a_taken_name_is_a_409(store: BuildStore, plan: Plan) -> None:
    store.submit_once(plan, project_id="p1", user_id="u1", name="web", idempotency=KEY)
    other = Idempotency("c" * 64, "b" * 64)
    with pytest.raises(BuildNameExistsError):
        store.submit_once(plan, project_id="p1", user_id="u1", name="web", idempotency=other)
    # The refused key made no entry: used again later, it makes a build.
    assert store.idempotent_build("p1", other) is None


@pytest.mark.parametrize("status", [BuildStatus.CREATE_FAILED, BuildStatus.DELETE_FAILED])
def test_a_finished_build_keeps_its_name_until_it_is_pruned(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient, status: BuildStatus
) -> None:
    build_id = finish_build(store, plan, finished_at=1.0, status=status, name="kept")
    with pytest.raises(BuildNameExistsError):
        store.submit(plan, project_id="p1", user_id="u1", name="kept")
    assert store.find_by_name("p1", "kept") == build_id
    state, version = store.state(build_id)
    result = Pruner(kazoo_client, Layout("/cool")).prune(
        [FinishedBuild(build_id, 1.0, state.status, version)]
    )
    assert result.pruned == [build_id]
    assert store.find_by_name("p1", "kept") is None
    assert store.submit(plan, project_id="p1", user_id="u1", name="kept").name == "kept"


def test_prune_never_frees_a_name_another_build_holds(
    store: BuildStore, plan: Plan, kazoo_client: KazooClient
) -> None:
    """A build whose name node names another build (here: it was freed and taken again)
    is pruned without touching that node."""
    old = finish_build(store, plan, finished_at=1.0, name="again")
    path = Layout("/cool").name("p1", "again")
    kazoo_client.delete(path)  # freed (as DELETE_COMPLETE does) ...
    new = store.submit(plan, project_id="p1", user_id="u1", name="again").build_id  # ... retaken
    state, version = store.state(old)
    result = Pruner(kazoo_client, Layout("/cool")).prune(
        [FinishedBuild(old, 1.0, state.status, version)]
    )
    assert result.pruned == [old]
    assert store.find_by_name("p1", "again") == new
