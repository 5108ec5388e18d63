"""The elected garbage collector, against a real ZooKeeper: age, count, election, command."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from cool.gc import GarbageCollector, GcSettings
from cool.model import BuildStatus, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.retention import Reason
from cool.store.session import Session
from cool.template.compile import compile_template
from tests.store.test_prune import DAY, NOW, TEMPLATE, finish_build
from tests.worker.helpers import settings_for
from tests.worker.processes import WorkerProcess
from tests.zk import assert_eventually, expire_session

HOUR = 3600.0


@pytest.fixture
def plan(registry: ResourceTypeRegistry) -> Plan:
    return compile_template(TEMPLATE, registry, {})


@pytest.fixture
def store(kazoo_client: KazooClient) -> BuildStore:
    store = BuildStore(kazoo_client, Layout("/cool"), clock=lambda: NOW - 30 * DAY)
    store.ensure_layout()
    return store


@pytest.fixture
def sessions(zk_hosts: str) -> Iterator[list[Session]]:
    """Two processes' worth of sessions (short timeouts: expiry is quick)."""
    opened = [Session.open(settings_for(zk_hosts, session_timeout_s=2.0)) for _ in range(2)]
    yield opened
    for session in opened:
        session.close()


def collector(session: Session, **settings: float) -> GarbageCollector:
    defaults = {"retention_s": DAY, "max_finished": 1000, "interval_s": 0.1, "batch_size": 100}
    return GarbageCollector(
        session,
        GcSettings(**(defaults | settings)),  # type: ignore[arg-type]
        clock=lambda: NOW,
    )


def exists(store: BuildStore, build_id: str) -> bool:
    return store.client.exists(store.layout.build(build_id)) is not None


def pruned_total(gc: GarbageCollector) -> float:
    return gc.metrics.registry.get_sample_value("cool_gc_builds_pruned_total") or 0.0


def test_gc_prunes_finished_builds_older_than_retention(
    store: BuildStore, sessions: list[Session], plan: Plan
) -> None:
    old = finish_build(store, plan, finished_at=NOW - 3 * DAY)
    older = finish_build(store, plan, finished_at=NOW - 5 * DAY, status=BuildStatus.CREATE_FAILED)
    young = finish_build(store, plan, finished_at=NOW - HOUR)
    queued = store.submit(plan, project_id="p1", user_id="u1").build_id  # 30 days old
    gc = collector(sessions[0])

    report = gc.run_once()

    assert report.pruned == (older, old)
    assert [(c.build_id, c.reason, c.project_id) for c in report.candidates] == [
        (older, Reason.RETENTION, "p1"),
        (old, Reason.RETENTION, "p1"),
    ]
    assert report.candidates[0].status is BuildStatus.CREATE_FAILED
    assert report.candidates[0].finished_at == NOW - 5 * DAY
    assert report.finished == 3
    assert (exists(store, old), exists(store, older)) == (False, False)
    assert (exists(store, young), exists(store, queued)) == (True, True)
    assert store.project_builds("p1") == sorted([young, queued], reverse=True)
    assert pruned_total(gc) == 2
    assert report.znodes_before is not None
    assert report.znodes_after is not None
    assert report.znodes_after < report.znodes_before
    znodes = gc.metrics.registry.get_sample_value("cool_zookeeper_znodes")
    assert znodes == report.znodes_after


def test_gc_evicts_the_oldest_first_above_max_finished(
    store: BuildStore, sessions: list[Session], plan: Plan
) -> None:
    ages_h = [5, 1, 9, 3, 7]  # created in this order, none past retention
    built = {age: finish_build(store, plan, finished_at=NOW - age * HOUR) for age in ages_h}
    gc = collector(sessions[0], max_finished=2)

    report = gc.run_once()

    assert report.pruned == (built[9], built[7], built[5])
    assert {c.reason for c in report.candidates} == {Reason.EVICTED}
    assert [b for age, b in built.items() if exists(store, b)] == [built[1], built[3]]
    assert gc.run_once().pruned == ()


def test_gc_prunes_in_bounded_batches(
    store: BuildStore, sessions: list[Session], plan: Plan
) -> None:
    built = [finish_build(store, plan, finished_at=NOW - 2 * DAY, events=0) for _ in range(10)]
    gc = collector(sessions[0], batch_size=3)
    report = gc.run_once()
    assert sorted(report.pruned) == sorted(built)
    assert report.largest_batch == 3
    assert report.transactions == 4


def test_gc_dry_run_shows_and_deletes_nothing(
    store: BuildStore, sessions: list[Session], plan: Plan
) -> None:
    old = finish_build(store, plan, finished_at=NOW - 2 * DAY, project_id="team-a")
    report = collector(sessions[0]).run_once(dry_run=True)
    assert [(c.build_id, c.project_id, c.reason) for c in report.candidates] == [
        (old, "team-a", Reason.RETENTION)
    ]
    assert report.pruned == ()
    assert exists(store, old)


def _leader(collectors: list[GarbageCollector]) -> GarbageCollector:
    leaders = [gc for gc in collectors if gc.is_leader]
    assert len(leaders) == 1, [gc.identifier for gc in leaders]
    return leaders[0]


