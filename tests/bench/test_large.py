"""The large-build benchmark at tiny sizes: what it measures and judges (no timing)."""

from __future__ import annotations

from bench.large import MEMBER_RESOURCES, render, run


def test_the_benchmark_builds_and_deletes_each_size_and_measures_its_znodes() -> None:
    results = run((2, 5))
    assert results.problems == []
    assert [r.resources for r in results.runs] == [2 * MEMBER_RESOURCES, 5 * MEMBER_RESOURCES]
    for measured in results.runs:
        assert measured.build_s > 0
        assert measured.delete_s > 0
        assert 0 < measured.plan_bytes <= measured.largest_znode < 1024 * 1024
    text = render(results)
    assert "Target: 50 resources built within" in text
    assert "Target: every znode under 1024 KiB" in text
