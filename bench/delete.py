"""Delete of a 1,000-resource build against its create, in the same run.

    .venv/bin/python -m bench.delete [--quick] [--resources N]

A private ZooKeeper (the defaults a user gets), one worker in this process,
OS::Heat::None resources as a chain and as a fan-out. For each shape: the
build is created, then deleted; the delete's resources per second are set
against the create's, and ZooKeeper transactions are counted for both.
Exits 1 if a build does not end as expected.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Sequence

from bench._report import exit_status, run_command
from bench._runs import PROJECT, SHAPES, Counter, default_worker_settings
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings
from cool.store.control import Requests
from cool.store.session import Session
from cool.template.compile import compile_template
from cool.worker.service import Worker
from harness.zookeeper import ZooKeeperServer


def _wait(store: BuildStore, build_id: str, status: BuildStatus, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state, _ = store.state(build_id)
        if state.status is status and not store.is_pending(build_id):
            return True
        time.sleep(0.01)  # a benchmark's own polling: it measures, it does not test
    return False


def measure(hosts: str, shape: str, n: int) -> tuple[dict[str, float], list[str]]:
    root = f"/bench-delete-{uuid.uuid4().hex[:8]}"
    registry = ResourceTypeRegistry.load()
    plan = compile_template(SHAPES[shape](n), registry)
    writes = Counter()
    session = Session.open(ZooKeeperSettings(hosts=hosts, root=root))
    worker = Worker(
        session, Providers([HeatProvider()]), default_worker_settings(), count_write=writes
    )
    problems: list[str] = []
    try:
        worker.start()
        store = BuildStore(session.client, session.layout)
        start = time.perf_counter()
        build_id = store.submit(plan, project_id=PROJECT, user_id=PROJECT).build_id
        if not _wait(store, build_id, BuildStatus.CREATE_COMPLETE, 300):
            problems.append(f"{shape} {n}: create did not complete")
        created_s = time.perf_counter() - start
        create_writes = writes.value
        start = time.perf_counter()
        Requests(store).delete(build_id)
        if not _wait(store, build_id, BuildStatus.DELETE_COMPLETE, 300):
            problems.append(f"{shape} {n}: delete did not complete")
        deleted_s = time.perf_counter() - start
        delete_writes = writes.value - create_writes
    finally:
        worker.stop(graceful=False)
        session.close()
    return {
        "create_s": created_s,
        "delete_s": deleted_s,
        "create_per_s": n / created_s,
        "delete_per_s": n / deleted_s,
        "create_tx_per_resource": create_writes / n,
        "delete_tx_per_resource": delete_writes / n,
    }, problems


Rows = list[tuple[str, dict[str, float]]]


def _measure_all(n: int) -> tuple[Rows, list[str]]:
    """Each shape at ``n`` resources on a private ZooKeeper, stopped whatever happens."""
    rows: Rows = []
    problems: list[str] = []
    with ZooKeeperServer(max_session_timeout_ms=60_000) as server:
        for shape in SHAPES:
            figures, found = measure(server.hosts, shape, n)
            rows.append((shape, figures))
            problems += found
    return rows, problems


def _report(n: int, rows: Rows, problems: list[str]) -> int:
    print(
        "| shape | resources | create s | delete s | create res/s | delete res/s "
        "| delete / create rate | ZK tx per resource (create / delete) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for shape, f in rows:
        print(
            f"| {shape} | {n:,} | {f['create_s']:.2f} | {f['delete_s']:.2f} "
            f"| {f['create_per_s']:.0f} | {f['delete_per_s']:.0f} "
            f"| {f['delete_per_s'] / f['create_per_s']:.2f}x "
            f"| {f['create_tx_per_resource']:.2f} / {f['delete_tx_per_resource']:.2f} |"
        )
    return exit_status(problems, label="PROBLEM")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delete", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="200 resources instead of 1,000")
    parser.add_argument("--resources", type=int, help="resources per build (overrides --quick)")
    args = parser.parse_args(argv)
    n = args.resources or (200 if args.quick else 1000)
    return run_command(lambda: _measure_all(n), lambda measured, _: _report(n, *measured))


if __name__ == "__main__":
    sys.exit(main())
