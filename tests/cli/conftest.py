"""The CLI against the local system of the README's run command (harness.system.local):
a real ZooKeeper, a real gunicorn cool-api (http_basic) and two real cool-workers
on the sim, shared by the CLI tests of a session."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from cool.cli.app import CoolApp
from harness.system.local import LocalSystem

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@dataclass(frozen=True)
class Result:
    rc: int
    out: str
    err: str


@pytest.fixture(scope="session")
def local_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    system = LocalSystem(tmp_path_factory.mktemp("local-system"), sim_latency_s=0.1)
    with system:
        yield system


@pytest.fixture
def system(local_system: LocalSystem) -> LocalSystem:
    """The shared system, with every worker running (a test may have killed one)."""
    local_system.up()
    return local_system


@pytest.fixture
def cool(system: LocalSystem, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``cool(*args)`` in this process, as the CLI user of the local system."""
    for key, value in system.environment().items():
        monkeypatch.setenv(key, value)
    for key in ("COOL_URL", "OS_AUTH_URL", "OS_AUTH_TYPE"):
        monkeypatch.delenv(key, raising=False)
    return run_cool


def run_cool(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    rc = CoolApp(argv, stdout=out, stderr=err).run(argv)
    return Result(rc, out.getvalue(), err.getvalue())


def cool_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cool.cli.app", *map(str, args)]


def cool_env(system: LocalSystem, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "COOL_"))}
    return {**env, **system.environment(), **(extra or {})}


def run_cool_process(system: LocalSystem, *args: str, timeout_s: float = 120) -> Result:
    """``cool`` as its own process: exit codes as a shell sees them."""
    done = subprocess.run(
        cool_command(*args),
        env=cool_env(system),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        cwd=REPO,
    )
    return Result(done.returncode, done.stdout, done.stderr)
