"""What a scaling policy's signal does (cool.template.scaling): Heat's capacity
arithmetic, the decision (cooldown, status, alarm state, oldest members out first),
and the plan after a resize: only the group changes."""

from __future__ import annotations

import math
import textwrap
from dataclasses import replace
from typing import Any

import pytest

from cool.errors import ResizeRefusedError
from cool.model import BuildStatus, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.scaling import (
    CHANGE_IN_CAPACITY,
    EXACT_CAPACITY,
    PERCENT_CHANGE_IN_CAPACITY,
    Decision,
    NoAction,
    alarm_state,
    decide,
    members_now,
    members_of,
    new_capacity,
    resized_plan,
)

MAX = 2000  # [template] max_total_resources' default

TEMPLATE = """\
heat_template_version: 2016-10-14
parameters:
  secret: {type: string, hidden: true}
resources:
  net:
    type: OS::Heat::Value
    properties: {value: {get_param: secret}}
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      desired_capacity: 2
      max_size: 4
      cooldown: 30
      resource:
        type: member.yaml
        properties: {net: {get_attr: [net, value]}}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: asg}
      scaling_adjustment: 1
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: asg}
      scaling_adjustment: -1
      cooldown: 5
  size:
    type: OS::Heat::Value
    properties: {value: {get_attr: [asg, current_size]}}
outputs:
  size: {value: {get_attr: [asg, current_size]}}
"""
MEMBER = """\
heat_template_version: 2016-10-14
parameters:
  net: {type: string}
resources:
  a: {type: OS::Heat::RandomString}
  b:
    type: OS::Heat::Value
    properties: {value: {list_join: ['-', [{get_param: net}, {get_attr: [a, value]}]]}}
"""


def _compile(registry: ResourceTypeRegistry, members: dict[str, list[str]] | None = None) -> Plan:
    report = check(
        TEMPLATE,
        registry,
        {"secret": "s3cret"},
        files={"member.yaml": MEMBER},
        members=members,
    )
    assert report.plan is not None, [p.message for p in report.problems]
    return report.plan


@pytest.mark.parametrize(
    ("current", "adjustment", "kind", "step", "low", "high", "expected"),
    [
        (2, 3, CHANGE_IN_CAPACITY, None, 0, 10, 5),
        (6, -2, CHANGE_IN_CAPACITY, None, 0, 5, 4),  # over the maximum already: 4 all the same
        (2, 8, CHANGE_IN_CAPACITY, None, 0, 5, 5),
        (2, -10, CHANGE_IN_CAPACITY, None, 1, 5, 1),
        (2, 4, EXACT_CAPACITY, None, 0, 5, 4),
        (2, 11, EXACT_CAPACITY, None, 0, 5, 5),
        (4, 1, EXACT_CAPACITY, None, 3, 5, 3),
        (4, 50, PERCENT_CHANGE_IN_CAPACITY, None, 1, 10, 6),
        (4, -25, PERCENT_CHANGE_IN_CAPACITY, None, 1, 10, 3),
        (6, -50, PERCENT_CHANGE_IN_CAPACITY, None, 4, 10, 4),
        # Under one member, a percent rounds away from zero; from one on, toward zero.
        (2, -33, PERCENT_CHANGE_IN_CAPACITY, None, 0, 10, 1),
        (1, 33, PERCENT_CHANGE_IN_CAPACITY, None, 0, 10, 2),
        (2, -66, PERCENT_CHANGE_IN_CAPACITY, None, 0, 10, 1),
        (1, 225, PERCENT_CHANGE_IN_CAPACITY, None, 0, 10, 3),
        # min_adjustment_step: at least that many, either way.
        (1, 100, PERCENT_CHANGE_IN_CAPACITY, 3, 0, 10, 4),
        (1, 33, PERCENT_CHANGE_IN_CAPACITY, 2, 0, 10, 3),
        (10, -10, PERCENT_CHANGE_IN_CAPACITY, 3, 0, 20, 7),
        (10, 50, PERCENT_CHANGE_IN_CAPACITY, 3, 0, 20, 15),  # more than the step: as it is
    ],
)
def test_new_capacity_is_heats(
    current: int, adjustment: int, kind: str, step: int | None, low: int, high: int, expected: int
) -> None:
    got = new_capacity(
        current, adjustment, kind, min_adjustment_step=step, minimum=low, maximum=high
    )
    assert got == expected


@pytest.mark.parametrize(
    ("body", "state"),
    [
        (None, "alarm"),
        ({}, "alarm"),
        ({"current": "ALARM", "previous": "ok"}, "alarm"),
        ({"current": "ok"}, "ok"),
        ({"state": "insufficient data"}, "insufficient data"),
        ("text", "alarm"),
        ({"current": 3}, "alarm"),
    ],
)
def test_the_alarm_state_is_read_as_heat_reads_it(body: Any, state: str) -> None:
    assert alarm_state(body) == state


