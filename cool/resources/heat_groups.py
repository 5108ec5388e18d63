"""Heat's scaling groups at create: OS::Heat::AutoScalingGroup and OS::Heat::InstanceGroup.

Like OS::Heat::ResourceGroup (cool.resources.heat) each stands for a nested stack
whose members are planned up front (cool.template.groups, cool.template.nested):
their attributes are worked out from the members when the template is validated,
so those declared here only describe them (``cool resource-type show``).
OS::Heat::ScalingPolicy resizes an AutoScalingGroup of its template when its
``alarm_url`` (or the Heat API's resource signal) is POSTed to: cool.store.scaling
records the resize, cool.template.scaling plans it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    constraint,
    unsupported,
)

# Heat's timeutils.iso_duration_re: the only durations Heat reads in a PauseTime.
_ISO_DURATION = re.compile(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")
_MAX_PAUSE_S = 3600


def _check_sizes(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's AutoScalingGroup.validate(): min_size <= desired_capacity <= max_size."""
    low, high = props.get("min_size"), props.get("max_size")
    wanted = props.get("desired_capacity")
    if not all(isinstance(v, int) and v >= 0 for v in (low, high)):
        return []  # not known yet, or already reported (each is at least 0)
    if low > high:
        return [
            constraint(
                "min_size",
                f"min_size ({low}) can not be greater than max_size ({high}) "
                "(Heat: MinSize can not be greater than MaxSize)",
            )
        ]
    if isinstance(wanted, int) and not low <= wanted <= high:
        return [
            constraint(
                "desired_capacity",
                f"desired_capacity ({wanted}) must be between min_size ({low}) and "
                f"max_size ({high}) (Heat: DesiredCapacity must be between MinSize and MaxSize)",
            )
        ]
    return []


def _pause_seconds(text: str) -> int | None:
    """A PauseTime in seconds, as Heat's parse_isoduration reads it (None: not PT#H#M#S)."""
    found = _ISO_DURATION.match(text)
    if found is None:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def check_pause_time(text: Any) -> str | None:
    """InstanceGroup's RollingUpdate PauseTime as Heat validates it, or None when fine."""
    if not isinstance(text, str):
        return None  # not known yet, or already reported
    seconds = _pause_seconds(text)
    if seconds is None:
        return (
            f"{text!r} is not a duration Heat reads: only ISO 8601 durations of the form "
            "PT#H#M#S are supported"
        )
    if seconds > _MAX_PAUSE_S:
        return "Maximum PauseTime is 1 hour."
    return None


