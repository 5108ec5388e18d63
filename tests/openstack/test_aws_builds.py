"""Heat's AWS types on the mini cloud, end to end (cool-api, a trust, cool-worker
processes on the openstack provider): a WordPress_NoKey.yaml-like build (an AWS security
group and an AWS instance in it, with a launch configuration beside) under a worker
SIGKILLed after every cloud call leaves one of each, and its delete leaves the project
as it was."""

from __future__ import annotations

import pytest

from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.builds import (
    built_through_crashes,
    delete_completes,
    made,
)
from tests.openstack.cool_on_cloud import Client, CoolOnCloud
from tests.openstack.helpers import Project

pytestmark = pytest.mark.openstack

# hot/F18/WordPress_NoKey.yaml's resources, on a network of the build (the mini cloud
# has no F18 image: cirros), with its UserData's str_replace and its URL output.
WORDPRESS = """
heat_template_version: 2013-05-23
parameters:
  InstanceType: {type: string}
  DBName: {type: string, default: wordpress}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.64.0.0/24}
  securitygroup:
    type: AWS::EC2::SecurityGroup
    properties:
      GroupDescription: 'Enable HTTP access via port 80 plus SSH access'
      SecurityGroupIngress:
        - {IpProtocol: icmp, FromPort: '-1', ToPort: '-1', CidrIp: 0.0.0.0/0}
        - {IpProtocol: tcp, FromPort: '80', ToPort: '80', CidrIp: 0.0.0.0/0}
        - {IpProtocol: tcp, FromPort: '22', ToPort: '22', CidrIp: 0.0.0.0/0}
  WikiDatabase:
    type: AWS::EC2::Instance
    properties:
      ImageId: cirros
      InstanceType: {get_param: InstanceType}
      SecurityGroups: [{get_resource: securitygroup}]
      SubnetId: {get_resource: subnet}
      Tags: [{Key: role, Value: wordpress}]
      UserData:
        str_replace:
          template: |
            #!/bin/bash -v
            echo db_name > /tmp/db
          params:
            db_name: {get_param: DBName}
  config:
    type: AWS::AutoScaling::LaunchConfiguration
    properties:
      ImageId: cirros
      InstanceType: {get_param: InstanceType}
      SecurityGroups: [{get_resource: securitygroup}]
outputs:
  WebsiteURL:
    value:
      str_replace:
        template: http://host/wordpress
        params:
          host: {get_attr: [WikiDatabase, PublicIp]}
  config: {value: {get_resource: config}}
"""


def test_a_wordpress_build_survives_a_crash_after_every_cloud_call(
    cool: CoolOnCloud, project: Project, mini_cloud: MiniCloud
) -> None:
    before = project.counts()
    client = Client.of(cool, project)
    template = WORDPRESS.replace(
        "InstanceType: {type: string}",
        f"InstanceType: {{type: string, default: {mini_cloud.flavor_name}}}",
    )
    build, resources = built_through_crashes(cool, client, template)
    ids = {name: r["physical_id"] for name, r in resources.items()}

    # One of each: the instance's port is the only port (no DHCP agent).
    assert made(before, project.counts()) == {
        **dict.fromkeys(before, 0),
        "servers": 1,
        "networks": 1,
        "subnets": 1,
        "ports": 1,
        "security_groups": 1,
    }
    server = project.conn.compute.get_server(ids["WikiDatabase"])
    group = project.conn.network.get_security_group(ids["securitygroup"])
    assert [g["name"] for g in server.security_groups] == [group.name]
    assert server.metadata["role"] == "wordpress"
    [address] = [a["addr"] for addrs in server.addresses.values() for a in addrs]
    assert build["outputs"]["WebsiteURL"]["value"] == f"http://{address}/wordpress"
    assert build["outputs"]["config"]["value"] == f"cool-{build['id'].lower()}-config"

    delete_completes(cool, client, build["id"])
    project.settles_to(before)
