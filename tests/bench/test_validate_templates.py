"""The benchmark's generated templates compile to the plans they describe.

No timing here: timing belongs to ``python -m bench.validate_templates``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

import cool.resources.heat
from bench import nested_templates
from bench.validate_templates import (
    GENERATORS,
    LIMITS,
    expected_levels,
    measure_nested,
    plan_problems,
    render_nested,
)
from cool.model import NESTED_SEPARATOR, NestedKind, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check, compile_template

N = 50


@pytest.fixture(scope="module")
def heat_registry() -> ResourceTypeRegistry:
    """The utility types only, as the benchmark uses: no cloud plugin needed."""
    return ResourceTypeRegistry(cool.resources.heat.TYPES)


@pytest.mark.parametrize("shape", sorted(GENERATORS))
def test_generated_template_compiles_without_problems(
    shape: str, heat_registry: ResourceTypeRegistry
) -> None:
    report = check(GENERATORS[shape](N), heat_registry, {}, LIMITS)

    assert report.problems == ()
    assert report.plan is not None


@pytest.mark.parametrize(
    ("shape", "levels"),
    [("chain", N), ("fan-out", 3)],
)
def test_generated_plan_has_expected_levels(
    shape: str, levels: int, heat_registry: ResourceTypeRegistry
) -> None:
    plan = compile_template(GENERATORS[shape](N), heat_registry, {}, LIMITS)

    assert len(plan.resources) == N
    assert len(plan.levels) == levels == max(expected_levels(shape, N)) + 1
    assert plan_problems(shape, N, plan) == []
    plan.to_json()


def test_chain_resource_depends_on_the_one_before(heat_registry: ResourceTypeRegistry) -> None:
    plan = compile_template(GENERATORS["chain"](N), heat_registry, {}, LIMITS)
    by_name = {r.name: r for r in plan.resources}

    assert by_name["r0"].depends_on == ()
    assert all(by_name[f"r{i}"].depends_on == (f"r{i - 1}",) for i in range(1, N))


def test_fan_out_resources_read_the_root(heat_registry: ResourceTypeRegistry) -> None:
    plan = compile_template(GENERATORS["fan-out"](N), heat_registry, {}, LIMITS)
    by_name = {r.name: r for r in plan.resources}

    assert by_name["root"].level == 0
    assert by_name["r9"].depends_on == ("root",)
    assert by_name["r10"].depends_on == ("r9", "root")
    assert by_name["r10"].level == 2


def test_plan_problems_reports_a_wrong_plan(heat_registry: ResourceTypeRegistry) -> None:
    plan = compile_template(GENERATORS["fan-out"](N), heat_registry, {}, LIMITS)

    assert plan_problems("chain", N, plan) != []
    assert plan_problems("fan-out", N + 1, plan) != []


def test_benchmark_limits_admit_5000_resources() -> None:
    """The benchmark's own limits are what let 5,000 resources through."""
    assert LIMITS.max_resources >= 5000
    assert len(GENERATORS["chain"](5000).encode()) < LIMITS.max_size


def test_benchmark_limits_make_a_plan_of_5000_resources(
    heat_registry: ResourceTypeRegistry,
) -> None:
    """Every bound on resources (max_total_resources counts a template's own too)."""
    report = check(GENERATORS["fan-out"](5000), heat_registry, {}, LIMITS)

    assert report.problems == ()


# -- the nested case ---------------------------------------------------------------------


def _flat_name(name: str) -> str:
    """A nested plan's name as the flat template writes it: group/3/v1 -> m3_v1."""
    parts = name.split(NESTED_SEPARATOR)
    if len(parts) == 1:
        return name
    return "_".join([f"m{parts[1]}", *parts[2:]])


def test_nested_case_makes_the_flat_templates_plan_under_other_names(
    heat_registry: ResourceTypeRegistry,
) -> None:
    """The ratio compares like with like: same resources, dependencies and levels."""
    members = 4
    text, files = nested_templates.nested_template(members)
    nested = compile_template(text, heat_registry, {}, LIMITS, files=files)
    flat = compile_template(nested_templates.flat_template(members), heat_registry, {}, LIMITS)

    def shape(plan: Plan, rename: Callable[[str], str]) -> dict[str, tuple[int, set[str]]]:
        return {
            rename(r.name): (r.level, {rename(d) for d in r.depends_on}) for r in plan.resources
        }

    assert shape(nested, _flat_name) == shape(flat, str)
    assert len(nested.resources) == nested_templates.expanded_size(members) == 45
    assert nested_templates.plan_problems(members, nested, nested=True) == []
    assert nested_templates.plan_problems(members, flat, nested=False) == []
    assert nested.resource("group").nested is NestedKind.GROUP


def test_nested_plan_problems_reports_a_wrong_plan(heat_registry: ResourceTypeRegistry) -> None:
    text, files = nested_templates.nested_template(3)
    plan = compile_template(text, heat_registry, {}, LIMITS, files=files)

    assert nested_templates.plan_problems(4, plan, nested=True) != []
    assert nested_templates.plan_problems(3, plan, nested=False) != []


def test_nested_measurement_reports_both_cases_and_the_verdict(
    heat_registry: ResourceTypeRegistry,
) -> None:
    results = [measure_nested(n, heat_registry) for n in (2, 4)]

    assert [problems for _, problems in results] == [[], []]
    report = render_nested([m for m, _ in results])
    assert "| 4 | 45 |" in report
    assert "nested stays linear" in report
