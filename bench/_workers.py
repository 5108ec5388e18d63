"""``cool-worker`` subprocesses for the benchmark, and what /proc says about them.

Every process started here is killed for sure: :class:`Fleet` kills what is
left when it closes (the benchmark closes it in a ``finally``), and each
worker runs under ``setpriv --pdeathsig KILL`` where available, so it dies
with the benchmark even if the benchmark itself is SIGKILLed. Workers start
in their own session, so a Ctrl-C in the terminal reaches the benchmark only,
which then kills them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_READY_TIMEOUT_S = 60.0


class WorkerFailedError(RuntimeError):
    """A worker did not start, or died when it should not have."""


def rss_kib(pid: int) -> int:
    """The process's resident set size (``VmRSS`` in /proc/<pid>/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise WorkerFailedError(f"no VmRSS for pid {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (/proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


class WorkerProcess:
    """One ``cool-worker`` with its own configuration file and log."""

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        hosts: str,
        root: str,
        sim_db: Path,
        session_timeout_s: float,
        extra: str = "",
    ) -> None:
        self.name = name
        self.config = directory / f"{name}.conf"
        self.log = directory / f"{name}.log"
        # Only what the benchmark must set; everything else is cool.conf's default.
        self.config.write_text(
            "[zookeeper]\n"
            f"hosts = {hosts}\nroot = {root}\nsession_timeout = {session_timeout_s}\n"
            "[sim]\n"
            f"database = {sim_db}\nlatency = 0\n" + extra
        )
        self.process: subprocess.Popen[str] | None = None
        self.worker_id = ""
        self._ready = threading.Event()
        self._log_file: IO[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> WorkerProcess:
        command = [sys.executable, "-m", "cool.cmd.worker", "--config-file", str(self.config)]
        setpriv = shutil.which("setpriv")
        if setpriv is not None:
            command = [setpriv, "--pdeathsig", "KILL", *command]
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-out", daemon=True)
        self._reader.start()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while not self._ready.wait(0.05):
            if not self.is_alive or time.monotonic() > deadline:
                raise WorkerFailedError(f"{self.name} did not start:\n{self.log_tail()}")

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split()
            if len(words) == 3 and words[0] == "cool-worker" and words[2] == "ready":
                self.worker_id = words[1]
                self._ready.set()

    @property
    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_s(self) -> float:
        return cpu_s(self.pid)

    def kill(self) -> None:
        """SIGKILL, as a crash would, and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._close()

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (builds are handed over), then SIGKILL if it takes too long."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        self._close()

    def _close(self) -> None:
        if self._reader is not None:
            self._reader.join(5)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text("utf-8", "replace")
        except OSError as exc:
            return f"(no log: {exc})"
        return "\n".join(text.splitlines()[-lines:])


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
                f"worker-{self._count}",
                hosts=self.hosts,
                root=root,
                sim_db=self.sim_db,
                session_timeout_s=session_timeout_s,
                extra=extra,
            )
            self._workers.append(worker)
            started.append(worker.start())
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
