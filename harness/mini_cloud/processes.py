"""The mini cloud's processes: started so that they die with their starter, stopped together.

Each process runs in a session of its own (a terminal's Ctrl-C is for the
starter to handle; its group, gunicorn's master and worker, is signalled
whole) under ``setpriv --pdeathsig KILL``, as :mod:`harness.keystone.server` and
:mod:`harness.zookeeper` do: if the Python process that started the cloud
is killed, even with SIGKILL, the kernel kills every service with it (and
the services' own forked workers, through :mod:`harness.mini_cloud.forks`). The
signal follows the starting *thread*, so start a cloud from a thread that
lives as long as it (the main thread, in the fixture and the dev command).

Processes are :class:`harness.daemons.Daemon` records (pid and start
time), so that a pid the kernel has since reused is never signalled.
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from harness.daemons import Daemon, adopt
from harness.mini_cloud.errors import MiniCloudTimeoutError
from harness.zookeeper import HOST

_POLL_S = 0.1
_PROBE_TIMEOUT_S = 2.0


def spawn(
    name: str,
    command: Sequence[str | Path],
    *,
    log: Path,
    cwd: Path,
    env: Mapping[str, str],
) -> Daemon:
    """Start ``command`` in its own session, dying with this thread; stdout+stderr to ``log``."""
    argv = [str(arg) for arg in command]
    setpriv = shutil.which("setpriv")
    if setpriv is not None:
        argv = [setpriv, "--pdeathsig", "KILL", *argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return adopt(name, process.pid, log, reap=process.poll)


def stop_all(daemons: Iterable[Daemon], *, timeout_s: float) -> None:
    """SIGTERM every group at once, SIGKILL those still up after ``timeout_s``."""
    threads = [
        threading.Thread(target=daemon.stop, kwargs={"timeout_s": timeout_s}, name=daemon.name)
        for daemon in daemons
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def http_status(port: int, path: str = "/") -> int | None:
    """The status of ``GET path`` on 127.0.0.1, or None when nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=_PROBE_TIMEOUT_S)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_for(
    what: str,
    condition: Callable[[], bool],
    *,
    deadline: float,
    daemons: Sequence[Daemon] = (),
    log_tail: Callable[[], str] = lambda: "",
) -> None:
    """Poll ``condition`` until it holds; fail when ``deadline`` passes or a daemon dies.

    Every wait has a deadline: a gunicorn whose worker crashes keeps its port
    open, and an oslo service retries its broker forever.
    """
    while True:
        if condition():
            return
        for daemon in daemons:
            if not daemon.alive:
                raise MiniCloudTimeoutError(
                    f"{daemon.name} exited while waiting for {what}\n"
                    f"--- {daemon.log} ---\n{daemon.log_tail()}\n{log_tail()}"
                )
        if time.monotonic() >= deadline:
            raise MiniCloudTimeoutError(f"timed out waiting for {what}\n{log_tail()}")
        time.sleep(_POLL_S)
