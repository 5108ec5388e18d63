"""The API benchmark's pieces, at tiny sizes, against the session's ZooKeeper and Keystone.

No timing here: timing belongs to ``python -m bench.api``. What is checked is
what the benchmark relies on: its baseline makes the nodes a real submit
makes, a tiny run answers every request as expected through real cool-api
servers (both auth strategies), the verdicts say met and not met, and no
cool-api process is left behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from kazoo.client import KazooClient

from bench._api import (
    PROJECT,
    TEMPLATE,
    USER,
    LoadRun,
    Sequential,
    process_tree,
    raw_submits,
)
from bench.api import Measured, Results, Sizes, render, run, verdicts
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.pending import all_pending
from cool.template.compile import compile_template
from harness.keystone.server import KeystoneServer
from harness.zookeeper import ZooKeeperServer

TINY = Sizes(
    raw=10,
    store=5,
    requests=12,
    max_s=5.0,
    concurrency=(1, 4),
    read_concurrency=2,
    split=5,
    split_max_s=5.0,
    repeat=1,
    all_shards=False,  # 4,096 nodes more would take the chroot's clean-up seconds
)


def _our_api_servers() -> list[int]:
    """Pids of cool-api masters that are children of this process."""
    pids = []
    for pid in process_tree(os.getpid())[1:]:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"cool.cmd.api" in cmdline:
            pids.append(pid)
    return pids


def _tree(client: KazooClient, path: str) -> set[str]:
    """Every node under ``path``, relative to it, with sequence numbers dropped."""
    out = set()
    for child in client.get_children(path):
        out.add(child.rstrip("0123456789"))
        out |= {f"{child.rstrip('0123456789')}/{n}" for n in _tree(client, f"{path}/{child}")}
    return out


def test_raw_submits_make_the_nodes_a_submit_makes(
    kazoo_client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    plan = compile_template(json.dumps(TEMPLATE), registry)
    store = BuildStore(kazoo_client, Layout("/real"))
    store.ensure_layout()
    real = store.submit(plan, project_id=PROJECT, user_id=USER).build_id

    timed = raw_submits(kazoo_client, "/raw", plan, 5, all_shards=False)

    assert timed.count == 5
    assert timed.seconds >= sum(timed.latencies_s) > 0
    raw_ids = all_pending(kazoo_client, Layout("/raw"))
    assert len(raw_ids) == 5 + 20  # the timed ones and the warm-up
    raw_index = BuildStore(kazoo_client, Layout("/raw")).project_builds(PROJECT)
    assert sorted(raw_index) == sorted(raw_ids)
    layout, raw_layout = Layout("/real"), Layout("/raw")
    assert _tree(kazoo_client, layout.build(real)) == _tree(
        kazoo_client, raw_layout.build(raw_ids[0])
    )
    raw_record, _ = kazoo_client.get(raw_layout.build(raw_ids[0]))
    real_record, _ = kazoo_client.get(layout.build(real))
    assert abs(len(raw_record) - len(real_record)) < 64  # the same plan, other ids


@pytest.mark.slow
def test_tiny_run_is_right_and_leaves_no_api_behind(
    zk_hosts: str, zookeeper: ZooKeeperServer, keystone: KeystoneServer, tmp_path: Path
) -> None:
    # Another test's session fixture may run a cool-api of its own under this process.
    others = set(_our_api_servers())
    results = run(
        TINY, zk_hosts, "/bench", tmp_path, keystone=keystone, zookeeper_pid=zookeeper.pid
    )

    assert results.problems == []
    assert set(_our_api_servers()) - others == set()
    assert [(m.auth, m.run.concurrency) for m in results.submits] == [
        ("http_basic", 1),
        ("http_basic", 4),
        ("keystone", 1),
        ("keystone", 4),
    ]
    assert all(m.run.count == TINY.requests for m in results.submits)
    assert all(len(m.run.locations) == TINY.requests for m in results.submits)
    assert [(m.what, m.auth, m.run.concurrency) for m in results.reads] == [
        ("GET /v1", "none", 1),
        ("GET /v1/builds/{id}", "http_basic", 1),
        ("GET /v1/builds/{id}", "http_basic", 2),
        ("GET /v1/builds/{id}", "keystone", 1),
    ]
    assert all(m.run.total_api_cpu_s > 0 for m in results.submits)
    assert all(len(m.run.workers_busy) == 2 for m in results.submits)
    text = render(results)
    assert "| ZooKeeper, one client, sequential |" in text
    assert "| POST /v1/builds | clients |" in text
    assert "| GET /v1/builds/{id} | http_basic | 2 |" in text


def _load(concurrency: int, latencies_ms: list[float], seconds: float = 1.0) -> LoadRun:
    return LoadRun(
        concurrency=concurrency,
        latencies_s=tuple(sorted(ms / 1e3 for ms in latencies_ms)),
        seconds=seconds,
        failures=0,
        first_failure="",
        client_cpu_s=0.1,
        api_cpu_s=(0.0, 0.5, 0.5),
        zookeeper_cpu_s=0.2,
        machine_busy=0.5,
        locations=(),
    )


def test_percentiles_are_nearest_rank() -> None:
    run_ = _load(1, [float(ms) for ms in range(1, 101)])

    assert run_.count == 100
    assert run_.percentile_ms(0.5) == 50.0
    assert run_.percentile_ms(0.99) == 99.0
    assert run_.percentile_ms(1.0) == 100.0
    assert run_.per_request_ms(run_.total_api_cpu_s) == 10.0
    assert run_.workers_busy == (0.5, 0.5)


def test_verdicts_say_met_and_not_met() -> None:
    results = Results(Sizes(), raw=Sequential(2.0, (0.002,) * 1000))  # 500 transactions/s
    results.submits = [
        Measured("POST /v1/builds", "http_basic", _load(1, [5.0] * 200)),  # 200/s: 0.4x
        Measured("POST /v1/builds", "http_basic", _load(8, [20.0] * 99 + [60.0] * 201)),
        Measured("POST /v1/builds", "keystone", _load(8, [20.0] * 300)),  # 300/s: 0.6x
    ]
    results.reads = [Measured("GET /v1/builds/{id}", "http_basic", _load(8, [10.0] * 100))]

    lines = verdicts(results)

    assert lines[0].startswith("http_basic, 1 clients: 200 builds/s = 0.40x")
    assert lines[0].endswith("NOT met")
    assert lines[2].startswith("keystone, 8 clients: 300 builds/s = 0.60x")
    assert lines[2].endswith(": met")
    assert "POST /v1/builds (http_basic) at 8 clients: p99 60.0 ms" in lines[3]
    assert lines[3].endswith("NOT met")
    assert lines[4].endswith(": met")
    assert lines[5].startswith("GET /v1/builds/{id} (http_basic) at 8 clients: p99 10.0 ms")
