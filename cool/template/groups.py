"""What each of Heat's group types makes at create, as one shape the compiler expands.

OS::Heat::ResourceGroup, OS::Heat::AutoScalingGroup and OS::Heat::InstanceGroup all
stand for a nested stack of identical members (cool.template.nested). They differ in
where the members' definition and number come from: ResourceGroup's ``resource_def``
and ``count`` (with ``index_var``, removal policies and batches); AutoScalingGroup's
``resource`` and ``desired_capacity`` (``min_size`` when absent); InstanceGroup's
launch configuration, made into AWS::EC2::Instance members, and ``Size``. Heat names
a scaling group's members with random ids; cool names every group's members
``0``, ``1``, ... so a worker that takes a build over finds the same names.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from cool.template.problems import Path

RESOURCE_GROUP = "OS::Heat::ResourceGroup"
AUTOSCALING_GROUP = "OS::Heat::AutoScalingGroup"
INSTANCE_GROUP = "OS::Heat::InstanceGroup"
GROUP_TYPES = (RESOURCE_GROUP, AUTOSCALING_GROUP, INSTANCE_GROUP)
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"
INSTANCE = "AWS::EC2::Instance"  # what Heat's InstanceGroup maps its members to
DEFAULT_INDEX_VAR = "%index%"
_METERING = "metering."


@dataclass(frozen=True, slots=True)
class Shape:
    """What one group makes: ``count`` members, each from ``definition`` (a mapping of
    type, properties and metadata), located at ``properties_at`` and ``type_at``."""

    count: Any  # an int, or Unknown / Deferred (then nothing is made)
    definition: Any
    properties_at: Path
    type_at: Path
    # Fields that decide the members: each must be known before the build runs.
    deciding: tuple[tuple[str, Any], ...] = ()
    index_var: str | None = None  # replaced with each member's name (ResourceGroup)
    removal_policies: Any = None
    batch_size: int | None = None  # members created at once (ResourceGroup's batch_create)


def shape(
    group_type: str, properties: dict[str, Any], update_policy: dict[str, Any], at: Path
) -> Shape:
    """ResourceGroup's and AutoScalingGroup's shape (``at``: where their properties are)."""
    if group_type == AUTOSCALING_GROUP:
        wanted = properties.get("desired_capacity")
        count = properties.get("min_size") if wanted is None else wanted
        definition = properties.get("resource")
        return Shape(
            count,
            definition,
            (*at, "resource", "properties"),
            (*at, "resource", "type"),
            deciding=(
                *(
                    (key, properties.get(key))
                    for key in ("min_size", "max_size", "desired_capacity")
                ),
                ("resource", definition),
                *_fields("resource", definition),
            ),
        )
    definition = properties.get("resource_def")
    variable = properties.get("index_var")
    batch_create = update_policy.get("batch_create")
    size = batch_create.get("max_batch_size") if isinstance(batch_create, dict) else None
    return Shape(
        properties.get("count", 1),
        definition,
        (*at, "resource_def", "properties"),
        (*at, "resource_def", "type"),
        deciding=(
            ("count", properties.get("count", 1)),
            ("resource_def", definition),
            *_fields("resource_def", definition),
        ),
        index_var=variable if isinstance(variable, str) and variable else DEFAULT_INDEX_VAR,
        removal_policies=properties.get("removal_policies"),
        batch_size=size if isinstance(size, int) and size > 0 else None,
    )


def instance_group_shape(
    properties: dict[str, Any],
    configuration: dict[str, Any],
    *,
    metadata: Any,
    group_name: str,
    at: Path,
    configuration_at: Path,
) -> Shape:
    """InstanceGroup's shape: Size AWS::EC2::Instance members with the launch
    configuration's properties (those it gives) and metadata, and the group's Tags plus
    Heat's ``metering.groupname`` (unless a tag already starts with ``metering.``)."""
    tags = properties.get("Tags")
    tags = list(tags) if isinstance(tags, list) else []
    if not any(isinstance(t, dict) and str(t.get("Key", "")).startswith(_METERING) for t in tags):
        # Heat's value is the group's reference when the members are defined: before its
        # nested stack exists, that is the group's own name.
        tags.append({"Key": f"{_METERING}groupname", "Value": group_name})
    definition = {
        "type": INSTANCE,
        "properties": {**configuration, "Tags": tags},
        "metadata": metadata if isinstance(metadata, dict) else {},
    }
    return Shape(
        properties.get("Size"),
        definition,
        configuration_at,
        (*at, "LaunchConfigurationName"),
        deciding=(("Size", properties.get("Size")), ("Tags", properties.get("Tags"))),
    )


def _fields(key: str, definition: Any) -> list[tuple[str, Any]]:
    """A member definition's properties and metadata, named for messages."""
    if not isinstance(definition, dict):
        return []
    return [(f"{key}.{field}", definition.get(field)) for field in ("properties", "metadata")]


def member_names(count: int, removal_policies: Any) -> tuple[list[str], tuple[str, ...]]:
    """The names of a new group's members, and the names its removal policies skip:
    Heat never uses a name listed in a ``resource_list`` (its "skiplist")."""
    skipped: set[str] = set()
    for policy in removal_policies if isinstance(removal_policies, list) else ():
        listed = policy.get("resource_list") if isinstance(policy, dict) else None
        for name in listed if isinstance(listed, list) else ():
            if isinstance(name, str | int) and not isinstance(name, bool):
                skipped.add(str(name))
    names = itertools.islice(
        (n for n in map(str, itertools.count()) if n not in skipped), max(count, 0)
    )
    return list(names), tuple(sorted(skipped))
