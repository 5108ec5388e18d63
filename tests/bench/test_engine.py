"""The engine benchmark's pieces, at tiny sizes, against the session's ZooKeeper.

No timing here: timing belongs to ``python -m bench.engine``. What is checked
is what the benchmark counts and judges: transactions per resource counted
through the worker's hook, builds that really complete on worker processes,
a takeover by the other worker, and no worker process left behind.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from bench._runs import (
    SHAPES,
    BuildRun,
    MemoryRun,
    ScalingRun,
    TakeoverRun,
    chain_template,
    fan_out_template,
    run_build,
)
from bench._workers import rss_kib
from bench._zk import RawRates, raw_baseline, server_requests
from bench.engine import Results, Sizes, render, run, verdicts
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import compile_template
from harness.zk_clients import start_client, stop_client
from harness.zookeeper import ZooKeeperServer

TINY = Sizes(
    raw=20,
    resources=20,
    builds=3,
    workers=(1,),
    session_timeouts_s=(1.0,),
    memory_builds=2,
    repeat=1,
    takeover_steps=4,
    settle_s=0.2,
)


def _our_workers() -> list[int]:
    """Pids of cool-worker processes that are children of this process."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == os.getpid() and b"cool.cmd.worker" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_generated_shapes_have_the_levels_they_promise(registry: ResourceTypeRegistry) -> None:
    chain = compile_template(chain_template(20), registry)
    fan_out = compile_template(fan_out_template(20), registry)

    assert len(chain.resources) == len(fan_out.resources) == 20
    assert len(chain.levels) == 20
    assert len(fan_out.levels) == 2


def test_raw_baseline_makes_every_write_it_counts(kazoo_client: KazooClient) -> None:
    rates = raw_baseline(kazoo_client, "/raw", 20)

    assert rates.count == 20
    assert min(rates.set_s, rates.multi_s, rates.exists_s) > 0
    assert len(kazoo_client.get_children("/raw/events")) == 20
    assert kazoo_client.get("/raw/record")[1].version == 20 + 20 + 20  # warm-up, sets, multis


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_build_transactions_are_counted_and_at_most_3_per_resource(
    shape: str, zk_hosts: str, zookeeper: ZooKeeperServer, registry: ResourceTypeRegistry
) -> None:
    client = start_client(zk_hosts)
    try:
        build, problems = run_build(
            client, zk_hosts, "/cool", shape, 20, registry=registry, server_port=zookeeper.port
        )
    finally:
        stop_client(client)

    assert problems == []
    # Counted through the hook, not estimated: one write per OS::Heat::None (no side
    # effect, no checkpoint before it), and the build's own few; a fan-out's 19 ready
    # together are one write (recorded as a batch).
    if shape == "chain":
        assert 20 <= build.transactions <= 20 + 5
    else:
        assert 2 <= build.transactions <= 2 + 5
    assert build.transactions_per_resource <= 3
    assert build.cloud_calls == 0  # OS::Heat::None calls no cloud
    assert build.requests is not None
    assert build.requests >= build.transactions


def test_server_requests_is_none_without_a_server() -> None:
    assert server_requests(None) is None


@pytest.mark.slow
def test_tiny_run_is_right_and_leaves_no_worker_behind(
    zk_hosts: str, zookeeper: ZooKeeperServer, tmp_path: Path
) -> None:
    results = run(
        TINY,
        zk_hosts,
        "/bench",
        tmp_path,
        server_port=zookeeper.port,
        zookeeper_pid=zookeeper.pid,
    )

    assert results.problems == []
    assert _our_workers() == []
    assert [b.shape for b in results.builds] == list(SHAPES)
    assert all(b.transactions_per_resource <= 3 for b in results.builds)
    # Through cool-api and a worker process: each shape answered 202 and complete
    # (the run checked every resource was done). Not in a fixed order: a tiny build
    # can be complete before its 202 has reached the client (a CI run saw it).
    assert [b.shape for b in results.api_builds] == list(SHAPES)
    assert all(b.post_s > 0 and b.seconds > 0 for b in results.api_builds)
    (scaling,) = results.scaling
    assert sum(scaling.claims.values()) == TINY.builds
    (takeover,) = results.takeovers
    assert takeover.session_timeout_s == 1.0
    assert results.memory is not None
    assert [done for done, _ in results.memory.samples] == [0, 2]
    text = render(results)
    assert "| raw ZooKeeper, sequential |" in text
    assert "| build of OS::Heat::None |" in text
    assert "| through cool-api |" in text
    assert "raw transactions per 1,000 resources (scaled from 20)" in text
    assert "| session timeout s |" in text
    assert "transactions per resource (target <= 3): met" in text


def test_rss_is_read_from_proc() -> None:
    assert rss_kib(os.getpid()) > 1024


def _results(
    *, chain_s: float, takeover_s: float, rss_kib: list[tuple[int, int]], chain_cpu_s: float = 0.3
) -> Results:
    results = Results(Sizes())
    results.raw = RawRates(count=3000, set_s=3.0, multi_s=3.0, exists_s=1.0, multi_cpu_s=0.6)
    results.builds = [
        BuildRun("chain", 1000, chain_s, 2003, 2000, 6000, chain_cpu_s, 1.0),
        BuildRun("fan-out", 1000, 1.0, 3500, 2000, 6000, 1.0, 1.0),
    ]
    results.scaling = [
        ScalingRun(1, 200, 10.0, 5.0, 2.0, 0.5, 0.6, 15000, {"worker-1": 200}),
        ScalingRun(2, 200, 8.0, 6.0, 2.0, 0.5, 0.9, None, {"worker-2": 100, "worker-3": 100}),
    ]
    results.takeovers = [TakeoverRun(2.0, takeover_s - 0.01, takeover_s)]
    results.memory = MemoryRun(rss_kib)
    return results


def test_verdicts_say_met_and_not_met() -> None:
    good = verdicts(
        _results(chain_s=8.0, takeover_s=2.5, rss_kib=[(0, 30_000), (500, 32_000), (1000, 32_100)])
    )
    bad = verdicts(
        _results(
            chain_s=10.0,
            takeover_s=3.5,
            rss_kib=[(0, 30_000), (500, 40_000), (1000, 50_000)],
            chain_cpu_s=0.6,
        )
    )

    assert all("NOT met" not in line for line in good if "fan-out" not in line)
    assert "fan-out: 3.50 ZooKeeper transactions per resource (target <= 3): NOT met" in good
    assert any(line.startswith("chain of 1,000") and line.endswith("NOT met") for line in bad)
    assert any(line.startswith("takeover") and line.endswith("NOT met") for line in bad)
    assert any(line.startswith("memory") and line.endswith("NOT met") for line in bad)
    assert "chain of 1,000: worker CPU 0.30 ms a step, 1.5x a raw client's 0.20 ms" in "".join(good)
    assert any("worker CPU 0.60 ms a step" in line and line.endswith("NOT met") for line in bad)
    assert any("STILL GROWING" in line for line in bad)
    assert any("steady" in line for line in good)


def test_render_prints_every_table() -> None:
    text = render(
        _results(chain_s=8.0, takeover_s=2.5, rss_kib=[(0, 30_000), (500, 32_000), (1000, 32_100)])
    )

    assert "| 1 | 200 | 2,000 | 10.00 | 20.0 | 200 | 1.00x | 75 |" in text
    assert "| 2 | 200 | 2,000 | 8.00 | 25.0 | 250 | 1.25x | - |" in text
    assert "| after 1,000 builds | 31.3 |" in text
