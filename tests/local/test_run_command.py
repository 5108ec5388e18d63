"""The README's run command from a clean state: ``./scripts/run.sh`` brings the whole
system up and the sample build completes; run again, it reuses what runs;
``./scripts/stop.sh`` leaves no process of it behind, and stops nothing else.
``./scripts/run.sh --openstack`` does the same on the real mini cloud."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openstack
import openstack.config
import openstack.connection
import pytest

from cool.local.daemons import Daemon
from cool.local.mini_cloud import project_counts
from cool.local.system import CLOUD
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO / "scripts" / script), *args],
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


def _connect(clouds_yaml: Path, cloud: str) -> openstack.connection.Connection:
    config = openstack.config.OpenStackConfig(config_files=[str(clouds_yaml)])
    return openstack.connection.Connection(config=config.get_one(cloud))


def _cli(directory: Path, env: dict[str, str]) -> Callable[..., str]:
    """The ``cool`` CLI as the system's guide has a user run it (``source DIR/env``)."""
    cli_env = {**env, "OS_CLIENT_CONFIG_FILE": str(directory / "clouds.yaml"), "OS_CLOUD": CLOUD}

    def cool(*args: str) -> str:
        done = subprocess.run(
            [str(Path(sys.prefix) / "bin" / "cool"), *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"cool {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    return cool


@pytest.mark.openstack
def test_run_on_openstack_and_stop(tmp_path: Path) -> None:
    """``run.sh --openstack``: the sample build on the real mini cloud through Keystone
    and a trust, and its delete leaving the project as it was (but the Retain volume);
    stop leaves no process of it behind, the cloud's included. (A cloud that died
    alone is started again, and the rest moved to it, by the next run: not tested
    here, for the 45 s a second cloud takes to start.)"""
    directory = tmp_path / "system"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OS_", "COOL_"))},
        "COOL_LOCAL_DIR": str(directory),
        "COOL_VENV": sys.prefix,
        **{k: v for k, v in os.environ.items() if k == "COOL_OPENSTACK_VENV"},
    }
    try:
        first = _run("run.sh", env, "--openstack")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "started cloud" in first.stdout
        assert "| status  | CREATE_COMPLETE" in first.stdout
        assert "web_url: http://172.24.4." in first.stdout  # the public network's pool
        assert "16/16" in first.stderr
        assert "on the openstack provider" in first.stdout
        assert f"source {directory}/env" in first.stdout
        daemons = _daemons(directory)
        assert sorted(daemons) == ["api", "cloud", "worker-1", "worker-2", "zookeeper"]

        cool = _cli(directory, env)
        (build,) = json.loads(cool("list", "-f", "json"))
        conn = _connect(directory / "clouds.yaml", CLOUD)
        admin = _connect(directory / "cloud" / "clouds.yaml", "mini-admin")
        try:
            (server,) = [s for s in conn.compute.servers() if s.name.endswith("web")]
            assert server.status == "ACTIVE"
            assert server.metadata["cool-build"] == build["ID"]
            # the build's trust: from the user to cool's service user, which holds
            # no role on the project
            (trust,) = admin.identity.trusts(trustor_user_id=conn.current_user_id)
            assert trust.project_id == conn.current_project_id
            assert trust.trustee_user_id == admin.identity.find_user("cool").id
            cool("delete", build["ID"], "--wait")
            counts = project_counts(conn, conn.current_project_id)
            left = {**dict.fromkeys(counts, 0), "volumes": 1}  # db_volume: Retain
            assert_eventually(  # Nova forgets a DELETED server a moment after it says so
                lambda: project_counts(conn, conn.current_project_id) == left,
                timeout_s=60,
                interval_s=0.5,
                message=f"the project holds {left}",
            )
        finally:
            conn.close()
            admin.close()
    finally:
        stopped = _run("stop.sh", env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped worker-1, worker-2, api, zookeeper, cloud" in stopped.stdout
    assert _processes_mentioning(str(directory)) == []
