"""Heat's AWS-compatible types: AWS::EC2::Instance, AWS::EC2::SecurityGroup and
AWS::AutoScaling::LaunchConfiguration, with Heat's property and attribute names.

Heat runs them on OpenStack: an instance is a Nova server, a security group a Neutron
one, and a launch configuration is data that a group (OS::Heat::InstanceGroup) reads
to make its instances. cool does the same (:mod:`cool.clouds.aws` says how each maps
onto the native types). The properties Heat declares but marks "Not Implemented" are
refused, as Heat refuses them ("Property ... not implemented yet"), here with a located
error when the template is validated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.checks import is_given, map_entries
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    Attribute,
    AttributeType,
    CustomConstraint,
    Property,
    PropertyProblem,
    PropertyType,
    ResourceType,
    conflict,
    constraint,
    missing,
    unsupported,
)

_NOT_IMPLEMENTED = "not implemented by Heat either (Heat refuses it: not implemented yet)"


def _string(description: str, *custom: str, **kwargs: Any) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "glance.image")."""
    constraints = (*kwargs.pop("constraints", ()), *(CustomConstraint(name) for name in custom))
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


def _key_value_list(description: str) -> Property:
    """Heat's list of ``{Key, Value}`` maps (Tags, NovaSchedulerHints)."""
    return Property(
        PropertyType.LIST,
        description,
        schema=Property(
            PropertyType.MAP,
            schema={
                "Key": _string("The key.", required=True),
                "Value": _string("The value.", required=True),
            },
        ),
    )


# Keys Heat declares in a BlockDeviceMappings entry (and its Ebs map) but does not implement.
_BDM_NOT_IMPLEMENTED = ("NoDevice", "VirtualName")
_EBS_NOT_IMPLEMENTED = ("Iops", "VolumeType")

_BLOCK_DEVICE_MAPPINGS = Property(
    PropertyType.LIST,
    "Volumes made from snapshots, attached at boot (each entry needs Ebs with SnapshotId).",
    schema=Property(
        PropertyType.MAP,
        schema={
            "DeviceName": _string(
                "Device the volume is attached at, as in /dev/<DeviceName> (e.g. vdb).",
                required=True,
            ),
            "Ebs": Property(
                PropertyType.MAP,
                "The volume to make and attach.",
                schema={
                    "DeleteOnTermination": Property(
                        PropertyType.BOOLEAN,
                        "Delete the volume when the instance is deleted.",
                        default=True,
                    ),
                    "Iops": Property(PropertyType.NUMBER, "Not implemented (Heat's)."),
                    "SnapshotId": _string("Snapshot to make the volume from.", "cinder.snapshot"),
                    "VolumeSize": _string(
                        "Size of the volume in GB (at least the snapshot's; inferred if omitted)."
                    ),
                    "VolumeType": _string("Not implemented (Heat's)."),
                },
            ),
            "NoDevice": Property(PropertyType.MAP, "Not implemented (Heat's)."),
            "VirtualName": _string("Not implemented (Heat's)."),
        },
    ),
)


