"""Cinder's volume types and Nova's host aggregates on the mini cloud, end to end
(cool-api, a trust, cool-worker processes on the openstack provider): the two corpus
templates that use them build as Heat's examples are written; an admin's build of them
all under a worker SIGKILLed after every cloud call leaves one of each, an encrypted
volume among them, and its delete leaves the cloud as it was; a member's build fails
with the cloud's 403 in the note."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from harness.mini_cloud.cloud import MiniCloud
from harness.mini_cloud.config import COMPUTE_HOST
from tests.openstack.builds import built_through_crashes, delete_completes, fails_and_rolls_back
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique

pytestmark = pytest.mark.openstack

CORPUS = Path(__file__).parents[1] / "data" / "heat-templates" / "hot"

# A private volume type with extra specs and a project's access, its encryption, an
# encrypted volume of it attached to a server, and an aggregate holding the compute host.
EVERY_TYPE = """
heat_template_version: 2021-04-16
resources:
  vtype:
    type: OS::Cinder::VolumeType
    properties:
      name: $TYPE
      description: encrypted disks
      metadata: {volume_backend_name: fake}
      is_public: false
      projects: [$PROJECT]
  encryption:
    type: OS::Cinder::EncryptedVolumeType
    properties:
      volume_type: {get_resource: vtype}
      provider: luks
      cipher: aes-xts-plain64
      key_size: 256
  volume:
    type: OS::Cinder::Volume
    properties: {size: 1, volume_type: {get_resource: encryption}}
  aggregate:
    type: OS::Nova::HostAggregate
    properties:
      name: $AGGREGATE
      hosts: [$HOST]
      metadata: {ssd: "true"}
outputs:
  encrypted: {value: {get_attr: [volume, encrypted]}}
  hosts: {value: {get_attr: [aggregate, show, hosts]}}
"""

ONE_VOLUME_TYPE = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  vtype:
    type: OS::Cinder::VolumeType
    depends_on: net
    properties: {name: gold}
"""

ONE_AGGREGATE = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  aggregate:
    type: OS::Nova::HostAggregate
    depends_on: net
    properties: {name: rack}
"""


def _cloud_wide(admin: Project) -> dict[str, set[str]]:
    """The cloud's volume types and aggregates (neither belongs to a project)."""
    return {
        "types": {str(t.id) for t in admin.conn.block_storage.types(is_public="None")},
        "aggregates": {str(a.id) for a in admin.conn.compute.aggregates()},
    }


def test_the_corpus_templates_build_as_heat_writes_them(
    cool: CoolOnCloud, admin: Project, mini_cloud: MiniCloud
) -> None:
    """hot/server_with_encrpyted_volume.yaml (an encrypted volume attached to a server)
    and hot/nova/host_aggregate.yaml, unchanged; their deletes leave the cloud as it was."""
    before, held = _cloud_wide(admin), admin.counts()
    client = Client.of(cool, admin)
    key = admin.conn.compute.create_keypair(name=unique("key"))
    # The server names no network: Nova's "auto" takes the project's only one.
    net = admin.conn.network.create_network(name=unique("net"))
    admin.conn.network.create_subnet(network_id=net.id, cidr="10.64.0.0/24", ip_version=4)
    cool.worker().start()
    encrypted = client.submit(
        (CORPUS / "server_with_encrpyted_volume.yaml").read_text(),
        parameters={
            "key_name": key.name,
            "image_id": mini_cloud.image_name,
            "instance_type": mini_cloud.flavor_name,
            "volume_type_name": unique("encrypted"),
        },
        name=unique("encrypted"),
    )
    built = client.wait_finished(encrypted["id"], timeout_s=300)
    assert built["status"] == "CREATE_COMPLETE", built.get("note")
    ids = {name: r["physical_id"] for name, r in client.resources(encrypted["id"]).items()}
    volume = admin.conn.block_storage.get_volume(ids["cinder_volume"])
    assert volume.is_encrypted is True
    assert [a["server_id"] for a in volume.attachments] == [ids["nova_instance"]]
    delete_completes(cool, client, encrypted["id"], start_worker=False)
    # Only now: an aggregate with a zone of its own takes the one compute host out of
    # Nova's default zone, "nova", which the corpus's server asks for, and Nova moves no
    # host that runs a server to another zone.
    zone = unique("az")
    aggregate = client.submit(
        (CORPUS / "nova" / "host_aggregate.yaml").read_text(),
        parameters={
            "host_aggregate_name": unique("rack"),
            "availability_zone_name": zone,
            "hosts": COMPUTE_HOST,
            "metadata": {"ssd": "true"},
        },
        name=unique("aggregate"),
    )
    built = client.wait_finished(aggregate["id"])
    assert built["status"] == "CREATE_COMPLETE", built.get("note")
    made = admin.conn.compute.get_aggregate(built["outputs"]["sample_host_aggregate_id"]["value"])
    assert (made.hosts, made.availability_zone) == ([COMPUTE_HOST], zone)

    delete_completes(cool, client, aggregate["id"], start_worker=False)
    admin.conn.compute.delete_keypair(key)
    admin.conn.network.delete_network(net)
    assert _cloud_wide(admin) == before
    admin.settles_to(held)


