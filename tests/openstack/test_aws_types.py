"""AWS::EC2::SecurityGroup, AWS::EC2::Instance and AWS::AutoScaling::LaunchConfiguration
against the mini cloud's real Nova and Neutron: what each makes (a Neutron group with
Heat's rules, a Nova server in it), that a step finds its own again (adoption), what a
refusal says, and that a delete leaves the project as it was."""

from __future__ import annotations

import pytest

from cool.clouds.base import ProviderError
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import (
    Project,
    made,
    new_build_id,
    until_deleted,
    until_ready,
)

pytestmark = pytest.mark.openstack

NET, SUBNET = "OS::Neutron::Net", "OS::Neutron::Subnet"
GROUP, INSTANCE = "AWS::EC2::SecurityGroup", "AWS::EC2::Instance"
LAUNCH = "AWS::AutoScaling::LaunchConfiguration"

# WordPress_NoKey.yaml's group: ICMP with ports -1 (any), and string ports.
WORDPRESS_GROUP = {
    "GroupDescription": "Enable HTTP access via port 80 plus SSH access",
    "SecurityGroupIngress": [
        {"IpProtocol": "icmp", "FromPort": "-1", "ToPort": "-1", "CidrIp": "0.0.0.0/0"},
        {"IpProtocol": "tcp", "FromPort": "80", "ToPort": "80", "CidrIp": "0.0.0.0/0"},
        {"IpProtocol": "tcp", "FromPort": "22", "ToPort": "22", "CidrIp": "10.0.0.0/8"},
    ],
}


@pytest.fixture
def member(mini_cloud: MiniCloud) -> Project:
    return Project.create(mini_cloud)


def _ingress(member: Project, group_id: str) -> set[tuple[object, ...]]:
    rules = member.conn.network.security_group_rules(security_group_id=group_id)
    return {
        (r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix)
        for r in rules
        if r.direction == "ingress"
    }


def test_a_wordpress_group_and_instance_are_made_adopted_and_deleted(
    member: Project, mini_cloud: MiniCloud
) -> None:
    before = member.counts()
    provider, build = member.provider(), new_build_id()
    net, _ = made(provider, member.ctx("net", NET, {}, build_id=build))
    subnet_props = {"network": net, "cidr": "10.7.0.0/24", "ip_version": 4}
    subnet, _ = made(provider, member.ctx("subnet", SUBNET, subnet_props, build_id=build))

    group_ctx = member.ctx("securitygroup", GROUP, WORDPRESS_GROUP, build_id=build)
    group_id, observed = made(provider, group_ctx)
    assert observed.reference is None  # get_resource gives the group's id, as in Heat
    group = member.conn.network.get_security_group(group_id)
    assert group.description.startswith(WORDPRESS_GROUP["GroupDescription"])
    assert _ingress(member, group_id) == {
        ("icmp", None, None, "0.0.0.0/0"),
        ("tcp", 80, 80, "0.0.0.0/0"),
        ("tcp", 22, 22, "10.0.0.0/8"),
    }
    assert [f.physical_id for f in provider.find(group_ctx)] == [group_id]

    props = {
        "ImageId": mini_cloud.image_name,
        "InstanceType": mini_cloud.flavor_name,
        "SecurityGroups": [group_id],
        "SubnetId": subnet,
        "Tags": [{"Key": "role", "Value": "wordpress"}],
        "UserData": "#!/bin/sh\necho hello\n",
    }
    instance_ctx = member.ctx("WebServer", INSTANCE, props, build_id=build)
    server_id = provider.create(instance_ctx, props)
    # A worker that dies here and takes over finds the server by its marks: no second one.
    assert [f.physical_id for f in provider.find(instance_ctx)] == [server_id]
    observed = until_ready(provider, instance_ctx, server_id, timeout_s=90)
    assert observed.ready, observed
    address = observed.attributes["PrivateIp"]
    assert address.startswith("10.7.0.")
    assert {observed.attributes[k] for k in ("PublicIp", "PrivateDnsName", "PublicDnsName")} == {
        address
    }
    assert observed.attributes["AvailabilityZone"] == "nova"
    server = member.conn.compute.get_server(server_id)
    assert server.metadata["role"] == "wordpress"
    assert {g["name"] for g in server.security_groups} == {group.name}

    # A launch configuration reads InstanceId's server for what it does not give.
    launch_props = {"InstanceId": server_id}
    launch_ctx = member.ctx("config", LAUNCH, launch_props, build_id=build)
    launch_id, launch = made(provider, launch_ctx)
    assert launch.reference == launch_ctx.cloud_name == launch_id
    shown = launch.attributes["show"]
    assert shown["ImageId"] == server.image["id"]
    assert shown["SecurityGroups"] == [group.name]
    assert provider.find(launch_ctx) == []

    for ctx, physical_id in (
        (launch_ctx, launch_id),
        (instance_ctx, server_id),
        (group_ctx, group_id),
        (member.ctx("subnet", SUBNET, build_id=build), subnet),
        (member.ctx("net", NET, build_id=build), net),
    ):
        provider.delete(ctx, physical_id)
        until_deleted(provider, ctx, physical_id, timeout_s=90)
        provider.delete(ctx, physical_id)  # again: not an error
    member.settles_to(before)


def test_a_group_half_made_is_completed_and_egress_is_heats(member: Project) -> None:
    """A worker that died after the group's create but before its rules: the next one's
    observe converges them; egress given replaces Neutron's default egress rules."""
    provider, build = member.provider(), new_build_id()
    props = {
        "GroupDescription": "db",
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306}],
        "SecurityGroupEgress": [{"IpProtocol": "tcp", "FromPort": "443", "ToPort": "443"}],
    }
    ctx = member.ctx("db", GROUP, props, build_id=build)
    half = member.ctx("db", GROUP, {"GroupDescription": "db"}, build_id=build)
    group_id = provider.create(half, {"GroupDescription": "db"})
    [found] = provider.find(ctx)
    assert found.physical_id == group_id
    assert until_ready(provider, ctx, group_id).ready
    rules = member.conn.network.security_group_rules(security_group_id=group_id)
    assert {(r.direction, r.ether_type, r.protocol, r.port_range_min) for r in rules} == {
        ("ingress", "IPv4", "tcp", 3306),
        ("egress", "IPv4", "tcp", 443),
    }
    provider.delete(ctx, group_id)
    until_deleted(provider, ctx, group_id)


def test_a_refused_instance_is_a_clear_failure(member: Project, mini_cloud: MiniCloud) -> None:
    """What Nova refuses (a flavor or an image that does not exist) fails the step with
    what was missing, before anything is made."""
    before = member.counts()
    provider = member.provider()
    props = {"ImageId": mini_cloud.image_name, "InstanceType": "no-such-flavor"}
    ctx = member.ctx("web", INSTANCE, props)
    with pytest.raises(ProviderError, match="flavor 'no-such-flavor' not found") as raised:
        provider.create(ctx, props)
    assert not raised.value.retryable
    launch = member.ctx("config", LAUNCH, {"InstanceId": "no-such-server"})
    with pytest.raises(ProviderError, match="server 'no-such-server' not found"):
        provider.create(launch, dict(launch.properties))
    assert member.counts() == before
