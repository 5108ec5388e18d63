"""``cool-api`` as a real gunicorn server process: for end-to-end tests, benchmarks
and the local system. Every process it starts is stopped by :meth:`ApiProcess.stop`
(the whole process group: master and workers); gunicorn's workers leave when
their master is gone."""

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
from types import TracebackType
from typing import Self

from cool.errors import CoolError
from harness.zookeeper import free_port


class ApiStartError(CoolError):
    """cool-api did not come up; the message carries its log."""

    code = "harness.api_start"


class ApiProcess:
    """One ``cool-api`` (gunicorn master and its workers) on a free loopback port."""

    def __init__(
        self, directory: Path, config: str, *, name: str = "api", die_with_parent: bool = True
    ) -> None:
        """``die_with_parent``: run it under ``setpriv --pdeathsig KILL`` (where there is
        setpriv), so that it dies with the thread that started it even when that one is
        SIGKILLed, as tests and benchmarks want; a system meant to outlive its
        launcher says False."""
        self.name = name
        self.die_with_parent = die_with_parent
        self.port = free_port()
        self.config = directory / f"{name}.conf"
        self.log = directory / f"{name}.log"
        self.config.write_text(f"[api]\nbind_host = 127.0.0.1\nbind_port = {self.port}\n" + config)
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._log_file: object = None
        self.listening_on: list[str] = []  # the URLs its "listening on" lines name
        self._started = threading.Event()

    @property
    def listening(self) -> bool:
        return bool(self.listening_on)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 60) -> Self:
        # A restart waits for the new process, not the "listening" of the last one.
        self.listening_on = []
        self._started.clear()
        log = self.log.open("w")
        self._log_file = log
        command = [sys.executable, "-m", "cool.cmd.api", "--config-file", str(self.config)]
        setpriv = shutil.which("setpriv")
        if self.die_with_parent and setpriv is not None:
            command = [setpriv, "--pdeathsig", "KILL", *command]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # its own process group: stop() gets every worker
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout_s
        while not self.listening and self.process.poll() is None:
            if time.monotonic() > deadline:
                break
            self._started.wait(0.05)
        if not self.listening:
            self.stop()
            raise ApiStartError(f"{self.name} did not start:\n{self.log.read_text()[-4000:]}")
        return self

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("cool-api listening on"):
                self.listening_on.append(line.split(" on ", 1)[1].strip())
                self._started.set()

    def stop(self, *, timeout_s: float = 30) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):  # no worker outlives its master
            os.killpg(self.process.pid, signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self._log_file is not None:
            self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
