"""What a scaling policy's signal does to a build: Heat's arithmetic, and the plan after.

Heat resizes an AutoScalingGroup by updating its nested stack. cool plans a group's
members up front (cool.template.groups), so a resize plans them again: the template
is compiled anew from the build's recipe with the group's member names given
(``members``), and :func:`resized_plan` joins that to the plan the build runs. Only the
group changes: every other resource keeps its definition (Heat re-resolves nothing
outside the group on a resize either), so a signal can never replace anything else.

Members are named by number in the order they were made (``0``, ``1``, ...); a name is
never used twice in a build, so a new member never meets an old one's records or
marks. Scale-in removes the oldest members first, as Heat does once every member is
complete (a build that is not complete is never resized). The removed members stay in
the plan, listed in ``Plan.retiring``, until their teardown is done: the worker needs
their order, and a delete of the whole build meanwhile needs them too.

Pure: no I/O. The decision (:func:`decide`) reads only the plan and the state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cool.errors import ResizeRefusedError
from cool.model import (
    NESTED_SEPARATOR,
    SCALING_POLICY,
    BuildStatus,
    NestedKind,
    Plan,
    ResourceSpec,
)

CHANGE_IN_CAPACITY = "change_in_capacity"
EXACT_CAPACITY = "exact_capacity"
PERCENT_CHANGE_IN_CAPACITY = "percent_change_in_capacity"
_RESIZABLE = (BuildStatus.CREATE_COMPLETE, BuildStatus.UPDATE_COMPLETE)


def new_capacity(
    current: int,
    adjustment: float,
    adjustment_type: str,
    *,
    min_adjustment_step: int | None,
    minimum: int,
    maximum: int,
) -> int:
    """Heat's calculate_new_capacity (heat/scaling/scalingutil.py): a percent change
    rounds away from zero under one member and toward zero from one on, then takes at
    least ``min_adjustment_step``; the result is kept within ``minimum`` and ``maximum``."""
    if adjustment_type == CHANGE_IN_CAPACITY:
        capacity = current + adjustment
    elif adjustment_type == EXACT_CAPACITY:
        capacity = adjustment
    else:
        delta = current * adjustment / 100.0
        if math.fabs(delta) < 1.0:
            rounded = int(math.ceil(delta) if delta > 0.0 else math.floor(delta))
        else:
            rounded = int(math.floor(delta) if delta > 0.0 else math.ceil(delta))
        if min_adjustment_step and min_adjustment_step > abs(rounded):
            rounded = min_adjustment_step if rounded > 0 else -min_adjustment_step
        capacity = current + rounded
    return int(max(minimum, min(maximum, capacity)))


@dataclass(frozen=True, slots=True)
class Decision:
    """A resize to make: ``kept`` and ``added`` members of ``group``, ``removed`` ones."""

    group: str
    policy: str
    current: int
    capacity: int
    kept: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    next_number: int  # the number the group's next new member is named with
    cooldown: float  # seconds after the resize during which signals are ignored
    adjustment: str  # what the policy asked, for the reason ("change_in_capacity : 1")

    @property
    def members(self) -> tuple[str, ...]:
        return (*self.kept, *self.added)


@dataclass(frozen=True, slots=True)
class NoAction:
    """A signal that changes nothing, and why (Heat's NoActionRequired)."""

    reason: str


def alarm_state(body: Any) -> str:
    """The alarm's state in a signal, as Heat reads it: ``current``, else ``state``,
    else ``alarm`` (an empty POST is an alarm)."""
    if not isinstance(body, Mapping):
        return "alarm"
    state = body.get("current", body.get("state", "alarm"))
    return str(state).lower() if isinstance(state, str) else "alarm"


def group_of(policy: ResourceSpec) -> str | None:
    """The plan name of the group a policy scales (the compiler checked it is one)."""
    ref = policy.properties.get("auto_scaling_group_id")
    if isinstance(ref, Mapping) and list(ref) == ["get_resource"]:
        name = ref["get_resource"]
        return name if isinstance(name, str) else None
    return None


def members_of(plan: Plan, group: str) -> list[str]:
    """The group's members in the order they were made (oldest first), retiring ones
    left out."""
    prefix = group + NESTED_SEPARATOR
    retiring = set(plan.retiring)
    names = {
        spec.name[len(prefix) :].split(NESTED_SEPARATOR, 1)[0]
        for spec in plan.resources
        if spec.name.startswith(prefix) and spec.name not in retiring
    }
    return sorted(names, key=_number)


def members_now(plan: Plan, decision: Decision) -> dict[str, list[str]]:
    """The member names to compile the plan after ``decision`` with: the resized group's
    new ones, and every other group's as they stand (an earlier resize named them)."""
    groups = {
        spec.name: members_of(plan, spec.name)
        for spec in plan.resources
        if spec.nested is NestedKind.GROUP and spec.name not in plan.retiring
    }
    groups[decision.group] = list(decision.members)
    return groups


def decide(
    plan: Plan,
    status: BuildStatus,
    scaling: Mapping[str, Any] | None,
    policy: str,
    *,
    body: Any,
    now: float,
    max_members: int,
) -> Decision | NoAction:
    """What a signal to ``policy`` does to a build in ``status`` running ``plan``, with
    what scaling kept in its state (``scaling``: per group, ``cooldown_end`` and ``next``).
    A group is never planned past ``max_members`` ([template] max_total_resources): such a
    resize is refused before any name is made."""
    try:
        spec = plan.resource(policy)
    except KeyError:
        return NoAction(f"{policy} is not a resource of this build")
    if spec.type != SCALING_POLICY or policy in plan.retiring:
        return NoAction(f"{policy} is not a scaling policy")
    state = alarm_state(body)
    if state != "alarm":
        return NoAction(f"the alarm's state is {state!r}, not 'alarm'")
    if status not in _RESIZABLE:
        return NoAction(f"the build is {status}: only a complete build is resized")
    group = group_of(spec)
    try:
        group_spec = plan.resource(group or "")
    except KeyError:
        return NoAction(f"{policy}: its group is not a resource of this build")
    properties = spec.properties
    sizes = group_spec.properties
    members = members_of(plan, group_spec.name)
    low, high = int(sizes.get("min_size") or 0), int(sizes.get("max_size") or 0)
    adjustment, kind = properties.get("scaling_adjustment"), properties.get("adjustment_type")
    if (
        not isinstance(adjustment, int | float)
        or isinstance(adjustment, bool)
        or not math.isfinite(adjustment)
    ):
        return NoAction(f"{policy}: scaling_adjustment {adjustment!r} is not a number")
    capacity = new_capacity(
        len(members),
        adjustment,
        str(kind),
        min_adjustment_step=properties.get("min_adjustment_step"),
        minimum=low,
        maximum=high,
    )
    if capacity == len(members):
        return NoAction(f"{group_spec.name} stays at {capacity} members: no change in capacity")
    if capacity > max_members:
        raise ResizeRefusedError(
            f"{group_spec.name} would have {capacity} members, more than a build's "
            f"{max_members} resources ([template] max_total_resources): not resized"
        )
    kept_state = dict((scaling or {}).get(group_spec.name) or {})
    cooldown = properties.get("cooldown")
    if cooldown is None:
        cooldown = sizes.get("cooldown")
    cooldown = max(float(cooldown or 0), 0.0)
    end = float(kept_state.get("cooldown_end") or 0)
    if now < end:
        return NoAction(f"{group_spec.name} is in its cooldown for {end - now:.0f} s more")
    first = max(int(kept_state.get("next") or 0), *(_number(m) + 1 for m in members), 0)
    if capacity > len(members):
        added = tuple(str(n) for n in range(first, first + capacity - len(members)))
        kept, removed = tuple(members), ()
    else:
        added, cut = (), len(members) - capacity
        kept, removed = tuple(members[cut:]), tuple(members[:cut])
    return Decision(
        group=group_spec.name,
        policy=policy,
        current=len(members),
        capacity=capacity,
        kept=kept,
        added=added,
        removed=removed,
        next_number=first + len(added),
        cooldown=cooldown,
        adjustment=f"{kind} : {adjustment:g}",
    )


def resized_plan(running: Plan, compiled: Plan, decision: Decision) -> Plan:
    """The plan after ``decision``: the group (itself and every member under it) as
    ``compiled`` made it, the removed members' resources as ``running`` had them (now
    retiring), and every other resource as ``running`` had it (a resize starts only from
    a complete build, so the retiring of an earlier one are gone). Its dependencies are
    kept as they were, with what ``compiled`` adds (a resource that reads the group's
    attributes now waits for its new members too, so a delete takes it down first)."""
    group = decision.group
    prefix = group + NESTED_SEPARATOR

    def in_group(name: str) -> bool:
        return name == group or name.startswith(prefix)

    removed = {prefix + member for member in decision.removed}
    leaving = {
        spec.name
        for spec in running.resources
        if spec.name in removed or any(spec.name.startswith(r + NESTED_SEPARATOR) for r in removed)
    }
    made = {spec.name: spec for spec in compiled.resources}
    specs: list[ResourceSpec] = []
    for spec in running.resources:
        if spec.name in running.retiring:
            continue  # an earlier resize's, torn down before the build was complete
        if spec.name in leaving:
            specs.append(spec)
        elif not in_group(spec.name):
            new = made.get(spec.name)
            wanted = set(spec.depends_on) | set(new.depends_on if new is not None else ())
            specs.append(replace(spec, depends_on=tuple(sorted(wanted))))
    specs.extend(spec for spec in compiled.resources if in_group(spec.name))
    known = {spec.name for spec in specs}
    specs = [
        replace(spec, depends_on=tuple(d for d in spec.depends_on if d in known)) for spec in specs
    ]
    return replace(
        compiled,
        resources=tuple(_ordered(specs)),
        retiring=tuple(sorted(leaving & known)),
    )


def _ordered(specs: list[ResourceSpec]) -> list[ResourceSpec]:
    """Levels again (one past the deepest dependency; Kahn's order), then sorted by level
    and name."""
    by_name = {spec.name: spec for spec in specs}
    blockers = {name: len(spec.depends_on) for name, spec in by_name.items()}
    dependents: dict[str, list[str]] = {name: [] for name in by_name}
    for name, spec in by_name.items():
        for dep in spec.depends_on:
            dependents[dep].append(name)
    ready = [name for name, count in blockers.items() if count == 0]
    levels: dict[str, int] = {}
    while ready:
        name = ready.pop()
        levels[name] = 1 + max((levels[d] for d in by_name[name].depends_on), default=-1)
        for child in dependents[name]:
            blockers[child] -= 1
            if blockers[child] == 0:
                ready.append(child)
    if len(levels) != len(by_name):
        raise ValueError("the resized plan has a dependency cycle")
    ranked = [replace(spec, level=levels[spec.name]) for spec in specs]
    return sorted(ranked, key=lambda s: (s.level, s.name))


def _number(member: str) -> int:
    return int(member) if member.isdigit() else -1