def _check_load_balancers(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat points the named AWS load balancers at the members once they are made (and
    fails the create when a name is not one); cool has no such load balancer type."""
    names = props.get("LoadBalancerNames")
    if isinstance(names, list) and names:
        return [
            unsupported(
                "LoadBalancerNames",
                "reconfiguring load balancers with the group's members is not supported "
                "(cool has no AWS::ElasticLoadBalancing::LoadBalancer); give an empty list",
            )
        ]
    return []


_TAGS = Property(
    PropertyType.LIST,
    "Tags to attach to this group: given to each member, with metering.groupname "
    "(as Heat adds it).",
    schema=Property(
        PropertyType.MAP,
        schema={
            "Key": Property(PropertyType.STRING, "Tag key.", required=True),
            "Value": Property(PropertyType.STRING, "Tag value.", required=True),
        },
    ),
)

# How an update replaces a group's members: ResourceGroup's rolling_update policy and
# AutoScalingGroup's rolling_updates property (kept with the build for its updates).
ROLLING_UPDATE: Mapping[str, Property] = {
    "min_in_service": Property(
        PropertyType.INTEGER,
        "Members kept in service while updating.",
        default=0,
        constraints=(Range(0),),
    ),
    "max_batch_size": Property(
        PropertyType.INTEGER, "Members replaced at once.", default=1, constraints=(Range(1),)
    ),
    "pause_time": Property(
        PropertyType.NUMBER, "Seconds between batches.", default=0, constraints=(Range(0),)
    ),
}

AUTOSCALING_GROUP = ResourceType(
    name="OS::Heat::AutoScalingGroup",
    description="A group of identical resources (any type: a server, a template); at "
    "create, desired_capacity members (min_size when it is absent); an "
    "OS::Heat::ScalingPolicy resizes it later.",
    properties={
        "resource": Property(
            PropertyType.MAP,
            "The definition of every member, as a resource of the template itself.",
            required=True,
            update_allowed=True,
            schema={
                "type": Property(PropertyType.STRING, "The type of the members.", required=True),
                "properties": Property(PropertyType.MAP, "The members' properties."),
                "metadata": Property(PropertyType.MAP, "The members' metadata."),
                # Heat reads the definition as a resource of the template: these keys
                # are accepted as Heat accepts them.
                "deletion_policy": Property(
                    PropertyType.STRING,
                    "The members' deletion policy (Delete or Retain).",
                    constraints=(AllowedValues(("Delete", "Retain", "delete", "retain")),),
                ),
                "depends_on": Property(
                    PropertyType.ANY,
                    "Accepted and ignored, as Heat drops what a member's depends_on names "
                    "outside the group (and its members' names are not known).",
                ),
                "update_policy": Property(
                    PropertyType.MAP, "The members' update policy (kept for updates)."
                ),
                "description": Property(PropertyType.STRING, "Accepted, as Heat does."),
            },
        ),
        "max_size": Property(
            PropertyType.INTEGER,
            "Maximum number of resources in the group.",
            required=True,
            update_allowed=True,
            constraints=(Range(0),),
        ),
        "min_size": Property(
            PropertyType.INTEGER,
            "Minimum number of resources in the group.",
            required=True,
            update_allowed=True,
            constraints=(Range(0),),
        ),
        "cooldown": Property(
            PropertyType.INTEGER, "Cooldown period, in seconds.", update_allowed=True
        ),
        "desired_capacity": Property(
            PropertyType.INTEGER, "Desired initial number of resources.", update_allowed=True
        ),
        "rolling_updates": Property(
            PropertyType.MAP,
            "How an update replaces members (kept with the build for its updates).",
            update_allowed=True,
            default={"min_in_service": 0, "max_batch_size": 1, "pause_time": 0},
            schema=ROLLING_UPDATE,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "outputs": Attribute(
            "Each member's name to the member attribute named by the path.", AttributeType.MAP
        ),
        "outputs_list": Attribute(
            "The member attribute named by the path, of each member in order.",
            AttributeType.LIST,
        ),
        "current_size": Attribute("The number of members.", AttributeType.INTEGER),
        "refs": Attribute("The members' references (get_resource), in order.", AttributeType.LIST),
        "refs_map": Attribute("Each member's name to its reference.", AttributeType.MAP),
    },
    needs_cloud=False,
    checks=(_check_sizes,),
)

INSTANCE_GROUP = ResourceType(
    name="OS::Heat::InstanceGroup",
    description="Size AWS::EC2::Instance members made from an "
    "AWS::AutoScaling::LaunchConfiguration of the same template (AWS-style). Scaling "
    "it later is not done yet.",
    properties={
        "AvailabilityZones": Property(
            PropertyType.LIST, "Not implemented (accepted and unused, as in Heat).", required=True
        ),
        "LaunchConfigurationName": Property(
            PropertyType.STRING,
            "The launch configuration: a get_resource of an "
            "AWS::AutoScaling::LaunchConfiguration of this template.",
            required=True,
            update_allowed=True,
        ),
        "Size": Property(
            PropertyType.INTEGER, "Desired number of instances.", required=True, update_allowed=True
        ),
        "LoadBalancerNames": Property(
            PropertyType.LIST,
            "Load balancers to point at the members (Heat: AWS ElasticLoadBalancing ones); "
            "cool accepts only an empty list.",
        ),
        "Tags": _TAGS,
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "InstanceList": Attribute(
            "The members' IP addresses (their PublicIp), comma-separated.", AttributeType.STRING
        ),
    },
    needs_cloud=False,
    checks=(_check_load_balancers,),
    update_policy={
        "RollingUpdate": Property(
            PropertyType.MAP,
            "How an update replaces members (kept with the build for its updates).",
            schema={
                "MinInstancesInService": Property(PropertyType.INTEGER, default=0),
                "MaxBatchSize": Property(PropertyType.INTEGER, default=1),
                "PauseTime": Property(PropertyType.STRING, default="PT0S"),
            },
        ),
    },
)

ADJUSTMENT_TYPES = ("change_in_capacity", "exact_capacity", "percent_change_in_capacity")


def _check_adjustment_step(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """Heat's _validate_min_adjustment_step: only a percent change has a minimum step."""
    kind, step = props.get("adjustment_type"), props.get("min_adjustment_step")
    if step is None or not isinstance(kind, str) or kind == ADJUSTMENT_TYPES[2]:
        return []
    return [
        constraint(
            "min_adjustment_step",
            "min_adjustment_step property should only be specified for adjustment_type "
            "with value percent_change_in_capacity (Heat says the same)",
        )
    ]


SCALING_POLICY = ResourceType(
    name="OS::Heat::ScalingPolicy",
    description="Resizes an OS::Heat::AutoScalingGroup of this template each time its "
    "alarm_url is POSTed to (no credentials needed: the URL is the capability), or its "
    "signal_url through the Heat API. A signal during the cooldown, while the build is "
    "not complete, or that would not change the size does nothing, as in Heat.",
    properties={
        "auto_scaling_group_id": Property(
            PropertyType.STRING,
            "The group to resize: a get_resource of an OS::Heat::AutoScalingGroup of the "
            "same template.",
            required=True,
        ),
        "scaling_adjustment": Property(
            PropertyType.NUMBER, "Size of adjustment.", required=True, update_allowed=True
        ),
        "adjustment_type": Property(
            PropertyType.STRING,
            "Type of adjustment (absolute or percentage).",
            required=True,
            update_allowed=True,
            constraints=(AllowedValues(ADJUSTMENT_TYPES),),
        ),
        "cooldown": Property(
            PropertyType.NUMBER,
            "Cooldown period, in seconds: after a resize, signals are ignored this long "
            "(the group's own cooldown when absent).",
            update_allowed=True,
        ),
        "min_adjustment_step": Property(
            PropertyType.INTEGER,
            "Minimum number of members added or removed by a percent_change_in_capacity.",
            update_allowed=True,
            constraints=(Range(0),),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "alarm_url": Attribute(
            "A URL that resizes the group when POSTed to, with no credentials (a secret: "
            "whoever holds it can scale the group). Give it to an alarm, or curl -X POST.",
            AttributeType.STRING,
        ),
        "signal_url": Attribute(
            "The Heat API's URL for the same signal (needs a Keystone token).",
            AttributeType.STRING,
        ),
    },
    needs_cloud=False,
    checks=(_check_adjustment_step,),
)

TYPES = (AUTOSCALING_GROUP, INSTANCE_GROUP, SCALING_POLICY)
