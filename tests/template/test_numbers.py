"""Numbers cool cannot hold are refused where they are written, before any conversion.

Python's int() refuses more than 4,300 decimal digits, str() of such an int
raises, and a YAML 1.1 literal in hex, binary, octal or sexagesimal becomes
one without any such check: every such number used to escape as a ValueError
(a 500 in the API). cool holds whole numbers of up to 308 digits (a double's
range, what every JSON parser can read) and finite floats.
"""

from __future__ import annotations

import json
import time

import pytest

from cool.errors import TemplateInvalidError
from cool.model import ParameterType
from cool.resources.registry import ResourceTypeRegistry
from cool.template import functions as fn
from cool.template.compile import check
from cool.template.numbers import MAX_DIGITS, parse_number
from cool.template.parameters import coerce
from cool.template.parse import parse
from cool.template.problems import Code

HEX = "0x" + "f" * 4000  # 4,817 decimal digits
BINARY = "0b" + "1" * 15_000
OCTAL = "0" + "7" * 5000
SEXAGESIMAL = "1:" + ":".join(["59"] * 3000)
DECIMAL = "9" * (MAX_DIGITS + 1)
HEAD = "heat_template_version: 2018-08-31\n"


def _refused(text: str) -> tuple[Code, str, int | None, int | None, str]:
    with pytest.raises(TemplateInvalidError) as info:
        parse(text)
    (problem,) = info.value.problems
    return problem.code, problem.pointer, problem.line, problem.column, problem.message


@pytest.mark.parametrize(
    "literal",
    [
        pytest.param(HEX, id="hex"),
        pytest.param("-" + HEX, id="negative-hex"),
        pytest.param(BINARY, id="binary"),
        pytest.param(OCTAL, id="octal"),
        pytest.param(SEXAGESIMAL, id="sexagesimal"),
        pytest.param(DECIMAL, id="decimal"),
        pytest.param("9" * 5000, id="decimal-over-python"),
        pytest.param("1_" + "0" * 400, id="decimal-underscored"),
    ],
)
def test_yaml_integers_cool_cannot_hold_are_located(literal: str) -> None:
    code, pointer, line, column, message = _refused(f"{HEAD}description: x\na:\n  b: {literal}\n")
    assert (code, pointer, line, column) == (Code.INVALID_VALUE, "/a/b", 4, 6)
    assert "quote it" in message


def test_a_sexagesimal_literal_is_refused_without_computing_it() -> None:
    """60**100000 takes seconds to compute: its length is checked first."""
    literal = "1:" + ":".join(["59"] * 100_000)
    started = time.monotonic()
    code, pointer, *_ = _refused(f"a: {literal}\n")
    assert time.monotonic() - started < 0.5
    assert (code, pointer) == (Code.INVALID_VALUE, "/a")


@pytest.mark.parametrize(
    "literal",
    ["0x" + "f" * 250, "1:" + ":".join(["59"] * 150), "9" * MAX_DIGITS, "-" + "9" * MAX_DIGITS],
)
def test_yaml_integers_cool_holds_are_read(literal: str) -> None:
    value = parse(f"a: {literal}\n").data["a"]
    assert isinstance(value, int)
    json.dumps(value)  # and can be written back


