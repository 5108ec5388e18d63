"""``python -m bench.dispatch``: does a backlog slow the fleet? (issue 20)

For each backlog size, a fresh private ZooKeeper (forceSync=yes, 1 GiB of heap) and
two workers (in this process, each on a ZooKeeper session of its own, cool.conf's
defaults). Once the workers have had their first look at the queue (every shard read
once), they are told to drain (take nothing), that many one-resource builds
(``OS::Heat::None``) are queued through :meth:`BuildStore.submit` from 16 threads,
and the workers are let go again. The benchmark times their finishes: the rate is
taken between the ``warm``-th and the ``measured``-th build to finish. A one-resource
build of a type with no side effect is the worst case for dispatch: the build itself
is one ZooKeeper transaction, so whatever dispatch costs shows.

Printed: builds a second at each backlog, their ratio to the smallest backlog's
(issue 20's target: 50,000 queued within 1.25x of 100 queued), the ZooKeeper
requests the server received per finished build, and the largest ``getChildren``
reply a worker had (target under 100 KB), as the workers measure it
(``Worker.largest_listing_bytes``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench._report import log, run_and_report
from bench._runs import PROJECT, default_worker_settings
from bench._zk import MAX_SESSION_TIMEOUT_MS, server_requests
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings, connect
from cool.store.layout import Layout
from cool.store.pending import SHARDS
from cool.store.session import Session
from cool.template.compile import compile_template
from cool.worker.service import Worker
from harness.zookeeper import ZooKeeperServer

TEMPLATE = "heat_template_version: wallaby\nresources:\n  only: {type: OS::Heat::None}\n"
WORKERS = 2
SUBMIT_THREADS = 16
TARGET_RATIO = 1.25
TARGET_LISTING_BYTES = 100 * 1024
# What a build of the benchmark may be when the workers stop (finished, or not yet).
_FINE = (BuildStatus.CREATE_COMPLETE, BuildStatus.CREATE_QUEUED, BuildStatus.CREATE_IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class Sizes:
    backlogs: tuple[int, ...]
    warm: int  # finishes before the clock starts
    measured: int  # the finish the clock stops at (at most the backlog)


FULL = Sizes(backlogs=(100, 50_000), warm=20, measured=2_000)
QUICK = Sizes(backlogs=(100, 3_000), warm=20, measured=500)


@dataclass(frozen=True, slots=True)
class Run:
    backlog: int
    submit_s: float
    builds: int  # timed
    seconds: float
    requests_per_build: float | None
    largest_listing_bytes: int | None

    @property
    def per_s(self) -> float:
        return self.builds / self.seconds


@dataclass
class Results:
    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0


class _Finishes:
    """When each build left a worker (whatever the worker): the n-th finish's time."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.times: list[float] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.times.append(time.perf_counter())
            if len(self.times) >= self.wanted:
                self.done.set()


