"""Heat's own scaling example (hot/asg_of_servers.yaml) on the mini cloud: built, then
scaled up by POSTing its scale_up_url with curl (nothing else: no user, no token but the
URL's), each server in Nova once; a second signal inside the template's 60-second
cooldown does nothing; the delete leaves no server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique

pytestmark = pytest.mark.openstack

EXAMPLE = Path(__file__).parents[1] / "data/heat-templates/hot/asg_of_servers.yaml"


def _curl_post(url: str) -> dict[str, object]:
    """What an alarm does: a POST to the URL, no body, no headers."""
    ran = subprocess.run(
        ["curl", "-sS", "-X", "POST", "-w", "\n%{http_code}", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    body, _, code = ran.stdout.rpartition("\n")
    assert code == "200", ran.stdout
    return dict(json.loads(body))


def test_heats_scaling_example_scales_up_with_curl_and_cools_down(
    cool: CoolOnCloud, mini_cloud: MiniCloud
) -> None:
    assert shutil.which("curl"), "curl plays the alarm"
    project = Project.create(mini_cloud)
    keypair = project.conn.compute.create_keypair(name=unique("key"))
    network = project.conn.network.create_network(name=unique("net"))
    project.conn.network.create_subnet(
        network_id=network.id, cidr="10.71.0.0/24", ip_version=4, name=unique("subnet")
    )
    before = project.counts()  # the network is the project's own: it stays
    client = Client.of(cool, project)
    cool.worker().start()
    submitted = client.submit(
        EXAMPLE.read_text(),
        parameters={
            "image": mini_cloud.image_name,
            "key_name": keypair.name,
            "flavor": mini_cloud.flavor_name,
            "network": network.name,
        },
        name=unique("asg"),
    )
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", (build["reason"], build.get("note"))
    outputs = {name: entry["value"] for name, entry in build["outputs"].items()}
    assert outputs["asg_size"] == 3
    servers = {s.id for s in project.conn.compute.servers()}
    assert len(servers) == 3

    grown = _curl_post(str(outputs["scale_up_url"]))
    assert grown["resized"] is True, grown
    assert grown["reason"] == "scale_up_policy: resizing asg from 3 to 4 (change_in_capacity : 1)"
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "UPDATE_COMPLETE", (build["reason"], build.get("note"))
    outputs = {name: entry["value"] for name, entry in build["outputs"].items()}
    assert outputs["asg_size"] == 4
    assert len(outputs["server_list"]) == 4
    after = {s.id for s in project.conn.compute.servers()}
    assert servers < after  # the three kept, one new: none twice
    assert len(after) == 4
    listed = client.http.get(
        f"{client.url}/v1/builds/{submitted['id']}/resources?nested=true", timeout=30
    ).json()["resources"]
    members = {r["name"]: r["physical_id"] for r in listed if r["parent"] == "asg"}
    assert sorted(members) == ["asg/0", "asg/1", "asg/2", "asg/3"]
    assert set(members.values()) == after

    # The example's policies have a 60 s cooldown, which began when the resize ended.
    cooling = _curl_post(str(outputs["scale_dn_url"]))
    assert cooling["resized"] is False
    assert "cooldown" in str(cooling["reason"])
    assert client.build(submitted["id"])["status"] == "UPDATE_COMPLETE"

    client.delete(submitted["id"])
    assert client.wait_finished(submitted["id"])["status"] == "DELETE_COMPLETE"
    # Nova forgets a DELETED server a moment after it says so.
    project.settles_to(before)
    # The build is gone: its URL opens nothing any more.
    ran = subprocess.run(
        [
            "curl",
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            outputs["scale_up_url"],
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.stdout == "404"
