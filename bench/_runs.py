"""The benchmark's runs: one build in-process, many builds on worker processes,
a takeover, and a worker's memory. Each returns what it measured and what was
wrong (an empty list when every result is right).

The builds of 1,000 resources run a :class:`~cool.worker.service.Worker` in
this process, so that every ZooKeeper transaction it makes is counted
through its ``count_write`` hook (and every cloud call through
``count_call``). Everything that is about parallel workers runs real
``cool-worker`` processes (:mod:`bench._workers`).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from kazoo.client import KazooClient
from oslo_config import cfg

from bench._workers import Fleet, cpu_s, machine_cpu, rss_kib
from bench._zk import server_requests, wait_all_gone, wait_gone
from cool import config
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings
from cool.store.layout import Layout
from cool.store.pending import SHARDS
from cool.store.session import Session
from cool.template.compile import compile_template
from cool.worker.service import Worker, WorkerSettings
from harness.templates import TEN_RESOURCES

PROJECT = "bench"

SIM_TEMPLATE = TEN_RESOURCES  # ten simulated OpenStack resources in five levels
SIM_RESOURCES = 10


def chain_template(n: int) -> str:
    """N OS::Heat::None, each depending on the one before: N steps one after another."""
    lines = ["heat_template_version: wallaby", "resources:", "  r0: {type: OS::Heat::None}"]
    lines += [f"  r{i}: {{type: OS::Heat::None, depends_on: r{i - 1}}}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def fan_out_template(n: int) -> str:
    """One OS::Heat::None and N-1 others that depend on it only: 2 levels."""
    lines = ["heat_template_version: wallaby", "resources:", "  root: {type: OS::Heat::None}"]
    lines += [f"  r{i}: {{type: OS::Heat::None, depends_on: root}}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def takeover_template(n: int, wait_s: float, *, hold_s: float = 0.0, hold_at: int = 2) -> str:
    """A chain of TestResources that each take ``wait_s`` (``r<hold_at>``: ``hold_s``, when
    given): any worker can observe them."""
    lines = ["heat_template_version: wallaby", "resources:"]
    for i in range(n):
        depends = f", depends_on: r{i - 1}" if i else ""
        wait = hold_s if hold_s and i == hold_at else wait_s
        properties = f"properties: {{wait_secs: {wait}}}"
        lines.append(f"  r{i}: {{type: OS::Heat::TestResource, {properties}{depends}}}")
    return "\n".join(lines) + "\n"


SHAPES = {"chain": chain_template, "fan-out": fan_out_template}


def default_worker_settings() -> WorkerSettings:
    """What ``cool-worker`` runs with when cool.conf sets nothing."""
    conf = cfg.ConfigOpts()
    config.register(conf)
    conf(args=[], project="cool", default_config_files=[])
    return config.worker_settings(conf)


class Counter:
    """A thread-safe tally, for the ``count_write`` and ``count_call`` hooks."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.value += 1


def _self_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _difference(before: int | None, after: int | None) -> int | None:
    return after - before if before is not None and after is not None else None


def _completed(store: BuildStore, build_id: str) -> int:
    return sum(
        1
        for record, _ in store.resources(build_id).values()
        if record.status is ResourceStatus.CREATE_COMPLETE
    )


def _check_complete(store: BuildStore, build_ids: list[str], what: str) -> list[str]:
    problems = []
    for build_id in build_ids:
        state, _ = store.state(build_id)
        if state.status is not BuildStatus.CREATE_COMPLETE:
            problems.append(f"{what}: build {build_id} ended {state.status}: {state.reason}")
            if len(problems) >= 5:
                break
    return problems


# -- one big build, in this process ----------------------------------------------


def _settled(worker: Worker, timeout_s: float = 60.0) -> None:
    """Until the worker has had its first look at the queue (every shard read once: a
    worker's start, not the build's cost)."""
    deadline = time.monotonic() + timeout_s
    while worker.shard_reads < len(SHARDS):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not read the queue within {timeout_s:.0f} s")
        time.sleep(0.01)


