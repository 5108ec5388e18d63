"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Heat's AWS types.

As on OpenStack (:mod:`cool.clouds.openstack.aws`), an AWS::EC2::Instance is made as the
sim makes a server, and an AWS::EC2::SecurityGroup as it makes a Neutron security group,
from the properties :mod:`cool.clouds.aws` translates; the AWS attributes are then read
from the server's, as Heat reads them. An AWS::AutoScaling::LaunchConfiguration is data:
its row holds the configuration (completed from ``InstanceId``'s server, when that is a
sim row), and ``get_resource`` gives its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cool.clouds import aws
from cool.clouds.sim import neutron, nova
from cool.clouds.sim.inventory import (
    SECURITY_GROUP,
    SERVER,
    Birth,
    Inventory,
    Made,
    Maker,
    Reference,
)

INSTANCE = aws.INSTANCE  # its "status" is shown, as a server's


def _instance(birth: Birth, inventory: Inventory) -> Made:
    server_props = aws.translated(aws.instance_as_server, birth.properties, "Instance")
    server, parent_id = nova.MAKERS[SERVER](replace(birth, properties=server_props), inventory)
    attributes = aws.instance_attributes(server, birth.properties, server["availability_zone"])
    attributes.pop("show")
    return {**server, **attributes}, parent_id


def _security_group(birth: Birth, inventory: Inventory) -> Made:
    native = aws.translated(aws.security_group_as_neutron, birth.properties, "SecurityGroup")
    return neutron.MAKERS[SECURITY_GROUP](replace(birth, properties=native), inventory)


_FROM_SERVER = (  # the launch configuration's property, the server's attribute
    ("ImageId", "image"),
    ("InstanceType", "flavor"),
    ("KeyName", "key_name"),
)


def _launch_configuration(birth: Birth, inventory: Inventory) -> Made:
    effective = {k: v for k, v in birth.properties.items() if v is not None}
    ref = birth.prop("InstanceId")
    kind = inventory.type_of(ref) if ref else None
    server = inventory.get(ref, kind) if kind in (SERVER, aws.INSTANCE) else None
    if server is not None:
        for prop, attribute in _FROM_SERVER:
            effective.setdefault(prop, server.get(attribute))
        groups = server.get("security_groups") or []
        effective.setdefault("SecurityGroups", [g["name"] for g in groups])
    return {"name": birth.name, "configuration": effective}, None


def _name(_properties: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    return str(attributes["name"])


MAKERS: Mapping[str, Maker] = {
    aws.INSTANCE: _instance,
    aws.SECURITY_GROUP: _security_group,
    aws.LAUNCH_CONFIGURATION: _launch_configuration,
}
REFERENCES: Mapping[str, Reference] = {aws.LAUNCH_CONFIGURATION: _name}
