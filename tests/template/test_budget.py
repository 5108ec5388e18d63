"""Resolution has a budget, charged while values are produced (issue 15, finding 2).

Before the budget, str_replace, list_join and get_param could turn a few
hundred bytes of template into gigabytes (a 556-byte template nested five
deep took 40 s and 12 GB). Each reproduction below must now be refused,
located, quickly, and with peak memory a small multiple of the budget.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cool.errors import ResolutionTooLargeError
from cool.model import OutputSpec, Plan, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.records import BuildMeta, ResourceRecord
from cool.template import functions as fn
from cool.template.budget import Budget
from cool.template.compile import Report, check
from cool.template.parse import DEFAULT_LIMITS, Limits
from cool.template.problems import Code
from cool.worker import references
from tests.template.measuring import measured

VALUE = DEFAULT_LIMITS.max_value_bytes
WHOLE = DEFAULT_LIMITS.max_resolved_bytes
HEAD = "heat_template_version: 2018-08-31\n"
# CPU seconds. Unbounded, these took minutes and hundreds of MB; bounded, tens of
# milliseconds. The bound is that difference, not a speed: nothing a loaded CI machine
# can make flaky.
BOUND_S = 10.0
# Peak memory allowed while refusing: a small multiple of the whole budget.
PEAK = 4 * WHOLE


def _value_resource(expression: str) -> str:
    return (
        f"{HEAD}resources:\n  v:\n    type: OS::Heat::Value\n    properties:\n"
        f"      value: {expression}\n"
    )


def _check(
    registry: ResourceTypeRegistry, text: str, values: dict[str, Any] | None = None
) -> tuple[Report, float, int]:
    report, elapsed, peak = measured(lambda: check(text, registry, values))
    return report, elapsed, peak


def _where(report: Report) -> list[tuple[Code, str, int | None]]:
    return [(p.code, p.pointer, p.line) for p in report.problems]


def _nest(depth: int, width: int) -> str:
    value = "x" * width
    for _ in range(depth):
        value = "{str_replace: {template: " + "x" * width + ", params: {x: " + value + "}}}"
    return value


# -- the reproductions ----------------------------------------------------------


def test_a_str_replace_of_a_long_key_run_is_refused_before_it_is_built(
    registry: ResourceTypeRegistry,
) -> None:
    """Scaled from the 60 KB validate that took an API process to 935 MB."""
    text = _value_resource(
        f"\n        str_replace:\n          template: {'a' * 30_000}\n"
        f"          params: {{a: {'b' * 30_000}}}"
    )
    report, elapsed, peak = _check(registry, text)
    assert _where(report) == [
        (Code.RESOLUTION_TOO_LARGE, "/resources/v/properties/value/str_replace", 7)
    ]
    assert report.problems[0].message == (
        "str_replace would produce 900,000,000 bytes, over the 262,144-byte budget of one value"
    )
    assert elapsed < BOUND_S
    assert peak < PEAK


def test_nested_str_replace_is_refused_at_the_level_that_goes_over(
    registry: ResourceTypeRegistry,
) -> None:
    """The 556-byte template of five levels that took 40 s and 12 GB."""
    text = _value_resource(_nest(5, 40))
    assert len(text) < 600
    report, elapsed, peak = _check(registry, text)
    # 40 -> 1,600 -> 64,000 -> 2,560,000: the third level from inside goes over.
    inner = "/resources/v/properties/value" + "/str_replace/params/x" * 2 + "/str_replace"
    assert _where(report) == [(Code.RESOLUTION_TOO_LARGE, inner, 6)]
    assert "2,560,000 bytes" in report.problems[0].message
    assert elapsed < BOUND_S
    assert peak < PEAK


def test_list_join_over_yaml_aliases_is_refused_while_parsing(
    registry: ResourceTypeRegistry,
) -> None:
    """An alias costs nothing in memory until something joins or writes it."""
    text = (
        f"{HEAD}parameters:\n  p: {{type: string, default: &s {'y' * 100_000}}}\n"
        + _value_resource("{list_join: [',', [" + ", ".join(["*s"] * 1000) + "]]}")[len(HEAD) :]
    )
    report, elapsed, peak = _check(registry, text)
    assert [p.code for p in report.problems] == [Code.ALIAS_EXPANSION]
    assert elapsed < BOUND_S
    assert peak < PEAK


def test_a_big_parameter_fetched_many_times_exhausts_the_whole_budget_once(
    registry: ResourceTypeRegistry,
) -> None:
    text = (
        f"{HEAD}parameters:\n  p: {{type: json}}\n"
        + _value_resource("[" + ", ".join(["{get_param: p}"] * 2000) + "]")[len(HEAD) :]
    )
    report, elapsed, peak = _check(registry, text, {"p": {"k": "z" * 50_000}})
    ((code, pointer, _),) = _where(report)
    assert code is Code.RESOLUTION_TOO_LARGE
    assert pointer.startswith("/resources/v/properties/value/")
    assert "budget of the whole template" in report.problems[0].message
    assert elapsed < BOUND_S
    assert peak < PEAK


def test_list_join_sums_its_parts_before_joining(registry: ResourceTypeRegistry) -> None:
    text = (
        f"{HEAD}parameters:\n  l: {{type: comma_delimited_list}}\n"
        + _value_resource("{list_join: [',', {get_param: l}, {get_param: l}]}")[len(HEAD) :]
    )
    report, _, _ = _check(registry, text, {"l": ",".join(["w" * 2000] * 100)})
    assert _where(report) == [
        (Code.RESOLUTION_TOO_LARGE, "/resources/v/properties/value/list_join", 8)
    ]
    assert report.problems[0].message.startswith("list_join would produce 400,199 bytes")


def test_a_value_right_under_the_budget_still_validates(registry: ResourceTypeRegistry) -> None:
    def text(runs: int) -> str:
        return _value_resource(
            f"{{str_replace: {{template: {'a' * runs}, params: {{a: {'b' * 512}}}}}}}"
        )

    report, _, _ = _check(registry, text(VALUE // 512))
    assert report.ok, report.problems
    assert report.plan is not None
    assert len(report.plan.resources[0].properties["value"]) == VALUE
    over = check(text(VALUE // 512 + 1), registry)
    assert [p.code for p in over.problems] == [Code.RESOLUTION_TOO_LARGE]


def test_budgets_are_the_callers_to_choose(registry: ResourceTypeRegistry) -> None:
    text = _value_resource("{str_replace: {template: aaaa, params: {a: bb}}}")
    small = Limits(max_value_bytes=7, max_resolved_bytes=100)
    (problem,) = check(text, registry, None, small).problems
    assert (
        problem.message == "str_replace would produce 8 bytes, over the 7-byte budget of one value"
    )
    assert check(text, registry, None, Limits(max_value_bytes=8)).ok


def test_the_worst_60_kb_template_within_budget_resolves_well_under_a_second(
    registry: ResourceTypeRegistry,
) -> None:
    """Many keys over many pieces: str_replace used to take keys x pieces steps (5.6 s)."""
    keys = {chr(0x4E00 + i): "v" for i in range(3000)}
    template = "xx" * 10_000 + "".join(keys)
    params = ", ".join(f"'{k}': v" for k in keys)
    text = _value_resource(
        f"{{str_replace: {{template: '{template}', params: {{xx: y, {params}}}}}}}"
    )
    assert len(text.encode()) < 60 * 1024
    report, elapsed, _ = _check(registry, text)
    assert report.ok, report.problems[:3]
    assert elapsed < 2.0  # CPU seconds; keys x pieces took 5.6


def test_a_refused_parameter_is_measured_once(registry: ResourceTypeRegistry) -> None:
    """Each refusal used to measure the whole value again: 1,700 of them took 18 s."""
    text = (
        f"{HEAD}parameters:\n  l: {{type: json}}\n"
        + _value_resource("[" + ", ".join(["{list_join: [',', {get_param: l}]}"] * 1700) + "]")[
            len(HEAD) :
        ]
    )
    assert len(text) < 64 * 1024
    report, elapsed, peak = _check(registry, text, {"l": ["x"] * 60_000})
    assert {p.code for p in report.problems[:-1]} == {Code.RESOLUTION_TOO_LARGE}
    assert report.problems[-1].code is Code.TOO_MANY_PROBLEMS  # 1,700 refusals, 100 shown
    assert report.problems[0].message == (
        "get_param would produce at least 262,148 bytes, over the 262,144-byte budget of one value"
    )
    assert elapsed < BOUND_S
    assert peak < PEAK


# -- str_replace stays Heat's ---------------------------------------------------


def _heat_replace(template: str, params: dict[str, str]) -> str:
    """Heat's own algorithm (heat/engine/hot/functions.py, Replace.result)."""

    def replace(strings: list[str], keys: list[str]) -> list[str]:
        if not keys:
            return strings
        key = keys[0]
        return [params[key].join(replace(s.split(key), keys[1:])) for s in strings]

    return replace([template], sorted(sorted(params), key=len, reverse=True))[0]


