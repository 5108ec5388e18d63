"""Builds of issue 19's Neutron types on the mini cloud, end to end (cool-api with a
member's Keystone token, a trust, cool-worker processes on the openstack provider):
a router gateway survives a worker killed after every cloud call, and a member's QoS
policy fails the build with Neutron's 403 in the note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.admin_project import admin_project
from tests.openstack.cool_on_cloud import Client, CoolOnCloud, cool_on
from tests.openstack.helpers import Project, unique
from tests.openstack.test_builds import _crash_chain

pytestmark = pytest.mark.openstack

ROUTED = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.62.0.0/24}
  router: {type: OS::Neutron::Router}
  gateway:
    type: OS::Neutron::RouterGateway
    properties: {router_id: {get_resource: router}, network: public}
  link:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  port:
    type: OS::Neutron::Port
    properties: {network: {get_resource: net}, replacement_policy: AUTO}
outputs:
  gateway: {value: {get_resource: gateway}}
"""

QOS = """
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  policy: {type: OS::Neutron::QoSPolicy, properties: {name: gold}}
  limit:
    type: OS::Neutron::QoSBandwidthLimitRule
    properties: {policy: {get_resource: policy}, max_kbps: 1000}
"""

# No port: the mini cloud's Neutron cannot show a port with a QoS policy (see
# tests/openstack/test_neutron_types.py), nor bind one whose policy has rules.
QOS_ADMIN = """
heat_template_version: 2021-04-16
resources:
  policy:
    type: OS::Neutron::QoSPolicy
    properties: {description: silver}
  limit:
    type: OS::Neutron::QoSBandwidthLimitRule
    properties: {policy: {get_resource: policy}, max_kbps: 1000, direction: ingress}
  mark:
    type: OS::Neutron::QoSDscpMarkingRule
    properties: {policy: {get_resource: policy}, dscp_mark: 26}
  bare: {type: OS::Neutron::QoSPolicy}
  net:
    type: OS::Neutron::Net
    properties: {qos_policy: {get_resource: bare}}
"""


@pytest.fixture
def cool(mini_cloud: MiniCloud, tmp_path: Path, zk_hosts: str) -> Iterator[CoolOnCloud]:
    with cool_on(mini_cloud, tmp_path, zk_hosts) as cool:
        yield cool


@pytest.fixture
def project(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def test_a_router_gateway_build_survives_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, project: Project, mini_cloud: MiniCloud
) -> None:
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(ROUTED, name=unique("gateway"))
    crashes = _crash_chain(cool, client, submitted["id"])
    build = client.build(submitted["id"])
    if build["status"] != "CREATE_COMPLETE":  # the chain ran out: an ordinary worker ends it
        cool.worker().start()
        build = client.wait_finished(submitted["id"])
    assert build["status"] == "CREATE_COMPLETE", build
    resources = client.resources(submitted["id"])
    assert crashes >= len(resources), f"{crashes} crashes: the chain missed steps"
    counts = project.counts()
    made = {k: counts[k] - before[k] for k in counts}
    # The port, and the router's interface; the gateway's port is not the project's.
    wanted = {"networks": 1, "subnets": 1, "routers": 1, "ports": 2}
    assert made == {**dict.fromkeys(made, 0), **wanted}, made
    router = resources["router"]["physical_id"]
    public = project.conn.network.find_network(mini_cloud.public_network).id
    assert resources["gateway"]["physical_id"] == f"{router}:{public}"
    assert build["outputs"]["gateway"]["value"] == f"{router}:{public}"
    gateway_info = project.conn.network.get_router(router).external_gateway_info
    assert gateway_info["network_id"] == public

    cool.worker().start()
    client.delete(submitted["id"])
    deleted = client.wait_finished(
        submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
    )
    assert deleted["status"] == "DELETE_COMPLETE", deleted
    project.settles_to(before)


def test_a_members_qos_policy_fails_the_build_with_neutrons_403(
    cool: CoolOnCloud, project: Project
) -> None:
    cool.worker().start()
    before = project.counts()
    client = Client.of(cool, project)
    submitted = client.submit(QOS, name=unique("qos"))
    build = client.wait_finished(submitted["id"])
    assert build["status"] == "ROLLBACK_COMPLETE", build
    note = build["note"]
    assert (note["resource"], note["type"], note["action"]) == (
        "policy",
        "OS::Neutron::QoSPolicy",
        "CREATE",
    )
    assert "disallowed by policy" in note["error"]
    assert "(HTTP 403)" in note["error"]
    project.settles_to(before)  # the network made beside it: gone


def test_an_admins_qos_build_survives_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, mini_cloud: MiniCloud
) -> None:
    """Policies are found again by their marks, rules by their policy and kind: one of
    each whatever worker dies when; the delete leaves no policy."""
    admin = admin_project(mini_cloud)
    try:
        network = admin.conn.network
        client = Client.of(cool, admin)
        submitted = client.submit(QOS_ADMIN, name=unique("qos"))
        crashes = _crash_chain(cool, client, submitted["id"])
        build = client.build(submitted["id"])
        if build["status"] != "CREATE_COMPLETE":  # the chain ran out: a worker ends it
            cool.worker().start()
            build = client.wait_finished(submitted["id"])
        assert build["status"] == "CREATE_COMPLETE", build
        resources = client.resources(submitted["id"])
        assert crashes >= len(resources), f"{crashes} crashes: the chain missed steps"
        ids = {name: r["physical_id"] for name, r in resources.items()}
        policies = sorted(p.id for p in network.qos_policies(project_id=admin.project_id))
        assert policies == sorted([ids["policy"], ids["bare"]])
        rules = network.get_qos_policy(ids["policy"]).rules
        assert sorted(r["type"] for r in rules) == ["bandwidth_limit", "dscp_marking"]
        assert {f"{ids['policy']}:{r['id']}" for r in rules} == {ids["limit"], ids["mark"]}
        assert network.get_network(ids["net"]).qos_policy_id == ids["bare"]

        cool.worker().start()
        client.delete(submitted["id"])
        deleted = client.wait_finished(
            submitted["id"], statuses=frozenset({"DELETE_COMPLETE", "DELETE_FAILED"})
        )
        assert deleted["status"] == "DELETE_COMPLETE", deleted
        assert list(network.qos_policies(project_id=admin.project_id)) == []
        assert list(network.networks(project_id=admin.project_id)) == []
    finally:
        admin.conn.close()
