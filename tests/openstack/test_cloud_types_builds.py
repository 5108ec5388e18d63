"""Issue 19's cloud types on the mini cloud, end to end (cool-api, a trust, cool-worker
processes on the openstack provider): one admin's build of them all, under a worker
SIGKILLed after every cloud call, leaves one of each and its delete leaves the project
as it was; a member's build of an admin-only type fails with the cloud's 403 in the
note. Octavia's own refusals and retries: test_octavia_builds.py."""

from __future__ import annotations

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.builds import (
    built_through_crashes,
    delete_completes,
    fails_and_rolls_back,
    holdings,
    holds_again,
    made,
)
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project

pytestmark = pytest.mark.openstack

# Every cloud type of issue 19 in one build. A server in an anti-affinity group, on a
# private flavor of the build, behind a router whose gateway is a resource of its own,
# reached by a floating IP that OS::Nova::FloatingIPAssociation puts on its port, and
# balanced by Octavia (the member is the server's address; no member subnet: Octavia
# 18's no-op network driver cannot delete a member that has one). The QoS policy is on
# a network of its own, without ports, and gets its rules after the network: the mini
# cloud's ML2 driver supports no QoS rule (a network is refused a policy that has
# rules, a port bound with one), and its Neutron deadlocks on a GET of a port under a
# QoS policy (tests/openstack/test_neutron_types.py says why).
EVERY_TYPE = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.63.0.0/24}
  router: {type: OS::Neutron::Router}
  gateway:
    type: OS::Neutron::RouterGateway
    properties: {router_id: {get_resource: router}, network: public}
  link:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  qos:
    type: OS::Neutron::QoSPolicy
    properties: {description: silver}
  shaped:
    type: OS::Neutron::Net
    properties: {qos_policy: {get_resource: qos}}
  limit:
    type: OS::Neutron::QoSBandwidthLimitRule
    depends_on: shaped
    properties: {policy: {get_resource: qos}, max_kbps: 1000, direction: ingress}
  mark:
    type: OS::Neutron::QoSDscpMarkingRule
    depends_on: shaped
    properties: {policy: {get_resource: qos}, dscp_mark: 26}
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
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
      replacement_policy: AUTO
  server:
    type: OS::Nova::Server
    properties:
      image: cirros
      flavor: {get_resource: flavor}
      networks: [{port: {get_resource: port}}]
      scheduler_hints: {group: {get_resource: group}}
  fip:
    type: OS::Neutron::FloatingIP
    properties: {floating_network: public}
  assoc:
    type: OS::Nova::FloatingIPAssociation
    depends_on: [gateway, link]
    properties: {floating_ip: {get_resource: fip}, server_id: {get_resource: server}}
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
      address: {get_attr: [server, first_address]}
      protocol_port: 80
  monitor:
    type: OS::Octavia::HealthMonitor
    properties: {pool: {get_resource: pool}, type: HTTP, delay: 5, timeout: 3, max_retries: 3}
outputs:
  specs: {value: {get_attr: [flavor, extra_specs]}}
  gateway: {value: {get_resource: gateway}}
  vip: {value: {get_attr: [lb, vip_address]}}
  member: {value: {get_resource: member}}
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

ONE_QOS_POLICY = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  policy: {type: OS::Neutron::QoSPolicy, properties: {name: gold}}
  limit:
    type: OS::Neutron::QoSBandwidthLimitRule
    properties: {policy: {get_resource: policy}, max_kbps: 1000}
"""


def test_every_new_type_in_one_build_survives_a_crash_after_every_cloud_call(
    octavia: None, cool: CoolOnCloud, admin: Project, mini_cloud: MiniCloud
) -> None:
    before = holdings(admin, octavia=True)
    client = Client.of(cool, admin)
    build, resources = built_through_crashes(cool, client, EVERY_TYPE)
    ids = {name: r["physical_id"] for name, r in resources.items()}

    # One of each. Ports: the server's and the router's interface (the gateway's is not
    # the project's; no DHCP agent; Octavia's no-op driver makes no VIP port).
    assert made(before, holdings(admin, octavia=True)) == {
        **dict.fromkeys(before, 0),
        "servers": 1,
        "networks": 2,
        "subnets": 1,
        "routers": 1,
        "ports": 2,
        "floating_ips": 1,
        "qos_policies": 1,
        "qos_rules": 2,
        "server_groups": 1,
        "flavors": 1,
        "load_balancers": 1,
        "listeners": 1,
        "pools": 1,
        "members": 1,
        "health_monitors": 1,
    }
    compute, network = admin.conn.compute, admin.conn.network
    # Nova: the server in its group, on the build's flavor, the floating IP on its port.
    [group] = list(compute.server_groups())
    assert (group.id, group.member_ids) == (ids["group"], [ids["server"]])
    flavor = compute.get_flavor(ids["flavor"])
    assert "cool-resource=flavor" in flavor.description
    assert [a["tenant_id"] for a in compute.get_flavor_access(flavor)] == [admin.project_id]
    assert compute.get_server(ids["server"]).flavor["original_name"] == flavor.name
    assert build["outputs"]["specs"]["value"] == {"hw:cpu_policy": "shared"}
    assert network.get_ip(ids["fip"]).port_id == ids["port"]
    assert ids["assoc"] == f"{ids['fip']}:{ids['server']}"
    # Neutron: the gateway set by its own resource, the policy's rules, its network.
    public = network.find_network(mini_cloud.public_network).id
    assert ids["gateway"] == build["outputs"]["gateway"]["value"] == f"{ids['router']}:{public}"
    assert network.get_router(ids["router"]).external_gateway_info["network_id"] == public
    rules = network.get_qos_policy(ids["qos"]).rules
    assert {f"{ids['qos']}:{r['id']}": r["type"] for r in rules} == {
        ids["limit"]: "bandwidth_limit",
        ids["mark"]: "dscp_marking",
    }
    assert network.get_network(ids["shaped"]).qos_policy_id == ids["qos"]
    # Octavia: the VIP and the member, the server's address.
    balancer = admin.conn.load_balancer
    assert build["outputs"]["vip"]["value"] == balancer.get_load_balancer(ids["lb"]).vip_address
    pool_id, _, member_id = ids["member"].partition(":")
    assert build["outputs"]["member"]["value"] == member_id
    address = compute.get_server(ids["server"]).addresses
    assert balancer.get_member(member_id, pool_id).address in {
        a["addr"] for addrs in address.values() for a in addrs
    }

    delete_completes(cool, client, build["id"])
    holds_again(admin, before, octavia=True)


@pytest.mark.parametrize(
    ("template", "resource", "resource_type", "words"),
    [
        (ONE_FLAVOR, "flavor", "OS::Nova::Flavor", "os_compute_api:os-flavor-manage:create"),
        (ONE_QOS_POLICY, "policy", "OS::Neutron::QoSPolicy", "disallowed by policy"),
    ],
    ids=["nova-flavor", "neutron-qos"],
)
def test_a_members_admin_only_type_fails_the_build_with_the_clouds_403(
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
