"""How fast the garbage collector clears a backlog, and what it leaves behind.

Run from the repository root::

    .venv/bin/python -m bench.gc          # backlogs of 1,000 and 10,000 builds (~2 minutes)
    .venv/bin/python -m bench.gc --quick  # 1,000 only (a smoke run)

It starts a private ZooKeeper (``harness.zookeeper``, with the defaults a
user gets: ``forceSync=yes``, every transaction fsynced before it is
acknowledged), fills a root of its own with N finished builds shaped like
real ones (a plan of 3 ``OS::Heat::None``, their resource records, 8 events,
the project index entry: 18 znodes each), all finished two days ago, and
runs one :class:`cool.gc.GarbageCollector` pass with ``[gc]`` defaults
(``retention`` 1 day here, ``batch_size`` 100). It reports:

- the listing alone (shard by shard) and the whole pass, in seconds;
- builds pruned per second, and transactions;
- ZooKeeper's node count (``mntr``'s ``zk_znode_count``) before and after;
- how a worker would fare meanwhile: the latency of a synchronous ``set``
  made by another client, one after another, during the pass (p50 and max),
  against the same probe with ZooKeeper idle.

Ratios are measured in the same run: t(10,000)/t(1,000) (linear is 10×) and
the probe's latency during the pass over idle. The command exits 1 if a
pass leaves a finished build behind or prunes anything else.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from ulid import ULID

from bench._report import exit_status, log, run_command
from cool.gc import GarbageCollector, GcSettings
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings
from cool.store.layout import Layout
from cool.store.prune import Pruner, znode_count
from cool.store.records import BuildMeta, BuildState, Event, ResourceRecord
from cool.store.session import Session
from cool.template.compile import compile_template
from harness.zk_clients import start_client, stop_client
from harness.zookeeper import ZooKeeperServer, four_letter_word

TEMPLATE = """
heat_template_version: wallaby
resources:
  a: {type: OS::Heat::None}
  b: {type: OS::Heat::None, depends_on: [a]}
  c: {type: OS::Heat::None, depends_on: [b]}
