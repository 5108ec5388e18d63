"""The delete benchmark's core, at a tiny size (no timing assertions: that is bench/)."""

from __future__ import annotations

import pytest

from bench.delete import measure
from harness.zookeeper import ZooKeeperServer


@pytest.mark.parametrize("shape", ["chain", "fan-out"])
def test_delete_benchmark_creates_then_deletes_a_build(
    zookeeper: ZooKeeperServer, shape: str
) -> None:
    figures, problems = measure(zookeeper.hosts, shape, 20)
    assert problems == []
    assert figures["create_tx_per_resource"] <= 3
    assert figures["delete_tx_per_resource"] <= 3
