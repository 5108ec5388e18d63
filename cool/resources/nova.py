"""Nova resource types (Heat's OS::Nova::Server and OS::Nova::KeyPair).

Property names, types, defaults and allowed values follow Heat's, so Heat templates
validate unchanged; the names Heat deprecated but still accepts (networks' ``uuid``,
block_device_mapping_v2's ``image_id``) are accepted too. Heat's software deployments
(user_data_format SOFTWARE_CONFIG) are refused: cool does not run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources import nova_aggregates, nova_extra
from cool.resources.checks import is_given, map_entries, one_name
from cool.resources.neutron import PORT_EXTRA_PROPERTIES
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    CustomConstraint,
    Length,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    conflict,
    constraint,
    missing,
    unsupported,
)

# The keys of a block_device_mapping_v2 entry that name what the device is made
# from; an entry names exactly one (ephemeral_size and ephemeral_format count as one).
_BDM_V2_SOURCES = ("volume_id", "snapshot_id", "image", "swap_size", "ephemeral")
_BOOTABLE_SOURCES = frozenset({"volume_id", "snapshot_id", "image"})


def _string(
    description: str, *custom: str, constraints: tuple[Any, ...] = (), **kwargs: Any
) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "nova.flavor")."""
    constraints = (*constraints, *(CustomConstraint(name) for name in custom))
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- OS::Nova::Server ------------------------------------------------------


