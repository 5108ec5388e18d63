"""The dispatch benchmark at tiny sizes: what it counts and judges (no timing here)."""

from __future__ import annotations

from bench.dispatch import Results, Run, Sizes, render, run


def test_the_benchmark_builds_each_backlog_and_measures_the_workers_listings() -> None:
    results = run(Sizes(backlogs=(10, 60), warm=3, measured=30))
    assert results.problems == []
    assert [r.backlog for r in results.runs] == [10, 60]
    assert [r.builds for r in results.runs] == [7, 27]
    for measured in results.runs:
        assert measured.per_s > 0
        assert measured.requests_per_build is not None
        assert 6_000 < (measured.largest_listing_bytes or 0) < 100 * 1024  # pending's shards
    assert "Target: 60 queued within 1.25x of 10 queued" in render(results)


def test_the_verdict_says_not_met_when_the_large_backlog_is_slower() -> None:
    results = Results(
        runs=[Run(100, 0.1, 80, 1.0, 10.0, 6_000), Run(50_000, 40.0, 1_980, 99.0, 10.0, 200_000)]
    )
    text = render(results)
    assert "Target: 50,000 queued within 1.25x of 100 queued: 4.00x, NOT met." in text
    assert "largest 195.3 KiB, NOT met" in text
