"""Processes that outlive the command that starts them, found again by a later one.

Each runs in a session of its own (so a terminal's Ctrl-C is not for it, and
its whole process group can be signalled: gunicorn's master and workers),
logs to a file (appended to across restarts, so the log of one that died
stays; rotated by size at a start), and is recorded as its pid *and* its start time in
``/proc/<pid>/stat``: a recorded pid that the kernel has since given to
another process is never signalled.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

_POLL_S = 0.05
# A log past this size at a start is moved to <log>.1 (.1 to .2, ...), keeping a few.
MAX_LOG_BYTES = 10 * 1024 * 1024
KEEP_LOGS = 3
# The line spawn writes before a process's first: where this run's log begins.
_START_MARK = "--- cool-local: "
# Children this process started: pid -> how to reap it (Popen.poll: None until it
# is reaped), so that none is left a zombie and Popen does not warn, when
# collected, that it still runs.
_CHILDREN: dict[int, Callable[[], object]] = {}


@dataclass(frozen=True)
class Daemon:
    name: str
    pid: int
    started: int  # clock ticks after boot (/proc/<pid>/stat field 22)
    log: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Daemon:
        return cls(str(data["name"]), int(data["pid"]), int(data["started"]), str(data["log"]))

    @property
    def alive(self) -> bool:
        """Running, and still the process we started (not a reused pid, not a zombie)."""
        stat = _stat(self.pid)
        if stat is None or stat[1] != self.started:
            return False
        if stat[0] == "Z":  # dead: reap it if it is our child
            reap = _CHILDREN.get(self.pid)
            if reap is None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(self.pid, os.WNOHANG)
            # A thread group's leader is a zombie before its last thread has gone,
            # and cannot be reaped until then: keep the reaper for the next look.
            elif reap() is not None:
                _CHILDREN.pop(self.pid, None)
            return False
        return True

    def log_tail(self, size: int = 4000) -> str:
        """The end of this run's log (earlier runs' lines are above its start line)."""
        try:
            with Path(self.log).open("rb") as log:
                log.seek(max(log.seek(0, os.SEEK_END) - size, 0))
                tail = log.read().decode(errors="replace")
        except OSError:
            return ""
        start = tail.rfind(_START_MARK)
        return tail if start < 0 else tail[tail.find("\n", start) + 1 :]

    def stop(self, *, timeout_s: float) -> bool:
        """SIGTERM to its group, SIGKILL after ``timeout_s``; whether it was running."""
        if not self.alive:
            return False
        self._signal(signal.SIGTERM)
        if not wait_until(self._exited, timeout_s):
            self._signal(signal.SIGKILL)
            wait_until(self._exited, 10.0)
        # gunicorn's workers leave with their master; any straggler goes now, while
        # the leader's pid (a zombie until reaped) still names our group and no other
        self._signal(signal.SIGKILL)
        self._reaped()
        return True

    def kill(self) -> None:
        """SIGKILL, as a crash: only the process itself, not its group."""
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
            wait_until(lambda: not self.alive, 10.0)
            self._reaped()

    def pause(self) -> None:
        """SIGSTOP to its group: it holds whatever state it left until :meth:`resume`."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _reaped(self) -> None:
        """A child of ours is reaped once its last thread is gone (a moment after)."""
        reap = _CHILDREN.get(self.pid)
        if reap is not None and wait_until(lambda: reap() is not None, 10.0):
            _CHILDREN.pop(self.pid, None)

    def _exited(self) -> bool:
        """Dead, reaped or not; unlike :attr:`alive`, this never reaps."""
        stat = _stat(self.pid)
        return stat is None or stat[1] != self.started or stat[0] == "Z"

    def _signal(self, signum: signal.Signals) -> None:
        """To the whole group, but only while the leader's pid is still ours: once it
        is reaped the kernel may give it (and so the group id) to another process."""
        stat = _stat(self.pid)
        if stat is None or stat[1] != self.started:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, start time) of a process, None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def spawn(
    name: str,
    command: Sequence[str],
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    max_log_bytes: int = MAX_LOG_BYTES,
    keep_logs: int = KEEP_LOGS,
) -> Daemon:
    """Start ``command`` in a session of its own, appending to ``log`` after a start line."""
    log.parent.mkdir(parents=True, exist_ok=True)
    _rotate(log, max_log_bytes, keep_logs)
    with log.open("ab") as out:
        now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        out.write(f"{_START_MARK}{name} starting at {now}\n".encode())
        out.flush()
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**_inherited(), "PYTHONUNBUFFERED": "1", **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    return adopt(name, process.pid, log, reap=process.poll)


def _rotate(log: Path, max_bytes: int, keep: int) -> None:
    """As logging's RotatingFileHandler rolls over (its own code), but only at a start:
    a running process keeps writing to the file it opened."""
    with contextlib.suppress(FileNotFoundError):
        if log.stat().st_size >= max_bytes:
            handler = RotatingFileHandler(log, maxBytes=max_bytes, backupCount=keep, delay=True)
            try:
                handler.doRollover()
            finally:
                handler.close()


def _inherited() -> dict[str, str]:
    """The caller's environment without its OpenStack credentials (OS_PASSWORD...):
    long-lived daemons need none of them."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OS_")}


def adopt(name: str, pid: int, log: Path, *, reap: Callable[[], object] | None = None) -> Daemon:
    """Record a running process; ``reap`` collects its exit status once it is dead
    (for a child of this process): None until it has."""
    stat = _stat(pid)
    if stat is None:
        raise ProcessLookupError(f"{name} (pid {pid}) is not running")
    if reap is not None:
        _CHILDREN[pid] = reap
    return Daemon(name, pid, stat[1], str(log))


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Whether ``condition`` came true within ``timeout_s``, checked every 50 ms."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True