"""
DAY = 86_400.0
IN_FLIGHT = 200  # setup transactions outstanding at once
PROBE_IDLE_S = 2.0
PROBE_WARMUP_S = 1.0
# (finished builds, [gc] batch_size): the backlog at the default batch size, and
# smaller and larger batches for what they cost a worker's writes meanwhile.
FULL = ((1_000, 100), (10_000, 100), (1_000, 20), (1_000, 500))
QUICK = ((1_000, 100),)


@dataclass(frozen=True, slots=True)
class Run:
    builds: int
    batch_size: int
    znodes_before: int
    znodes_after: int
    list_s: float
    prune_s: float
    pruned: int
    transactions: int
    largest_batch: int
    idle_ms: tuple[float, float]  # probe p50, max with ZooKeeper idle
    busy_ms: tuple[float, float]  # probe p50, max during the pass
    problems: tuple[str, ...]

    @property
    def per_s(self) -> float:
        return self.pruned / self.prune_s if self.prune_s else 0.0


def fill(
    client: KazooClient,
    layout: Layout,
    count: int,
    finished_at: float,
    *,
    project: str = "bench",
    spread_s: float = 0.0,
) -> list[str]:
    """``count`` finished builds, written as submit + run + finish would leave them.

    Their creation times are spread evenly over the ``spread_s`` seconds before
    ``finished_at - 60`` (their ids too: a ULID starts with its time), each
    finished a minute after it was created.
    """
    plan = compile_template(TEMPLATE, ResourceTypeRegistry.load(), {})
    for path in layout.top_level():
        client.ensure_path(path)
    step = spread_s / count if count else 0.0
    times = [finished_at - 60 - spread_s + step * (n + 1) for n in range(count)]
    build_ids = [str(ULID.from_timestamp(at)) for at in times]
    for parent in sorted(
        {layout.shard_path(b) for b in build_ids}
        # Where submit would make it: the index entry's parent (a time bucket).
        | {layout.project_build(project, b).rsplit("/", 1)[0] for b in build_ids}
    ):
        client.ensure_path(parent)
    inflight = []
    for build_id, created in zip(build_ids, times, strict=True):
        finished = created + 60
        meta = BuildMeta(build_id, project, "u1", build_id, created, created + 3600, 60, True)
        state = BuildState(
            BuildStatus.CREATE_COMPLETE, reason="build complete", done=3, total=3,
            updated_at=finished,
        )  # fmt: skip
        lease = {"worker_id": "bench-worker", "claims": 1, "releases": 0, "claimed_at": created}
        t = client.transaction()
        t.create(layout.build(build_id), codec.dumps_compressed(
            {"meta": meta.to_dict(), "plan": plan.to_dict()}))  # fmt: skip
        t.create(layout.state(build_id), codec.dumps(state.to_dict()))
        t.create(layout.lease(build_id), codec.dumps(lease))
        t.create(layout.control(build_id), b"")
        t.create(layout.resources(build_id), b"")
        t.create(layout.events(build_id), b"")
        events = [Event(created, None, None, "CREATE_QUEUED", "submitted")]
        for resource in plan.resources:
            record = ResourceRecord(
                resource.name, resource.type, ResourceStatus.CREATE_COMPLETE,
                physical_id=f"{build_id}-{resource.name}", attempts=1, worker="bench-worker",
                updated_at=finished,
            )  # fmt: skip
            t.create(layout.resource(build_id, resource.name), codec.dumps(record.to_dict()))
            events += [
                Event(created, resource.name, "PENDING", "CREATE_IN_PROGRESS", "creating"),
                Event(finished, resource.name, "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "ok"),
            ]
        events.append(Event(finished, None, "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "done"))
        for event in events:
            t.create(layout.event_prefix(build_id), codec.dumps(event.to_dict()), sequence=True)
        summary = {"name": build_id, "created_at": created, "user_id": "u1", "tags": []}
        t.create(layout.project_build(project, build_id), codec.dumps(summary))
        inflight.append(t.commit_async())
        if len(inflight) >= IN_FLIGHT:
            _settle(inflight)
    _settle(inflight)
    return build_ids


def _settle(inflight: list) -> None:  # type: ignore[type-arg]
    for result in inflight:
        outcome = result.get()
        failures = [r for r in outcome if isinstance(r, Exception)]
        if failures:
            raise RuntimeError(f"setup transaction failed: {failures[0]!r}")
    inflight.clear()


def _probe(hosts: str, path: str, stop: Any, samples: Any) -> None:
    """In a process of its own: synchronous ``set`` after ``set`` until told to stop."""
    client = start_client(hosts)
    try:
        client.ensure_path(path)
        taken = []
        while not stop.is_set():
            at, started = time.monotonic(), time.perf_counter()
            client.set(path, b"x" * 200)
            taken.append((at, (time.perf_counter() - started) * 1e3))
        samples.put(taken)
    finally:
        stop_client(client)


class Probe:
    """Another process's synchronous ``set``, one after another: a worker's view of latency.

    A process, not a thread, so that it neither slows the collector down nor is
    slowed down by it (2 cores, one GIL each).
    """

    def __init__(self, hosts: str, path: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._samples: Any = context.Queue()
        self._process = context.Process(
            target=_probe, args=(hosts, path, self._stop, self._samples), daemon=True
        )
        self.samples_ms: list[float] = []
        self._since = 0.0

    def __enter__(self) -> Probe:
        self._process.start()
        time.sleep(PROBE_WARMUP_S)  # connected and sampling before the measurement starts
        self._since = time.monotonic()  # CLOCK_MONOTONIC: the same in every process
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        taken = self._samples.get(timeout=60)
        self.samples_ms = [ms for at, ms in taken if at >= self._since]
        self._process.join(10)

    def summary(self) -> tuple[float, float]:
        return statistics.median(self.samples_ms), max(self.samples_ms)


def measure(hosts: str, count: int, batch_size: int) -> Run:
    root = f"/bench-gc-{count}-{uuid.uuid4().hex[:8]}"
    session = Session.open(ZooKeeperSettings(hosts=hosts, root=root, session_timeout_s=30))
    client, layout = session.client, session.layout
    try:
        BuildStore(client, layout).ensure_layout()  # the queue's shards, as a deployment has
        now = time.time()
        log(f"{count:,} builds: writing the backlog")
        doomed = fill(client, layout, count, finished_at=now - 2 * DAY)
        # Two builds that must survive: one queued, one finished within retention.
        keep = fill(client, layout, 1, finished_at=now - 60)
        client.create(layout.pending_build(keep[0]), b"")  # pending again: not finished
        young = fill(client, layout, 1, finished_at=now - 60)
        with Probe(hosts, f"{root}/probe") as idle:
            time.sleep(PROBE_IDLE_S)
        znodes_before = znode_count(client) or 0
        started = time.perf_counter()
        listed = sum(len(chunk) for chunk in Pruner(client, layout).finished())
        list_s = time.perf_counter() - started
        settings = GcSettings(retention_s=DAY, max_finished=10_000_000, batch_size=batch_size)
        collector = GarbageCollector(session, settings, identifier="bench")
        log(f"{count:,} builds: pruning ({listed:,} finished), batches of {batch_size}")
        with Probe(hosts, f"{root}/probe") as busy:
            started = time.perf_counter()
            report = collector.run_once()
            prune_s = time.perf_counter() - started
        znodes_after = znode_count(client) or 0
        problems = []
        left = [b for b in doomed if client.exists(layout.build(b)) is not None]
        if left:
            problems.append(f"{len(left)} finished builds left behind")
        for survivor in keep + young:
            if client.exists(layout.build(survivor)) is None:
                problems.append(f"build {survivor} was pruned and should not have been")
        return Run(
            builds=count,
            batch_size=batch_size,
            znodes_before=znodes_before,
            znodes_after=znodes_after,
            list_s=list_s,
            prune_s=prune_s,
            pruned=len(report.pruned),
            transactions=report.transactions,
            largest_batch=report.largest_batch,
            idle_ms=idle.summary(),
            busy_ms=busy.summary(),
            problems=tuple(problems),
        )
    finally:
        session.close()


def render(runs: Sequence[Run]) -> str:
    lines = [
        "| finished builds | batch_size | znodes before | znodes after | list s | pass s "
        "| builds/s | transactions | probe p50 ms idle / during | probe max ms idle / during |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        lines.append(
            f"| {run.builds:,} | {run.batch_size} | {run.znodes_before:,} "
            f"| {run.znodes_after:,} | {run.list_s:.2f} | {run.prune_s:.2f} | {run.per_s:,.0f} "
            f"| {run.transactions:,} | {run.idle_ms[0]:.2f} / {run.busy_ms[0]:.2f} "
            f"| {run.idle_ms[1]:.1f} / {run.busy_ms[1]:.1f} |"
        )
    default = [run for run in runs if run.batch_size == runs[0].batch_size]
    if len(default) > 1:
        small, large = default[0], default[-1]
        lines += [
            "",
            f"| t({large.builds:,}) / t({small.builds:,}) | linear would be "
            "| probe max during / idle, largest backlog |",
            "|---:|---:|---:|",
            f"| {large.prune_s / small.prune_s:.1f}× | {large.builds / small.builds:.0f}× "
            f"| {large.busy_ms[1] / large.idle_ms[1]:.0f}× |",
        ]
    return "\n".join(lines)


def machine() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = "?"
    return (
        f"{os.cpu_count()} cores ({platform.machine()}), CPython {platform.python_version()}, "
        f"commit {commit or '?'}"
    )


def _measure_all(sizes: Sequence[tuple[int, int]]) -> list[Run]:
    """A private ZooKeeper, a run for each (builds, batch_size), and the server stopped."""
    server = ZooKeeperServer(heap_mb=1024)
    try:
        server.start()
        version = four_letter_word(server.port, "srvr").splitlines()[0]
        log(f"ZooKeeper on {server.hosts}: {version}")
        return [measure(server.hosts, count, batch_size) for count, batch_size in sizes]
    finally:
        server.stop()


def _report(runs: Sequence[Run], _seconds: float) -> int:
    print(f"{time.strftime('%Y-%m-%d')}: {machine()}\n")
    print(render(runs))
    problems = [p for run in runs for p in run.problems]
    return exit_status(problems, label="PROBLEM", file=sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gc", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a backlog of 1,000 builds only")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    return run_command(lambda: _measure_all(sizes), _report)


if __name__ == "__main__":
    sys.exit(main())
