"""``cool-worker`` as a real subprocess with its own configuration file and log: for
the tests that kill it, the benchmarks that time it and the chaos run that hurts it.

Only what the caller sets is written to the file (ZooKeeper, the sim, and any
``[worker]`` options); everything else is cool.conf's default, so a benchmark's
figures are what a user gets. :meth:`WorkerProcess.kill` and
:meth:`WorkerProcess.stop` reap it; with ``die_with_parent`` it also dies with
the thread that started it, even when that one is SIGKILLed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from cool.errors import CoolError

READY_TIMEOUT_S = 60.0


class WorkerStartError(CoolError):
    """A worker did not say it was ready; the message carries its log."""

    code = "harness.worker_start"


class WorkerProcess:
    """One ``cool-worker`` process; killed for sure on exit from a ``with`` block."""

    def __init__(
        self,
        directory: Path,
        hosts: str,
        sim_db: Path,
        *,
        name: str,
        root: str = "/cool",
        session_timeout_s: float = 10.0,
        latency_s: float = 0.0,
        worker: Mapping[str, object] | None = None,
        extra: str = "",
        die_with_parent: bool = False,
        signal_endpoint: str = "",
    ) -> None:
        """``worker``: the ``[worker]`` options to set; ``extra`` is appended to the file as
        is (more sections, or a section again: a later value wins); ``signal_endpoint``:
        the cool-api URL wait condition handles give servers ([signal] endpoint).

        ``die_with_parent``: its own session (a Ctrl-C in the terminal reaches only
        the caller, which then stops it) and ``setpriv --pdeathsig KILL`` where there is
        setpriv, as a benchmark wants; only a thread that outlives the worker may then
        start it."""
        self.name = name
        self.config = directory / f"{name}.conf"
        self.log = directory / f"{name}.log"
        self.die_with_parent = die_with_parent
        options = "".join(f"{key} = {value}\n" for key, value in (worker or {}).items())
        self.config.write_text(
            f"[zookeeper]\nhosts = {hosts}\nroot = {root}\nsession_timeout = {session_timeout_s}\n"
            + (f"[worker]\n{options}" if options else "")
            + f"[sim]\ndatabase = {sim_db}\nlatency = {latency_s}\n"
            + (f"[signal]\nendpoint = {signal_endpoint}\n" if signal_endpoint else "")
            + extra
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

    @property
    def is_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, wait_ready: bool = True) -> Self:
        command = [sys.executable, "-m", "cool.cmd.worker", "--config-file", str(self.config)]
        setpriv = shutil.which("setpriv")
        if self.die_with_parent and setpriv is not None:
            command = [setpriv, "--pdeathsig", "KILL", *command]
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=self.die_with_parent,
        )
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-out", daemon=True)
        self._reader.start()
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Until it prints ``cool-worker <id> ready``; raise if it dies or takes too long."""
        deadline = time.monotonic() + timeout_s
        while not self._ready.wait(0.05):
            if not self.is_alive or time.monotonic() > deadline:
                raise WorkerStartError(f"{self.name} did not start:\n{self.log_tail()}")

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split()
            if len(words) == 3 and words[0] == "cool-worker" and words[2] == "ready":
                self.worker_id = words[1]
                self._ready.set()

    def terminate(self) -> None:
        """SIGTERM: it hands its builds over and leaves (see :meth:`wait`)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        code = self.process.wait(timeout_s)
        self._close()
        return code

    def kill(self) -> None:
        """SIGKILL, as a crash would, and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
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
        self.process.wait(10)
        self._close()

    def _close(self) -> None:
        """Once the process is gone: its pipe and log file, closed."""
        if self.process is None or self.process.poll() is None:
            return
        if self._reader is not None:
            self._reader.join(10)
        if self.process.stdout is not None:
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()