@given(
    template=st.text(alphabet="abc%", max_size=40),
    params=st.dictionaries(
        st.text(alphabet="abc%", min_size=1, max_size=4), st.text(alphabet="abcz%", max_size=4)
    ),
)
def test_replace_is_heats_replace(template: str, params: dict[str, str]) -> None:
    assert fn.replace(template, params) == _heat_replace(template, params)


# -- run time ---------------------------------------------------------------------


def _records(**attributes: Any) -> dict[str, tuple[ResourceRecord, int]]:
    record = ResourceRecord("big", "OS::Heat::Value", ResourceStatus.CREATE_COMPLETE, "id-1")
    record.attributes.update(attributes)
    return {"big": (record, 0)}


META = BuildMeta("01J0000000000000000000000A", "p", "u", "b", 0.0, 0.0, 60, True)


def test_run_time_resolution_raises_before_building() -> None:
    records = _records(value="c" * 30_000)
    expression = {
        "str_replace": {"template": "c" * 30_000, "params": {"c": {"get_attr": ["big", "value"]}}}
    }

    def resolve() -> ResolutionTooLargeError:
        with pytest.raises(ResolutionTooLargeError) as info:
            references.resolve(expression, META, records)
        return info.value

    error, elapsed, peak = measured(resolve)
    assert str(error) == (
        "str_replace would produce 900,000,000 bytes, over the 262,144-byte budget of one value"
    )
    assert elapsed < BOUND_S
    assert peak < PEAK


