"""The store benchmark at tiny sizes: its stages and rounds, the GC pass it checks, its
verdicts (no timing here)."""

from __future__ import annotations

import uuid
from pathlib import Path

from bench.store import KINDS, Sizes, Stage, render, run
from harness.zookeeper import ZooKeeperServer


def test_each_stage_is_measured_in_rounds_and_the_gc_pass_leaves_the_cap(
    zookeeper: ZooKeeperServer, tmp_path: Path
) -> None:
    sizes = Sizes(
        stages=(
            Stage("kept", 60, 50),
            Stage("through", 0, None, through=45, chunk=20, cap=50),
            Stage("more", 30, None),
        ),
        rounds=2,
        requests=5,
        max_s=5.0,
        warm_reads=8,
    )

    results = run(sizes, zookeeper.hosts, f"/bench-store-{uuid.uuid4().hex[:12]}", tmp_path)

    assert results.problems == []
    assert [s.finished for s in results.stages] == [50, 50, 80]
    assert [s.pruned for s in results.stages] == [10, 45, 0]
    through = results.stages[1]
    assert [(written, pruned) for written, _, _, pruned in through.passes] == [
        (20, 20),
        (40, 20),
        (45, 5),
    ]
    for stage in results.stages:
        assert len(stage.full) == len(stage.empty) == 2
        for runs in stage.full + stage.empty:
            assert set(runs) == set(KINDS)
            assert all(run.count == 5 for run in runs.values())
        assert all(stage.ratio(kind) > 0 for kind in KINDS)
    text = render(results)
    assert text.count("the empty store's (target <= 1.5x)") == 3 * len(KINDS)
    assert "45 builds written in 3 chunks, each followed by a GC pass; 45 pruned" in text
