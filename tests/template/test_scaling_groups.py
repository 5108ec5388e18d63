"""Heat's scaling groups at create: OS::Heat::AutoScalingGroup and OS::Heat::InstanceGroup
planned up front like ResourceGroup (members 0..n-1), validated as Heat validates them,
and their attributes worked out from their members."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from typing import Any

import pytest

from cool.model import NestedKind, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import Report, check
from cool.template.parse import DEFAULT_LIMITS, Limits
from cool.template.problems import Code

HEAD = "heat_template_version: 2018-08-31\n"


def _check(
    text: str,
    registry: ResourceTypeRegistry,
    files: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Report:
    files = {name: textwrap.dedent(body) for name, body in (files or {}).items()}
    return check(HEAD + textwrap.dedent(text), registry, values or {}, limits, files=files)


def _plan(text: str, registry: ResourceTypeRegistry, **kwargs: Any) -> Plan:
    report = _check(text, registry, **kwargs)
    assert report.plan is not None, [p.message for p in report.problems]
    return report.plan


def _outputs(plan: Plan) -> dict[str, Any]:
    return {o.name: o.value for o in plan.outputs}


def _problems(report: Report) -> list[tuple[Code, str | None, str]]:
    return [(p.code, p.pointer, p.message) for p in report.problems]


ASG = """\
parameters:
  wanted: {type: number, default: 3}
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 5
      desired_capacity: {get_param: wanted}
      cooldown: 60
      rolling_updates: {min_in_service: 1, max_batch_size: 2}
      resource:
        type: OS::Heat::Value
        properties: {value: "v-%index%"}
outputs:
  size: {value: {get_attr: [asg, current_size]}}
  refs: {value: {get_attr: [asg, refs]}}
  refs_map: {value: {get_attr: [asg, refs_map]}}
  values: {value: {get_attr: [asg, outputs_list, value]}}
  by_member: {value: {get_attr: [asg, outputs, value]}}
  second: {value: {get_attr: [asg, resource.1.value]}}
  second_ref: {value: {get_attr: [asg, resource.1]}}