@dataclass(frozen=True, slots=True)
class BuildRun:
    shape: str
    resources: int
    seconds: float  # submit -> no longer pending
    transactions: int  # counted by the worker's count_write hook
    cloud_calls: int  # counted by its count_call hook
    requests: int | None  # every request the server received meanwhile (srvr)
    cpu_s: float  # this process (the worker, and the benchmark waiting)
    zookeeper_cpu_s: float

    @property
    def per_s(self) -> float:
        return self.resources / self.seconds

    @property
    def transactions_per_resource(self) -> float:
        return self.transactions / self.resources


def run_build(
    client: KazooClient,
    hosts: str,
    root: str,
    shape: str,
    n: int,
    *,
    registry: ResourceTypeRegistry,
    server_port: int | None = None,
    zookeeper_pid: int | None = None,
    timeout_s: float = 300.0,
) -> tuple[BuildRun, list[str]]:
    """One build of ``n`` OS::Heat::None resources, run by a worker in this process."""
    plan = compile_template(SHAPES[shape](n), registry)
    store = BuildStore(client, Layout(root))
    store.ensure_layout()
    writes, calls = Counter(), Counter()
    session = Session.open(ZooKeeperSettings(hosts=hosts, root=root))
    worker = Worker(
        session,
        Providers([HeatProvider()]),
        default_worker_settings(),
        count_write=writes,
        count_call=calls,
    )
    try:
        worker.start()
        _settled(worker)
        requests_before = server_requests(server_port)
        zk_before = cpu_s(zookeeper_pid) if zookeeper_pid else 0.0
        self_before = _self_cpu_s()
        start = time.perf_counter()
        build_id = store.submit(plan, project_id=PROJECT, user_id=PROJECT).build_id
        finished = wait_gone(client, store.layout.pending_build(build_id), timeout_s)
        seconds = time.perf_counter() - start
        self_cpu = _self_cpu_s() - self_before
        zk_cpu = (cpu_s(zookeeper_pid) - zk_before) if zookeeper_pid else 0.0
        requests_after = server_requests(server_port)
    finally:
        worker.stop(graceful=False)
        session.close()
    requests = _difference(requests_before, requests_after)
    run = BuildRun(shape, n, seconds, writes.value, calls.value, requests, self_cpu, zk_cpu)
    if not finished:
        return run, [f"{shape} {n}: not finished within {timeout_s:.0f} s"]
    problems = _check_complete(store, [build_id], f"{shape} {n}")
    if (done := _completed(store, build_id)) != n:
        problems.append(f"{shape} {n}: {done} resources CREATE_COMPLETE, expected {n}")
    return run, problems


# -- many builds on worker processes ----------------------------------------------


@dataclass(frozen=True, slots=True)
class ScalingRun:
    workers: int
    builds: int
    seconds: float  # first submit -> nothing pending
    worker_cpu_s: float  # every worker process, during the run
    zookeeper_cpu_s: float
    bench_cpu_s: float  # this process (submitting and waiting)
    machine_busy: float  # the whole machine's CPU use over the run, 0..1 (other load too)
    requests: int | None  # every request the server received meanwhile (srvr)
    claims: dict[str, int]  # builds per worker

    @property
    def per_s(self) -> float:
        return self.builds / self.seconds

    @property
    def own_busy(self) -> float:
        """The CPU our processes used over the CPU there was (every core, the whole run)."""
        used = self.worker_cpu_s + self.zookeeper_cpu_s + self.bench_cpu_s
        return used / (self.seconds * (os.cpu_count() or 1))


