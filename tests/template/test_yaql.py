"""yaql as Heat runs it (the yaql library, its iterator and memory bounds), plus a
bound on time; folded at validation when its data is known, kept for run time when not."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from cool.resources.registry import ResourceTypeRegistry
from cool.template import functions as fn
from cool.template import yaql_function
from cool.template.budget import Budget
from cool.template.compile import Report, check
from cool.template.problems import Code

_NESTED_LOOPS = "range(150).select(range(150).select(range(150).sum()).sum()).sum()"


def _report(value: Any, version: str = "2021-04-16", resources: str = "") -> Report:
    text = (
        f"heat_template_version: {version}\n"
        "parameters:\n  n: {type: number, default: 3}\n"
        f"resources:\n  r: {{type: OS::Heat::TestResource}}\n{resources}"
        f"outputs:\n  o:\n    value: {json.dumps(value)}\n"
    )
    return check(text, ResourceTypeRegistry.load(), {})


def _value(value: Any, version: str = "2021-04-16") -> Any:
    report = _report(value, version)
    assert not report.problems, [(p.code, p.pointer, p.message) for p in report.problems]
    assert report.plan is not None
    return report.plan.outputs[0].value


def _problems(value: Any, version: str = "2021-04-16") -> list[tuple[Code, str, str]]:
    return [(p.code, p.pointer, p.message) for p in _report(value, version).problems]


def _budget() -> Budget:
    return Budget(max_value_bytes=256 * 1024, max_resolved_bytes=2 * 1024 * 1024)


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        # hot_spec's example.
        ("$.data.var1.sum()", {"var1": [3, 2, 1]}, 6),
        ("$.data.l.select($ * 2)", {"l": [1, 2, 3]}, [2, 4, 6]),
        # As JSON, which is what Heat stores: mapping keys become strings, sets lists.
        ("dict($.data.l.select([$, $ * 2]))", {"l": [1, 2]}, {"1": 2, "2": 4}),
        ("$.data.l.toSet()", {"l": [2, 1, 2]}, [1, 2]),
        ("$.data.m.keys()", {"m": {"b": 1, "a": 2}}, ["a", "b"]),
        ("let(x => $.data) -> $x.a", {"a": 5}, 5),
        ("$.data.get(missing, fallback)", {}, "fallback"),
    ],
)
def test_yaql_evaluates_as_heat_does(expression: str, data: Any, expected: Any) -> None:
    assert _value({"yaql": {"expression": expression, "data": data}}) == expected


def test_yaql_over_a_parameter_is_folded_and_over_an_attribute_kept_for_run_time() -> None:
    assert _value({"yaql": {"expression": "$.data.n * 2", "data": {"n": {"get_param": "n"}}}}) == 6
    kept = _value(
        {"yaql": {"expression": "$.data.out.len()", "data": {"out": {"get_attr": ["r", "output"]}}}}
    )
    assert kept == {
        "yaql": {"expression": "$.data.out.len()", "data": {"out": {"get_attr": ["r", "output"]}}}
    }
    # The run-time walk evaluates what the plan kept, once the attribute is known.
    resolved = fn.resolve(
        kept,
        get_resource=lambda name: name,
        get_attr=lambda name, attribute: "abcd",
        pseudo={},
        budget=_budget(),
    )
    assert resolved == 4


@pytest.mark.parametrize(
    ("value", "pointer", "words"),
    [
        pytest.param(
            {"yaql": {"expression": "$.data.", "data": {}}},
            "/outputs/o/value/yaql/expression",
            "bad yaql expression",
            id="parse-error",
        ),
        pytest.param(
            {"yaql": {"expression": "1", "data": {}, "extra": 1}},
            "/outputs/o/value/yaql",
            "yaql takes a mapping of expression",
            id="unknown-argument",
        ),
        pytest.param(
            {"yaql": {"data": {}}},
            "/outputs/o/value/yaql",
            "yaql takes a mapping of expression",
            id="no-expression",
        ),
        pytest.param(
            {"yaql": {"expression": "range(100000).sum()"}},
            "/outputs/o/value/yaql",
            "a collection of more than 200 items",
            id="heat-limit-iterators",
        ),
        pytest.param(
            {"yaql": {"expression": "'a' * 100000"}},
            "/outputs/o/value/yaql",
            "more than 10,000 bytes",
            id="heat-memory-quota",
        ),
        pytest.param(
            {"yaql": {"expression": "1 / 0"}},
            "/outputs/o/value/yaql",
            "ZeroDivisionError",
            id="failure",
        ),
        pytest.param(
            {"yaql": {"expression": _NESTED_LOOPS}},
            "/outputs/o/value/yaql",
            "ran for more than 1 s and was stopped",
            id="time",  # about four minutes without the bound
        ),
    ],
)
def test_yaql_refusals_are_located(value: Any, pointer: str, words: str) -> None:
    started = time.monotonic()
    ((code, where, message),) = _problems(value)
    assert (code, where) == (Code.INVALID_FUNCTION, pointer)
    assert words in message
    assert time.monotonic() - started < 30  # (a generous bound: the timeout is 1 s)


def test_yaql_came_in_newton_and_in_conditions_in_pike() -> None:
    ((code, pointer, message),) = _problems({"yaql": {"expression": "1"}}, "2016-04-08")
    assert (code, pointer) == (Code.FUNCTION_VERSION, "/outputs/o/value/yaql")
    assert "it came in 2016-10-14" in message
    text = """\