"""


def test_autoscaling_group_makes_desired_capacity_members(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(ASG, registry)
    by_name = {r.name: r for r in plan.resources}
    assert sorted(by_name) == ["asg", "asg/0", "asg/1", "asg/2"]
    group = by_name["asg"]
    assert group.nested is NestedKind.GROUP
    assert group.type == "OS::Heat::AutoScalingGroup"
    assert group.depends_on == ("asg/0", "asg/1", "asg/2")  # created after its members
    assert group.properties["rolling_updates"] == {
        "min_in_service": 1,
        "max_batch_size": 2,
        "pause_time": 0,
    }
    # Heat's AutoScalingGroup does not replace %index% (ResourceGroup does).
    assert {by_name[f"asg/{i}"].properties["value"] for i in range(3)} == {"v-%index%"}
    assert all(by_name[f"asg/{i}"].depends_on == () for i in range(3))  # all at once
    outputs = _outputs(plan)
    assert outputs["size"] == 3
    assert outputs["refs"] == [{"get_resource": f"asg/{i}"} for i in range(3)]
    assert outputs["refs_map"] == {str(i): {"get_resource": f"asg/{i}"} for i in range(3)}
    assert outputs["values"] == [{"get_attr": [f"asg/{i}", "value"]} for i in range(3)]
    assert outputs["by_member"] == {str(i): {"get_attr": [f"asg/{i}", "value"]} for i in range(3)}
    assert outputs["second"] == {"get_attr": ["asg/1", "value"]}
    assert outputs["second_ref"] == {"get_resource": "asg/1"}


def test_autoscaling_group_without_desired_capacity_makes_min_size(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        """\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 2
              max_size: 2
              resource: {type: OS::Heat::None}
        """,
        registry,
    )
    assert sorted(r.name for r in plan.resources) == ["asg", "asg/0", "asg/1"]


def test_autoscaling_group_of_nested_templates_reads_their_outputs(
    registry: ResourceTypeRegistry,
) -> None:
    member = """\
    heat_template_version: 2018-08-31
    parameters:
      label: {type: string}
    resources:
      v: {type: OS::Heat::Value, properties: {value: {get_param: label}}}
    outputs:
      first_address: {value: {get_attr: [v, value]}}
    """
    plan = _plan(
        """\
        resources:
          servers:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 0
              max_size: 4
              desired_capacity: 2
              resource:
                type: member.yaml
                properties: {label: web}
        outputs:
          ips: {value: {get_attr: [servers, outputs_list, first_address]}}
        """,
        registry,
        files={"member.yaml": member},
    )
    names = sorted(r.name for r in plan.resources)
    assert names == ["servers", "servers/0", "servers/0/v", "servers/1", "servers/1/v"]
    assert _outputs(plan)["ips"] == [{"get_attr": [f"servers/{i}/v", "value"]} for i in (0, 1)]


@pytest.mark.parametrize(
    ("sizes", "pointer", "words"),
    [
        (
            "min_size: 4, max_size: 2",
            "/resources/asg/properties/min_size",
            "min_size (4) can not be greater than max_size (2)",
        ),
        (
            "min_size: 1, max_size: 2, desired_capacity: 3",
            "/resources/asg/properties/desired_capacity",
            "desired_capacity (3) must be between min_size (1) and max_size (2)",
        ),
        (
            "min_size: 2, max_size: 4, desired_capacity: 1",
            "/resources/asg/properties/desired_capacity",
            "desired_capacity (1) must be between min_size (2) and max_size (4)",
        ),
        ("min_size: -1, max_size: 2", "/resources/asg/properties/min_size", "out of range"),
        ("min_size: 0, max_size: -2", "/resources/asg/properties/max_size", "out of range"),
        ("min_size: 0", "/resources/asg/properties/max_size", "required"),
    ],
    ids=[
        "min-over-max",
        "desired-over-max",
        "desired-under-min",
        "min-negative",
        "max-negative",
        "max-missing",
    ],
)
def test_autoscaling_group_sizes_are_validated_as_heat_does(
    registry: ResourceTypeRegistry, sizes: str, pointer: str, words: str
) -> None:
    report = _check(
        f"""\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties: {{{sizes}, resource: {{type: OS::Heat::None}}}}
        """,
        registry,
    )
    assert report.plan is None
    found = _problems(report)
    assert len(found) == 1, found
    assert found[0][1] == pointer
    assert words in found[0][2]


def test_autoscaling_group_sizes_must_be_known_before_the_build(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        resources:
          v: {type: OS::Heat::Value, properties: {value: 2}}
          asg:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 0
              max_size: 3
              desired_capacity: {get_attr: [v, value]}
              resource: {type: OS::Heat::None}
        """,
        registry,
    )
    found = _problems(report)
    assert [(c, p) for c, p, _ in found] == [
        (Code.INVALID_VALUE, "/resources/asg/properties/desired_capacity")
    ]
    assert "desired_capacity must be known before the build runs" in found[0][2]


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("[asg, outputs]", Code.INVALID_PATH, "needs a path"),
        ("[asg, outputs_list]", Code.INVALID_PATH, "needs a path"),
        ("[asg, outputs_list, nosuch]", Code.UNKNOWN_ATTRIBUTE, "has no attribute 'nosuch'"),
        ("[asg, value]", Code.UNKNOWN_ATTRIBUTE, "read with outputs or outputs_list"),
        ("[asg, current_sise]", Code.UNKNOWN_ATTRIBUTE, "did you mean 'current_size'"),
        ("[asg, resource.7.value]", Code.UNKNOWN_ATTRIBUTE, "has no member '7'"),
    ],
    ids=["outputs", "outputs-list", "member-attribute", "plain-attribute", "misspelt", "member"],
)
def test_autoscaling_group_attributes_are_checked(
    registry: ResourceTypeRegistry, path: str, code: Code, words: str
) -> None:
    report = _check(
        f"""\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 2
              max_size: 2
              resource: {{type: OS::Heat::Value, properties: {{value: 1}}}}
        outputs:
          out: {{value: {{get_attr: {path}}}}}
        """,
        registry,
    )
    found = _problems(report)
    assert len(found) == 1, found
    assert found[0][0] is code
    assert words in found[0][2], found[0][2]


def test_autoscaling_group_is_bounded_by_max_total_resources(
    registry: ResourceTypeRegistry,
) -> None:
    limits = replace(DEFAULT_LIMITS, max_total_resources=10)
    report = _check(
        """\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 0
              max_size: 100000000
              desired_capacity: 100000000
              resource: {type: OS::Heat::None}
        """,
        registry,
        limits=limits,
    )
    assert [c for c, _, _ in _problems(report)] == [Code.TOO_MANY_RESOURCES]