def run_builds(
    fleet: Fleet,
    client: KazooClient,
    root: str,
    workers: int,
    builds: int,
    *,
    registry: ResourceTypeRegistry,
    server_port: int | None = None,
    zookeeper_pid: int | None = None,
    timeout_s: float = 300.0,
) -> tuple[ScalingRun, list[str]]:
    """``builds`` builds of :data:`SIM_TEMPLATE` on ``workers`` cool-worker processes."""
    plan = compile_template(SIM_TEMPLATE, registry)
    store = BuildStore(client, Layout(root))
    store.ensure_layout()
    started = fleet.start(root, workers)
    try:
        cpu_before = [cpu_s(w.pid) for w in started]
        zk_before = cpu_s(zookeeper_pid) if zookeeper_pid else 0.0
        self_before = _self_cpu_s()
        machine_before = machine_cpu()
        requests_before = server_requests(server_port)
        start = time.perf_counter()
        build_ids = [
            store.submit(plan, project_id=PROJECT, user_id=PROJECT).build_id for _ in range(builds)
        ]
        pending = [store.layout.pending_build(b) for b in build_ids]
        finished = wait_all_gone(client, pending, timeout_s)
        seconds = time.perf_counter() - start
        worker_cpu = sum(
            cpu_s(w.pid) - before for w, before in zip(started, cpu_before, strict=True)
        )
        zk_cpu = (cpu_s(zookeeper_pid) - zk_before) if zookeeper_pid else 0.0
        self_cpu = _self_cpu_s() - self_before
        machine_after = machine_cpu()
        requests_after = server_requests(server_port)
    finally:
        fleet.stop(started)
    busy = (machine_after[0] - machine_before[0]) / max(machine_after[1] - machine_before[1], 1)
    names = {w.worker_id: w.name for w in started}
    claims: dict[str, int] = dict.fromkeys(names.values(), 0)
    for build_id in build_ids:
        lease, _ = store.lease_data(build_id)
        name = names.get(lease.get("worker_id", ""), "?")
        claims[name] = claims.get(name, 0) + 1
    requests = _difference(requests_before, requests_after)
    run = ScalingRun(workers, builds, seconds, worker_cpu, zk_cpu, self_cpu, busy, requests, claims)
    if not finished:
        return run, [f"{workers} workers: builds still pending after {timeout_s:.0f} s"]
    return run, _check_complete(store, build_ids, f"{workers} workers")


def sim_problems(sim_db: os.PathLike[str], expected_live: int) -> list[str]:
    """No duplicate in the sim, and exactly the resources the builds made."""
    with SimProvider(sim_db) as sim:
        duplicates = sim.duplicates()
        live = len(sim.live_resources())
    problems = [f"sim: duplicated {line}" for line in duplicates[:5]]
    if live != expected_live:
        problems.append(f"sim: {live} live resources, expected {expected_live}")
    return problems


# -- takeover after SIGKILL ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TakeoverRun:
    session_timeout_s: float
    to_claim_s: float  # kill -> the lease taken by the other worker
    # kill -> the other worker's first event (its "resumed by", written as it claims)
    to_step_s: float

    @property
    def over_timeout_s(self) -> float:
        return self.to_step_s - self.session_timeout_s


TAKEOVER_STEPS = 10
TAKEOVER_WAIT_S = 0.3
# The third step, the one the kill interrupts, lasts this long: longer than a second
# worker takes to start on a loaded machine (else the first one finished the build
# before the kill, and there was no takeover to measure).
TAKEOVER_HOLD_S = 8.0
# Polling the TestResources often only shortens the build; takeover does not poll.
TAKEOVER_EXTRA = "[worker]\npoll_interval = 0.1\n"