def test_json_integers_cool_cannot_hold_are_located() -> None:
    text = '{\n  "a": [' + DECIMAL + "]\n}"
    code, pointer, line, column, _ = _refused(text)
    assert (code, pointer, line, column) == (Code.INVALID_VALUE, "/a/0", 2, 9)
    assert parse('{"a": -' + "9" * MAX_DIGITS + "}").data["a"] == -int("9" * MAX_DIGITS)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("9" * 5000, "digits"),
        (DECIMAL, "digits"),
        ("1e999999", "finite"),
        ("NaN", "finite"),
        ("-Infinity", "finite"),
        ("abc", "must be a number"),
    ],
)
def test_numbers_written_as_strings_are_bounded_before_conversion(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_number(text)
    with pytest.raises(ValueError, match=fragment):
        coerce(ParameterType.NUMBER, text)


def test_numbers_written_as_strings_cool_holds_are_read() -> None:
    assert parse_number(" 42 ") == 42
    assert parse_number("9" * MAX_DIGITS) == int("9" * MAX_DIGITS)
    assert parse_number("1.5e3") == 1500.0


def _problems(registry: ResourceTypeRegistry, text: str, values: dict | None = None) -> list:
    report = check(text, registry, values)
    if report.plan is not None:
        json.dumps(report.plan.to_dict())
    return [(p.code, p.pointer, p.line) for p in report.problems]


def test_a_huge_hex_default_is_located(registry: ResourceTypeRegistry) -> None:
    text = f"{HEAD}parameters:\n  n:\n    type: number\n    default: {HEX}\n"
    assert _problems(registry, text) == [(Code.INVALID_VALUE, "/parameters/n/default", 5)]


def test_huge_range_bounds_are_located(registry: ResourceTypeRegistry) -> None:
    text = (
        f"{HEAD}parameters:\n  n:\n    type: number\n"
        f"    constraints:\n      - range: {{min: {HEX}}}\n"
        f"      - range: {{max: '{'9' * 5000}'}}\n"
    )
    with pytest.raises(TemplateInvalidError) as info:
        parse(text)
    assert [(p.code, p.pointer, p.line) for p in info.value.problems] == [
        (Code.INVALID_VALUE, "/parameters/n/constraints/0/range/min", 6)
    ]
    quoted = text.replace(f"{{min: {HEX}}}", "{min: 1}")
    assert _problems(registry, quoted) == [
        (Code.INVALID_CONSTRAINT, "/parameters/n/constraints/1/range", 7)
    ]


def test_a_huge_number_given_as_a_parameter_value_is_a_problem(
    registry: ResourceTypeRegistry,
) -> None:
    text = f"{HEAD}parameters:\n  n: {{type: number}}\n  s: {{type: string}}\nresources: {{}}\n"
    problems = _problems(registry, text, {"n": DECIMAL, "s": "x"})
    assert problems == [(Code.PARAMETER_VALUE, "/parameters/n", 3)]


def test_a_huge_list_index_in_a_get_param_path_gives_an_empty_string(
    registry: ResourceTypeRegistry,
) -> None:
    """As Heat's GetParam: an index that is no index leads nowhere, which gives ''."""
    text = (
        f"{HEAD}parameters:\n  j: {{type: json, default: [1]}}\nresources:\n"
        f"  v:\n    type: OS::Heat::Value\n    properties:\n"
        f"      value: {{get_param: [j, '{'9' * 5000}']}}\n"
    )
    assert _problems(registry, text, {}) == []
    plan = check(text, registry, {}).plan
    assert plan is not None
    assert plan.resources[0].properties["value"] == ""


def test_a_huge_string_for_an_integer_property_is_a_problem(
    registry: ResourceTypeRegistry,
) -> None:
    text = (
        f"{HEAD}resources:\n  v:\n    type: OS::Cinder::Volume\n"
        f"    properties:\n      size: '{'9' * 5000}'\n"
    )
    ((_, pointer, line),) = _problems(registry, text)
    assert (pointer, line) == ("/resources/v/properties/size", 6)


def test_a_huge_list_index_at_run_time_is_a_path_error() -> None:
    with pytest.raises(fn.PathError, match="out of range"):
        fn.follow([1, 2], ["9" * 5000])


@pytest.mark.parametrize("text", ["[1e999]", '{"a": -1e400}', "[" + DECIMAL + "]", "[NaN]"])
def test_json_parameter_values_given_as_text_hold_only_numbers_cool_holds(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be JSON: .*(too large|finite)"):
        coerce(ParameterType.JSON, text)
