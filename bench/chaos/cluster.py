"""What the chaos run starts: a 3-node ZooKeeper ensemble, cool-api and N workers on the sim.

Everything lives in one run directory (``zookeeper/server-<id>/``, ``api*.log``,
``worker-<slot>.<incarnation>.log``, ``sim.sqlite``) that is kept afterwards, so a
violation can be read in the logs. Every process runs in its own session under
``setpriv --pdeathsig KILL`` (:mod:`harness.workers`, :mod:`harness.api`,
:mod:`harness.zookeeper`) and :meth:`Cluster.close`, called in a ``finally``,
stops what is left: nothing outlives the run.

Every process is started by one thread that lives as long as the cluster
(:attr:`Cluster._spawner`): ``--pdeathsig`` fires when the *thread* that forked a
child ends, so a worker restarted by the injector's thread would otherwise die
with it.

A restarted worker is a new process with a new log file (``.2``, ``.3``...): the
log of the one that died is what an operator needs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from harness.api import ApiProcess
from harness.workers import WorkerProcess
from harness.zookeeper import ZooKeeperEnsemble, ZooKeeperMode, ZooKeeperServer

T = TypeVar("T")
ROOT = "/cool-chaos"
MAX_SESSION_TIMEOUT_MS = 60_000


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    workers: int = 4
    session_timeout_s: float = 4.0
    latency_s: float = 0.2
    poll_interval_s: float = 0.2
    stop_timeout_s: float = 10.0  # a drain's bound ([worker] stop_timeout)
    max_claims: int = 5
    capacity: int = 8
    api_workers: int = 2
    api_threads: int = 16


def chaos_worker(
    directory: Path, name: str, *, hosts: str, sim_db: Path, s: ClusterSettings
) -> WorkerProcess:
    """A ``cool-worker`` with the chaos run's configuration (sim latency, short polls)."""
    return WorkerProcess(
        directory,
        hosts,
        sim_db,
        name=name,
        root=ROOT,
        session_timeout_s=s.session_timeout_s,
        latency_s=s.latency_s,
        worker={
            "capacity": s.capacity,
            "poll_interval": s.poll_interval_s,
            "poll_interval_max": max(s.poll_interval_s, 1.0),
            "stop_timeout": s.stop_timeout_s,
        },
        extra=f"[build]\nmax_claims = {s.max_claims}\n",
        die_with_parent=True,
    )


class Cluster:
    """The processes of one chaos run, and the faults they can be put through."""

    def __init__(self, directory: Path, settings: ClusterSettings) -> None:
        self.directory = directory
        self.settings = settings
        self.sim_db = directory / "sim.sqlite"
        self.ensemble = ZooKeeperEnsemble(
            3,
            base_dir=directory / "zookeeper",
            max_session_timeout_ms=MAX_SESSION_TIMEOUT_MS,
            force_sync=False,
        )
        self.api: ApiProcess | None = None
        self.workers: dict[int, WorkerProcess] = {}  # slot -> the worker running in it
        self._incarnations: dict[int, int] = {}
        self._api_restarts = 0
        self.retired: list[WorkerProcess] = []  # every worker that stopped, for its log
        self._spawner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="spawn")

    def _in_spawner(self, start: Callable[[], T]) -> T:
        """Run ``start`` (it forks) on the spawner thread, which outlives every child."""
        return self._spawner.submit(start).result()

    # -- life cycle

    def start(self) -> None:
        self._in_spawner(self.ensemble.start)
        self.api = ApiProcess(self.directory, self._api_config())
        self._in_spawner(self.api.start)
        started = [self._spawn(slot) for slot in range(1, self.settings.workers + 1)]
        for worker in started:
            worker.wait_ready()

    def close(self) -> None:
        """Stop everything that runs (SIGCONT first: a stopped process ignores SIGTERM)."""
        for worker in self.workers.values():
            with contextlib.suppress(OSError):
                if worker.is_alive:
                    os.kill(worker.pid, signal.SIGCONT)
                worker.kill()
        if self.api is not None:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                self.api.stop(timeout_s=10)
        self.ensemble.stop()
        self._spawner.shutdown(wait=True)

    def _api_config(self) -> str:
        s = self.settings
        return (
            f"auth_strategy = noauth\nworkers = {s.api_workers}\nthreads = {s.api_threads}\n"
            f"[zookeeper]\nhosts = {self.ensemble.hosts}\nroot = {ROOT}\n"
            f"session_timeout = {s.session_timeout_s}\n"
        )

    def _spawn(self, slot: int) -> WorkerProcess:
        n = self._incarnations[slot] = self._incarnations.get(slot, 0) + 1
        worker = chaos_worker(
            self.directory,
            f"worker-{slot}.{n}",
            hosts=self.ensemble.hosts,
            sim_db=self.sim_db,
            s=self.settings,
        )
        self.workers[slot] = worker
        return self._in_spawner(lambda: worker.start(wait_ready=False))

    @property
    def url(self) -> str:
        assert self.api is not None
        return self.api.url

    def logs(self) -> list[Path]:
        """Every log of cool's own processes (not ZooKeeper's)."""
        return sorted(self.directory.glob("api*.log")) + sorted(self.directory.glob("worker-*.log"))

    # -- workers

    def kill_worker(self, slot: int) -> None:
        """SIGKILL, as a crash would (no restart: :meth:`restart_worker`)."""
        worker = self.workers[slot]
        with contextlib.suppress(OSError):
            os.kill(worker.pid, signal.SIGCONT)
        worker.kill()
        self.retired.append(worker)

    def drain_worker(self, slot: int) -> float:
        """SIGTERM and wait (bounded) for the drain; the seconds it took."""
        worker = self.workers[slot]
        started = time.monotonic()
        worker.stop(timeout_s=self.settings.stop_timeout_s + 20.0)
        self.retired.append(worker)
        return time.monotonic() - started

    def restart_worker(self, slot: int) -> WorkerProcess:
        worker = self._spawn(slot)
        worker.wait_ready()
        return worker

    def pause_worker(self, slot: int) -> None:
        os.kill(self.workers[slot].pid, signal.SIGSTOP)

    def resume_worker(self, slot: int) -> None:
        os.kill(self.workers[slot].pid, signal.SIGCONT)

    # -- cool-api

    def restart_api(self, *, crash: bool) -> None:
        """Stop cool-api (SIGKILL of its process group if ``crash``, else SIGTERM) and start
        it again on the same port; the old log is kept as ``api.<n>.log``."""
        assert self.api is not None
        assert self.api.process is not None
        if crash:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.api.process.pid, signal.SIGKILL)
        self.api.stop(timeout_s=20)
        self._api_restarts += 1
        self.api.log.rename(self.directory / f"api.{self._api_restarts}.log")
        self._in_spawner(self.api.start)

    # -- ZooKeeper

    def leader(self) -> ZooKeeperServer:
        return self.ensemble.leader(timeout_s=60)

    def follower(self) -> ZooKeeperServer | None:
        return next((s for s in self.ensemble.servers if s.mode() is ZooKeeperMode.FOLLOWER), None)

    def restart_server(self, server: ZooKeeperServer) -> None:
        self._in_spawner(lambda: server.start(timeout_s=None))
        self.ensemble.wait_ready(60)