heat_template_version: 2017-09-01
parameters:
  n: {type: number, default: 3}
conditions:
  big: {yaql: {expression: $.data.n > 2, data: {n: {get_param: n}}}}
resources:
  r: {type: OS::Heat::None, condition: big}
"""
    plan = check(text, ResourceTypeRegistry.load(), {}).plan
    assert plan is not None
    assert [r.name for r in plan.resources] == ["r"]
    assert check(text, ResourceTypeRegistry.load(), {"n": 1}).plan.resources == ()  # type: ignore[union-attr]


def test_a_deadline_stops_only_its_own_evaluation() -> None:
    """The deadline is per thread: a slow expression stopped in one thread leaves the
    evaluations running in others alone."""
    results: list[Any] = []
    errors: list[str] = []

    def slow() -> None:
        try:
            yaql_function.evaluate(_NESTED_LOOPS, {}, _budget(), timeout_s=0.5)
        except yaql_function.YaqlError as exc:
            errors.append(str(exc))

    thread = threading.Thread(target=slow)
    thread.start()
    while thread.is_alive():
        results.append(yaql_function.evaluate("$.data.sum()", [1, 2], _budget(), timeout_s=5))
    thread.join(10)
    assert errors == ["the yaql expression ran for more than 0.5 s and was stopped"]
    assert results
    assert set(results) == {3}


def test_yaql_result_is_charged_to_the_budget() -> None:
    budget = Budget(max_value_bytes=100, max_resolved_bytes=1000)
    with pytest.raises(Exception, match="over the 100-byte"):
        yaql_function.evaluate("$.data", ["x" * 50] * 3, budget)


# -- what one call could make unbounded, refused before it runs (review of issue 17) -------


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        # Backtracking inside re: 45 characters ran for ever, holding the GIL.
        (
            "regex('(a+)+$').matches('" + "a" * 45 + "!')",
            "regular expression functions are not available",
        ),
        ("'aaa'.matches('a+')", "regular expression functions are not available"),
        ("pow(3, 30000000)", "more than 10,000 bytes"),  # a minute of one C call
        ("shiftBitsLeft(1, 8000000000)", "more than 10,000 bytes"),  # 1 GB
        ("float('nan')", "NaN or infinity"),  # JSON cannot hold it: the store refused it
    ],
)
def test_yaql_calls_that_no_deadline_could_stop_are_refused(expression: str, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(yaql_function.YaqlError, match=words):
        yaql_function.evaluate(expression, {}, _budget())
    assert time.monotonic() - started < 10
    assert yaql_function.evaluate("pow(2, 10) + shiftBitsLeft(1, 3)", {}, _budget()) == 1032


def test_yaql_time_is_bounded_for_a_whole_resolution_not_only_per_evaluation() -> None:
    """A nested template's slow yaql used by many group members: each evaluation under
    1 s, and all of them together under the resolution's seconds."""
    budget = Budget(max_value_bytes=1000, max_resolved_bytes=10_000, yaql_s=0.4)
    child = Budget(max_value_bytes=1000, max_resolved_bytes=10_000, parent=budget)
    with pytest.raises(yaql_function.YaqlError, match=r"ran for more than 0\.4 s"):
        yaql_function.evaluate(_NESTED_LOOPS, {}, child)
    with pytest.raises(yaql_function.YaqlError, match="have run for as long as they may"):
        yaql_function.evaluate(
            "1", {}, Budget(max_value_bytes=10, max_resolved_bytes=10, parent=budget)
        )
