"""OS::Neutron::Trunk: a parent port that carries other networks' ports (sub-ports) to
one server, each on its VLAN.

Names, types and constraints are Heat's (heat/engine/resources/openstack/neutron/
trunk.py), so Heat templates validate unchanged. A server boots on the trunk's parent
port; Heat's advice is to name it through ``get_attr: [trunk, port_id]``, which also
makes the server wait for the trunk (some Neutron back ends refuse a trunk on a port
already bound). cool checks at validation what Neutron refuses for certain: one
segmentation (type, ID) twice in a trunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    CustomConstraint,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    constraint,
)


def _port(description: str, **kwargs: Any) -> Property:
    return Property(
        PropertyType.STRING,
        description,
        constraints=(CustomConstraint("neutron.port"),),
        **kwargs,
    )


def _check_segmentations(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Neutron refuses a trunk whose sub-ports share a segmentation (type and ID)."""
    sub_ports = props.get("sub_ports")
    if not isinstance(sub_ports, list):
        return []
    problems: list[PropertyProblem] = []
    seen: dict[tuple[Any, Any], int] = {}
    for index, sub_port in enumerate(sub_ports):
        if not isinstance(sub_port, dict):
            continue
        key = (sub_port.get("segmentation_type"), sub_port.get("segmentation_id"))
        if not all(isinstance(part, str | int) for part in key):
            continue  # a reference resolved at build time: Neutron checks it then
        if key in seen:
            why = (
                f"sub-ports {seen[key]} and {index} both use segmentation {key[0]} {key[1]}: "
                "Neutron takes each segmentation once per trunk"
            )
            problems.append(constraint(("sub_ports", index, "segmentation_id"), why))
        else:
            seen[key] = index
    return problems


TRUNK = ResourceType(
    name="OS::Neutron::Trunk",
    description="A Neutron trunk: its parent port carries its sub-ports' networks to one "
    "server, each on its VLAN (Neutron's trunk extension).",
    properties={
        "name": Property(
            PropertyType.STRING,
            "A symbolic name for the trunk, which is not required to be unique.",
        ),
        "port": _port("ID or name of a port to be used as a parent port.", required=True),
        "sub_ports": Property(
            PropertyType.LIST,
            "List with 0 or more map elements containing subport details.",
            schema=Property(
                PropertyType.MAP,
                schema={
                    "port": _port("ID or name of a port to be used as a subport.", required=True),
                    "segmentation_type": Property(
                        PropertyType.STRING,
                        "Segmentation type to be used on the subport.",
                        required=True,
                        constraints=(AllowedValues(("vlan",)),),
                    ),
                    "segmentation_id": Property(
                        PropertyType.INTEGER,
                        "The segmentation ID on which the subport network is presented "
                        "to the instance.",
                        required=True,
                        constraints=(Range(min=1, max=4094),),
                    ),
                },
            ),
        ),
        "description": Property(PropertyType.STRING, "Description for the trunk."),
        "admin_state_up": Property(
            PropertyType.BOOLEAN, "Enable/disable subport addition, removal and trunk delete."
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "port_id": Attribute("ID of the port used as the parent port.", AttributeType.STRING),
        # Not Heat's (it reads them from ``show``): Neutron's, by their API names.
        "status": Attribute("Status of the trunk (Neutron's).", AttributeType.STRING),
        "sub_ports": Attribute(
            "The trunk's sub-ports: port_id, segmentation_type, segmentation_id.",
            AttributeType.LIST,
        ),
    },
    checks=(_check_segmentations,),
)

TYPES = (TRUNK,)
