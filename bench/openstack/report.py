"""The openstack benchmark's results, and what they mean: the tables, the critical
path of the template's graph, and the verdicts on the targets.

The ratio judged is the median of the rounds' ratios (cool's time over the
script's in the same round), not the ratio of the medians: each round pairs
two runs made moments apart, so the machine's noise of that moment is in both.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cool.model import Plan

TARGET_RATIO = 1.2  # cool's time at most this many times the script's (issue 8)
# Issue 20: cool's build within this many times the template's critical path at the
# script's own step times (what a perfect parallel engine would take at its speed) ...
PATH_TARGET_RATIO = 1.1
# ... and every Neutron step within this many times the script's same step.
NEUTRON_STEP_TARGET_RATIO = 1.5


@dataclass
class Side:
    """One side's run in one round: the whole create and delete, and each step."""

    create_s: float = 0.0
    delete_s: float = 0.0
    create_steps: dict[str, float] = field(default_factory=dict)
    delete_steps: dict[str, float] = field(default_factory=dict)
    create_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    delete_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    claim_s: float | None = None  # cool: submit -> its first step (context)
    delete_claim_s: float | None = None
    # by (caller, service, request shape): bench.openstack.cloud.request_shape
    create_shapes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    delete_shapes: Counter[tuple[str, str, str]] = field(default_factory=Counter)


@dataclass
class Round:
    first: str  # "baseline", "cool" or "parallel"
    baseline: Side | None = None
    cool: Side | None = None
    leaks: dict[str, dict[str, int]] = field(default_factory=dict)  # side -> counts changed
    parallel: Side | None = None  # the baseline's steps run as the graph allows


@dataclass
class Results:
    workers: int
    poll_interval_s: float
    poll_interval_max_s: float
    rounds: list[Round] = field(default_factory=list)
    plan: Plan | None = None
    parallelism: int = 4  # [worker] parallelism: steps of a build at once
    script_interval_s: float = 1.0  # the script's fixed poll
    load_before: float = 0.0
    load_after: float = 0.0
    problems: list[str] = field(default_factory=list)


def critical_path_s(plan: Plan, steps: Mapping[str, float], *, reverse: bool = False) -> float:
    """The longest chain of steps through the plan's graph (creates follow dependencies;
    deletes, with ``reverse``, go the other way): what a perfect parallel engine with
    these step times would take."""
    dependencies: dict[str, set[str]] = {r.name: set(r.depends_on) for r in plan.resources}
    if reverse:
        dependents: dict[str, set[str]] = {name: set() for name in dependencies}
        for name, needs in dependencies.items():
            for need in needs:
                dependents[need].add(name)
        dependencies = dependents
    finish: dict[str, float] = {}

    def done(name: str) -> float:
        if name not in finish:
            start = max((done(need) for need in dependencies[name]), default=0.0)
            finish[name] = start + steps.get(name, 0.0)
        return finish[name]

    return max((done(name) for name in dependencies), default=0.0)


def _median(values: Iterable[float | None]) -> float:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else float("nan")


def _paired(results: Results) -> list[Round]:
    return [r for r in results.rounds if r.baseline is not None and r.cool is not None]


def _ratios(results: Results, what: str) -> list[float]:
    return [
        getattr(r.cool, what) / getattr(r.baseline, what)
        for r in _paired(results)
        if getattr(r.baseline, what)
    ]