def run_takeover(
    fleet: Fleet,
    client: KazooClient,
    root: str,
    session_timeout_s: float,
    registry: ResourceTypeRegistry,
    *,
    steps: int = TAKEOVER_STEPS,
    timeout_s: float = 120.0,
) -> tuple[TakeoverRun | None, list[str]]:
    """SIGKILL the worker of a running build; how long until another records a step.

    The build is a chain of ``steps`` TestResources; the kill comes once 2 are
    complete, while the first worker is in the middle of the third.
    """
    what = f"takeover ({session_timeout_s:g} s)"
    plan = compile_template(
        takeover_template(steps, TAKEOVER_WAIT_S, hold_s=TAKEOVER_HOLD_S), registry
    )
    store = BuildStore(client, Layout(root))
    store.ensure_layout()
    (doomed,) = fleet.start(root, 1, session_timeout_s=session_timeout_s, extra=TAKEOVER_EXTRA)
    build_id = store.submit(plan, project_id=PROJECT, user_id=PROJECT).build_id
    deadline = time.monotonic() + timeout_s
    while _completed(store, build_id) < 2:
        if time.monotonic() > deadline or not doomed.is_alive:
            return None, [f"{what}: the first worker made no progress:\n{doomed.log_tail()}"]
        time.sleep(0.05)
    (rescuer,) = fleet.start(root, 1, session_timeout_s=session_timeout_s, extra=TAKEOVER_EXTRA)
    if _completed(store, build_id) > 2:
        fleet.stop([rescuer])
        return None, [f"{what}: the first worker passed the held step before the kill"]
    killed_at = time.time()
    doomed.kill()
    finished = wait_gone(client, store.layout.pending_build(build_id), timeout_s)
    fleet.stop([rescuer])
    if not finished:
        return None, [f"{what}: build not finished after the kill:\n{rescuer.log_tail()}"]
    problems = _check_complete(store, [build_id], what)
    lease, _ = store.lease_data(build_id)
    if lease.get("worker_id") != rescuer.worker_id or lease.get("claims") != 2:
        problems.append(f"{what}: unexpected lease {lease}")
    recorded = [e.at for _, e in store.events(build_id) if e.worker == rescuer.worker_id]
    if not recorded:
        return None, [*problems, f"{what}: no step recorded by the second worker"]
    claimed_at = float(lease["claimed_at"])
    run = TakeoverRun(session_timeout_s, claimed_at - killed_at, min(recorded) - killed_at)
    return run, problems


# -- a worker's memory ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemoryRun:
    samples: list[tuple[int, int]]  # (builds run, VmRSS KiB); the first is idle

    @property
    def idle_kib(self) -> int:
        return self.samples[0][1]

    @property
    def last(self) -> tuple[int, int]:
        return self.samples[-1]


IDLE_SETTLE_S = 2.0


def run_memory(
    fleet: Fleet,
    client: KazooClient,
    root: str,
    builds: int,
    registry: ResourceTypeRegistry,
    *,
    batch: int = 100,
    settle_s: float = IDLE_SETTLE_S,
    timeout_s: float = 300.0,
) -> tuple[MemoryRun, list[str]]:
    """VmRSS of one cool-worker idle, then after every ``batch`` builds of SIM_TEMPLATE."""
    plan = compile_template(SIM_TEMPLATE, registry)
    store = BuildStore(client, Layout(root))
    store.ensure_layout()
    (worker,) = fleet.start(root, 1)
    problems: list[str] = []
    try:
        time.sleep(settle_s)  # let start-up finish (watches, first registration)
        samples = [(0, rss_kib(worker.pid))]
        done = 0
        while done < builds:
            size = min(batch, builds - done)
            build_ids = [
                store.submit(plan, project_id=PROJECT, user_id=PROJECT).build_id
                for _ in range(size)
            ]
            pending = [store.layout.pending_build(b) for b in build_ids]
            if not wait_all_gone(client, pending, timeout_s):
                problems.append(f"memory: builds still pending after {timeout_s:.0f} s")
                break
            problems += _check_complete(store, build_ids, "memory")
            done += size
            samples.append((done, rss_kib(worker.pid)))
    finally:
        fleet.stop([worker])
    return MemoryRun(samples), problems
