"""OS::Neutron::Trunk and OS::Nova::FloatingIP on the mini cloud, end to end (cool-api,
a trust, cool-worker processes on the openstack provider): Heat's trunk example with a
Nova floating IP, under a worker SIGKILLed after every cloud call, leaves one of each
and its delete leaves the project as it was; a port taken by two trunks fails the
second with Neutron's words in the note, and the rollback leaves nothing."""

from __future__ import annotations

import pytest

from tests.openstack.builds import (
    built_through_crashes,
    delete_completes,
    fails_and_rolls_back,
    made,
)
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project
from tests.zk import assert_eventually

pytestmark = pytest.mark.openstack

# hot/neutron/instance_trunk_port.yaml, on the mini cloud's image and flavor and
# without its key, and the Nova floating IP of hot/mistral/templates/server_with_ip.yaml
# on the server's parent port (through a router on the parent's subnet).
TRUNK_WITH_IP = """
heat_template_version: 2017-02-24
resources:
  net0: {type: OS::Neutron::Net}
  net1: {type: OS::Neutron::Net}
  net2: {type: OS::Neutron::Net}
  subnet0:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net0}, cidr: 10.0.4.0/24}
  subnet1:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net1}, cidr: 10.0.5.0/24}
  subnet2:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net2}, cidr: 10.0.6.0/24}
  parent_port:
    type: OS::Neutron::Port
    depends_on: subnet0
    properties: {network: {get_resource: net0}}
  subport1:
    type: OS::Neutron::Port
    depends_on: subnet1
    properties: {network: {get_resource: net1}}
  subport2:
    type: OS::Neutron::Port
    depends_on: subnet2
    properties: {network: {get_resource: net2}}
  trunk0:
    type: OS::Neutron::Trunk
    properties:
      port: {get_resource: parent_port}
      sub_ports:
        - {port: {get_resource: subport1}, segmentation_type: vlan, segmentation_id: 101}
        - {port: {get_resource: subport2}, segmentation_type: vlan, segmentation_id: 102}
  instance0:
    type: OS::Nova::Server
    properties:
      flavor: m1.tiny
      image: cirros
      networks:
        - {port: {get_attr: [trunk0, port_id]}}
  router:
    type: OS::Neutron::Router
    properties: {external_gateway_info: {network: public}}
  link:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet0}}
  floating_ip: {type: OS::Nova::FloatingIP}
  floating_ip_association:
    type: OS::Nova::FloatingIPAssociation
    depends_on: link
    properties:
      floating_ip: {get_resource: floating_ip}
      server_id: {get_resource: instance0}
outputs:
  ip: {value: {get_attr: [floating_ip, ip]}}
  parent: {value: {get_attr: [trunk0, port_id]}}
"""

# Neutron takes a port in one trunk only: b, made after a, is refused.
ONE_PORT_TWO_TRUNKS = """
heat_template_version: 2017-02-24
resources:
  net: {type: OS::Neutron::Net}
  parent_a: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  parent_b: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  shared: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  a:
    type: OS::Neutron::Trunk
    properties:
      port: {get_resource: parent_a}
      sub_ports: [{port: {get_resource: shared}, segmentation_type: vlan, segmentation_id: 10}]
  b:
    type: OS::Neutron::Trunk
    depends_on: a
    properties:
      port: {get_resource: parent_b}
      sub_ports: [{port: {get_resource: shared}, segmentation_type: vlan, segmentation_id: 11}]
"""


def _holdings(project: Project) -> dict[str, int]:
    """What a member's project holds (:meth:`Project.counts`), and its trunks."""
    trunks = len(list(project.conn.network.trunks(project_id=project.project_id)))
    return {**project.counts(), "trunks": trunks}


def _holds_again(project: Project, before: dict[str, int]) -> None:
    assert_eventually(
        lambda: _holdings(project) == before,
        timeout_s=60,
        interval_s=0.5,
        message=f"the project holds {before} again",
    )


def test_heats_trunk_example_with_a_nova_floating_ip_survives_a_crash_after_every_call(
    cool: CoolOnCloud, project: Project
) -> None:
    before = _holdings(project)
    client = Client.of(cool, project)
    build, resources = built_through_crashes(cool, client, TRUNK_WITH_IP)
    ids = {name: r["physical_id"] for name, r in resources.items()}

    # Ports: the parent, two sub-ports and the router's interface (the gateway's and
    # the floating IP's are not the project's; no DHCP agent).
    assert made(before, _holdings(project)) == {
        **dict.fromkeys(before, 0),
        "servers": 1,
        "networks": 3,
        "subnets": 3,
        "routers": 1,
        "ports": 4,
        "floating_ips": 1,
        "trunks": 1,
    }
    network = project.conn.network
    trunk = network.get_trunk(ids["trunk0"])
    assert trunk.port_id == ids["parent_port"] == build["outputs"]["parent"]["value"]
    assert {(s["port_id"], s["segmentation_id"]) for s in trunk.sub_ports} == {
        (ids["subport1"], 101),
        (ids["subport2"], 102),
    }
    assert network.get_port(ids["parent_port"]).device_id == ids["instance0"]
    fip = network.get_ip(ids["floating_ip"])
    assert fip.port_id == ids["parent_port"]
    assert build["outputs"]["ip"]["value"] == fip.floating_ip_address

    delete_completes(cool, client, build["id"])
    _holds_again(project, before)
    assert list(network.trunks(project_id=project.project_id)) == []


def test_a_port_in_two_trunks_fails_the_second_with_neutrons_words(
    cool: CoolOnCloud, project: Project
) -> None:
    before = _holdings(project)
    client = Client.of(cool, project)
    error = fails_and_rolls_back(cool, client, ONE_PORT_TWO_TRUNKS, "b", "OS::Neutron::Trunk")
    assert "is in use by another trunk. (HTTP 409)" in error, error
    _holds_again(project, before)