def _actor_calls(calls: Counter[tuple[str, str]], actors: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (service, who), count in calls.items():
        if who in actors:
            out[service] = out.get(service, 0) + count
    return out


def render(results: Results) -> str:
    """Markdown tables, then the verdicts."""
    paired = _paired(results)
    lines = [
        "| round | first | baseline create s | cool create s | ratio | baseline delete s "
        "| cool delete s | ratio | project after |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for number, r in enumerate(results.rounds, 1):
        if r.baseline is None or r.cool is None:
            lines.append(f"| {number} | {r.first} | (failed) | | | | | | |")
            continue
        leaks = "; ".join(f"{side}: {diff}" for side, diff in r.leaks.items()) or "as before"
        lines.append(
            f"| {number} | {r.first} | {r.baseline.create_s:.1f} | {r.cool.create_s:.1f} "
            f"| {r.cool.create_s / r.baseline.create_s:.2f} | {r.baseline.delete_s:.1f} "
            f"| {r.cool.delete_s:.1f} | {r.cool.delete_s / r.baseline.delete_s:.2f} | {leaks} |"
        )
    if paired:
        lines.append(
            f"| **median** | | {_median(r.baseline.create_s for r in paired):.1f} "  # type: ignore[union-attr]
            f"| {_median(r.cool.create_s for r in paired):.1f} "  # type: ignore[union-attr]
            f"| **{_median(_ratios(results, 'create_s')):.2f}** "
            f"| {_median(r.baseline.delete_s for r in paired):.1f} "  # type: ignore[union-attr]
            f"| {_median(r.cool.delete_s for r in paired):.1f} "  # type: ignore[union-attr]
            f"| **{_median(_ratios(results, 'delete_s')):.2f}** | |"
        )
    lines.append("")
    if paired and results.plan is not None:
        lines += _parallel_table(results, paired)
        lines += _steps_table(results, paired)
        lines += _calls_table(paired)
        lines += _shapes_table(paired)
    lines.extend(f"- {verdict}" for verdict in verdicts(results))
    return "\n".join(lines)


def _parallel_table(results: Results, paired: list[Round]) -> list[str]:
    """The parallel script against the critical path and against cool, per round."""
    plan = results.plan
    assert plan is not None
    rows = [r for r in paired if r.parallel is not None]
    if not rows:
        return []
    lines = [
        "| round | parallel script create s | / critical path | cool / parallel script "
        "| parallel script delete s | / critical path | cool / parallel script |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, r in enumerate(results.rounds, 1):
        if r.parallel is None or r.baseline is None or r.cool is None:
            continue
        cells = []
        for what, steps, reverse in (
            ("create_s", "create_steps", False),
            ("delete_s", "delete_steps", True),
        ):
            path = critical_path_s(plan, getattr(r.baseline, steps), reverse=reverse)
            mine, theirs = getattr(r.parallel, what), getattr(r.cool, what)
            cells += [f"{mine:.1f}", f"{mine / path:.2f}" if path else "-", f"{theirs / mine:.2f}"]
        lines.append(f"| {number} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _steps_table(results: Results, paired: list[Round]) -> list[str]:
    assert results.plan is not None
    names = [r.name for r in results.plan.resources]
    lines = [
        "| resource (by level) | baseline create s | cool create s | baseline delete s "
        "| cool delete s |",
        "|---|---:|---:|---:|---:|",
    ]

    def cell(sides: Iterable[Side], steps: str, name: str) -> str:
        value = _median(getattr(s, steps).get(name) for s in sides)
        return "–" if math.isnan(value) else f"{value:.2f}"  # NaN: no such step

    baselines = [r.baseline for r in paired if r.baseline is not None]
    cools = [r.cool for r in paired if r.cool is not None]
    for name in names:
        lines.append(
            f"| {name} | {cell(baselines, 'create_steps', name)} "
            f"| {cell(cools, 'create_steps', name)} | {cell(baselines, 'delete_steps', name)} "
            f"| {cell(cools, 'delete_steps', name)} |"
        )
    parallels = [r.parallel for r in paired if r.parallel is not None]
    if parallels:  # the same steps in parallel: the cloud's queueing, without cool
        lines[0] += " parallel script create s | parallel script delete s |"
        lines[1] += "---:|---:|"
        for at, name in enumerate(names, start=2):
            lines[at] += (
                f" {cell(parallels, 'create_steps', name)} "
                f"| {cell(parallels, 'delete_steps', name)} |"
            )
    plan = results.plan
    path_create = _median(critical_path_s(plan, b.create_steps) for b in baselines)
    path_delete = _median(critical_path_s(plan, b.delete_steps, reverse=True) for b in baselines)
    cool_path_create = _median(critical_path_s(plan, c.create_steps) for c in cools)
    cool_path_delete = _median(critical_path_s(plan, c.delete_steps, reverse=True) for c in cools)
    lines += [
        f"| sum of the steps | {_median(sum(b.create_steps.values()) for b in baselines):.2f} "
        f"| {_median(sum(c.create_steps.values()) for c in cools):.2f} "
        f"| {_median(sum(b.delete_steps.values()) for b in baselines):.2f} "
        f"| {_median(sum(c.delete_steps.values()) for c in cools):.2f} |",
        f"| critical path of the graph with these step times | {path_create:.2f} "
        f"| {cool_path_create:.2f} | {path_delete:.2f} | {cool_path_delete:.2f} |",
        f"| request -> first step (cool's claim) | | {_median(c.claim_s for c in cools):.2f} "
        f"| | {_median(c.delete_claim_s for c in cools):.2f} |",
        "",
    ]
    if parallels:
        for at in (-4, -3, -2):
            lines[at] += " | |"
    return lines


def _calls_table(paired: list[Round]) -> list[str]:
    services = ("nova", "neutron", "cinder", "glance", "keystone")
    lines = [
        "| API calls (median per build) | " + " | ".join(services) + " | total | cloud's own |",
        "|---|" + "---:|" * (len(services) + 2),
    ]
    for label, side, what, actors in (
        ("baseline create", "baseline", "create_calls", ("baseline",)),
        ("cool create", "cool", "create_calls", ("cool-worker", "cool-api")),
        ("baseline delete", "baseline", "delete_calls", ("baseline",)),
        ("cool delete", "cool", "delete_calls", ("cool-worker", "cool-api")),
    ):
        per_round = [getattr(getattr(r, side), what) for r in paired]
        mine = [_actor_calls(c, actors) for c in per_round]
        own = [_actor_calls(c, ("cloud services",)) for c in per_round]
        cells = [f"{_median(m.get(s, 0) for m in mine):.0f}" for s in services]
        lines.append(
            f"| {label} | {' | '.join(cells)} | {_median(sum(m.values()) for m in mine):.0f} "
            f"| {_median(sum(o.values()) for o in own):.0f} |"
        )
    lines.append("")
    return lines


def _shapes_table(paired: list[Round]) -> list[str]:
    """The requests whose count differs between the two sides (medians per build): what
    cool's extra calls are, one by one."""
    rows = []
    for what, label in (("create_shapes", "create"), ("delete_shapes", "delete")):
        shapes = {
            (service, shape)
            for r in paired
            for side in (r.baseline, r.cool)
            for (_, service, shape) in getattr(side, what)
        }
        for service, shape in sorted(shapes):
            key = (service, shape)
            script = _shape_count(paired, "baseline", what, ("baseline",), key)
            mine = _shape_count(paired, "cool", what, ("cool-worker", "cool-api"), key)
            if script != mine:
                rows.append(f"| {label} | {service} | `{shape}` | {script:g} | {mine:g} |")
    if not rows:
        return []
    return [
        "| build | service | request (ids as {id}) | script | cool |",
        "|---|---|---|---:|---:|",
        *rows,
        "",
    ]


def _shape_count(
    paired: list[Round], side: str, what: str, actors: tuple[str, ...], key: tuple[str, str]
) -> float:
    """Median per build of the requests of ``key`` (service, shape) made by ``actors``."""
    return _median(
        sum(getattr(getattr(r, side), what).get((a, *key), 0) for a in actors) for r in paired
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def verdicts(results: Results) -> list[str]:
    out = []
    for what, label in (("create_s", "create"), ("delete_s", "delete")):
        ratios = _ratios(results, what)
        if not ratios:
            out.append(f"{label}: no round with both sides measured")
            continue
        ratio = _median(ratios)
        out.append(
            f"{label}: cool/baseline {ratio:.2f} (median of {len(ratios)} rounds, each "
            f"{', '.join(f'{r:.2f}' for r in ratios)}; target <= {TARGET_RATIO:g}): "
            f"{_met(ratio <= TARGET_RATIO)}; faster than the sequential script: "
            f"{'yes' if ratio < 1.0 else 'no'}"
        )
    leaking = [n for n, r in enumerate(results.rounds, 1) if r.leaks]
    out.append(
        f"leaks: after each of the {len(results.rounds)} rounds the project held what it held "
        "before (servers, volumes, networks, subnets, routers, ports, floating IPs, security "
        "groups, key pairs)"
        if not leaking
        else f"leaks: rounds {leaking} left resources behind (see the table)"
    )
    return out + _path_verdicts(results) + _parallel_verdicts(results)


def _parallel_verdicts(results: Results) -> list[str]:
    """Context for issue 20's path target: how close the script itself gets to the
    critical path once its steps run in parallel, and cool against it."""
    plan = results.plan
    rows = [r for r in _paired(results) if r.parallel is not None]
    if plan is None or not rows:
        return []
    out = []
    for what, steps, reverse, label in (
        ("create_s", "create_steps", False, "create"),
        ("delete_s", "delete_steps", True, "delete"),
    ):
        floor, against = [], []
        for r in rows:
            path = critical_path_s(plan, getattr(r.baseline, steps), reverse=reverse)
            if path > 0:
                floor.append(getattr(r.parallel, what) / path)
            against.append(getattr(r.cool, what) / getattr(r.parallel, what))
        out.append(
            f"{label}: the parallel script / the critical path {_median(floor):.2f}, cool / "
            f"the parallel script {_median(against):.2f} (medians; context, no target)"
        )
    # Context: the same steps at the same parallelism, so in the same queues of the
    # cloud's (the sequential script's steps each had the cloud to themselves).
    return out + [
        f"{line} (context: the same queues)"
        for line in _neutron_steps(plan, rows, "parallel", "the parallel script's")
    ]


def _path_verdicts(results: Results) -> list[str]:
    """Issue 20's targets: each round's cool build against the critical path of the
    same round's script step times; each Neutron step against the script's."""
    paired, plan = _paired(results), results.plan
    if not paired or plan is None:
        return []
    out = []
    for what, steps, reverse, label in (
        ("create_s", "create_steps", False, "create"),
        ("delete_s", "delete_steps", True, "delete"),
    ):
        ratios = []
        for r in paired:
            path = critical_path_s(plan, getattr(r.baseline, steps), reverse=reverse)
            if path > 0:
                ratios.append(getattr(r.cool, what) / path)
        if not ratios:
            continue
        ratio = _median(ratios)
        out.append(
            f"{label}: cool / the critical path at the script's step times {ratio:.2f} "
            f"(each round {', '.join(f'{x:.2f}' for x in ratios)}; target <= "
            f"{PATH_TARGET_RATIO:g}): {_met(ratio <= PATH_TARGET_RATIO)}"
        )
    return out + _neutron_steps(plan, paired, "baseline", "the script's")


def _neutron_steps(plan: Plan, paired: list[Round], against: str, whose: str) -> list[str]:
    """Each Neutron step's median in cool against its median on the ``against`` side."""
    neutron = [r.name for r in plan.resources if r.type.startswith("OS::Neutron::")]
    out = []
    for steps, label in (("create_steps", "create"), ("delete_steps", "delete")):
        slow, compared = [], 0
        for name in neutron:
            other = _median(getattr(getattr(r, against), steps).get(name) for r in paired)
            mine = _median(getattr(r.cool, steps).get(name) for r in paired)
            if math.isnan(other) or math.isnan(mine) or other <= 0:
                continue
            compared += 1
            if mine / other > NEUTRON_STEP_TARGET_RATIO:
                slow.append(f"{name} {mine / other:.1f}x")
        if not compared:
            continue
        out.append(
            f"Neutron steps to {label} within {NEUTRON_STEP_TARGET_RATIO:g}x of {whose}: "
            + (_met(True) if not slow else f"{_met(False)} ({', '.join(slow)})")
        )
    return out
