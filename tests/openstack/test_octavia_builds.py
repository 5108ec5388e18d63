"""Load balancer builds on the mini cloud's real Octavia, end to end: cool-api with a
member's Keystone token, cool-worker processes on the openstack provider (through the
member's trust), Octavia's API and worker with no-op drivers. A build survives a
worker SIGKILLed after every cloud call with one of each object and nothing leaked;
a refusal of Octavia's fails the build with Octavia's words and rolls it back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.cool_on_cloud import Client, CoolOnCloud, cool_on
from tests.openstack.helpers import Project, unique
from tests.openstack.test_builds import _crash_chain

pytestmark = pytest.mark.openstack

# No member subnet: Octavia 18's no-op network driver cannot delete a member that has
# one (its network delta raises KeyError for the VIP's network).
LOAD_BALANCED = """
heat_template_version: 2021-04-16
parameters:
  second_port: {type: number, default: 8080}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.70.0.0/24}
  lb:
    type: OS::Octavia::LoadBalancer
    properties: {vip_subnet: {get_resource: subnet}}
  listener:
    type: OS::Octavia::Listener
    properties: {loadbalancer: {get_resource: lb}, protocol: HTTP, protocol_port: 80}
  pool:
    type: OS::Octavia::Pool
    properties: {listener: {get_resource: listener}, protocol: HTTP, lb_algorithm: ROUND_ROBIN}
  member:
    type: OS::Octavia::PoolMember
    properties:
      pool: {get_resource: pool}
      address: 10.70.0.10
      protocol_port: 8080
  monitor:
    type: OS::Octavia::HealthMonitor
    properties: {pool: {get_resource: pool}, type: HTTP, delay: 5, timeout: 3, max_retries: 3}
outputs:
  vip: {value: {get_attr: [lb, vip_address]}}
  member: {value: {get_resource: member}}
"""

# A second listener on the first one's port: Octavia refuses it (409, not "immutable").
SECOND_LISTENER = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.71.0.0/24}
  lb:
    type: OS::Octavia::LoadBalancer
    properties: {vip_subnet: {get_resource: subnet}}
  first:
    type: OS::Octavia::Listener
    properties: {loadbalancer: {get_resource: lb}, protocol: HTTP, protocol_port: 80}
  second:
    type: OS::Octavia::Listener
    depends_on: first
    properties: {loadbalancer: {get_resource: lb}, protocol: HTTP, protocol_port: 80}
"""


# Siblings under one load balancer, made in parallel: each change makes the load
# balancer PENDING_UPDATE, so the others meet Octavia's 409 "immutable" and retry.
SIBLINGS = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.72.0.0/24}
  lb:
    type: OS::Octavia::LoadBalancer
    properties: {vip_subnet: {get_resource: subnet}}
  pool:
    type: OS::Octavia::Pool
    properties: {loadbalancer: {get_resource: lb}, protocol: TCP, lb_algorithm: SOURCE_IP}
  members:
    type: OS::Heat::ResourceGroup
    properties:
      count: 4
      resource_def:
        type: OS::Octavia::PoolMember
        properties:
          pool: {get_resource: pool}
          address: {list_join: ['', ['10.72.0.1', '%index%']]}
          protocol_port: 22
  monitor:
    type: OS::Octavia::HealthMonitor
    properties: {pool: {get_resource: pool}, type: TCP, delay: 5, timeout: 3, max_retries: 3}
"""


@pytest.fixture
def cool(mini_cloud: MiniCloud, tmp_path: Path, zk_hosts: str) -> Iterator[CoolOnCloud]:
    mini_cloud.start_octavia()
    with cool_on(mini_cloud, tmp_path, zk_hosts) as cool:
        yield cool


@pytest.fixture
def project(cool: CoolOnCloud, mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def _octavia_counts(project: Project) -> dict[str, int]:
    lb = project.conn.load_balancer
    pools = list(lb.pools(project_id=project.project_id))
    return {
        "load_balancers": len(list(lb.load_balancers(project_id=project.project_id))),
        "listeners": len(list(lb.listeners(project_id=project.project_id))),
        "pools": len(pools),
        "members": sum(len(list(lb.members(pool.id))) for pool in pools),
        "health_monitors": len(list(lb.health_monitors(project_id=project.project_id))),
    }


def test_a_load_balanced_build_survives_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, project: Project
) -> None:
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(LOAD_BALANCED, name=unique("lb-crash"))
    crashes = _crash_chain(cool, client, submitted["id"])
    build = client.build(submitted["id"])
    if build["status"] != "CREATE_COMPLETE":  # the chain ran out: an ordinary worker ends it
        cool.worker().start()
        build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    resources = client.resources(submitted["id"])
    assert crashes >= len(resources), f"{crashes} crashes: the chain missed steps"
    assert _octavia_counts(project) == {
        "load_balancers": 1,
        "listeners": 1,
        "pools": 1,
        "members": 1,
        "health_monitors": 1,
    }
    ids = {name: r["physical_id"] for name, r in resources.items()}
    lb = project.conn.load_balancer.get_load_balancer(ids["lb"])
    assert build["outputs"]["vip"]["value"] == lb.vip_address
    assert build["outputs"]["member"]["value"] == ids["member"].partition(":")[2]

    cool.worker().start()
    client.delete(submitted["id"])
    deleted = client.wait_finished(
        submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
    )
    assert deleted["status"] == "DELETE_COMPLETE", deleted
    assert _octavia_counts(project) == dict.fromkeys(_octavia_counts(project), 0)
    project.settles_to(before)


def test_an_octavia_refusal_fails_the_build_with_its_words_and_rolls_back(
    cool: CoolOnCloud, project: Project
) -> None:
    cool.worker().start()
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(SECOND_LISTENER, name=unique("lb-fails"))
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "ROLLBACK_COMPLETE", build
    note = build["note"]
    assert (note["resource"], note["type"], note["action"]) == (
        "second",
        "OS::Octavia::Listener",
        "CREATE",
    )
    assert "already using protocol HTTP and protocol_port 80" in note["error"], note
    assert _octavia_counts(project) == dict.fromkeys(_octavia_counts(project), 0)
    project.settles_to(before)


def test_siblings_under_one_load_balancer_wait_their_turn_and_all_build(
    cool: CoolOnCloud, project: Project
) -> None:
    cool.worker().start()
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(SIBLINGS, name=unique("lb-siblings"))
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    assert _octavia_counts(project) == {
        "load_balancers": 1,
        "listeners": 0,
        "pools": 1,
        "members": 4,
        "health_monitors": 1,
    }
    client.delete(submitted["id"])
    deleted = client.wait_finished(
        submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
    )
    assert deleted["status"] == "DELETE_COMPLETE", deleted
    assert _octavia_counts(project) == dict.fromkeys(_octavia_counts(project), 0)
    project.settles_to(before)
