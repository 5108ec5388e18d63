"""Heat's AWS types as templates declare them (Heat's names, Heat's refusals, located),
and how they map onto the native types every provider runs (:mod:`cool.clouds.aws`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cool.clouds import aws
from cool.clouds.base import ProviderError
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = "heat_template_version: 2013-05-23\nresources:\n"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "heat-templates" / "hot"


def _problems(registry: ResourceTypeRegistry, body: str) -> list[tuple[str, str]]:
    report = check(HEAD + body, registry, {})
    return [(p.pointer, p.message) for p in report.problems]


def _resource(kind: str, *lines: str) -> str:
    return f"  r:\n    type: {kind}\n    properties:\n" + "".join(
        f"      {line}\n" for line in lines
    )


def test_heats_wordpress_template_validates(registry: ResourceTypeRegistry) -> None:
    text = (CORPUS / "F18" / "WordPress_NoKey.yaml").read_text()
    assert check(text, registry, {}).problems == ()


def test_the_corpus_groups_and_launch_configurations_validate(
    registry: ResourceTypeRegistry,
) -> None:
    """server_with_ip.yaml's AWS group, and instance_group.yaml's launch configuration
    (its group type is another part's: only its resources of these types are checked)."""
    for path, params in (
        (
            "mistral/templates/server_with_ip.yaml",
            {"image": "i", "flavor": "f", "security_group_name": "s", "metadata": "{}"},
        ),
        ("instance_group.yaml", {"image_id": "i", "key_name": "k"}),
    ):
        report = check((CORPUS / path).read_text(), registry, params)
        pointers = [p.pointer for p in report.problems]
        assert not [
            p for p in pointers if p.startswith(("/resources/security", "/resources/server_config"))
        ]


def test_an_instance_with_heats_properties_validates(registry: ResourceTypeRegistry) -> None:
    body = (
        _resource(
            "AWS::EC2::Instance",
            "ImageId: F18-x86_64-cfntools",
            "InstanceType: m1.small",
            "KeyName: demo",
            "AvailabilityZone: nova",
            "SecurityGroups: [web, {get_resource: g}]",
            "SecurityGroupIds: [0b9a0e5c-2d5e-4d4f-8a57-0d0c1c9b7b1e]",
            "SubnetId: private-subnet",
            "Tags: [{Key: role, Value: web}]",
            "NovaSchedulerHints: [{Key: group, Value: g1}, {Key: group, Value: g2}]",
            "UserData: {'Fn::Base64': '#!/bin/sh'}",
            "Volumes: [{Device: /dev/vdb, VolumeId: v1}]",
            "BlockDeviceMappings: [{DeviceName: vdc, Ebs: {SnapshotId: s1, VolumeSize: '2'}}]",
        )
        + "  g:\n    type: AWS::EC2::SecurityGroup\n    properties: {GroupDescription: web}\n"
    )
    assert _problems(registry, body) == []


@pytest.mark.parametrize(
    ("kind", "line", "pointer"),
    [
        ("AWS::EC2::Instance", "KernelId: aki-1", "/resources/r/properties/KernelId"),
        ("AWS::EC2::Instance", "Tenancy: default", "/resources/r/properties/Tenancy"),
        ("AWS::EC2::Instance", "SourceDestCheck: true", "/resources/r/properties/SourceDestCheck"),
        (
            "AWS::EC2::Instance",
            "BlockDeviceMappings: [{DeviceName: vdb, Ebs: {SnapshotId: s, Iops: 100}}]",
            "/resources/r/properties/BlockDeviceMappings/0/Ebs/Iops",
        ),
        (
            "AWS::EC2::SecurityGroup",
            "SecurityGroupIngress: [{IpProtocol: tcp, SourceSecurityGroupOwnerId: '1'}]",
            "/resources/r/properties/SecurityGroupIngress/0/SourceSecurityGroupOwnerId",
        ),
        (
            "AWS::AutoScaling::LaunchConfiguration",
            "RamDiskId: ari-1",
            "/resources/r/properties/RamDiskId",
        ),
    ],
)
def test_what_heat_does_not_implement_is_refused_where_it_is(
    registry: ResourceTypeRegistry, kind: str, line: str, pointer: str
) -> None:
    base = {
        "AWS::EC2::Instance": ("ImageId: i", "InstanceType: f"),
        "AWS::EC2::SecurityGroup": ("GroupDescription: d",),
        "AWS::AutoScaling::LaunchConfiguration": ("ImageId: i", "InstanceType: f"),
    }[kind]
    problems = _problems(registry, _resource(kind, *base, line))
    assert [p for p, _ in problems] == [pointer]
    assert "not implemented" in problems[0][1]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            ("ImageId: i", "InstanceType: f", "SecurityGroups: [web]", "NetworkInterfaces: [p1]"),
            ("/resources/r/properties/NetworkInterfaces", "cannot be given with"),
        ),
        (
            ("ImageId: i", "InstanceType: f", "NetworkInterfaces: [{NetworkInterfaceId: p1}]"),
            ("/resources/r/properties/NetworkInterfaces/0", "DeviceIndex is required"),
        ),
        (
            ("ImageId: i", "InstanceType: f", "BlockDeviceMappings: [{DeviceName: vdb}]"),
            ("/resources/r/properties/BlockDeviceMappings/0", "Ebs is missing"),
        ),
        (
            ("ImageId: i", "InstanceType: f", "BlockDeviceMappings: [{DeviceName: b, Ebs: {}}]"),
            ("/resources/r/properties/BlockDeviceMappings/0/Ebs", "SnapshotId is missing"),
        ),
        (("InstanceType: f",), ("/resources/r/properties/ImageId", "is required")),
    ],
)
def test_an_instance_is_checked_as_heat_checks_it(
    registry: ResourceTypeRegistry, lines: tuple[str, ...], expected: tuple[str, str]
) -> None:
    [(pointer, message)] = _problems(registry, _resource("AWS::EC2::Instance", *lines))
    assert pointer == expected[0]
    assert expected[1] in message