def test_a_decision_follows_heat(registry: ResourceTypeRegistry) -> None:
    plan = _compile(registry)
    assert members_of(plan, "asg") == ["0", "1"]
    up = decide(plan, BuildStatus.CREATE_COMPLETE, None, "up", body={}, now=100.0, max_members=MAX)
    assert up == Decision(
        group="asg",
        policy="up",
        current=2,
        capacity=3,
        kept=("0", "1"),
        added=("2",),
        removed=(),
        next_number=3,
        cooldown=30.0,  # the policy gives none: the group's
        adjustment="change_in_capacity : 1",
    )
    down = decide(
        plan, BuildStatus.UPDATE_COMPLETE, None, "down", body=None, now=100.0, max_members=MAX
    )
    assert isinstance(down, Decision)
    assert (down.kept, down.removed, down.cooldown) == (("1",), ("0",), 5.0)
    # A name is never used twice: the next number kept in the state wins.
    later = decide(
        plan,
        BuildStatus.UPDATE_COMPLETE,
        {"asg": {"next": 7}},
        "up",
        body={},
        now=1,
        max_members=MAX,
    )
    assert isinstance(later, Decision)
    assert later.added == ("7",)
    assert later.next_number == 8


@pytest.mark.parametrize(
    ("status", "scaling", "policy", "body", "why"),
    [
        (BuildStatus.CREATE_IN_PROGRESS, None, "up", {}, "only a complete build"),
        (BuildStatus.UPDATE_IN_PROGRESS, None, "up", {}, "only a complete build"),
        (BuildStatus.UPDATE_FAILED, None, "up", {}, "only a complete build"),
        (BuildStatus.CREATE_COMPLETE, {"asg": {"cooldown_end": 150.0}}, "up", {}, "cooldown"),
        (BuildStatus.CREATE_COMPLETE, None, "up", {"current": "ok"}, "not 'alarm'"),
        (BuildStatus.CREATE_COMPLETE, None, "size", {}, "not a scaling policy"),
        (BuildStatus.CREATE_COMPLETE, None, "nope", {}, "not a resource"),
    ],
)
def test_signals_that_change_nothing(
    registry: ResourceTypeRegistry,
    status: BuildStatus,
    scaling: dict[str, Any] | None,
    policy: str,
    body: Any,
    why: str,
) -> None:
    plan = _compile(registry)
    decision = decide(plan, status, scaling, policy, body=body, now=100.0, max_members=MAX)
    assert isinstance(decision, NoAction)
    assert why in decision.reason


def test_no_change_in_capacity_is_no_action(registry: ResourceTypeRegistry) -> None:
    plan = _compile(registry, {"asg": ["5"]})  # one member: at min_size
    decision = decide(
        plan, BuildStatus.CREATE_COMPLETE, None, "down", body={}, now=0.0, max_members=MAX
    )
    assert isinstance(decision, NoAction)
    assert "no change in capacity" in decision.reason


def test_the_resized_plan_changes_the_group_alone(registry: ResourceTypeRegistry) -> None:
    running = _compile(registry)
    decision = decide(
        running, BuildStatus.CREATE_COMPLETE, None, "down", body={}, now=0.0, max_members=MAX
    )
    assert isinstance(decision, Decision)
    compiled = _compile(registry, {decision.group: list(decision.members)})
    plan = resized_plan(running, compiled, decision)
    names = [r.name for r in plan.resources]
    assert plan.retiring == ("asg/0", "asg/0/a", "asg/0/b")  # still there, to tear down
    assert {"asg/0", "asg/1", "asg/1/a", "asg/1/b"} <= set(names)
    # Outside the group nothing changes: the Value that read current_size keeps 2 (the
    # new compile says 1), as Heat leaves it until the stack itself is updated.
    size = plan.resource("size")
    assert size.properties == running.resource("size").properties
    assert compiled.resource("size").properties != size.properties
    # The outputs are the new compile's: the group has one member now.
    assert {o.name: o.value for o in plan.outputs}["size"] == 1
    # The group depends on its kept members (and what it reads); the retiring keep
    # their order.
    assert plan.resource("asg").depends_on == ("asg/1", "net")
    assert plan.resource("asg/0/b").depends_on == running.resource("asg/0/b").depends_on
    levels = {r.name: r.level for r in plan.resources}
    for spec in plan.resources:
        assert all(levels[d] < spec.level for d in spec.depends_on)
    # A plan that round-trips through JSON keeps what is retiring.
    assert Plan.from_json(plan.to_json()) == plan


