"""The benchmark's ``cool-worker`` fleet (:class:`harness.workers.WorkerProcess`), and
what /proc says about processes and the machine.

Every process started here is killed for sure: :class:`Fleet` kills what is
left when it closes (the benchmark closes it in a ``finally``), and each
worker runs with ``die_with_parent``: under ``setpriv --pdeathsig KILL`` where
available, so it dies with the benchmark even if the benchmark itself is
SIGKILLed, and in its own session, so a Ctrl-C in the terminal reaches the
benchmark only, which then kills them.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from harness.workers import WorkerProcess

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """The process's resident set size (``VmRSS`` in /proc/<pid>/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (/proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class Fleet:
    """Every worker the benchmark starts; :meth:`close` kills whatever is left."""

    def __init__(self, directory: Path, *, hosts: str, sim_db: Path) -> None:
        self.directory = directory
        self.hosts = hosts
        self.sim_db = sim_db
        self._workers: list[WorkerProcess] = []
        self._count = 0

    def start(
        self, root: str, count: int, *, session_timeout_s: float = 10.0, extra: str = ""
    ) -> list[WorkerProcess]:
        """``count`` workers on ``root``, started together, returned once all are ready."""
        started = []
        for _ in range(count):
            self._count += 1
            worker = WorkerProcess(
                self.directory,
                self.hosts,
                self.sim_db,
                name=f"worker-{self._count}",
                root=root,
                session_timeout_s=session_timeout_s,
                extra=extra,
                die_with_parent=True,
            )
            self._workers.append(worker)
            started.append(worker.start(wait_ready=False))
        for worker in started:
            worker.wait_ready()
        return started

    def stop(self, workers: list[WorkerProcess]) -> None:
        """Stop gracefully, all at once."""
        for worker in workers:
            if worker.is_alive:
                assert worker.process is not None
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.stop()

    def close(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.kill()
        self._workers.clear()


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot (/proc/stat), every process
    and kernel thread included: not only the benchmark's own."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def load_average() -> float:
    """The machine's 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])