def test_a_launch_configuration_needs_an_image_and_type_or_an_instance(
    registry: ResourceTypeRegistry,
) -> None:
    kind = "AWS::AutoScaling::LaunchConfiguration"
    problems = _problems(registry, _resource(kind, "KeyName: k"))
    assert [p for p, _ in problems] == [
        "/resources/r/properties/ImageId",
        "/resources/r/properties/InstanceType",
    ]
    assert _problems(registry, _resource(kind, "InstanceId: server-1")) == []


def test_a_security_groups_ports_are_numbers(registry: ResourceTypeRegistry) -> None:
    body = _resource(
        "AWS::EC2::SecurityGroup",
        "GroupDescription: d",
        "SecurityGroupIngress: [{IpProtocol: tcp, FromPort: http, ToPort: 80}]",
    )
    [(pointer, message)] = _problems(registry, body)
    assert pointer == "/resources/r/properties/SecurityGroupIngress/0/FromPort"
    assert "whole number" in message
    problems = _problems(registry, _resource("AWS::EC2::SecurityGroup", "VpcId: vpc-1"))
    assert [p for p, _ in problems] == ["/resources/r/properties/GroupDescription"]


# -- the mapping onto native types -------------------------------------------


def test_an_instance_maps_onto_a_server_as_heat_makes_it() -> None:
    server = aws.instance_as_server(
        {
            "ImageId": "F18",
            "InstanceType": "m1.small",
            "KeyName": "demo",
            "SecurityGroups": ["web"],
            "SecurityGroupIds": ["sg-id"],
            "SubnetId": "subnet-1",
            "Tags": [{"Key": "role", "Value": "web"}],
            "NovaSchedulerHints": [
                {"Key": "group", "Value": "g1"},
                {"Key": "group", "Value": "g2"},
                {"Key": "near", "Value": "x"},
            ],
            "UserData": "#!/bin/sh\n",
            "Volumes": [{"Device": "/dev/vdb", "VolumeId": "v1"}],
            "BlockDeviceMappings": [
                {"DeviceName": "vdc", "Ebs": {"SnapshotId": "s1", "VolumeSize": "2"}}
            ],
        }
    )
    assert server == {
        "image": "F18",
        "flavor": "m1.small",
        "key_name": "demo",
        "user_data": "#!/bin/sh\n",
        "user_data_format": "RAW",
        "metadata": {"role": "web"},
        "security_groups": ["web", "sg-id"],
        "scheduler_hints": {"group": ["g1", "g2"], "near": "x"},
        "networks": [{"subnet": "subnet-1"}],
        "block_device_mapping": [
            {"device_name": "/dev/vdb", "volume_id": "v1"},
            {"device_name": "vdc", "snapshot_id": "s1", "volume_size": 2},
        ],
    }


