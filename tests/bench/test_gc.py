"""The GC benchmark at a tiny size: its pass prunes the backlog and spares the two
builds that must survive (no timing here)."""

from __future__ import annotations

from bench.gc import measure, render


def test_a_pass_prunes_the_backlog_and_spares_the_pending_and_the_young(zk_hosts: str) -> None:
    run = measure(zk_hosts, 30, 8)

    assert run.problems == ()
    assert run.pruned == 30
    assert run.transactions == 4  # batches of 8
    assert run.znodes_after < run.znodes_before
    assert "| 30 | 8 |" in render([run])