def test_a_grown_plan_adds_new_members_after_the_old(registry: ResourceTypeRegistry) -> None:
    running = _compile(registry)
    decision = decide(
        running, BuildStatus.CREATE_COMPLETE, None, "up", body={}, now=0.0, max_members=MAX
    )
    assert isinstance(decision, Decision)
    plan = resized_plan(running, _compile(registry, {"asg": list(decision.members)}), decision)
    assert plan.retiring == ()
    assert members_of(plan, "asg") == ["0", "1", "2"]
    # The member's values are those the recipe gives (a hidden parameter included).
    assert plan.resource("net").properties == {"value": "s3cret"}
    assert set(plan.resource("asg").depends_on) == {"asg/0", "asg/1", "asg/2", "net"}


def test_policies_must_name_a_group_of_their_template(registry: ResourceTypeRegistry) -> None:
    text = textwrap.dedent(
        """\
        heat_template_version: 2016-10-14
        parameters:
          group: {type: string, default: abc}
        resources:
          rg:
            type: OS::Heat::ResourceGroup
            properties: {count: 1, resource_def: {type: OS::Heat::None}}
          by_id:
            type: OS::Heat::ScalingPolicy
            properties:
              adjustment_type: change_in_capacity
              auto_scaling_group_id: {get_param: group}
              scaling_adjustment: 1
          not_scaling:
            type: OS::Heat::ScalingPolicy
            properties:
              adjustment_type: exact_capacity
              auto_scaling_group_id: {get_resource: rg}
              scaling_adjustment: 1
              min_adjustment_step: 1
        """
    )
    report = check(text, registry, {})
    messages = {(p.pointer, p.message) for p in report.problems}
    assert len(messages) == 3, messages
    pointers = sorted(pointer for pointer, _ in messages)
    assert pointers == [
        "/resources/by_id/properties/auto_scaling_group_id",
        "/resources/not_scaling/properties/auto_scaling_group_id",
        "/resources/not_scaling/properties/min_adjustment_step",
    ]
    assert any("'rg' is a OS::Heat::ResourceGroup" in m for _, m in messages)


def test_a_resize_past_what_a_build_holds_is_refused_before_names_are_made(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _compile(registry)
    with pytest.raises(ResizeRefusedError, match="would have 3 members, more than a build's 2"):
        decide(plan, BuildStatus.CREATE_COMPLETE, None, "up", body={}, now=0.0, max_members=2)


@pytest.mark.parametrize("adjustment", [math.nan, math.inf, -math.inf])
def test_an_adjustment_that_is_no_number_does_nothing(
    registry: ResourceTypeRegistry, adjustment: float
) -> None:
    plan = _compile(registry)
    spec = plan.resource("up")
    odd = replace(spec, properties={**spec.properties, "scaling_adjustment": adjustment})
    plan = replace(plan, resources=tuple(odd if r.name == "up" else r for r in plan.resources))
    decision = decide(
        plan, BuildStatus.CREATE_COMPLETE, None, "up", body={}, now=0.0, max_members=MAX
    )
    assert isinstance(decision, NoAction)
    assert "is not a number" in decision.reason


def test_a_second_group_keeps_its_members_when_the_first_is_resized(
    registry: ResourceTypeRegistry,
) -> None:
    text = TEMPLATE.replace(
        "  up:\n",
        "  other:\n    type: OS::Heat::AutoScalingGroup\n"
        "    properties: {min_size: 0, max_size: 5, desired_capacity: 2,"
        " resource: {type: OS::Heat::None}}\n  up:\n",
        1,
    )
    report = check(
        text, registry, {"secret": "x"}, files={"member.yaml": MEMBER}, members={"other": ["1"]}
    )
    assert report.plan is not None, [p.message for p in report.problems]
    running = report.plan
    decision = decide(
        running, BuildStatus.UPDATE_COMPLETE, None, "up", body={}, now=0.0, max_members=MAX
    )
    assert isinstance(decision, Decision)
    assert members_now(running, decision) == {"asg": ["0", "1", "2"], "other": ["1"]}


def test_a_policy_without_its_group_is_reported_once_where_it_is_missing(
    registry: ResourceTypeRegistry,
) -> None:
    text = textwrap.dedent(
        """\
        heat_template_version: 2016-10-14
        resources:
          up:
            type: OS::Heat::ScalingPolicy
            properties: {adjustment_type: change_in_capacity, scaling_adjustment: 1}
        """
    )
    report = check(text, registry, {})
    assert [(p.code.value, p.pointer) for p in report.problems] == [
        ("cool.template.missing_property", "/resources/up/properties/auto_scaling_group_id")
    ]