def _check_user_data_format(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """user_data_format SOFTWARE_CONFIG is refused: cool has no software deployments."""
    if props.get("user_data_format") != "SOFTWARE_CONFIG":
        return []
    why = (
        "SOFTWARE_CONFIG needs Heat's software deployment, which cool does not support; "
        "use RAW or HEAT_CFNTOOLS"
    )
    return [unsupported("user_data_format", why)]


def _check_old_names(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Entries give network or its old Heat name uuid, and image or image_id; not both."""
    problems: list[PropertyProblem] = []
    for i, entry in map_entries(props.get("networks")):
        problems.extend(one_name(entry, "network", "uuid", path=("networks", i)))
    for i, mapping in map_entries(props.get("block_device_mapping_v2")):
        problems.extend(one_name(mapping, "image", "image_id", path=("block_device_mapping_v2", i)))
    return problems


def _bdm_v2_sources(mapping: Mapping[str, Any]) -> list[str]:
    """The sources a block_device_mapping_v2 entry names (see _BDM_V2_SOURCES)."""
    given = {key for key, value in mapping.items() if value is not None}
    if given & {"ephemeral_size", "ephemeral_format"}:
        given.add("ephemeral")
    if "image_id" in given:
        given.add("image")
    return [key for key in _BDM_V2_SOURCES if key in given]


def _check_block_devices(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Each block device mapping names one source, and the two mapping styles are not mixed."""
    problems: list[PropertyProblem] = []
    if is_given(props.get("block_device_mapping")) and is_given(
        props.get("block_device_mapping_v2")
    ):
        why = "block_device_mapping and block_device_mapping_v2 cannot both be given"
        problems.append(conflict("block_device_mapping_v2", why))
    for i, mapping in map_entries(props.get("block_device_mapping")):
        path = ("block_device_mapping", i)
        has_volume = mapping.get("volume_id") is not None
        has_snapshot = mapping.get("snapshot_id") is not None
        if has_volume and has_snapshot:
            why = "give volume_id or snapshot_id, not both"
            problems.append(conflict((*path, "snapshot_id"), why))
        elif not has_volume and not has_snapshot:
            problems.append(missing(path, "one of volume_id or snapshot_id is required"))
    for i, mapping in map_entries(props.get("block_device_mapping_v2")):
        path = ("block_device_mapping_v2", i)
        sources = _bdm_v2_sources(mapping)
        if len(sources) > 1:
            key = "ephemeral_size" if sources[1] == "ephemeral" else sources[1]
            why = f"give only one source for the device, not {' and '.join(sources)}"
            problems.append(conflict((*path, key), why))
        elif not sources:
            why = (
                "one of volume_id, snapshot_id, image, swap_size, ephemeral_size or "
                "ephemeral_format is required"
            )
            problems.append(missing(path, why))
    return problems


def _check_boot_source(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """The server boots from image or from a bootable block device, and from only one."""
    has_image = is_given(props.get("image"))
    bootable: list[tuple[str | int, ...]] = []  # paths of the mappings that would boot
    unknown = False  # a mapping known only at run time might boot
    for i, mapping in enumerate(_list(props.get("block_device_mapping"))):
        name = mapping.get("device_name") if isinstance(mapping, dict) else None
        if name == "vda":
            bootable.append(("block_device_mapping", i))
        unknown = unknown or not isinstance(name, str)
    v2_bootable: list[tuple[str | int, ...]] = []
    for i, mapping in enumerate(_list(props.get("block_device_mapping_v2"))):
        if not isinstance(mapping, dict):
            unknown = True
        elif _BOOTABLE_SOURCES.intersection(_bdm_v2_sources(mapping)):
            boot_index = mapping.get("boot_index")  # Nova boots index 0; Heat's default is 0
            if boot_index is None or boot_index == 0:
                v2_bootable.append(("block_device_mapping_v2", i))
            unknown = unknown or not isinstance(boot_index, int | None)
    if not has_image and not bootable and not v2_bootable:
        if unknown:
            return []
        why = (
            "image is required unless a block device boots the server: a "
            "block_device_mapping_v2 entry with volume_id, snapshot_id or image and boot_index "
            "0, or a block_device_mapping entry with device_name vda"
        )
        return [missing("image", why)]
    if has_image and v2_bootable:
        why = "this entry boots the server, and so does image: give one boot source"
        return [conflict(v2_bootable[0], why)]
    if len(v2_bootable) > 1:
        entries = ", ".join(str(path[1]) for path in v2_bootable)
        why = f"entries {entries} of block_device_mapping_v2 all boot the server; set boot_index"
        return [conflict(v2_bootable[1], why)]
    return []


def _check_networks(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Each networks entry names a network, port, subnet or allocate_network, without conflicts."""
    problems: list[PropertyProblem] = []
    networks = props.get("networks")
    for i, entry in map_entries(networks):
        path = ("networks", i)
        given = {key for key, value in entry.items() if value is not None}
        if "uuid" in given:  # Heat's old name of network
            given = given - {"uuid"} | {"network"}
        if not given & {"network", "port", "subnet", "allocate_network"}:
            why = "one of network, port, subnet or allocate_network is required"
            problems.append(missing(path, why))
        if "allocate_network" in given and (given != {"allocate_network"} or len(networks) > 1):
            why = "allocate_network must be the only key of the only entry of networks"
            problems.append(conflict((*path, "allocate_network"), why))
        if {"fixed_ip", "port"} <= given:
            why = "fixed_ip cannot be given with port; set the address on the port"
            problems.append(conflict((*path, "fixed_ip"), why))
        if "floating_ip" in given and "network" in given and not given & {"port", "subnet"}:
            why = (
                "floating_ip needs port or subnet in the same entry: with only network, "
                "the port to associate is not known"
            )
            problems.append(constraint((*path, "floating_ip"), why))
    if is_given(props.get("security_groups")) and any(
        entry.get("port") is not None for _, entry in map_entries(networks)
    ):
        why = (
            "security_groups cannot be used when a networks entry names a port; "
            "set the security groups on the port"
        )
        problems.append(conflict("security_groups", why))
    return problems


_BLOCK_DEVICE_MAPPING = Property(
    PropertyType.MAP,
    schema={
        "device_name": _string(
            "Device name, as in /dev/<device_name> (typically vda).", required=True
        ),
        "volume_id": _string(
            "Volume to attach or boot from (give volume_id or snapshot_id).", "cinder.volume"
        ),
        "snapshot_id": _string("Snapshot to create the volume from.", "cinder.snapshot"),
        "volume_size": Property(
            PropertyType.INTEGER, "Size of the volume in GB (inferred if omitted)."
        ),
        "delete_on_termination": Property(
            PropertyType.BOOLEAN, "Delete the volume when the server is deleted."
        ),
    },
)

_BLOCK_DEVICE_MAPPING_V2 = Property(
    PropertyType.MAP,
    schema={
        "device_name": _string("Device name, as in /dev/<device_name>."),
        "volume_id": _string("Volume to attach or boot from.", "cinder.volume"),
        "image": _string("Name or ID of the image to create a volume from.", "glance.image"),
        "image_id": _string(
            "Deprecated Heat name of image; give one or the other.",
            "glance.image",
            deprecated_for="image",
        ),
        "snapshot_id": _string("Snapshot to create a volume from.", "cinder.snapshot"),
        "swap_size": Property(PropertyType.INTEGER, "Size of a swap device, in MB."),
        "ephemeral_size": Property(
            PropertyType.INTEGER,
            "Size of a local ephemeral device, in GB.",
            constraints=(Range(min=1),),
        ),
        "ephemeral_format": _string(
            "File system of the local ephemeral device (Nova's default if omitted).",
            constraints=(AllowedValues(("ext2", "ext3", "ext4", "xfs", "ntfs")),),
        ),
        "device_type": _string("Device type.", constraints=(AllowedValues(("cdrom", "disk")),)),
        "disk_bus": _string(
            "Bus of the device (the hypervisor chooses if omitted).",
            constraints=(AllowedValues(("ide", "lame_bus", "scsi", "usb", "virtio")),),
        ),
        "boot_index": Property(
            PropertyType.INTEGER,
            "Boot order: 0 boots (default for volume, snapshot and image); -1 does not.",
        ),
        "volume_size": Property(
            PropertyType.INTEGER, "Size of the device in GB (the hypervisor decides if omitted)."
        ),
        "delete_on_termination": Property(
            PropertyType.BOOLEAN, "Delete the volume when the server is deleted."
        ),
    },
)

_NETWORK = Property(
    PropertyType.MAP,
    schema={
        "network": _string("Name or ID of the network to create a port on.", "neutron.network"),
        "uuid": _string(
            "Deprecated Heat name of network; give one or the other.",
            "neutron.network",
            deprecated_for="network",
        ),
        "allocate_network": _string(
            "auto: a network of the project (created if there is none); none: no network. "
            "Must be the only key of the only entry.",
            constraints=(AllowedValues(("none", "auto")),),
        ),
        "fixed_ip": _string("Address to give the port created on network.", "ip_addr"),
        "port": _string("Name or ID of an existing port to attach.", "neutron.port"),
        "port_extra_properties": Property(
            PropertyType.MAP,
            "Properties of the port created for this entry (when port is not given).",
            schema=PORT_EXTRA_PROPERTIES,
        ),
        "subnet": _string(
            "Subnet to allocate the port's address from (network becomes optional).",
            "neutron.subnet",
        ),
        "floating_ip": _string("ID of a floating IP to associate with the port."),
        "tag": _string("Tag of the interface, seen by the guest."),
    },
)

SERVER = ResourceType(
    name="OS::Nova::Server",
    description="A Nova server: a virtual machine, booted from an image or a volume.",
    properties={
        "name": _string("Name of the server."),
        "image": _string(
            "Name or ID of the image to boot (required unless a volume boots).", "glance.image"
        ),
        "block_device_mapping": Property(
            PropertyType.LIST,
            "Volumes to attach or boot from (the older form).",
            schema=_BLOCK_DEVICE_MAPPING,
        ),
        "block_device_mapping_v2": Property(
            PropertyType.LIST,
            "Block devices to attach or boot from.",
            schema=_BLOCK_DEVICE_MAPPING_V2,
        ),
        "flavor": _string("Name or ID of the flavor.", "nova.flavor", required=True),
        "flavor_update_policy": _string(
            "How Heat applies a flavor change; cool does not update builds.",
            default="RESIZE",
            constraints=(AllowedValues(("RESIZE", "REPLACE")),),
        ),
        "image_update_policy": _string(
            "How Heat applies an image change; cool does not update builds.",
            default="REBUILD",
            constraints=(AllowedValues(("REBUILD", "REPLACE", "REBUILD_PRESERVE_EPHEMERAL")),),
        ),
        "user_data_update_policy": _string(
            "How Heat applies a user_data change; cool does not update builds.",
            default="REPLACE",
            constraints=(AllowedValues(("REPLACE", "IGNORE")),),
        ),
        "key_name": _string("Name of the key pair to inject.", "nova.keypair"),
        "availability_zone": _string("Availability zone to place the server in."),
        "security_groups": Property(
            PropertyType.LIST,
            "Names or IDs of security groups (not with networks that name a port).",
            default=[],
            schema=Property(PropertyType.STRING),
        ),
        "networks": Property(
            PropertyType.LIST, "The server's network interfaces, in order.", schema=_NETWORK
        ),
        "scheduler_hints": Property(PropertyType.MAP, "Key/value hints for the Nova scheduler."),
        "metadata": Property(
            PropertyType.MAP,
            "Key/value metadata of the server (each up to 255 characters).",
            default={},
        ),
        "user_data_format": _string(
            "How user_data reaches the server: HEAT_CFNTOOLS bundles it with heat-cfntools "
            "boot data, RAW passes it unchanged; SOFTWARE_CONFIG is not supported.",
            default="HEAT_CFNTOOLS",
            constraints=(AllowedValues(("HEAT_CFNTOOLS", "RAW", "SOFTWARE_CONFIG")),),
        ),
        "software_config_transport": _string(
            "How the server polls software configuration; used only with SOFTWARE_CONFIG.",
            default="POLL_SERVER_CFN",
            constraints=(
                AllowedValues(
                    ("POLL_SERVER_CFN", "POLL_SERVER_HEAT", "POLL_TEMP_URL", "ZAQAR_MESSAGE")
                ),
            ),
        ),
        "user_data": _string(
            "User data (typically a script or cloud-config for cloud-init).", default=""
        ),
        "reservation_id": _string("A UUID for the set of servers being requested."),
        "config_drive": Property(PropertyType.BOOLEAN, "Attach a config drive to the server."),
        "diskConfig": _string(
            "How the disk is partitioned at creation.",
            constraints=(AllowedValues(("AUTO", "MANUAL")),),
        ),
        "admin_pass": _string("Administrator password of the server."),
        "admin_user": _string(
            "Deprecated in Heat since 2014.1 and hidden since 5.0.0, still accepted and, as "
            "in Heat, ignored: the image's default cloud-init user is the server's."
        ),
        "tags": Property(
            PropertyType.LIST, "Tags of the server.", schema=Property(PropertyType.STRING)
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "name": Attribute("Name of the server.", AttributeType.STRING),
        "addresses": Attribute(
            "Addresses by network name and ID, each with its port, subnets and network.",
            AttributeType.MAP,
        ),
        "networks": Attribute(
            'Addresses by network name and ID, as lists of IPs, like {"private": ["10.0.0.3"]}.',
            AttributeType.MAP,
        ),
        "first_address": Attribute(
            "First assigned address (deprecated in Heat; use networks).", AttributeType.STRING
        ),
        "instance_name": Attribute("Hypervisor instance name of the server.", AttributeType.STRING),
        "accessIPv4": Attribute("Manually assigned public IPv4 address.", AttributeType.STRING),
        "accessIPv6": Attribute("Manually assigned public IPv6 address.", AttributeType.STRING),
        "console_urls": Attribute(
            "Console URLs by type (novnc, xvpvnc, spice-html5, rdp-html5, serial, webmks).",
            AttributeType.MAP,
        ),
        "tags": Attribute("Tags of the server.", AttributeType.LIST),
    },
    unsupported={
        "personality": (
            "deprecated in Heat since 12.0.0 and refused by Nova from API microversion 2.57; "
            "use user_data or metadata"
        ),
        "deployment_swift_data": (
            "stores Heat software deployment data, and cool does not support software deployments"
        ),
    },
    checks=(
        _check_user_data_format,
        _check_old_names,
        _check_block_devices,
        _check_boot_source,
        _check_networks,
    ),
)


# -- OS::Nova::KeyPair -----------------------------------------------------

KEY_PAIR = ResourceType(
    name="OS::Nova::KeyPair",
    description="A Nova key pair: an SSH key to inject into servers.",
    properties={
        "name": _string(
            "Name of the key pair.", required=True, constraints=(Length(min=1, max=255),)
        ),
        "save_private_key": Property(
            PropertyType.BOOLEAN,
            "Keep a generated private key, readable as the private_key attribute.",
            default=False,
        ),
        "public_key": _string("Public key to import; a new key pair is generated if omitted."),
        "type": _string("Key pair type.", constraints=(AllowedValues(("ssh", "x509")),)),
        "user": _string(
            "ID or name of the user to own the key pair (administrators only).", "keystone.user"
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "public_key": Attribute("The public key.", AttributeType.STRING),
        "private_key": Attribute(
            "The private key, if generated and saved; else empty.", AttributeType.STRING
        ),
    },
)

TYPES = (SERVER, KEY_PAIR, *nova_extra.TYPES, *nova_aggregates.TYPES)
