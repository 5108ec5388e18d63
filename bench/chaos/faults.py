"""The chaos run's injector: a seeded plan of faults, applied one after another.

Every kind of fault runs at least once per run, in a seeded order, spread over
the injection window; ``extra_kills`` more SIGKILLs (and, with ``rolling``, a
rolling restart of every worker) are mixed in. Each fault undoes itself
(restart, SIGCONT) before the next starts, in a ``finally``, and none starts
after the window closes.

- ``kill``: SIGKILL a worker, restart it a few seconds later;
- ``pause``: SIGSTOP a worker past its session timeout, then SIGCONT;
- ``drain``: SIGTERM a worker (it hands its builds over), then restart it;
- ``leader``: SIGKILL ZooKeeper's leader, restart it a few seconds later;
- ``follower``: SIGSTOP a ZooKeeper follower for a while, then SIGCONT;
- ``api``: restart cool-api (SIGKILL of its process group or SIGTERM, seeded);
- ``zombie``: block a cloud call until its claim has moved: a sim HOLD switch
  holds a create of a build submitted for it, its worker is SIGSTOPped past its
  session timeout, the call is released and the worker woken once another
  worker has resumed the build (where the sim has no HOLD, a busy worker is
  SIGSTOPped instead, which with sim latency lands in or between calls);
- ``rolling``: drain and restart every worker, one after another.

:attr:`Injector.journal` says what was done when; :attr:`Injector.deaths`
the moments workers stopped working (worker id -> [(time, fault)]), from which
the report measures takeovers.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos.api import ApiClient, ApiGaveUpError
from bench.chaos.builds import Build
from bench.chaos.cluster import Cluster
from cool.clouds.sim import faults as sim_faults
from cool.clouds.sim.provider import SimProvider

KINDS = ("kill", "pause", "drain", "leader", "follower", "api", "zombie")
HELD = "held_volume"
_ZOMBIE_TEMPLATE = f"""\
heat_template_version: 2021-04-16
resources:
  net: {{type: OS::Neutron::Net}}
  {HELD}: {{type: OS::Cinder::Volume, properties: {{size: 1}}, depends_on: net}}
  after: {{type: OS::Cinder::Volume, properties: {{size: 1}}, depends_on: {HELD}}}
