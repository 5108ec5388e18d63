"""Heat's own wait condition example (hot/native_waitcondition.yaml) built on the mini
cloud: the test plays the server, reading the user_data cool gave Nova back from Nova's
API and running it (real curl to the real cool-api, with the handle's token alone)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique
from tests.zk import assert_eventually

pytestmark = pytest.mark.openstack

EXAMPLE = Path(__file__).parents[1] / "data/heat-templates/hot/native_waitcondition.yaml"


def _user_data(cloud: MiniCloud, server_id: str) -> str:
    """What Nova holds for the server (an admin reads it, microversion 2.3 and later)."""
    session = cloud.admin().session()
    answer = session.get(
        f"/servers/{server_id}",
        endpoint_filter={"service_type": "compute", "interface": "public"},
        headers={"OpenStack-API-Version": "compute 2.3"},
    )
    assert answer.status_code == 200, answer.text
    encoded = answer.json()["server"]["OS-EXT-SRV-ATTR:user_data"]
    return base64.b64decode(encoded).decode()


def test_heats_wait_condition_example_builds_with_a_process_playing_the_server(
    cool: CoolOnCloud, mini_cloud: MiniCloud
) -> None:
    assert shutil.which("curl"), "curl runs the example's signals"
    project = Project.create(mini_cloud)
    keypair = project.conn.compute.create_keypair(name=unique("key"))
    # The example names no network: Nova's "auto" takes the project's only one.
    network = project.conn.network.create_network(name=unique("net"))
    project.conn.network.create_subnet(
        network_id=network.id, cidr="10.70.0.0/24", ip_version=4, name=unique("subnet")
    )
    client = Client.of(cool, project)
    cool.worker().start()
    submitted = client.submit(
        EXAMPLE.read_text(),
        parameters={"image": mini_cloud.image_name, "key_name": keypair.name, "timeout": 120},
        name=unique("wait"),
    )

    def server_created() -> str | None:
        server = client.resources(submitted["id"])["instance1"]
        build = client.build(submitted["id"])
        assert build["status"] == "CREATE_IN_PROGRESS", build.get("note")
        return server["physical_id"] if server["status"] == "CREATE_COMPLETE" else None

    server_id = assert_eventually(server_created, timeout_s=240, message="the server is up")
    script = _user_data(mini_cloud, server_id)
    assert script.startswith("#!/bin/sh\n")
    assert cool.api is not None
    assert f"{cool.api.url}/v1/signals/{submitted['id']}/wait_handle" in script
    ran = subprocess.run(
        ["sh", "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    # The first five complete the wait condition (count 5); the sixth repeats id 5
    # and races the build's end: taken while it is being created, else the 404 of a
    # handle whose build is finished (its token opens nothing any more).
    answers = re.findall(r"HTTP/1\.1 (\d{3}) ", ran.stdout)
    assert answers[:5] == ["200"] * 5, ran.stdout
    assert answers[5:] in (["200"], ["404"]), ran.stdout
    if answers[5] == "404":
        assert "its build is not being created" in ran.stdout

    build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    data = json.loads(build["outputs"]["wc_data"]["value"])
    # Six signals, five ids: the two with id 5 are one, as the example says.
    assert data == {"1": None, "2": None, "3": "data3", "4": "data4", "5": None}
    # The build is finished: the server's token opens nothing any more.
    again = subprocess.run(
        ["sh", "-c", script], check=False, capture_output=True, text=True, timeout=60
    )
    assert "HTTP/1.1 404" in again.stdout
    client.delete(submitted["id"])
    assert client.wait_finished(submitted["id"])["status"] == "DELETE_COMPLETE"
