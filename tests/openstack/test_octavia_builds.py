"""Load balancer builds on the mini cloud's real Octavia, end to end: cool-api with a
member's Keystone token, cool-worker processes on the openstack provider (through the
member's trust), Octavia's API and worker with no-op drivers. A refusal of Octavia's
fails the build with Octavia's words and rolls it back; siblings under one load
balancer meet its immutable PENDING_UPDATE and wait their turn. The load balancer
family under a worker SIGKILLed after every cloud call: test_cloud_types_builds.py."""

from __future__ import annotations

import pytest

from tests.openstack.builds import delete_completes, fails_and_rolls_back, octavia_holdings
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project, unique

pytestmark = [pytest.mark.openstack, pytest.mark.usefixtures("octavia")]
NONE = dict.fromkeys(("load_balancers", "listeners", "pools", "members", "health_monitors"), 0)

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


def test_an_octavia_refusal_fails_the_build_with_its_words_and_rolls_back(
    cool: CoolOnCloud, project: Project
) -> None:
    before = project.counts()
    client = Client.of(cool, project)
    error = fails_and_rolls_back(cool, client, SECOND_LISTENER, "second", "OS::Octavia::Listener")
    assert "already using protocol HTTP and protocol_port 80" in error
    assert octavia_holdings(project) == NONE
    project.settles_to(before)


def test_siblings_under_one_load_balancer_wait_their_turn_and_all_build(
    cool: CoolOnCloud, project: Project
) -> None:
    before = project.counts()
    client = Client.of(cool, project)
    cool.worker().start()
    submitted = client.submit(SIBLINGS, name=unique("lb-siblings"))
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    assert octavia_holdings(project) == {
        **NONE,
        "load_balancers": 1,
        "pools": 1,
        "members": 4,
        "health_monitors": 1,
    }
    delete_completes(cool, client, submitted["id"], start_worker=False)
    assert octavia_holdings(project) == NONE
    project.settles_to(before)