def _check_block_device_mappings(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's rule: every entry has Ebs with SnapshotId; its unimplemented keys are refused."""
    problems: list[PropertyProblem] = []
    for i, entry in map_entries(props.get("BlockDeviceMappings")):
        path = ("BlockDeviceMappings", i)
        for key in _BDM_NOT_IMPLEMENTED:
            if key in entry:
                problems.append(unsupported((*path, key), f"{key} is {_NOT_IMPLEMENTED}"))
        ebs = entry.get("Ebs")
        if ebs is None:
            why = "Ebs is missing, this is required when specifying BlockDeviceMappings"
            problems.append(missing(path, why))
            continue
        if not isinstance(ebs, dict):
            continue  # a run-time value; the type check reports a non-map
        for key in _EBS_NOT_IMPLEMENTED:
            if key in ebs:
                problems.append(unsupported((*path, "Ebs", key), f"{key} is {_NOT_IMPLEMENTED}"))
        if "SnapshotId" not in ebs or ebs["SnapshotId"] in (None, ""):
            why = "SnapshotId is missing, this is required when specifying BlockDeviceMappings"
            problems.append(missing((*path, "Ebs"), why))
    return problems


# -- AWS::EC2::Instance ------------------------------------------------------


def _check_interfaces(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """As Heat: security groups go on the ports cool makes, so not with NetworkInterfaces;
    each interface is a port id or a map with NetworkInterfaceId and DeviceIndex."""
    interfaces = props.get("NetworkInterfaces")
    problems: list[PropertyProblem] = []
    groups = is_given(props.get("SecurityGroups")) or is_given(props.get("SecurityGroupIds"))
    if groups and is_given(interfaces):
        why = (
            "SecurityGroups/SecurityGroupIds cannot be given with NetworkInterfaces; "
            "set the security groups on the ports"
        )
        problems.append(conflict("NetworkInterfaces", why))
    for i, entry in map_entries(interfaces):
        for key in ("NetworkInterfaceId", "DeviceIndex"):
            if key not in entry:
                why = f"{key} is required in a NetworkInterfaces map (or give the port id alone)"
                problems.append(missing(("NetworkInterfaces", i), why))
    return problems


_INSTANCE_NOT_IMPLEMENTED = (
    "DisableApiTermination",
    "KernelId",
    "Monitoring",
    "PlacementGroupName",
    "PrivateIpAddress",
    "RamDiskId",
    "SourceDestCheck",
    "Tenancy",
)

INSTANCE = ResourceType(
    name="AWS::EC2::Instance",
    description="A Nova server under AWS's names, as Heat runs it (on Nova, as OS::Nova::Server).",
    properties={
        "ImageId": _string("Glance image ID or name.", "glance.image", required=True),
        "InstanceType": _string("Nova flavor (name or ID).", "nova.flavor", required=True),
        "KeyName": _string("Nova key pair name.", "nova.keypair"),
        "AvailabilityZone": _string("Availability zone to launch the instance in."),
        "SecurityGroups": Property(
            PropertyType.LIST,
            "Security groups (names, or what get_resource gives for an "
            "AWS::EC2::SecurityGroup: its ID).",
            schema=Property(PropertyType.STRING),
        ),
        "SecurityGroupIds": Property(
            PropertyType.LIST,
            "Security group IDs (joined to SecurityGroups).",
            schema=Property(PropertyType.STRING),
        ),
        "NetworkInterfaces": Property(
            PropertyType.LIST,
            "Ports to attach: port IDs, or maps with NetworkInterfaceId and DeviceIndex "
            "(attached in DeviceIndex order). SubnetId is ignored when given.",
        ),
        "SubnetId": _string(
            "Subnet to launch the instance in: a port is made on its network.", "neutron.subnet"
        ),
        "Tags": _key_value_list("Tags of the instance, as Nova server metadata."),
        "NovaSchedulerHints": _key_value_list(
            "Scheduler hints to pass to Nova (Heat's extension); a repeated key gives a list."
        ),
        "UserData": _string(
            "User data to pass to the instance (unchanged, as cool passes user_data)."
        ),
        "Volumes": Property(
            PropertyType.LIST,
            "Volumes to attach to the instance.",
            default=[],
            schema=Property(
                PropertyType.MAP,
                schema={
                    "Device": _string(
                        "Device the volume is exposed at (may not be honoured: "
                        "/dev/disk/by-id/virtio-<VolumeId> is the reliable path).",
                        required=True,
                    ),
                    "VolumeId": _string(
                        "ID of the volume to attach.", "cinder.volume", required=True
                    ),
                },
            ),
        ),
        "BlockDeviceMappings": _BLOCK_DEVICE_MAPPINGS,
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "AvailabilityZone": Attribute(
            "Availability zone the instance is launched in.", AttributeType.STRING
        ),
        "PrivateDnsName": Attribute(
            "Private DNS name of the instance (its IP address, as Heat gives).",
            AttributeType.STRING,
        ),
        "PublicDnsName": Attribute(
            "Public DNS name of the instance (its IP address, as Heat gives).",
            AttributeType.STRING,
        ),
        "PrivateIp": Attribute("Private IP address of the instance.", AttributeType.STRING),
        "PublicIp": Attribute(
            "Public IP address of the instance (its IP address, as Heat gives).",
            AttributeType.STRING,
        ),
    },
    unsupported=dict.fromkeys(_INSTANCE_NOT_IMPLEMENTED, _NOT_IMPLEMENTED),
    checks=(_check_interfaces, _check_block_device_mappings),
)


# -- AWS::EC2::SecurityGroup -------------------------------------------------

_RULE = Property(
    PropertyType.MAP,
    schema={
        "CidrIp": _string("Remote address range (ignored when no port is given, as Heat)."),
        "FromPort": _string("First port (or ICMP type); -1 means any."),
        "ToPort": _string("Last port (or ICMP code); -1 means any."),
        "IpProtocol": _string("Protocol: tcp, udp, icmp, a number; -1 means any."),
        "SourceSecurityGroupId": _string("ID of the security group the traffic comes from."),
        "SourceSecurityGroupName": _string(
            "Name of the security group the traffic comes from (of the project)."
        ),
        "SourceSecurityGroupOwnerId": _string("Not implemented (Heat's)."),
    },
)


def _check_rules(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat refuses its unimplemented SourceSecurityGroupOwnerId; ports are numbers."""
    problems: list[PropertyProblem] = []
    for direction in ("SecurityGroupIngress", "SecurityGroupEgress"):
        for i, rule in map_entries(props.get(direction)):
            path = (direction, i)
            if "SourceSecurityGroupOwnerId" in rule:
                why = f"SourceSecurityGroupOwnerId is {_NOT_IMPLEMENTED}"
                problems.append(unsupported((*path, "SourceSecurityGroupOwnerId"), why))
            for key in ("FromPort", "ToPort"):
                port = rule.get(key)
                if isinstance(port, str) and not _is_integer(port):
                    why = f"{key} must be a whole number (-1 for any), not {port!r}"
                    problems.append(constraint((*path, key), why))
    return problems


def _is_integer(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


SECURITY_GROUP = ResourceType(
    name="AWS::EC2::SecurityGroup",
    description="A Neutron security group under AWS's names, as Heat makes it; "
    "get_resource gives its ID.",
    properties={
        "GroupDescription": _string("Description of the security group.", required=True),
        "VpcId": _string("Physical ID of the VPC (no effect: Heat does not implement it)."),
        "SecurityGroupIngress": Property(PropertyType.LIST, "Ingress rules (IPv4).", schema=_RULE),
        "SecurityGroupEgress": Property(
            PropertyType.LIST,
            "Egress rules (IPv4); when given, Neutron's default egress rules are removed.",
            schema=_RULE,
        ),
    },
    attributes={**COMMON_ATTRIBUTES},
    checks=(_check_rules,),
)


# -- AWS::AutoScaling::LaunchConfiguration -----------------------------------


def _check_launch_configuration(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's rule: without InstanceId, ImageId and InstanceType are required."""
    if is_given(props.get("InstanceId")):
        return []
    why = "ImageId and InstanceType are required when InstanceId is not given"
    return [
        missing(name, why) for name in ("ImageId", "InstanceType") if not is_given(props.get(name))
    ]


LAUNCH_CONFIGURATION = ResourceType(
    name="AWS::AutoScaling::LaunchConfiguration",
    description="What a group's instances are made of (OS::Heat::InstanceGroup's "
    "LaunchConfigurationName); creates nothing. get_resource gives its name.",
    properties={
        "ImageId": _string("Glance image ID or name.", "glance.image"),
        "InstanceType": _string("Nova flavor (name or ID).", "nova.flavor"),
        "InstanceId": _string(
            "An existing server whose image, flavor, key pair and security groups are "
            "used for what the configuration does not give (not BlockDeviceMappings).",
            "nova.server",
        ),
        "KeyName": _string("Nova key pair name.", "nova.keypair"),
        "UserData": _string("User data to pass to the instances."),
        "SecurityGroups": Property(
            PropertyType.LIST,
            "Security group names (or IDs) to assign.",
            schema=Property(PropertyType.STRING),
        ),
        "BlockDeviceMappings": _BLOCK_DEVICE_MAPPINGS,
        "NovaSchedulerHints": _key_value_list("Scheduler hints to pass to Nova (Heat's)."),
    },
    attributes={**COMMON_ATTRIBUTES},
    unsupported={"KernelId": _NOT_IMPLEMENTED, "RamDiskId": _NOT_IMPLEMENTED},
    checks=(_check_launch_configuration, _check_block_device_mappings),
)

TYPES = (INSTANCE, SECURITY_GROUP, LAUNCH_CONFIGURATION)
