"""Builds of Nova's server groups, flavors and floating IP associations on the mini
cloud, end to end (cool-api, a trust, cool-worker processes): an admin's build under
a worker SIGKILLed after every cloud call leaves one of each and its delete leaves the
project as it was; a member's flavor fails with Nova's 403 in the note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.cool_on_cloud import Client, CoolOnCloud, cool_on
from tests.openstack.helpers import Project, unique
from tests.openstack.test_builds import _crash_chain

pytestmark = pytest.mark.openstack

# A server in an anti-affinity group, on a private flavor of the build, reached by a
# floating IP that OS::Nova::FloatingIPAssociation puts on its first port.
GROUPED_SERVER = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.62.0.0/24}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: public}}
  link:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  group:
    type: OS::Nova::ServerGroup
    properties: {name: web, policies: [anti-affinity]}
  flavor:
    type: OS::Nova::Flavor
    properties:
      ram: 128
      vcpus: 1
      disk: 1
      is_public: false
      extra_specs: {"hw:cpu_policy": shared}
  server:
    type: OS::Nova::Server
    depends_on: subnet
    properties:
      image: cirros
      flavor: {get_resource: flavor}
      networks: [{network: {get_resource: net}}]
      scheduler_hints: {group: {get_resource: group}}
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: link
    properties: {floating_network: public}
  assoc:
    type: OS::Nova::FloatingIPAssociation
    properties: {floating_ip: {get_resource: fip}, server_id: {get_resource: server}}
outputs:
  specs: {value: {get_attr: [flavor, extra_specs]}}
"""

ONE_FLAVOR = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  flavor:
    type: OS::Nova::Flavor
    depends_on: net
    properties: {ram: 128, vcpus: 1}
"""


@pytest.fixture
def cool(mini_cloud: MiniCloud, tmp_path: Path, zk_hosts: str) -> Iterator[CoolOnCloud]:
    with cool_on(mini_cloud, tmp_path, zk_hosts) as cool:
        yield cool


def test_a_members_flavor_fails_the_build_with_novas_403_and_rolls_back(
    cool: CoolOnCloud, mini_cloud: MiniCloud
) -> None:
    project = Project.create(mini_cloud)
    cool.worker().start()
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(ONE_FLAVOR, name=unique("flavor"))
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "ROLLBACK_COMPLETE", build
    note = build["note"]
    assert (note["resource"], note["type"], note["action"]) == (
        "flavor",
        "OS::Nova::Flavor",
        "CREATE",
    )
    assert "(HTTP 403)" in note["error"]
    assert "os_compute_api:os-flavor-manage:create" in note["error"]
    project.settles_to(before)


def test_an_admins_grouped_server_survives_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, mini_cloud: MiniCloud
) -> None:
    project = Project.create(mini_cloud, "adm", admin=True)
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(GROUPED_SERVER, name=unique("grouped"))
    crashes = _crash_chain(cool, client, submitted["id"])
    build = client.build(submitted["id"])
    if build["status"] != "CREATE_COMPLETE":  # the chain ran out: an ordinary worker ends it
        cool.worker().start()
        build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    resources = client.resources(submitted["id"])
    assert crashes >= len(resources), f"{crashes} crashes: the chain missed steps"
    ids = {name: r["physical_id"] for name, r in resources.items()}

    # One of each: one group holding the server, one flavor of the build, the floating
    # IP on the server's only port.
    [group] = list(project.conn.compute.server_groups())
    assert group.id == ids["group"]
    assert group.member_ids == [ids["server"]]
    assert build["outputs"]["specs"]["value"] == {"hw:cpu_policy": "shared"}
    flavors = project.conn.compute.flavors(is_public=None)
    [flavor] = [f for f in flavors if f.id == ids["flavor"]]
    assert "cool-resource=flavor" in flavor.description
    assert project.conn.compute.get_server(ids["server"]).flavor["original_name"] == flavor.name
    access = project.conn.compute.get_flavor_access(flavor)
    assert [a["tenant_id"] for a in access] == [project.project_id]
    [port] = list(project.conn.network.ports(device_id=ids["server"]))
    fip = project.conn.network.get_ip(ids["fip"])
    assert fip.port_id == port.id
    assert ids["assoc"] == f"{ids['fip']}:{ids['server']}"
    counts = project.counts()
    assert counts["servers"] - before["servers"] == 1
    assert counts["floating_ips"] - before["floating_ips"] == 1

    cool.worker().start()
    client.delete(submitted["id"])
    deleted = client.wait_finished(
        submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
    )
    assert deleted["status"] == "DELETE_COMPLETE", deleted
    project.settles_to(before)
    assert list(project.conn.compute.server_groups()) == []
    assert project.conn.compute.find_flavor(ids["flavor"], ignore_missing=True) is None