@pytest.mark.parametrize("how", ["expire", "close", "stop"])
def test_leadership_moves_when_the_leader_goes(
    store: BuildStore, sessions: list[Session], plan: Plan, how: str
) -> None:
    collectors = [collector(session) for session in sessions]
    for gc in collectors:
        gc.start()
    try:
        leader = assert_eventually(lambda: _leader(collectors), message="one leader")
        follower = next(gc for gc in collectors if gc is not leader)
        first = finish_build(store, plan, finished_at=NOW - 2 * DAY)
        assert_eventually(lambda: not exists(store, first), message="the leader prunes")
        # Counted once the transaction is back: a moment after the build is gone.
        assert_eventually(lambda: pruned_total(leader) == 1, message="the leader counts it")
        assert pruned_total(follower) == 0
        assert not follower.is_leader

        if how == "expire":
            expire_session(leader.session.client)
        elif how == "close":  # the process died: its session ends with it
            leader.session.close()
        else:
            leader.stop()

        assert_eventually(lambda: follower.is_leader, message="the follower takes over")
        second = finish_build(store, plan, finished_at=NOW - 2 * DAY)
        assert_eventually(lambda: not exists(store, second), message="the new leader prunes")
        assert_eventually(lambda: pruned_total(follower) == 1, message="the new leader counts")
        assert pruned_total(leader) == 1
        if how == "expire":  # the old leader comes back to the election, behind the new one
            assert_eventually(
                lambda: (
                    follower.leadership.contenders() == [follower.identifier, leader.identifier]
                ),
                message="the old leader contends again",
            )
            assert not leader.is_leader
    finally:
        for gc in collectors:
            gc.stop()


def test_a_killed_worker_hands_the_gc_over(
    tmp_path: Path, zk_hosts: str, store: BuildStore, plan: Plan
) -> None:
    # Retention 0: a build is pruned at the first pass after a worker finished it.
    extra = "[gc]\ninterval = 0.2\nretention = 0\n"
    workers = [
        WorkerProcess(tmp_path, zk_hosts, tmp_path / "sim.db", name=f"w{n}", extra=extra)
        for n in range(2)
    ]
    lock = store.client.Lock(store.layout.gc_election)
    with workers[0], workers[1]:
        ids = {w.worker_id: w for w in workers}
        first = assert_eventually(
            lambda: set(lock.contenders()) == set(ids) and lock.contenders()[0],
            timeout_s=20,
            message="both workers are in the GC election",
        )
        build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
        assert_eventually(
            lambda: not exists(store, build_id), timeout_s=20, message="built, then pruned"
        )
        ids[first].kill()
        (other,) = set(ids) - {first}
        assert_eventually(
            lambda: lock.contenders() == [other], timeout_s=20, message="the other one leads"
        )
        build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
        assert_eventually(
            lambda: not exists(store, build_id), timeout_s=20, message="the new leader prunes"
        )
        assert store.project_builds("p1") == []


def _manage(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cool.cmd.manage", "gc", "--config-file", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cool_manage_gc_shows_then_prunes(
    tmp_path: Path, zk_hosts: str, store: BuildStore, plan: Plan
) -> None:
    now = time.time()
    old = finish_build(store, plan, finished_at=now - 3 * DAY, project_id="team-a")
    young = [
        finish_build(store, plan, finished_at=now - age * 60, project_id="team-b")
        for age in (30, 20, 10)
    ]
    queued = store.submit(plan, project_id="team-c", user_id="u1").build_id
    config = tmp_path / "cool.conf"
    config.write_text(
        f"[zookeeper]\nhosts = {zk_hosts}\nroot = /cool\n"
        "[gc]\nretention = 86400\nmax_finished = 2\n"
    )

    shown = _manage(config, "--dry-run")

    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "4 finished builds; retention 1 d, max_finished 2" in lines
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if "|" in line]
    assert rows[0] == ["build id", "project", "status", "finished at", "reason"]
    finished_at = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(now - 3 * DAY))
    assert rows[1][:3] == [old, "team-a", "CREATE_COMPLETE"]
    assert rows[1][3].startswith(finished_at)
    assert rows[1][4] == "older than retention"
    assert rows[2][:3] == [young[0], "team-b", "CREATE_COMPLETE"]
    assert rows[2][4] == "evicted: over max_finished"
    assert len(rows) == 3
    assert "would prune 2 builds (dry run: nothing was deleted)" in lines
    assert all(exists(store, b) for b in [old, *young, queued])

    done = _manage(config)

    assert done.returncode == 0, done.stderr
    assert "pruned 2 builds in 1 transaction, " in done.stdout
    assert "ZooKeeper znodes: " in done.stdout
    assert [b for b in [old, *young, queued] if exists(store, b)] == [*young[1:], queued]
    again = _manage(config, "--dry-run")
    assert "nothing to prune" in again.stdout


def test_gc_without_a_trustee_prunes_and_keeps_the_trust_waiting(
    store: BuildStore, sessions: list[Session], plan: Plan
) -> None:
    """No [trustee] to delete trusts with: the build goes, its trust id stays recorded."""
    trust_id = uuid.uuid4().hex
    trusted = finish_build(store, plan, finished_at=NOW - 3 * DAY, trust_id=trust_id)
    gc = collector(sessions[0])

    first = gc.run_once()
    again = gc.run_once()

    assert first.pruned == (trusted,)
    assert (first.trusts_deleted, first.trusts_waiting) == (0, 1)
    assert (again.trusts_deleted, again.trusts_waiting) == (0, 1)
    assert store.client.get_children(store.layout.trusts) == [trust_id]
    assert gc.metrics.registry.get_sample_value("cool_gc_trusts_waiting") == 1
