"""The README's run command from a clean state: ``./scripts/run.sh`` brings the whole
system up and the sample build completes; run again, it reuses what runs;
``./scripts/stop.sh`` leaves no process of it behind, and stops nothing else.
``./scripts/run.sh --openstack`` does the same on the real mini cloud."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openstack
import openstack.config
import openstack.connection
import pytest

from harness.daemons import Daemon
from harness.mini_cloud.cloud import project_counts
from harness.system.local import CLOUD
from tests.openstack.helpers import settles_to

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


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


def _env(directory: Path, **extra: str) -> dict[str, str]:
    """A newcomer's environment: no cloud of theirs, no setting of cool's but the
    system's directory, this venv, and the OpenStack venv's place if one is given."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "COOL_"))}
    venv = {k: v for k, v in os.environ.items() if k == "COOL_OPENSTACK_VENV"}
    return {**kept, **venv, "COOL_LOCAL_DIR": str(directory), "COOL_VENV": sys.prefix, **extra}


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
    env = _env(directory, COOL_SIM_LATENCY="0.3")  # not the 1.5 s that makes it watchable
    try:
        _run_twice(directory, env)
    except BaseException:
        _run("stop.sh", env)  # a failure leaves no system running (it outlives its starter)
        raise
    daemons = _daemons(directory)

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


def _run_twice(directory: Path, env: dict[str, str]) -> None:
    """run.sh starts the system and shows a sample build; run again, it reuses it."""
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
def test_run_on_openstack_builds_the_example_for_real_and_stop_leaves_nothing(
    tmp_path: Path,
) -> None:
    """``run.sh --openstack``, as an operator deploys cool: cool-api with Keystone
    auth, its service user holding only ``service``, a trust per build, workers on the
    openstack provider. The multi-tier example builds on the real mini cloud with the
    right outputs (the web server's address on its subnet, its floating IP associated
    with its port, its volume in-use on it); delete leaves the project as it was but
    for the Retain volume; stop leaves no process behind, the cloud's included. (A
    cloud that died alone is started again, and the rest moved to it, by the next
    run: not tested here, for the 45 s a second cloud start takes.)"""
    directory = tmp_path / "system"
    env = _env(directory)
    try:
        first = _run("run.sh", env, "--openstack")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "started cloud" in first.stdout
        assert "| status  | CREATE_COMPLETE" in first.stdout
        assert "16/16" in first.stderr
        assert "on the openstack provider" in first.stdout
        assert f"source {directory}/env" in first.stdout
        daemons = _daemons(directory)
        assert sorted(daemons) == ["api", "cloud", "worker-1", "worker-2", "zookeeper"]
        conn = _connect(directory / "clouds.yaml", CLOUD)
        admin = _connect(directory / "cloud" / "clouds.yaml", "mini-admin")
        try:
            _check_multi_tier(conn, admin, _cli(directory, env))
        finally:
            conn.close()
            admin.close()
    finally:
        stopped = _run("stop.sh", env)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped worker-1, worker-2, api, zookeeper, cloud" in stopped.stdout
    assert _processes_mentioning(str(directory)) == []


def _check_multi_tier(
    conn: openstack.connection.Connection,
    admin: openstack.connection.Connection,
    cool: Callable[..., str],
) -> None:
    """The sample build, as the cloud holds it, as cool-api tells it; then its delete."""
    # cool-api through the catalog, as the member (what the CLI does too)
    api = conn.session.get_endpoint(service_type="orchestration-cool", interface="public")

    def get(path: str) -> Any:
        return conn.session.get(api + path).json()

    (listed,) = get("/v1/builds")["builds"]
    build = get(f"/v1/builds/{listed['id']}")["build"]
    # the same build as a stack of Heat's API, which the catalog names too (openstack stack list)
    assert [stack.id for stack in conn.orchestration.stacks()] == [build["id"]]
    resources = {r["name"]: r for r in get(f"/v1/builds/{build['id']}/resources")["resources"]}
    ids = {name: r["physical_id"] for name, r in resources.items()}
    # its trust: from the member to cool's service user, which holds no role on it
    (trust,) = admin.identity.trusts(trustor_user_id=conn.current_user_id)
    assert trust.project_id == conn.current_project_id
    assert trust.trustee_user_id == admin.identity.find_user("cool").id
    assert trust.is_impersonation

    outputs = {name: output["value"] for name, output in build["outputs"].items()}
    web_ip = outputs["web_url"].removeprefix("http://").rstrip("/")
    assert ipaddress.ip_address(web_ip) in ipaddress.ip_network("172.24.4.0/24")  # public
    web_fip = conn.network.get_ip(ids["web_floating_ip"])
    assert web_fip.floating_ip_address == web_ip
    assert web_fip.port_id == ids["web_port"]  # associated with the web server's port
    assert outputs["db_address"] == conn.network.get_ip(ids["db_floating_ip"]).floating_ip_address
    web = conn.compute.get_server(ids["web"])
    assert web.status == "ACTIVE"
    assert web.metadata["cool-build"] == build["id"]
    first = resources["web"]["attributes"]["first_address"]
    assert ipaddress.ip_address(first) in ipaddress.ip_network("10.10.0.0/24")
    assert resources["db"]["attributes"]["first_address"] != first
    addresses = [a["addr"] for entries in web.addresses.values() for a in entries]
    assert web_ip in addresses  # Neutron told Nova about the floating IP
    volume = conn.block_storage.get_volume(ids["web_volume"])
    assert volume.status == "in-use"
    assert [a["server_id"] for a in volume.attachments] == [ids["web"]]
    assert web.key_name == f"{build['id']}-key"  # the build's name: its id

    cool("delete", build["id"], "--wait")
    # deletion_policy: Retain kept the database's volume, and only that
    kept = conn.block_storage.get_volume(ids["db_volume"])
    assert kept.status == "available"
    project_id = conn.current_project_id
    empty = dict.fromkeys(project_counts(conn, project_id), 0)
    settles_to(conn, project_id, {**empty, "volumes": 1})
    conn.block_storage.delete_volume(kept)
    settles_to(conn, project_id, empty)
