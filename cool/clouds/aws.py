"""How Heat's AWS types map onto cool's native ones, for every provider.

Heat runs AWS::EC2::Instance on Nova exactly as OS::Nova::Server and
AWS::EC2::SecurityGroup on Neutron security groups; so do cool's providers: their
AWS handlers (:mod:`cool.clouds.openstack.aws`, :mod:`cool.clouds.sim.aws`) translate
the properties here and hand them to the native type's handler, with the step's own
marks, so an instance is adopted after a crash exactly as a server is. Pure: no I/O.

What the translation keeps of Heat's behaviour:

- an instance's name is the step's cloud name (Heat's physical resource name);
  ``Tags`` become server metadata, ``NovaSchedulerHints`` scheduler hints (a key
  given twice, a list), ``SecurityGroups`` and ``SecurityGroupIds`` one list of
  names or ids (Nova takes both);
- ``NetworkInterfaces`` (port ids, or maps in ``DeviceIndex`` order) become the
  server's ports; else ``SubnetId`` a port on that subnet's network; else none,
  which is Nova's default, as in Heat;
- ``Volumes`` and ``BlockDeviceMappings`` are attached when the server boots
  (Heat attaches ``Volumes`` once it is ACTIVE: the server sees the same devices);
- ``UserData`` reaches the server unchanged, as cool passes an OS::Nova::Server's
  ``user_data`` (Heat wraps both in its heat-cfntools multipart; cool does not);
- a security group's rules are IPv4; a port of -1 (or none) is any port, an
  ``IpProtocol`` of -1 any protocol; without ports the ``CidrIp`` is dropped, as
  Heat drops it; ``SourceSecurityGroupId`` (or ``…Name``) is the remote group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from cool.clouds.base import ProviderError

T = TypeVar("T")

INSTANCE = "AWS::EC2::Instance"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"
NO_ADDRESS = "0.0.0.0"  # Heat's answer for an instance without one


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str | list | dict) and not value)


def _key_values(entries: Any) -> dict[str, Any]:
    """Heat's ``[{Key, Value}]`` as a map; a key given twice collects a list (Heat's hints)."""
    out: dict[str, Any] = {}
    for entry in entries or ():
        key, value = str(entry["Key"]), entry["Value"]
        if key not in out:
            out[key] = value
        elif isinstance(out[key], list):
            out[key].append(value)
        else:
            out[key] = [out[key], value]
    return out


def _interfaces(entries: list[Any]) -> list[dict[str, Any]]:
    """NetworkInterfaces as server ports, in DeviceIndex order (a bare id: its place)."""
    nics = [
        {"NetworkInterfaceId": e, "DeviceIndex": i} if isinstance(e, str) else e
        for i, e in enumerate(entries)
    ]
    ordered = sorted(nics, key=lambda nic: int(nic["DeviceIndex"]))
    return [{"port": str(nic["NetworkInterfaceId"])} for nic in ordered]


def _block_devices(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Volumes and BlockDeviceMappings as OS::Nova::Server's block_device_mapping."""
    out: list[dict[str, Any]] = []
    for volume in props.get("Volumes") or ():
        out.append({"device_name": str(volume["Device"]), "volume_id": str(volume["VolumeId"])})
    for mapping in props.get("BlockDeviceMappings") or ():
        ebs = mapping.get("Ebs") or {}
        entry: dict[str, Any] = {
            "device_name": str(mapping["DeviceName"]),
            "snapshot_id": str(ebs["SnapshotId"]),
        }
        if _given(ebs.get("VolumeSize")):
            entry["volume_size"] = int(ebs["VolumeSize"])
        if ebs.get("DeleteOnTermination") is not None:
            entry["delete_on_termination"] = bool(ebs["DeleteOnTermination"])
        out.append(entry)
    return out


