"""Running real workers against a real ZooKeeper and the sim cloud, for the tests."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings
from cool.store.records import BuildState
from cool.store.scaling import Outcome as ScalingOutcome
from cool.store.scaling import Recipe, Resizes
from cool.store.session import Session
from cool.store.signals import SignalBook
from cool.template.compile import check, compile_template
from cool.template.parse import DEFAULT_LIMITS
from cool.worker.runner import RunnerSettings
from cool.worker.service import Worker, WorkerSettings
from cool.worker.signals import SignalProvider
from harness.zk_clients import open_store  # noqa: F401 (tests import it here)
from tests.worker.processes import SIGNAL_ENDPOINT
from tests.zk import ConnectionProxy, assert_eventually

FAST = WorkerSettings(
    capacity=8,
    step_threads=16,
    claim_grace_s=0.2,
    stop_timeout_s=10.0,
    runner=RunnerSettings(parallelism=4, poll_interval_s=0.02, guard_wait_s=5.0),
)


def settings_for(hosts: str, *, session_timeout_s: float = 4.0) -> ZooKeeperSettings:
    return ZooKeeperSettings(hosts=hosts, root="/cool", session_timeout_s=session_timeout_s)


def through(proxy: ConnectionProxy, hosts: str) -> str:
    """``hosts`` (a connection string with a chroot) reached through ``proxy`` instead."""
    return proxy.hosts + hosts[hosts.index("/") :]


@contextmanager
def running_worker(
    hosts: str,
    sim_db: Path,
    *,
    settings: WorkerSettings = FAST,
    latency_s: float = 0.0,
    worker_id: str | None = None,
    session_timeout_s: float = 4.0,
    fencing: bool = True,
) -> Iterator[Worker]:
    """``fencing=False``: a sim that plays a cloud which cannot check claim epochs."""
    session = Session.open(settings_for(hosts, session_timeout_s=session_timeout_s))
    sim = SimProvider(sim_db, latency_s=latency_s, caller=worker_id, fencing=fencing)
    signals = SignalProvider(SignalBook(session.client, session.layout), endpoint=SIGNAL_ENDPOINT)
    worker = Worker(
        session, Providers([HeatProvider(), signals, sim]), settings, worker_id=worker_id
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop(graceful=False)
        session.close()
        sim.close()


def submit(
    store: BuildStore,
    registry: ResourceTypeRegistry,
    template: str,
    values: dict[str, Any] | None = None,
    **options: Any,
) -> str:
    files = options.pop("files", None)
    plan = compile_template(template, registry, values or {}, files=files)
    options.setdefault("project_id", "p1")
    options.setdefault("user_id", "u1")
    if plan.scales:  # as cool-api keeps it, for a resize to compile again
        recipe = Recipe(template, dict(values or {}), files=dict(files or {}))
        options.setdefault("recipe", recipe.to_dict())
    return store.submit(plan, **options).build_id


def resize(
    store: BuildStore, registry: ResourceTypeRegistry, build_id: str, policy: str
) -> ScalingOutcome:
    """A scaling policy's signal, as cool-api records it (cool.api.scaling)."""

    def compile_plan(recipe: Recipe, members: Mapping[str, Sequence[str]]) -> Plan:
        report = check(
            recipe.template, registry, recipe.parameters, files=recipe.files, members=members
        )
        assert report.plan is not None, [p.message for p in report.problems]
        return report.plan

    return Resizes(store).signal(
        build_id,
        policy,
        {},
        compile_plan=compile_plan,
        max_members=DEFAULT_LIMITS.max_total_resources,
    )


def wait_terminal(store: BuildStore, build_id: str, timeout_s: float = 60.0) -> BuildState:
    def terminal() -> BuildState | None:
        state, _ = store.state(build_id)
        return state if state.status.is_terminal and not store.is_pending(build_id) else None

    return assert_eventually(
        terminal,
        timeout_s=timeout_s,
        interval_s=0.02,
        message=f"build {build_id} reaches a terminal state",
    )


def event_lines(store: BuildStore, build_id: str) -> list[tuple[str | None, str | None, str]]:
    return [(e.resource, e.old, e.new) for _, e in store.events(build_id)]


def statuses(store: BuildStore, build_id: str) -> dict[str, str]:
    return {name: str(rec.status) for name, (rec, _) in store.resources(build_id).items()}


def is_status(state: BuildState, status: BuildStatus) -> bool:
    return state.status is status


def now() -> float:
    return time.monotonic()