"""


@dataclass(slots=True)
class Fault:
    kind: str
    at: float  # time.time() when it began
    seconds: float = 0.0
    target: str = ""
    worker_id: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "at": round(self.at, 3), "seconds": round(self.seconds, 2),
            "target": self.target, "worker_id": self.worker_id, "note": self.note,
        }  # fmt: skip


@dataclass(slots=True)
class Injector:
    cluster: Cluster
    client: ApiClient
    seed: int
    window_s: float
    extra_kills: int = 4
    rolling: bool = False
    submit: Callable[[Build], None] | None = None  # submits a build of the injector's own
    journal: list[Fault] = field(default_factory=list)
    deaths: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    own_builds: list[Build] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _rng: random.Random = field(init=False)
    _thread: threading.Thread | None = None

    def plan(self) -> list[str]:
        self._rng = random.Random(self.seed ^ 0x5EED)
        kinds = list(KINDS) + ["kill"] * self.extra_kills + (["rolling"] if self.rolling else [])
        self._rng.shuffle(kinds)
        return kinds

    def start(self, started_at: float) -> None:
        kinds = self.plan()
        self._thread = threading.Thread(
            target=self._run, args=(kinds, started_at), name="chaos-inject", daemon=True
        )
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self, kinds: list[str], started_at: float) -> None:
        gap_s = self.window_s / (len(kinds) + 1)
        for i, kind in enumerate(kinds):
            when = started_at + gap_s * (i + 1) + self._rng.uniform(-0.3, 0.3) * gap_s
            if self.stop.wait(max(when - time.monotonic(), 0)):
                return
            if time.monotonic() > started_at + self.window_s:
                return
            fault = Fault(kind, time.time())
            try:
                getattr(self, f"_{kind}")(fault)
            except Exception as exc:  # a fault that could not be applied is a finding
                self.errors.append(f"{kind}: {exc!r}")
            fault.seconds = time.time() - fault.at
            self.journal.append(fault)

    def _died(self, worker_id: str, at: float, kind: str) -> None:
        self.deaths.setdefault(worker_id, []).append((at, kind))

    def _slot(self, wait_busy_s: float = 10.0) -> int:
        """A worker running the most builds (the API says), so that a fault hurts; waits
        up to ``wait_busy_s`` for one to run any."""
        deadline = time.monotonic() + wait_busy_s
        while True:
            slots = sorted(self.cluster.workers)
            load = {}
            answer = self.client.once("GET", "/v1/workers")
            if answer is not None and answer.status == 200:
                load = {w["id"]: int(w.get("load") or 0) for w in answer.body.get("workers", [])}
            loads = {s: load.get(self.cluster.workers[s].worker_id, 0) for s in slots}
            busiest = max(loads.values(), default=0)
            if busiest > 0 or time.monotonic() > deadline or self.stop.is_set():
                return self._rng.choice([s for s in slots if loads[s] == busiest])
            time.sleep(0.25)

    # -- workers

    def _kill(self, fault: Fault) -> None:
        slot = self._slot()
        worker = self.cluster.workers[slot]
        fault.target, fault.worker_id = worker.name, worker.worker_id
        self._died(worker.worker_id, time.time(), "kill")
        try:
            self.cluster.kill_worker(slot)
            self.stop.wait(self._rng.uniform(1.0, 5.0))
        finally:
            self.cluster.restart_worker(slot)

    def _pause(self, fault: Fault, *, slot: int | None = None, extra_s: float = 0.0) -> None:
        slot = self._slot() if slot is None else slot
        worker = self.cluster.workers[slot]
        fault.target, fault.worker_id = worker.name, worker.worker_id
        pause_s = self.cluster.settings.session_timeout_s * 1.5 + self._rng.uniform(0, 2) + extra_s
        self._died(worker.worker_id, time.time(), fault.kind)
        self.cluster.pause_worker(slot)
        try:
            self.stop.wait(pause_s)
        finally:
            self.cluster.resume_worker(slot)
        fault.note = f"stopped {pause_s:.1f} s"

    def _drain(self, fault: Fault, *, slot: int | None = None) -> None:
        slot = self._slot() if slot is None else slot
        worker = self.cluster.workers[slot]
        fault.target, fault.worker_id = worker.name, worker.worker_id
        self._died(worker.worker_id, time.time(), "drain")
        try:
            fault.note = f"drained in {self.cluster.drain_worker(slot):.1f} s"
        finally:
            self.cluster.restart_worker(slot)

    def _rolling(self, fault: Fault) -> None:
        notes = []
        for slot in sorted(self.cluster.workers):
            step = Fault("drain", time.time())
            self._drain(step, slot=slot)
            notes.append(f"{step.target}: {step.note}")
        fault.note = "; ".join(notes)

    # -- ZooKeeper and cool-api

    def _leader(self, fault: Fault) -> None:
        leader = self.cluster.leader()
        fault.target = f"zookeeper {leader.server_id}"
        leader.kill()
        try:
            self.stop.wait(self._rng.uniform(2.0, 6.0))
        finally:
            self.cluster.restart_server(leader)

    def _follower(self, fault: Fault) -> None:
        follower = self.cluster.follower()
        if follower is None:
            fault.note = "no follower serving: skipped"
            return
        fault.target = f"zookeeper {follower.server_id}"
        pause_s = self._rng.uniform(3.0, 8.0)
        follower.pause()
        try:
            self.stop.wait(pause_s)
        finally:
            follower.resume()
        self.cluster.ensemble.wait_ready(60)
        fault.note = f"stopped {pause_s:.1f} s"

    def _api(self, fault: Fault) -> None:
        crash = self._rng.random() < 0.5
        fault.note = "SIGKILL" if crash else "SIGTERM"
        self.cluster.restart_api(crash=crash)

    # -- a cloud call blocked until its claim moved

    def _zombie(self, fault: Fault) -> None:
        if "HOLD" not in sim_faults.FailureMode.__members__:
            fault.note = "the sim has no HOLD switch: a busy worker SIGSTOPped instead"
            self._pause(fault)
            return
        release = self.cluster.directory / f"release-{len(self.journal)}"
        build = Build(
            seq=100_000 + len(self.own_builds), kind="normal", shape="zombie",
            template=_ZOMBIE_TEMPLATE, rollback=True, submit_at_s=0.0, cancel_after_s=0.0,
        )  # fmt: skip
        with SimProvider(self.cluster.sim_db) as sim:
            switch = sim.arm(HELD, "create", build_id=None, times=1, mode="hold",
                             message=str(release))  # fmt: skip
        try:
            self.own_builds.append(build)
            if self.submit is None:
                raise RuntimeError("the zombie fault needs a way to submit its build")
            self.submit(build)
            if not build.build_id:
                fault.note = f"submit failed: {build.submit_error}"
                return
            holder = self._wait_for_holder(build, timeout_s=60)
            if holder is None:
                fault.note = "the held create was never reached"
                return
            slot, worker = holder
            fault.target, fault.worker_id = worker.name, worker.worker_id
            self._died(worker.worker_id, time.time(), "zombie")
            self.cluster.pause_worker(slot)
            try:
                moved = self._wait_for_resume(build, worker.worker_id, timeout_s=60)
                fault.note = f"build {build.build_id}: " + (
                    "resumed elsewhere; the held create released"
                    if moved
                    else "NOT resumed by another worker within 60 s"
                )
            finally:
                Path(release).touch()
                self.cluster.resume_worker(slot)
            fault.note += f"; its create: {self._late_create(build, worker.pid)}"
        finally:
            Path(release).touch()
            with SimProvider(self.cluster.sim_db) as sim:
                sim.disarm(switch)

    def _late_create(self, build: Build, pid: int) -> str:
        """What became of the zombie's held create, once it ran (the sim records it)."""
        deadline = time.monotonic() + 15.0
        with SimProvider(self.cluster.sim_db) as sim:
            while time.monotonic() < deadline:
                calls = sim.calls(
                    action="create", build_id=build.build_id, resource_name=HELD, pid=pid
                )
                if calls:
                    return calls[-1].outcome
                time.sleep(0.1)
        return "not made within 15 s of the release"

    def _wait_for_holder(self, build: Build, timeout_s: float) -> tuple[int, Any] | None:
        """The slot and worker whose create of HELD is held (it recorded the intent)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                answer = self.client.call("GET", f"/v1/builds/{build.build_id}/resources")
            except ApiGaveUpError:
                continue
            records = {r["name"]: r for r in (answer.body or {}).get("resources", [])}
            held = records.get(HELD, {})
            if held.get("status") == "CREATE_IN_PROGRESS" and held.get("worker"):
                for slot, worker in self.cluster.workers.items():
                    if worker.worker_id == held["worker"]:
                        return slot, worker
                return None
            time.sleep(0.1)
        return None

    def _wait_for_resume(self, build: Build, old_worker: str, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                events = self.client.pages(f"/v1/builds/{build.build_id}/events", "events")
            except ApiGaveUpError:
                continue
            if any(
                str(e.get("reason", "")).startswith("resumed by")
                and e.get("worker") not in (None, old_worker)
                for e in events
            ):
                return True
            time.sleep(0.2)
        return False
