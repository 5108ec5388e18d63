"""The README's run command from a clean state: ``./scripts/run.sh`` brings the whole
system up and the sample build completes; run again, it reuses what runs;
``./scripts/stop.sh`` leaves no process of it behind, and stops nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cool.local.daemons import Daemon

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def _daemons(directory: Path) -> dict[str, Daemon]:
    state = json.loads((directory / "state.json").read_text())
    return {n: Daemon.from_dict(d) for n, d in state.get("daemons", {}).items()}


def test_run_reuse_and_stop(tmp_path: Path) -> None:
    directory = tmp_path / "system"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OS_", "COOL_"))},
        "COOL_LOCAL_DIR": str(directory),
        "COOL_VENV": sys.prefix,
    }
    first = _run("run.sh", env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "started zookeeper" in first.stdout
    assert "| status  | CREATE_COMPLETE" in first.stdout
    assert "web_url: http://100.64." in first.stdout
    assert "16/16" in first.stderr
    assert f"source {directory}/env" in first.stdout
    assert f"Stop it: COOL_LOCAL_DIR={directory} {REPO}/scripts/stop.sh" in first.stdout
    daemons = _daemons(directory)
    assert sorted(daemons) == ["api", "worker-1", "worker-2", "zookeeper"]
    assert all(d.alive for d in daemons.values())

    again = _run("run.sh", env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "started" not in again.stdout
    for name in daemons:
        assert f"running {name} (reused)" in again.stdout
    assert _daemons(directory) == daemons  # the very same processes
    assert "| status  | CREATE_COMPLETE" in again.stdout  # a second sample build

    # something else that merely mentions the directory is not the stop command's
    bystander = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; time.sleep(120)", str(directory)]
    )
    try:
        stopped = _run("stop.sh", env)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert "stopped worker-1, worker-2, api, zookeeper" in stopped.stdout
        assert not any(d.alive for d in daemons.values())
        assert _processes_mentioning(str(directory)) == [bystander.pid]
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
    nothing = _run("stop.sh", env)
    assert nothing.returncode == 0
    assert "nothing was running" in nothing.stdout
