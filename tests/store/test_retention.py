"""The retention policy: which finished builds go, and why (pure, no ZooKeeper)."""

from __future__ import annotations

import pytest

from cool.model import BuildStatus
from cool.store.retention import FinishedBuild, Reason, Verdict, decide

NOW = 1_800_000_000.0
DAY = 86_400.0

C = BuildStatus.CREATE_COMPLETE
F = BuildStatus.ROLLBACK_FAILED
RUNNING = BuildStatus.CREATE_IN_PROGRESS
OLD, EVICT = Reason.RETENTION, Reason.EVICTED


@pytest.mark.parametrize(
    ("records", "retention_s", "max_finished", "expected"),
    [
        pytest.param([], DAY, 10, [], id="nothing"),
        pytest.param([("a", NOW - 60, C)], DAY, 10, [], id="young-kept"),
        pytest.param([("a", NOW - 2 * DAY, F)], DAY, 10, [("a", OLD)], id="old-pruned"),
        pytest.param([("a", NOW - DAY, C)], DAY, 10, [], id="exactly-retention-kept"),
        pytest.param(
            [("a", NOW - 9, C), ("b", NOW - 30, C), ("c", NOW - 20, C), ("d", NOW - 10, C)],
            DAY,
            2,
            [("b", EVICT), ("c", EVICT)],
            id="evicts-oldest-first",
        ),
        pytest.param(
            [
                ("y1", NOW - 5, C),
                ("o1", NOW - 3 * DAY, C),
                ("y2", NOW - 6, C),
                ("o2", NOW - 2 * DAY, F),
                ("y3", NOW - 7, C),
            ],
            DAY,
            2,
            [("o1", OLD), ("o2", OLD), ("y3", EVICT)],
            id="retention-then-eviction",
        ),
        pytest.param(
            [("a", NOW - 5, C), ("b", NOW - 6, C)],
            DAY,
            0,
            [("b", EVICT), ("a", EVICT)],
            id="keep-none",
        ),
        pytest.param(
            [("run", NOW - 9 * DAY, RUNNING), ("a", NOW - 9 * DAY, C)],
            DAY,
            0,
            [("a", OLD)],
            id="never-unfinished",
        ),
        pytest.param(
            [("b", NOW - 2 * DAY, C), ("a", NOW - 2 * DAY, C)],
            DAY,
            10,
            [("a", OLD), ("b", OLD)],
            id="ties-by-id",
        ),
    ],
)
def test_decide_chooses_by_age_then_count(
    records: list[tuple[str, float, BuildStatus]],
    retention_s: float,
    max_finished: int,
    expected: list[tuple[str, Reason]],
) -> None:
    builds = [FinishedBuild(build_id, at, status) for build_id, at, status in records]
    verdicts = decide(builds, now=NOW, retention_s=retention_s, max_finished=max_finished)
    assert verdicts == [Verdict(build_id, reason) for build_id, reason in expected]
