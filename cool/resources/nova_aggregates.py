"""OS::Nova::HostAggregate, with Heat's property names: a group of compute hosts with
metadata the scheduler reads, and optionally an availability zone.

Nova's default policy lets only administrators create aggregates: a member's build
fails with the cloud's 403 in its note. As in Heat, its only attribute is ``show``.
"""

from __future__ import annotations

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    CustomConstraint,
    Length,
    Property,
    PropertyType,
    ResourceType,
)

HOST_AGGREGATE = ResourceType(
    name="OS::Nova::HostAggregate",
    description="A Nova host aggregate: compute hosts grouped under metadata (and an "
    "availability zone). Nova's default policy lets only administrators create one.",
    properties={
        "name": Property(
            PropertyType.STRING,
            "Name of the aggregate (unique in the cloud).",
            required=True,
            constraints=(Length(min=1, max=255),),
        ),
        "availability_zone": Property(
            PropertyType.STRING,
            "Name of the availability zone the aggregate's hosts form.",
            constraints=(Length(min=1, max=255),),
        ),
        "hosts": Property(
            PropertyType.LIST,
            "Compute hosts (Nova's service host names) to put in the aggregate.",
            schema=Property(
                PropertyType.STRING,
                "A compute host.",
                constraints=(CustomConstraint("nova.host"),),
            ),
        ),
        "metadata": Property(PropertyType.MAP, "Key/value metadata of the aggregate.", default={}),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

TYPES = (HOST_AGGREGATE,)