class _TimedWorker(Worker):
    """A worker that says when each of its builds has left it."""

    def __init__(self, *args: object, finished: _Finishes, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._finished = finished

    def _run(self, fence: object) -> None:  # type: ignore[override]
        try:
            super()._run(fence)  # type: ignore[arg-type]
        finally:
            self._finished()


def _settle(workers: list[Worker], timeout_s: float = 60.0) -> None:
    """Until every worker has had its first look at the queue (every shard read once:
    what a worker does when it starts, not what a backlog costs it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        # (A worker without shard_reads lists the whole queue, at once: cool before
        # issue 20, run with this benchmark for the figures before.)
        if all(getattr(w, "shard_reads", len(SHARDS)) >= len(SHARDS) for w in workers):
            return
        time.sleep(0.01)
    raise RuntimeError(f"the workers did not read the queue within {timeout_s:.0f} s")


def _queue(store: BuildStore, count: int) -> float:
    plan = compile_template(TEMPLATE, ResourceTypeRegistry.load())

    def submit(_: int) -> None:
        store.submit(plan, project_id=PROJECT, user_id="bench")

    started = time.perf_counter()
    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        for _ in pool.map(submit, range(count), chunksize=64):
            pass
    return time.perf_counter() - started


def _one(backlog: int, sizes: Sizes, tmp: Path) -> tuple[Run, list[str]]:
    server = ZooKeeperServer(
        base_dir=tmp / f"zk-{backlog}",
        heap_mb=1024,
        max_session_timeout_ms=MAX_SESSION_TIMEOUT_MS,
    )
    workers: list[Worker] = []
    sessions: list[Session] = []
    client = None
    try:
        server.start()
        root = f"/cool-dispatch-{uuid.uuid4().hex[:8]}"
        zk = ZooKeeperSettings(hosts=server.hosts, root=root, session_timeout_s=10.0)
        client = connect(zk)
        store = BuildStore(client, Layout(root))
        store.ensure_layout()
        measured = min(sizes.measured, backlog)
        finishes = _Finishes(measured)
        settings = default_worker_settings()
        for _ in range(WORKERS):
            session = Session.open(zk)
            sessions.append(session)
            worker = _TimedWorker(session, Providers([HeatProvider()]), settings, finished=finishes)
            workers.append(worker)
            worker.start()
        _settle(workers)
        for worker in workers:
            worker.drain()  # the fleet takes nothing while the backlog is queued
        log(f"backlog {backlog:,}: queueing")
        submit_s = _queue(store, backlog)
        log(f"backlog {backlog:,}: queued in {submit_s:.1f} s; the workers take builds again")
        requests_before = server_requests(server.port)
        for worker in workers:
            worker.draining.clear()
            worker._wake.set()
        timeout_s = 60 + measured / 2.0  # at 2 builds a second, something is broken
        if not finishes.done.wait(timeout_s):
            return (
                Run(backlog, submit_s, 0, 1.0, None, None),
                [
                    f"backlog {backlog:,}: {len(finishes.times)} of {measured} builds "
                    f"in {timeout_s:.0f} s"
                ],
            )
        requests_after = server_requests(server.port)
        times = finishes.times
        warm = min(sizes.warm, measured - 1)
        seconds = times[measured - 1] - times[warm - 1]
        requests = (
            (requests_after - requests_before) / measured
            if requests_before is not None and requests_after is not None
            else None
        )
        listings = [getattr(w, "largest_listing_bytes", None) for w in workers]
        largest = max((b for b in listings if b is not None), default=None)
        for worker in workers:
            worker.stop(graceful=False)
        problems = []
        for build_id in store.project_builds(PROJECT)[:50]:
            state, _ = store.state(build_id)
            if state.status not in _FINE:
                problems.append(f"backlog {backlog:,}: build {build_id} {state.status}")
        return Run(backlog, submit_s, measured - warm, seconds, requests, largest), problems
    finally:
        for worker in workers:
            if not worker.stopping.is_set():
                worker.stop(graceful=False)
        for session in sessions:
            session.close(5.0)
        if client is not None:
            client.stop()
            client.close()
        server.stop()


def run(sizes: Sizes) -> Results:
    results = Results(load_before=os.getloadavg()[0])
    with tempfile.TemporaryDirectory(prefix="cool-bench-dispatch-") as tmp:
        for backlog in sizes.backlogs:
            measured, problems = _one(backlog, sizes, Path(tmp))
            results.runs.append(measured)
            results.problems.extend(problems)
            log(f"backlog {backlog:,}: {measured.per_s:.1f} builds/s")
    results.load_after = os.getloadavg()[0]
    return results


def render(results: Results) -> str:
    if not results.runs:
        return "no run"
    base = results.runs[0]
    lines = [
        "| builds queued | queued in s | builds timed | builds/s | slower than the smallest "
        "backlog | ZK requests per build | largest getChildren reply |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run_ in results.runs:
        slower = base.per_s / run_.per_s if run_.per_s else float("inf")
        requests = f"{run_.requests_per_build:.1f}" if run_.requests_per_build else "?"
        listing = (
            f"{run_.largest_listing_bytes / 1024:,.1f} KiB"
            if run_.largest_listing_bytes is not None
            else "?"
        )
        lines.append(
            f"| {run_.backlog:,} | {run_.submit_s:.1f} | {run_.builds:,} | {run_.per_s:.1f} "
            f"| {slower:.2f}x | {requests} | {listing} |"
        )
    last = results.runs[-1]
    slower = base.per_s / last.per_s if last.per_s else float("inf")
    verdict = "met" if slower <= TARGET_RATIO else "NOT met"
    lines.append("")
    lines.append(
        f"Target: {last.backlog:,} queued within {TARGET_RATIO}x of {base.backlog:,} queued: "
        f"{slower:.2f}x, {verdict}."
    )
    largest = max((r.largest_listing_bytes or 0) for r in results.runs)
    if any(r.largest_listing_bytes is not None for r in results.runs):
        verdict = "met" if largest < TARGET_LISTING_BYTES else "NOT met"
        lines.append(
            f"Target: every getChildren reply under {TARGET_LISTING_BYTES // 1024} KB: "
            f"largest {largest / 1024:,.1f} KiB, {verdict}."
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dispatch",
        description="Builds a second with a small and a large backlog queued (issue 20).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="backlogs of 100 and 3,000, 500 builds timed"
    )
    parser.add_argument(
        "--backlog", type=int, default=None, help="the large backlog (default 50,000)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.backlog:
        sizes = Sizes((sizes.backlogs[0], args.backlog), sizes.warm, sizes.measured)
    return run_and_report(
        lambda: run(sizes),
        setup=lambda _: (
            f"ZooKeeper forceSync=yes; {WORKERS} workers in one process, "
            "cool.conf's defaults; one OS::Heat::None per build"
        ),
        render=render,
    )


if __name__ == "__main__":
    sys.exit(main())
