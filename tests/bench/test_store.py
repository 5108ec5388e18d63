"""The store benchmark at tiny sizes: its stages, the GC pass it checks, its verdicts
(no timing here)."""

from __future__ import annotations

import uuid
from pathlib import Path

from bench.store import KINDS, Sizes, Stage, render, run
from harness.zookeeper import ZooKeeperServer


def test_each_stage_is_measured_and_the_gc_pass_leaves_the_cap(
    zookeeper: ZooKeeperServer, tmp_path: Path
) -> None:
    sizes = Sizes(
        stages=(
            Stage("empty", 0, None),
            Stage("kept", 60, 50),
            Stage("more", 30, None),
            Stage("again", 0, None, fresh=True),
        ),
        requests=5,
        max_s=5.0,
    )

    results = run(sizes, zookeeper.hosts, f"/bench-store-{uuid.uuid4().hex[:12]}", tmp_path)

    assert results.problems == []
    assert [s.finished for s in results.stages] == [0, 50, 80, 0]
    assert [s.pruned for s in results.stages] == [0, 10, 0, 0]
    for stage in results.stages:
        assert set(stage.runs) == set(KINDS)
        assert all(run.count == 5 for run in stage.runs.values())
    text = render(results)
    assert text.count("the empty store's (target <= 1.5x)") == 2 * len(KINDS)
