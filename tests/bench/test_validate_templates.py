"""The benchmark's generated templates compile to the plans they describe.

No timing here: timing belongs to ``python -m bench.validate_templates``.
"""

from __future__ import annotations

import pytest

import cool.resources.heat
from bench.validate_templates import (
    GENERATORS,
    LIMITS,
    expected_levels,
    plan_problems,
)
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
