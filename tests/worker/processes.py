"""``cool-worker`` as a real subprocess, for tests that kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.zk import assert_eventually


class WorkerProcess:
    """One ``cool-worker`` process with its own config file; killed for sure on exit."""

    def __init__(
        self,
        directory: Path,
        hosts: str,
        sim_db: Path,
        *,
        name: str,
        session_timeout_s: float = 2.0,
        latency_s: float = 0.0,
        extra: str = "",
    ) -> None:
        self.name = name
        self.config = directory / f"{name}.conf"
        self.log = directory / f"{name}.log"
        self.config.write_text(
            "[zookeeper]\n"
            f"hosts = {hosts}\nroot = /cool\nsession_timeout = {session_timeout_s}\n"
            "[worker]\n"
            "poll_interval = 0.02\nclaim_grace = 0.2\nstop_timeout = 20\nparallelism = 4\n"
            "[sim]\n"
            f"database = {sim_db}\nlatency = {latency_s}\n" + extra
        )
        self.process: subprocess.Popen[str] | None = None
        self._log_file: object = None
        self._reader: threading.Thread | None = None
        self.worker_id = ""
        self._lines: list[str] = []

    def start(self, *, wait_ready: bool = True) -> Self:
        log = self.log.open("w")
        self._log_file = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cool.cmd.worker", "--config-file", str(self.config)],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait_ready:
            assert_eventually(
                lambda: self.worker_id or self._died(),
                timeout_s=30,
                message=f"{self.name} says it is ready",
            )
            assert self.worker_id, self.log.read_text()
        return self

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line)
            if line.startswith("cool-worker ") and line.rstrip().endswith(" ready"):
                self.worker_id = line.split()[1]

    def _died(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
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
            self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout_s: float = 30) -> int:
        assert self.process is not None
        code = self.process.wait(timeout_s)
        self._close()
        return code

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()