def instance_as_server(props: Mapping[str, Any]) -> dict[str, Any]:
    """An AWS::EC2::Instance's properties as an OS::Nova::Server's (see the module)."""
    server: dict[str, Any] = {
        "image": props.get("ImageId"),
        "flavor": props.get("InstanceType"),
        "user_data": props.get("UserData") or "",
        "user_data_format": "RAW",
        "metadata": {k: str(v) for k, v in _key_values(props.get("Tags")).items()},
    }
    for aws, native in (("KeyName", "key_name"), ("AvailabilityZone", "availability_zone")):
        if _given(props.get(aws)):
            server[native] = props[aws]
    groups = [*(props.get("SecurityGroups") or ()), *(props.get("SecurityGroupIds") or ())]
    if groups:
        server["security_groups"] = [str(g) for g in groups]
    hints = _key_values(props.get("NovaSchedulerHints"))
    if hints:
        server["scheduler_hints"] = hints
    if _given(props.get("NetworkInterfaces")):
        server["networks"] = _interfaces(list(props["NetworkInterfaces"]))
    elif _given(props.get("SubnetId")):
        server["networks"] = [{"subnet": str(props["SubnetId"])}]
    mappings = _block_devices(props)
    if mappings:
        server["block_device_mapping"] = mappings
    return server


def instance_attributes(
    server: Mapping[str, Any], props: Mapping[str, Any], zone: Any
) -> dict[str, Any]:
    """An instance's attributes from its server's (``addresses``, ``show``), as Heat
    resolves them: the first address of the last network by name, for every address
    attribute; the zone the template gives, else the server's."""
    address = NO_ADDRESS
    addresses = server.get("addresses") or {}
    for name in sorted(addresses, reverse=True):
        if addresses[name]:
            address = str(addresses[name][0]["addr"])
            break
    zone = props.get("AvailabilityZone") or zone
    return {
        "AvailabilityZone": str(zone) if zone else None,
        "PrivateDnsName": address,
        "PublicDnsName": address,
        "PrivateIp": address,
        "PublicIp": address,
        "show": server.get("show", {}),
    }


def _port(value: Any) -> int | None:
    """A rule's port as Neutron takes it: a number, none for a negative (any)."""
    if value is None or value == "":
        return None
    port = int(value)
    return None if port < 0 else port


def security_group_rules(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The AWS rules as OS::Neutron::SecurityGroup's ``rules`` (see the module)."""
    rules: list[dict[str, Any]] = []
    for key, direction in (("SecurityGroupIngress", "ingress"), ("SecurityGroupEgress", "egress")):
        for rule in props.get(key) or ():
            protocol = rule.get("IpProtocol")
            protocol = None if protocol in (None, "", "-1", -1) else str(protocol)
            no_ports = rule.get("FromPort") is None and rule.get("ToPort") is None
            remote_group = rule.get("SourceSecurityGroupId") or rule.get("SourceSecurityGroupName")
            native: dict[str, Any] = {
                "direction": direction,
                "ethertype": "IPv4",
                "protocol": protocol,
                "port_range_min": _port(rule.get("FromPort")),
                "port_range_max": _port(rule.get("ToPort")),
            }
            if remote_group:
                native.update(remote_mode="remote_group_id", remote_group_id=str(remote_group))
            else:
                native["remote_ip_prefix"] = None if no_ports else rule.get("CidrIp")
            rules.append(native)
    return rules


def security_group_as_neutron(props: Mapping[str, Any]) -> dict[str, Any]:
    """An AWS::EC2::SecurityGroup's properties as an OS::Neutron::SecurityGroup's."""
    return {
        "description": props.get("GroupDescription") or "",
        "rules": security_group_rules(props),
    }


def translated(convert: Callable[[Mapping[str, Any]], T], props: Mapping[str, Any], what: str) -> T:
    """``convert(props)``, or a ProviderError saying which property the cloud would refuse
    (a value known only at run time, such as a non-number port, that validation could not
    see): a failed step with a note, never a crash of the worker."""
    try:
        return convert(props)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProviderError(f"{what}: properties the cloud would refuse: {exc!r}") from exc