def test_network_interfaces_are_ports_in_device_order_and_win_over_the_subnet() -> None:
    server = aws.instance_as_server(
        {
            "ImageId": "i",
            "InstanceType": "f",
            "SubnetId": "ignored",
            "NetworkInterfaces": [
                {"NetworkInterfaceId": "p2", "DeviceIndex": "1"},
                {"NetworkInterfaceId": "p1", "DeviceIndex": 0},
            ],
        }
    )
    assert server["networks"] == [{"port": "p1"}, {"port": "p2"}]
    assert aws.instance_as_server({"NetworkInterfaces": ["pa", "pb"]})["networks"] == [
        {"port": "pa"},
        {"port": "pb"},
    ]


def test_an_instances_addresses_are_heats_first_address_of_the_last_network() -> None:
    server: dict[str, Any] = {
        "addresses": {"alpha": [{"addr": "10.0.0.5"}], "beta": [{"addr": "10.1.0.7"}]},
        "show": {"id": "s"},
    }
    attributes = aws.instance_attributes(server, {}, "nova")
    assert attributes == {
        "AvailabilityZone": "nova",
        "PrivateDnsName": "10.1.0.7",
        "PublicDnsName": "10.1.0.7",
        "PrivateIp": "10.1.0.7",
        "PublicIp": "10.1.0.7",
        "show": {"id": "s"},
    }
    assert aws.instance_attributes({}, {"AvailabilityZone": "az2"}, "nova")["PrivateIp"] == (
        "0.0.0.0"
    )
    assert aws.instance_attributes({}, {"AvailabilityZone": "az2"}, "nova")["AvailabilityZone"] == (
        "az2"
    )


def test_security_group_rules_map_as_heat_maps_them() -> None:
    rules = aws.security_group_rules(
        {
            "SecurityGroupIngress": [
                {"IpProtocol": "icmp", "FromPort": "-1", "ToPort": "-1", "CidrIp": "0.0.0.0/0"},
                {"IpProtocol": "tcp", "FromPort": "80", "ToPort": 80, "CidrIp": "10.0.0.0/8"},
                {"IpProtocol": "tcp", "CidrIp": "10.0.0.0/8"},
                {"IpProtocol": "-1", "SourceSecurityGroupName": "web"},
            ],
            "SecurityGroupEgress": [{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53}],
        }
    )
    common = {"ethertype": "IPv4"}
    assert rules == [
        {**common, "direction": "ingress", "protocol": "icmp", "port_range_min": None,
         "port_range_max": None, "remote_ip_prefix": "0.0.0.0/0"},
        {**common, "direction": "ingress", "protocol": "tcp", "port_range_min": 80,
         "port_range_max": 80, "remote_ip_prefix": "10.0.0.0/8"},
        # no ports: Heat drops the CidrIp too
        {**common, "direction": "ingress", "protocol": "tcp", "port_range_min": None,
         "port_range_max": None, "remote_ip_prefix": None},
        {**common, "direction": "ingress", "protocol": None, "port_range_min": None,
         "port_range_max": None, "remote_mode": "remote_group_id", "remote_group_id": "web"},
        {**common, "direction": "egress", "protocol": "udp", "port_range_min": 53,
         "port_range_max": 53, "remote_ip_prefix": None},
    ]  # fmt: skip


def test_a_value_the_cloud_would_refuse_is_a_provider_error_not_a_crash() -> None:
    """A port known only at run time (a parameter's value) that is no number."""
    props = {"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "http"}]}
    with pytest.raises(ProviderError, match="properties the cloud would refuse") as raised:
        aws.translated(aws.security_group_as_neutron, props, "security group g")
    assert not raised.value.retryable
