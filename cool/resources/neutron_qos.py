"""Neutron's QoS types: a policy, and its bandwidth-limit and DSCP-marking rules.

Names, types, defaults and allowed values are Heat's (heat/engine/resources/
openstack/neutron/qos.py), so Heat templates validate unchanged. Neutron's default
policy lets only administrators (and project managers) create QoS policies and
rules: a member's build fails with Neutron's 403 in its note. Ports and networks
take a policy through their ``qos_policy`` property (:mod:`cool.resources.neutron`).
"""

from __future__ import annotations

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    CustomConstraint,
    Property,
    PropertyType,
    Range,
    ResourceType,
)

# Heat's: between 0 and 56, except 2-6, 42, 44 and 50-54 (the marks Neutron accepts).
DSCP_MARKS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56)


def _rule_properties() -> dict[str, Property]:
    """What every rule has (Heat's QoSRule): its policy, and an owner nobody needs."""
    return {
        "policy": Property(
            PropertyType.STRING,
            "ID or name of the QoS policy.",
            required=True,
            constraints=(CustomConstraint("neutron.qos_policy"),),
        ),
        "tenant_id": Property(PropertyType.STRING, "The owner project ID of this rule."),
    }


QOS_POLICY = ResourceType(
    name="OS::Neutron::QoSPolicy",
    description="A Neutron QoS policy, for ports and networks (administrators only, by default).",
    properties={
        "name": Property(PropertyType.STRING, "The name for the QoS policy."),
        "description": Property(PropertyType.STRING, "The description for the QoS policy."),
        "shared": Property(
            PropertyType.BOOLEAN,
            "Whether this QoS policy should be shared to other projects.",
            default=False,
        ),
        "tenant_id": Property(PropertyType.STRING, "The owner project ID of this QoS policy."),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "rules": Attribute("A list of all rules for the QoS policy.", AttributeType.LIST),
    },
)

QOS_BANDWIDTH_LIMIT_RULE = ResourceType(
    name="OS::Neutron::QoSBandwidthLimitRule",
    description="A bandwidth limit of a QoS policy (administrators only, by default).",
    properties={
        "max_kbps": Property(
            PropertyType.INTEGER,
            "Max bandwidth in kbps.",
            required=True,
            constraints=(Range(min=0),),
        ),
        "max_burst_kbps": Property(
            PropertyType.INTEGER,
            "Max burst bandwidth in kbps.",
            default=0,
            constraints=(Range(min=0),),
        ),
        "direction": Property(
            PropertyType.STRING,
            "Traffic direction from the point of view of the port.",
            default="egress",
            constraints=(AllowedValues(("egress", "ingress")),),
        ),
        **_rule_properties(),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

QOS_DSCP_MARKING_RULE = ResourceType(
    name="OS::Neutron::QoSDscpMarkingRule",
    description="The DSCP mark of a QoS policy's traffic (administrators only, by default).",
    properties={
        "dscp_mark": Property(
            PropertyType.INTEGER,
            "DSCP mark between 0 and 56, except 2-6, 42, 44, and 50-54.",
            required=True,
            constraints=(AllowedValues(DSCP_MARKS),),
        ),
        **_rule_properties(),
    },
    attributes=dict(COMMON_ATTRIBUTES),
)

TYPES = (QOS_POLICY, QOS_BANDWIDTH_LIMIT_RULE, QOS_DSCP_MARKING_RULE)