INSTANCE_GROUP = """\
parameters:
  count: {type: number, default: 2}
resources:
  group:
    type: OS::Heat::InstanceGroup
    properties:
      LaunchConfigurationName: {get_resource: config}
      AvailabilityZones: []
      Size: {get_param: count}
      Tags: [{Key: team, Value: web}]
  sg:
    type: AWS::EC2::SecurityGroup
    properties: {GroupDescription: web}
  config:
    type: AWS::AutoScaling::LaunchConfiguration
    metadata: {role: web}
    properties:
      ImageId: cirros
      InstanceType: m1.small
      SecurityGroups: [{get_resource: sg}]
outputs:
  ips: {value: {get_attr: [group, InstanceList]}}
"""


def test_instance_group_makes_instances_from_its_launch_configuration(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(INSTANCE_GROUP, registry)
    by_name = {r.name: r for r in plan.resources}
    assert sorted(by_name) == ["config", "group", "group/0", "group/1", "sg"]
    assert by_name["group"].nested is NestedKind.GROUP
    assert by_name["group"].depends_on == ("config", "group/0", "group/1")
    member = by_name["group/0"]
    assert member.type == "AWS::EC2::Instance"
    assert member.properties["ImageId"] == "cirros"
    assert member.properties["InstanceType"] == "m1.small"
    assert member.properties["SecurityGroups"] == [{"get_resource": "sg"}]
    # The group's tags, and Heat's metering.groupname (the group's name at create).
    assert member.properties["Tags"] == [
        {"Key": "team", "Value": "web"},
        {"Key": "metering.groupname", "Value": "group"},
    ]
    assert member.metadata == {"role": "web"}
    assert member.depends_on == ("config",)  # after what the group waits for
    assert _outputs(plan)["ips"] == {
        "list_join": [",", [{"get_attr": [f"group/{i}", "PublicIp"]} for i in (0, 1)]]
    }


def test_instance_group_keeps_a_metering_tag_given(registry: ResourceTypeRegistry) -> None:
    text = INSTANCE_GROUP.replace("Key: team", "Key: metering.stack")
    plan = _plan(text, registry)
    member = next(r for r in plan.resources if r.name == "group/0")
    assert member.properties["Tags"] == [{"Key": "metering.stack", "Value": "web"}]


def test_instance_group_of_no_instance_lists_none(registry: ResourceTypeRegistry) -> None:
    plan = _plan(INSTANCE_GROUP, registry, values={"count": 0})
    assert sorted(r.name for r in plan.resources) == ["config", "group", "sg"]
    assert _outputs(plan)["ips"] is None


@pytest.mark.parametrize(
    ("old", "new", "pointer", "words"),
    [
        (
            "{get_resource: config}",
            "config",
            "/resources/group/properties/LaunchConfigurationName",
            "requires a reference to the configuration not just the name",
        ),
        (
            "{get_resource: config}",
            "elsewhere",
            "/resources/group/properties/LaunchConfigurationName",
            "reference can not be found",
        ),
        (
            "{get_resource: config}",
            "{get_resource: sg}",
            "/resources/group/properties/LaunchConfigurationName",
            "must be a get_resource of an AWS::AutoScaling::LaunchConfiguration",
        ),
        (
            "Tags: [{Key: team, Value: web}]",
            "LoadBalancerNames: [lb]",
            "/resources/group/properties/LoadBalancerNames",
            "reconfiguring load balancers",
        ),
        (
            "  sg:\n",
            "    update_policy: {RollingUpdate: {PauseTime: PT2H}}\n  sg:\n",
            "/resources/group/update_policy/RollingUpdate/PauseTime",
            "Maximum PauseTime is 1 hour.",
        ),
        (
            "  sg:\n",
            "    update_policy: {RollingUpdate: {PauseTime: 5 minutes}}\n  sg:\n",
            "/resources/group/update_policy/RollingUpdate/PauseTime",
            "PT#H#M#S",
        ),
        (
            "      ImageId: cirros\n",
            "      ImageId: cirros\n      InstanceId: abc\n",
            "/resources/config/properties/InstanceId",
            "existing instance (InstanceId) is not supported by groups",
        ),
        (
            "      AvailabilityZones: []\n",
            "",
            "/resources/group/properties/AvailabilityZones",
            "required",
        ),
    ],
    ids=[
        "name-not-reference",
        "not-found",
        "not-a-launch-configuration",
        "load-balancers",
        "pause-over-an-hour",
        "pause-not-iso",
        "from-an-instance",
        "zones-missing",
    ],
)
def test_instance_group_is_validated_as_heat_does(
    registry: ResourceTypeRegistry, old: str, new: str, pointer: str, words: str
) -> None:
    assert old in INSTANCE_GROUP
    report = _check(INSTANCE_GROUP.replace(old, new, 1), registry)
    found = _problems(report)
    assert report.plan is None
    assert pointer in [p for _, p, _ in found], found
    assert any(words in m for _, p, m in found if p == pointer), found


def test_instance_group_member_problems_point_at_the_launch_configuration(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(INSTANCE_GROUP.replace("m1.small", "[1]"), registry)
    assert {p for _, p, _ in _problems(report)} == {"/resources/config/properties/InstanceType"}


def test_scaling_group_members_are_a_nested_level_down(registry: ResourceTypeRegistry) -> None:
    """As in Heat, a group is a nested stack: a member that is a template is one more
    level, against max_stack_depth."""
    text = """\
    resources:
      asg:
        type: OS::Heat::AutoScalingGroup
        properties:
          min_size: 1
          max_size: 1
          resource: {type: member.yaml}
    """
    member = "heat_template_version: 2018-08-31\nresources: {v: {type: OS::Heat::None}}\n"
    files = {"member.yaml": member}
    assert _check(text, registry, files=files, limits=replace(DEFAULT_LIMITS, max_stack_depth=2)).ok
    report = _check(text, registry, files=files, limits=replace(DEFAULT_LIMITS, max_stack_depth=1))
    assert [(c, p) for c, p, _ in _problems(report)] == [
        (Code.STACK_TOO_DEEP, "/resources/asg/properties/resource/type")
    ]


def test_all_attributes_of_a_scaling_group(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties: {min_size: 1, max_size: 1, resource: {type: OS::Heat::None}}
        outputs:
          all: {value: {get_attr: [asg]}}
        """,
        registry,
    )
    assert _outputs(plan)["all"] == {
        "current_size": 1,
        "refs": [{"get_resource": "asg/0"}],
        "refs_map": {"0": {"get_resource": "asg/0"}},
    }


def test_autoscaling_group_definition_takes_the_keys_heat_reads(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat reads ``resource`` as a resource of the template: deletion_policy, depends_on,
    update_policy and description were refused as unknown properties (review of 20)."""
    plan = _plan(
        """\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 2
              max_size: 3
              resource:
                type: OS::Heat::None
                deletion_policy: Retain
                depends_on: [elsewhere]
                update_policy: {}
                description: a member
        """,
        registry,
    )
    policies = {r.name: str(r.deletion_policy) for r in plan.resources}
    assert policies == {"asg": "Delete", "asg/0": "Retain", "asg/1": "Retain"}


def test_autoscaling_group_of_templates_refuses_to_retain_them(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        resources:
          asg:
            type: OS::Heat::AutoScalingGroup
            properties:
              min_size: 1
              max_size: 3
              resource: {type: member.yaml, deletion_policy: Retain}
        """,
        registry,
        files={"member.yaml": "heat_template_version: 2018-08-31\nresources: {}\n"},
    )
    (problem,) = {(c, p) for c, p, _ in _problems(report)}
    assert problem == (
        Code.UNSUPPORTED_FEATURE,
        "/resources/asg/properties/resource/deletion_policy",
    )


def test_autoscaling_group_member_by_negative_position(registry: ResourceTypeRegistry) -> None:
    """Heat's AutoScalingGroup reads ``resource.<n>`` by position: -1 is the last member
    (before: "has no member '-1'"; review of 20)."""
    plan = _plan(
        ASG
        + "  last: {value: {get_attr: [asg, resource.-1.value]}}\n"
        + "  last_ref: {value: {get_attr: [asg, resource.-1]}}\n",
        registry,
    )
    outputs = _outputs(plan)
    assert outputs["last"] == {"get_attr": ["asg/2", "value"]}
    assert outputs["last_ref"] == {"get_resource": "asg/2"}