def test_run_time_references_charge_the_whole_budget() -> None:
    records = _records(value="d" * 200_000)
    many = [{"get_attr": ["big", "value"]}] * 20
    with pytest.raises(ResolutionTooLargeError, match="budget of the whole template"):
        references.resolve(many, META, records)
    small = Limits(max_value_bytes=300_000, max_resolved_bytes=10_000_000)
    assert len(references.resolve(many, META, records, limits=small)) == 20


def test_an_output_over_budget_is_that_outputs_error() -> None:
    records = _records(value="e" * 1000)
    plan = Plan(
        template_version="2018-08-31",
        description="",
        parameters=(),
        resources=(),
        outputs=(
            OutputSpec(
                "huge",
                {"list_join": ["", [{"get_attr": ["big", "value"]}] * 1000]},
                "",
            ),
            OutputSpec("fine", {"get_attr": ["big", "value"]}, ""),
        ),
    )
    outputs = references.outputs(plan, META, records)
    assert outputs["huge"]["error"].startswith("list_join would produce 1,000,000 bytes")
    assert outputs["fine"]["value"] == "e" * 1000


def test_a_budget_charges_and_refuses() -> None:
    budget = Budget(max_value_bytes=10, max_resolved_bytes=15)
    budget.charge("str_replace", 10)
    with pytest.raises(ResolutionTooLargeError, match="11 bytes, over the 10-byte budget"):
        budget.charge("list_join", 11)
    with pytest.raises(ResolutionTooLargeError, match="15-byte budget of the whole template"):
        budget.charge("get_param", 6)
    budget.charge("get_param", 5)
