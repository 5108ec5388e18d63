"""``cool-worker`` as a real subprocess, for tests that kill it: the harness's
:class:`harness.workers.WorkerProcess` with the tests' short session, polls and grace,
so a test waits on the worker less."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import workers

SIGNAL_ENDPOINT = "http://cool-api.example:8004"  # what handles' endpoints start with
FAST_WORKER = {"poll_interval": 0.02, "claim_grace": 0.2, "stop_timeout": 20, "parallelism": 4}


class WorkerProcess(workers.WorkerProcess):
    """The harness's worker with the tests' defaults (nothing else differs)."""

    def __init__(
        self, directory: Path, hosts: str, sim_db: Path, *, name: str, **options: Any
    ) -> None:
        options.setdefault("session_timeout_s", 2.0)
        options.setdefault("worker", FAST_WORKER)
        options.setdefault("signal_endpoint", SIGNAL_ENDPOINT)
        super().__init__(directory, hosts, sim_db, name=name, **options)