def test_volume_types_and_an_aggregate_survive_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, admin: Project, project: Project
) -> None:
    before, held = _cloud_wide(admin), admin.counts()
    client = Client.of(cool, admin)
    names = {"type_name": unique("secret"), "aggregate_name": unique("rack")}
    template = string.Template(EVERY_TYPE).substitute(
        TYPE=names["type_name"],
        AGGREGATE=names["aggregate_name"],
        PROJECT=project.project_name,
        HOST=COMPUTE_HOST,
    )
    build, resources = built_through_crashes(cool, client, template)
    ids = {name: r["physical_id"] for name, r in resources.items()}

    after = _cloud_wide(admin)
    assert len(after["types"] - before["types"]) == 1  # one of each: no duplicate
    assert len(after["aggregates"] - before["aggregates"]) == 1
    storage, compute = admin.conn.block_storage, admin.conn.compute
    vtype = storage.get_type(ids["vtype"])
    assert (vtype.name, vtype.is_public) == (names["type_name"], False)
    assert vtype.extra_specs == {"volume_backend_name": "fake"}
    access = [a["project_id"] for a in storage.get_type_access(vtype)]
    assert access == [project.project_id]
    assert ids["encryption"] == ids["vtype"]
    assert storage.get_type_encryption(vtype).cipher == "aes-xts-plain64"
    assert build["outputs"]["encrypted"]["value"] is True
    aggregate = compute.get_aggregate(ids["aggregate"])
    assert (aggregate.name, aggregate.hosts) == (names["aggregate_name"], [COMPUTE_HOST])
    assert aggregate.metadata["ssd"] == "true"
    assert build["outputs"]["hosts"]["value"] == [COMPUTE_HOST]

    delete_completes(cool, client, build["id"])
    assert _cloud_wide(admin) == before
    admin.settles_to(held)


@pytest.mark.parametrize(
    ("template", "resource", "resource_type", "words"),
    [
        (ONE_VOLUME_TYPE, "vtype", "OS::Cinder::VolumeType", "volume_extension:type_create"),
        (ONE_AGGREGATE, "aggregate", "OS::Nova::HostAggregate", "os-aggregates:create"),
    ],
    ids=["cinder-volume-type", "nova-aggregate"],
)
def test_a_members_admin_type_fails_the_build_with_the_clouds_403(
    cool: CoolOnCloud,
    project: Project,
    template: str,
    resource: str,
    resource_type: str,
    words: str,
) -> None:
    before = project.counts()
    client = Client.of(cool, project)
    error = fails_and_rolls_back(cool, client, template, resource, resource_type)
    assert "(HTTP 403)" in error
    assert words in error
    project.settles_to(before)  # the network made beside it: gone
