"""Builds on a real cloud, end to end: a project member's Keystone token at cool-api,
a trust to cool's service user, cool-worker processes on the openstack provider,
and real Neutron, Nova, Cinder and Glance (the mini cloud). Every test counts what
the project holds before and after: a delete or a rollback leaves it as it was.

The multi-tier example's build, outputs and delete on a real cloud are checked
through the README's run command (``run.sh --openstack``, which deploys cool as
these tests do): tests/harness/system/test_run_command.py."""

from __future__ import annotations

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.builds import crash_chain
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique

pytestmark = pytest.mark.openstack


# What the crash test builds: a server with a port, a volume and a floating IP, and
# what they need (a routed network).
SERVER_WITH_EVERYTHING = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.60.0.0/24}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: public}}
  link:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
  server:
    type: OS::Nova::Server
    properties: {image: cirros, flavor: m1.tiny, networks: [{port: {get_resource: port}}]}
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
  attach:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: server}, volume_id: {get_resource: vol}}
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: link
    properties: {floating_network: public, port_id: {get_resource: port}}
outputs:
  address: {value: {get_attr: [fip, floating_ip_address]}}
  first: {value: {get_attr: [server, first_address]}}
"""

ONE_SERVER = """
heat_template_version: 2021-04-16
parameters:
  image: {type: string, default: cirros}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.61.0.0/24}
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
  server:
    type: OS::Nova::Server
    depends_on: [subnet, vol]
    properties:
      image: {get_param: image}
      flavor: m1.tiny
      networks: [{network: {get_resource: net}}]
"""


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("image", "image 'no-such-image' not found"),
        ("quota", "quota 'instances' exceeded"),
    ],
)
def test_a_cloud_refusal_fails_the_build_with_a_note_and_rolls_back(
    cool: CoolOnCloud, project: Project, mini_cloud: MiniCloud, change: str, said: str
) -> None:
    cool.worker().start()
    before = project.counts()
    parameters = {}
    if change == "image":
        parameters["image"] = "no-such-image"
    else:
        mini_cloud.admin_connection().set_compute_quotas(project.project_id, instances=0)
    client = Client.of(cool, project)
    submitted = client.submit(ONE_SERVER, name=unique("fails"), parameters=parameters)
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "ROLLBACK_COMPLETE", build
    note = build["note"]
    assert note["resource"] == "server"
    assert note["type"] == "OS::Nova::Server"
    assert note["action"] == "CREATE"
    assert said in note["error"]
    project.settles_to(before)  # the network, subnet and volume made before: gone


def test_a_worker_killed_after_every_cloud_call_leaves_one_of_each(
    cool: CoolOnCloud, project: Project
) -> None:
    """Each worker of the chain makes one cloud call (or two) and is SIGKILLed as it
    starts the next; the next worker takes the build over, so a crash follows every
    call of the build. The cloud then holds exactly one of each
    resource (nothing created twice, nothing leaked), and a delete removes them all."""
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(SERVER_WITH_EVERYTHING, name=unique("crash"))
    crashes = crash_chain(cool, client, submitted["id"])
    build = client.build(submitted["id"])
    if build["status"] != "CREATE_COMPLETE":  # in the re-check: an ordinary worker ends it
        cool.worker().start()
        build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    resources = client.resources(submitted["id"])
    # Every resource takes two calls at least (a create, a look): one crash each, or more.
    assert crashes >= len(resources), f"{crashes} crashes: the chain missed steps"
    assert all(r["status"] == "CREATE_COMPLETE" for r in resources.values()), resources

    counts = project.counts()
    made = {k: counts[k] - before[k] for k in counts}
    # One server, volume, floating IP, network, subnet, router; ports: the server's, the
    # router's interface and the DHCP agent's none (agentless), the gateway's is not the
    # project's; key pairs and security groups: none in this template.
    assert made == {
        "servers": 1,
        "volumes": 1,
        "floating_ips": 1,
        "networks": 1,
        "subnets": 1,
        "routers": 1,
        "ports": 2,
        "security_groups": 0,
        "key_pairs": 0,
    }, made
    ids = {name: r["physical_id"] for name, r in resources.items()}
    assert project.conn.network.get_ip(ids["fip"]).port_id == ids["port"]
    volume = project.conn.block_storage.get_volume(ids["vol"])
    assert [a["server_id"] for a in volume.attachments] == [ids["server"]]

    cool.worker().start()
    client.delete(submitted["id"])
    deleted = client.wait_finished(
        submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
    )
    assert deleted["status"] == "DELETE_COMPLETE", deleted
    project.settles_to(before)
