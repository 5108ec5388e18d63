"""Parameters: declarations, groups and values, through ``compile.check``; and coercion.

Every template starts with ``heat_template_version`` on line 1 and
``parameters:`` on line 2, so the first parameter is on line 3, column 3.
Locations are 1-based and, for a mapping member, where its key is written.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import pytest

from cool.model import ParameterType
from cool.resources.registry import ResourceTypeRegistry
from cool.template import parameters
from cool.template.compile import Report, check
from cool.template.problems import Code

SECRET = "S3CRET-value"

Where = tuple[Code, str, int | None, int | None]


def _check(text: str, registry: ResourceTypeRegistry, values: dict[str, Any] | None) -> Report:
    return check(textwrap.dedent(text), registry, values)


def _where(report: Report) -> list[Where]:
    return [(p.code, p.pointer, p.line, p.column) for p in report.problems]


# -- declarations -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              s: {type: string, default: x, description: d, label: L, hidden: false}
              n: {type: number, default: 3}
              b: {type: boolean, default: true}
              j: {type: json, default: {k: [1]}}
              l: {type: comma_delimited_list, default: "a,b"}
            """,
            id="every-type-with-default",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              s:
                type: string
                default: abc
                constraints:
                  - length: {min: 1, max: 8}
                    description: one to eight characters
                  - allowed_values: [abc, def]
                  - allowed_pattern: "[a-z]+"
                  - custom_constraint: nova.flavor
            """,
            id="every-constraint-on-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              n:
                type: number
                default: 5
                constraints:
                  - range: {min: 1, max: 10}
                  - range: {min: "1"}
                  - allowed_values: [5, "6", 7.5]
                  - custom_constraint: nova.flavor
            """,
            id="number-constraints",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              l:
                type: comma_delimited_list
                default: "10.0.0.1, 10.0.0.2"
                constraints:
                  - length: {max: 2}
                  - allowed_pattern: "[0-9.]+"
                  - custom_constraint: ip_addr
                  - allowed_values: [10.0.0.1, 10.0.0.2]
            """,
            id="list-constraints-apply-per-item-except-length",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              j:
                type: json
                default: {a: 1, b: 2}
                constraints:
                  - length: {min: 2}
              b:
                type: boolean
                default: "yes"
                constraints:
                  - allowed_values: [true]
            """,
            id="json-and-boolean-constraints",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              c:
                type: string
                default: 10.0.0.0/24
                constraints:
                  - custom_constraint: net_cidr
              i:
                type: string
                default: 2001:db8::1
                constraints:
                  - custom_constraint: ip_addr
              m:
                type: string
                default: "fa:16:3e:00:00:01"
                constraints:
                  - custom_constraint: mac_addr
            """,
            id="offline-custom-constraints-satisfied",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              flavor:
                type: string
                constraints:
                  - custom_constraint: nova.flavor
              image:
                type: string
                constraints:
                  - custom_constraint: glance.image
              net:
                type: string
                constraints:
                  - custom_constraint: neutron.network
            """,
            id="cloud-custom-constraints-accepted",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a.b-c:d_e: {type: string, default: x}
              _x: {type: string, default: x}
            """,
            id="name-characters",
        ),
    ],
)
def test_parameters_accepts_declaration(text: str, registry: ResourceTypeRegistry) -> None:
    assert _where(_check(text, registry, None)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters: [a, b]
            """,
            [(Code.INVALID_TYPE, "/parameters", 2, 1)],
            id="section-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p: string
            """,
            [(Code.INVALID_PARAMETER, "/parameters/p", 3, 3)],
            id="declaration-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: strin
            """,
            [(Code.INVALID_PARAMETER, "/parameters/p/type", 4, 5)],
            id="unknown-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: String
            """,
            [(Code.INVALID_PARAMETER, "/parameters/p/type", 4, 5)],
            id="property-type-name-is-not-a-parameter-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                description: no type
            """,
            [(Code.MISSING_KEY, "/parameters/p", 3, 3)],
            id="missing-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              1bad:
                type: string
            """,
            [(Code.INVALID_NAME, "/parameters/1bad", 3, 3)],
            id="invalid-name",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              OS::stack_name:
                type: string
            """,
            [(Code.INVALID_NAME, "/parameters/OS::stack_name", 3, 3)],
            id="pseudo-parameter-name",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                foo: 1
            """,
            [(Code.UNKNOWN_KEY, "/parameters/p/foo", 5, 5)],
            id="unknown-key",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                immutable: yes please
            """,
            [(Code.INVALID_TYPE, "/parameters/p/immutable", 5, 5)],
            id="immutable-not-a-boolean",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                tags: [a, {b: c}]
            """,
            [(Code.INVALID_TYPE, "/parameters/p/tags", 5, 5)],
            id="tags-not-strings",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                description: 5
                label: [x]
                hidden: "yes"
            """,
            [
                (Code.INVALID_TYPE, "/parameters/p/description", 5, 5),
                (Code.INVALID_TYPE, "/parameters/p/label", 6, 5),
                (Code.INVALID_TYPE, "/parameters/p/hidden", 7, 5),
            ],
            id="description-label-hidden-types",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints: {length: {min: 1}}
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints", 5, 5)],
            id="constraints-not-a-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - just text
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0", 6, 9)],
            id="constraint-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - length: {min: 1}
                    allowed_pattern: x
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0", 6, 9)],
            id="constraint-with-two-kinds",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - description: nothing to check
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0", 6, 9)],
            id="constraint-with-no-kind",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - between: [1, 2]
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/between", 6, 9)],
            id="unknown-constraint",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: number
                constraints:
                  - modulo: {step: 2, offset: 3}
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/modulo", 6, 9)],
            id="modulo-offset-past-its-step",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - length: {min: 1}
                    description: 5
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/description", 7, 9)],
            id="constraint-description-not-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - allowed_pattern: "[a-"
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/allowed_pattern", 6, 9)],
            id="bad-regex",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - allowed_pattern: 5
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/allowed_pattern", 6, 9)],
            id="pattern-not-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - length: {min: 5, max: 1}
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/length", 6, 9)],
            id="length-min-over-max",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: number
                constraints:
                  - range: {min: 5, max: 1}
            """,
            [(Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/range", 6, 9)],
            id="range-min-over-max",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - length: {min: -1}
                  - length: {max: 1.5}
                  - length: {min: 1, most: 2}
                  - length: {}
            """,
            [
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/length", 6, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/1/length", 7, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/2/length", 8, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/3/length", 9, 9),
            ],
            id="length-bounds",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: number
                constraints:
                  - range: {min: low}
                  - range: 5
                  - range: {min: true}
            """,
            [
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/range", 6, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/1/range", 7, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/2/range", 8, 9),
            ],
            id="range-bounds",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: number
                constraints:
                  - allowed_values: []
                  - allowed_values: [1, abc]
                  - allowed_values: 1
            """,
            [
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/allowed_values", 6, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/1/allowed_values", 7, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/2/allowed_values", 8, 9),
            ],
            id="allowed-values",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                constraints:
                  - custom_constraint: nova.flavour
                  - custom_constraint: [ip_addr]
            """,
            [
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/custom_constraint", 6, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/1/custom_constraint", 7, 9),
            ],
            id="custom-constraint",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              n:
                type: number
                constraints:
                  - length: {min: 1}
                  - allowed_pattern: "[0-9]+"
              s:
                type: string
                constraints:
                  - range: {min: 1}
              b:
                type: boolean
                constraints:
                  - range: {min: 0}
                  - length: {min: 1}
                  - custom_constraint: ip_addr
              j:
                type: json
                constraints:
                  - allowed_values: [x]
                  - allowed_pattern: x
                  - range: {min: 1}
            """,
            [
                (Code.INVALID_CONSTRAINT, "/parameters/n/constraints/0/length", 6, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/n/constraints/1/allowed_pattern", 7, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/s/constraints/0/range", 11, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/b/constraints/0/range", 15, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/b/constraints/1/length", 16, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/b/constraints/2/custom_constraint", 17, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/j/constraints/0/allowed_values", 21, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/j/constraints/1/allowed_pattern", 22, 9),
                (Code.INVALID_CONSTRAINT, "/parameters/j/constraints/2/range", 23, 9),
            ],
            id="constraint-not-applicable-to-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              n: {type: number, default: abc}
              b: {type: boolean, default: maybe}
              j: {type: json, default: 5}
              l: {type: comma_delimited_list, default: {a: 1}}
              s: {type: string, default: [x]}
            """,
            [
                (Code.INVALID_PARAMETER, "/parameters/n/default", 3, 21),
                (Code.INVALID_PARAMETER, "/parameters/b/default", 4, 22),
                (Code.INVALID_PARAMETER, "/parameters/j/default", 5, 19),
                (Code.INVALID_PARAMETER, "/parameters/l/default", 6, 35),
                (Code.INVALID_PARAMETER, "/parameters/s/default", 7, 21),
            ],
            id="default-wrong-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              r:
                type: number
                default: 12
                constraints:
                  - range: {min: 1, max: 10}
              l:
                type: string
                default: abcdef
                constraints:
                  - length: {max: 3}
              v:
                type: string
                default: c
                constraints:
                  - allowed_values: [a, b]
              p:
                type: string
                default: abc1
                constraints:
                  - allowed_pattern: "[a-z]+"
              c:
                type: string
                default: 10.0.0.1
                constraints:
                  - custom_constraint: net_cidr
              i:
                type: comma_delimited_list
                default: a,c
                constraints:
                  - allowed_values: [a, b]
            """,
            [
                (Code.INVALID_PARAMETER, "/parameters/r/default", 5, 5),
                (Code.INVALID_PARAMETER, "/parameters/l/default", 10, 5),
                (Code.INVALID_PARAMETER, "/parameters/v/default", 15, 5),
                (Code.INVALID_PARAMETER, "/parameters/p/default", 20, 5),
                (Code.INVALID_PARAMETER, "/parameters/c/default", 25, 5),
                (Code.INVALID_PARAMETER, "/parameters/i/default", 30, 5),
            ],
            id="default-violates-constraints",
        ),
    ],
)
def test_parameters_refuses_declaration(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    assert _where(_check(text, registry, None)) == expected


def test_parameters_default_error_uses_constraint_description(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: number
            default: 12
            constraints:
              - range: {min: 1, max: 10}
                description: Pick one to ten.
        """,
        registry,
        None,
    )
    (problem,) = report.problems
    assert problem.message.endswith("Pick one to ten.")


def test_parameters_declaration_reports_every_problem_at_once(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: string
            immutable: 1
            foo: 1
            constraints:
              - range: {min: 1}
              - allowed_pattern: "("
        """,
        registry,
        None,
    )
    assert _where(report) == [
        (Code.UNKNOWN_KEY, "/parameters/p/foo", 6, 5),
        (Code.INVALID_TYPE, "/parameters/p/immutable", 5, 5),
        (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/0/range", 8, 9),
        (Code.INVALID_CONSTRAINT, "/parameters/p/constraints/1/allowed_pattern", 9, 9),
    ]


def test_parameters_take_heats_immutable_tags_and_a_null_label_or_description(
    registry: ResourceTypeRegistry,
) -> None:
    """As Heat: ``immutable`` (nothing to forbid: a build is never updated), ``tags``
    (labels for tools), and ``label:`` or ``description:`` left empty (null)."""
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: string
            label:
            description:
            immutable: true
            tags: [network, public]
            default: x
        parameter_groups:
          - label: the group
            dscription: a misspelt key, which Heat ignores
            parameters: [p]
        """,
        registry,
        None,
    )
    assert _where(report) == []


def test_a_modulo_constraint_is_checked_as_heat_checks_it(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's modulo (HOT 2017-02-24 on): step and offset whole numbers, step not 0,
    |offset| < |step|, both of one sign; a value must be ``offset`` past a multiple."""
    text = """\
        heat_template_version: 2017-02-24
        parameters:
          odd:
            type: number
            constraints:
              - modulo: {step: 2, offset: 1}
        resources: {}
        """
    assert _where(_check(text, registry, {"odd": 7})) == []
    (problem,) = _check(text, registry, {"odd": 4}).problems
    assert "4 is not a multiple of 2 with an offset of 1" in problem.message
    for bad in ("{step: 0, offset: 0}", "{step: 2, offset: 2}", "{step: 2, offset: -1}",
                "{step: 2}", "{step: 1.5, offset: 0}"):  # fmt: skip
        report = _check(text.replace("{step: 2, offset: 1}", bad), registry, {"odd": 1})
        assert [w[0] for w in _where(report)] == [Code.INVALID_CONSTRAINT], bad


# -- parameter groups ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
              b: {type: string, default: x}
            parameter_groups:
              - label: first
                description: the first group
                parameters: [a]
              - parameters: [b]
            """,
            [],
            id="valid",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
            parameter_groups:
              - parameters: [a, nope]
            """,
            [(Code.UNKNOWN_GROUP_PARAMETER, "/parameter_groups/0/parameters/1", 5, 21)],
            id="unknown-name",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
            parameter_groups:
              - parameters:
                  - a
                  - 5
            """,
            [(Code.UNKNOWN_GROUP_PARAMETER, "/parameter_groups/0/parameters/1", 7, 9)],
            id="not-a-name",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
              b: {type: string, default: x}
            parameter_groups:
              - parameters: [a]
              - parameters: [b, a]
            """,
            [(Code.UNKNOWN_GROUP_PARAMETER, "/parameter_groups/1/parameters/1", 7, 21)],
            id="in-two-groups",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
            parameter_groups:
              - parameters: [a, a]
            """,
            [(Code.UNKNOWN_GROUP_PARAMETER, "/parameter_groups/0/parameters/1", 5, 21)],
            id="twice-in-one-group",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
            parameter_groups:
              - parameters: [a]
                foo: 1
            """,
            [],
            id="unknown-key-ignored-as-heat-does",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a: {type: string, default: x}
            parameter_groups:
              - parameters: a
              - just text
            """,
            [
                (Code.INVALID_TYPE, "/parameter_groups/0/parameters", 5, 5),
                (Code.INVALID_TYPE, "/parameter_groups/1", 6, 5),
            ],
            id="wrong-shapes",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameter_groups: {parameters: [a]}
            """,
            [(Code.INVALID_TYPE, "/parameter_groups", 2, 1)],
            id="section-not-a-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              a:
                type: strin
            parameter_groups:
              - parameters: [a]
            """,
            [(Code.INVALID_PARAMETER, "/parameters/a/type", 4, 5)],
            id="badly-declared-parameter-is-still-declared",
        ),
    ],
)
def test_parameters_checks_groups(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    assert _where(_check(text, registry, None)) == expected


# -- values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "given", "value"),
    [
        pytest.param("string", "text", "text", id="string"),
        pytest.param("string", 5, "5", id="string-from-number"),
        pytest.param("number", "3", 3, id="number-from-string"),
        pytest.param("number", " 7 ", 7, id="number-from-padded-string"),
        pytest.param("number", "2.5", 2.5, id="number-float-from-string"),
        pytest.param("number", "1e3", 1000.0, id="number-exponent"),
        pytest.param("number", 4, 4, id="number"),
        pytest.param("boolean", "true", True, id="boolean-true"),
        pytest.param("boolean", "yes", True, id="boolean-yes"),
        pytest.param("boolean", "1", True, id="boolean-1"),
        pytest.param("boolean", "Off", False, id="boolean-off"),
        pytest.param("boolean", False, False, id="boolean"),
        pytest.param("json", '{"k": [1]}', {"k": [1]}, id="json-object-text"),
        pytest.param("json", "[1, 2]", [1, 2], id="json-list-text"),
        pytest.param("json", {"k": 1}, {"k": 1}, id="json-object"),
        pytest.param("comma_delimited_list", "a,b", ["a", "b"], id="list"),
        pytest.param("comma_delimited_list", " a , b ", ["a", "b"], id="list-items-stripped"),
        pytest.param("comma_delimited_list", ["x", 1], ["x", "1"], id="list-from-list"),
        pytest.param("comma_delimited_list", "", [], id="list-empty"),
    ],
)
def test_parameters_coerces_values_into_the_plan(
    kind: str, given: Any, value: Any, registry: ResourceTypeRegistry
) -> None:
    text = f"""\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: {kind}
        """
    report = _check(text, registry, {"p": given})
    assert _where(report) == []
    assert report.plan is not None
    (planned,) = report.plan.parameters
    assert planned.value == value
    assert type(planned.value) is type(value)


@pytest.mark.parametrize(
    ("kind", "given"),
    [
        pytest.param("number", "three", id="number-word"),
        pytest.param("number", True, id="number-boolean"),
        pytest.param("number", "nan", id="number-nan"),
        pytest.param("number", [1], id="number-list"),
        pytest.param("boolean", "maybe", id="boolean-word"),
        pytest.param("boolean", 2, id="boolean-two"),
        pytest.param("json", "not json", id="json-invalid"),
        pytest.param("json", '"a string"', id="json-scalar"),
        pytest.param("json", 5, id="json-number"),
        pytest.param("comma_delimited_list", {"a": 1}, id="list-from-mapping"),
        pytest.param("comma_delimited_list", [[1]], id="list-of-lists"),
        pytest.param("string", ["x"], id="string-from-list"),
    ],
)
def test_parameters_refuses_value_of_wrong_type(
    kind: str, given: Any, registry: ResourceTypeRegistry
) -> None:
    text = f"""\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: {kind}
        """
    assert _where(_check(text, registry, {"p": given})) == [
        (Code.PARAMETER_VALUE, "/parameters/p", 3, 3)
    ]


@pytest.mark.parametrize(
    ("declaration", "given"),
    [
        pytest.param("type: number\nconstraints: [{range: {min: 1, max: 10}}]", "11", id="range"),
        pytest.param("type: number\nconstraints: [{range: {min: 1}}]", 0.5, id="range-min-only"),
        pytest.param("type: string\nconstraints: [{length: {min: 3}}]", "ab", id="length"),
        pytest.param(
            "type: comma_delimited_list\nconstraints: [{length: {max: 2}}]",
            "a,b,c",
            id="length-of-list",
        ),
        pytest.param(
            "type: json\nconstraints: [{length: {max: 1}}]", '{"a": 1, "b": 2}', id="length-json"
        ),
        pytest.param(
            "type: string\nconstraints: [{allowed_values: [a, b]}]", "c", id="allowed-values"
        ),
        pytest.param(
            "type: number\nconstraints: [{allowed_values: [1, 2]}]", "3", id="allowed-numbers"
        ),
        pytest.param(
            "type: boolean\nconstraints: [{allowed_values: [true]}]", "no", id="allowed-booleans"
        ),
        pytest.param(
            "type: comma_delimited_list\nconstraints: [{allowed_values: [a, b]}]",
            "a,c",
            id="allowed-values-per-item",
        ),
        pytest.param(
            "type: string\nconstraints: [{allowed_pattern: '[a-z]+'}]",
            "abc1",
            id="pattern-is-a-full-match-end",
        ),
        pytest.param(
            "type: string\nconstraints: [{allowed_pattern: '[a-z]+'}]",
            "1abc",
            id="pattern-is-a-full-match-start",
        ),
        pytest.param(
            "type: comma_delimited_list\nconstraints: [{allowed_pattern: '[a-z]+'}]",
            "ab,c1",
            id="pattern-per-item",
        ),
        pytest.param(
            "type: string\nconstraints: [{custom_constraint: net_cidr}]",
            "10.0.0.1",
            id="net-cidr",
        ),
        pytest.param(
            "type: string\nconstraints: [{custom_constraint: ip_addr}]", "10.0.0.256", id="ip"
        ),
        pytest.param(
            "type: string\nconstraints: [{custom_constraint: mac_addr}]", "fa:16:3e:0:0", id="mac"
        ),
        pytest.param(
            "type: comma_delimited_list\nconstraints: [{custom_constraint: ip_addr}]",
            "10.0.0.1, nope",
            id="ip-per-item",
        ),
    ],
)
def test_parameters_refuses_value_breaking_a_constraint(
    declaration: str, given: Any, registry: ResourceTypeRegistry
) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  p:\n" + textwrap.indent(declaration, "    ") + "\n"
    )
    assert _where(check(text, registry, {"p": given})) == [
        (Code.PARAMETER_CONSTRAINT, "/parameters/p", 3, 3)
    ]


@pytest.mark.parametrize(
    ("declaration", "given"),
    [
        pytest.param("type: number\nconstraints: [{range: {min: 1, max: 10}}]", "10", id="range"),
        pytest.param("type: string\nconstraints: [{length: {min: 2, max: 2}}]", "ab", id="length"),
        pytest.param(
            "type: string\nconstraints: [{allowed_pattern: '[a-z]+'}]", "abc", id="pattern"
        ),
        pytest.param(
            "type: string\nconstraints: [{custom_constraint: net_cidr}]",
            "10.0.0.0/24",
            id="net-cidr",
        ),
        pytest.param(
            "type: string\nconstraints: [{custom_constraint: nova.flavor}]",
            "any flavor at all",
            id="cloud-constraint-left-to-the-build",
        ),
        pytest.param(
            "type: string\nconstraints: [{custom_constraint: neutron.network}]",
            "private",
            id="cloud-constraint-network",
        ),
    ],
)
def test_parameters_accepts_value_meeting_constraints(
    declaration: str, given: Any, registry: ResourceTypeRegistry
) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  p:\n" + textwrap.indent(declaration, "    ") + "\n"
    )
    assert _where(check(text, registry, {"p": given})) == []


@pytest.mark.parametrize(
    ("constraint", "given"),
    [
        pytest.param("range: {max: 10}", "11", id="range"),
        pytest.param("length: {max: 1}", "ab", id="length"),
        pytest.param("allowed_values: [a]", "b", id="allowed-values"),
        pytest.param("allowed_pattern: '[a-z]+'", "B", id="pattern"),
        pytest.param("custom_constraint: ip_addr", "nope", id="custom"),
    ],
)
def test_parameters_value_error_uses_constraint_description(
    constraint: str, given: str, registry: ResourceTypeRegistry
) -> None:
    kind = "number" if constraint.startswith("range") else "string"
    text = textwrap.dedent(
        f"""\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: {kind}
            constraints:
              - {constraint}
                description: Ask the network team.
        """
    )
    (problem,) = check(text, registry, {"p": given}).problems
    assert (problem.code, problem.pointer, problem.line, problem.column) == (
        Code.PARAMETER_CONSTRAINT,
        "/parameters/p",
        3,
        3,
    )
    assert problem.message.endswith("Ask the network team.")


@pytest.mark.parametrize(
    ("text", "values"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: true
                constraints:
                  - allowed_values: [a, b]
            """,
            {"p": SECRET},
            id="allowed-values",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: true
                constraints:
                  - allowed_pattern: "[a-z]+"
            """,
            {"p": SECRET},
            id="pattern",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: true
                constraints:
                  - custom_constraint: ip_addr
            """,
            {"p": SECRET},
            id="custom",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: comma_delimited_list
                hidden: true
                constraints:
                  - allowed_values: [a]
            """,
            {"p": f"a,{SECRET}"},
            id="list-item",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: true
                default: S3CRET-value
                constraints:
                  - allowed_values: [a]
            """,
            None,
            id="default",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: number
                hidden: true
            """,
            {"p": SECRET},
            id="wrong-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: "not a boolean means hidden"
                constraints:
                  - allowed_values: [a]
            """,
            {"p": SECRET},
            id="malformed-hidden",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: true
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  length: {get_param: p}
            """,
            {"p": SECRET},
            id="property-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: string
                hidden: true
            resources:
              r:
                type: OS::Heat::Value
                properties:
                  value: x
                  type: {get_param: p}
            """,
            {"p": SECRET},
            id="property-allowed-values",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              p:
                type: json
                hidden: true
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  length: {get_param: [p, k]}
            """,
            {"p": {"k": SECRET}},
            id="get-param-path",
        ),
    ],
)
def test_parameters_hidden_value_never_in_messages(
    text: str, values: dict[str, Any] | None, registry: ResourceTypeRegistry
) -> None:
    report = _check(text, registry, values)
    assert report.problems
    for problem in report.problems:
        assert "S3CRET" not in problem.message


def test_parameters_reports_value_for_undeclared_parameter(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: string
            default: x
        """,
        registry,
        {"q": "x"},
    )
    # The value is not in the template: the problem points at the declarations.
    assert _where(report) == [(Code.PARAMETER_UNDECLARED, "/parameters", 2, 1)]


def test_parameters_reports_value_for_undeclared_parameter_without_section(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check("heat_template_version: 2018-08-31\n", registry, {"q": "x"})
    assert _where(report) == [(Code.PARAMETER_UNDECLARED, "", 1, 1)]


def test_parameters_value_for_badly_declared_parameter_is_not_undeclared(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: strin
        """,
        registry,
        {"p": "x"},
    )
    assert _where(report) == [(Code.INVALID_PARAMETER, "/parameters/p/type", 4, 5)]


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({}, id="not-given"),
        pytest.param({"p": None}, id="given-as-null"),
    ],
)
def test_parameters_reports_missing_value(
    values: dict[str, Any], registry: ResourceTypeRegistry
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          d:
            type: string
            default: x
          p:
            type: string
        """,
        registry,
        values,
    )
    assert _where(report) == [(Code.PARAMETER_MISSING, "/parameters/p", 6, 3)]
    assert report.missing == ("p",)
    assert report.plan is None


def test_parameters_without_values_lists_what_is_needed(registry: ResourceTypeRegistry) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          d:
            type: string
            default: x
          p:
            type: string
            description: the thing
            label: Thing
            hidden: true
        """,
        registry,
        None,
    )
    assert _where(report) == []
    assert report.missing == ("p",)
    assert report.plan is None
    assert [spec.to_dict() for spec in report.parameters] == [
        {
            "name": "d",
            "type": "string",
            "description": "",
            "label": "",
            "hidden": False,
            "required": False,
            "constraints": [],
            "default": "x",
        },
        {
            "name": "p",
            "type": "string",
            "description": "the thing",
            "label": "Thing",
            "hidden": True,
            "required": True,
            "constraints": [],
        },
    ]


def test_parameters_default_is_coerced_and_used(registry: ResourceTypeRegistry) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          n: {type: number, default: "3"}
          l: {type: comma_delimited_list, default: "a, b"}
          b: {type: boolean, default: "on"}
        """,
        registry,
        {},
    )
    assert _where(report) == []
    assert report.plan is not None
    assert {v.name: v.value for v in report.plan.parameters} == {
        "n": 3,
        "l": ["a", "b"],
        "b": True,
    }


def test_parameters_refuses_json_value_shaped_like_a_function(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: json
        """,
        registry,
        {"p": {"nested": [{"get_resource": "x"}]}},
    )
    assert _where(report) == [(Code.PARAMETER_VALUE, "/parameters/p", 3, 3)]


# -- coerce -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        pytest.param(ParameterType.STRING, "x", "x", id="string"),
        pytest.param(ParameterType.STRING, 5, "5", id="string-int"),
        pytest.param(ParameterType.STRING, 1.5, "1.5", id="string-float"),
        pytest.param(ParameterType.NUMBER, "3", 3, id="number-int-text"),
        pytest.param(ParameterType.NUMBER, " 3 ", 3, id="number-padded"),
        pytest.param(ParameterType.NUMBER, "-3", -3, id="number-negative"),
        pytest.param(ParameterType.NUMBER, "3.0", 3.0, id="number-float-text"),
        pytest.param(ParameterType.NUMBER, "1.5e3", 1500.0, id="number-exponent"),
        pytest.param(ParameterType.NUMBER, 7, 7, id="number-int"),
        pytest.param(ParameterType.NUMBER, 7.25, 7.25, id="number-float"),
        *(
            pytest.param(ParameterType.BOOLEAN, text, True, id=f"boolean-{text}")
            for text in ("1", "t", "true", "on", "y", "yes", "TRUE", " Yes ")
        ),
        *(
            pytest.param(ParameterType.BOOLEAN, text, False, id=f"boolean-{text}")
            for text in ("0", "f", "false", "off", "n", "no", "False")
        ),
        pytest.param(ParameterType.BOOLEAN, True, True, id="boolean-true"),
        pytest.param(ParameterType.BOOLEAN, 0, False, id="boolean-int-0"),
        pytest.param(ParameterType.BOOLEAN, 1, True, id="boolean-int-1"),
        pytest.param(ParameterType.JSON, '{"a": 1}', {"a": 1}, id="json-object-text"),
        pytest.param(ParameterType.JSON, "[1, 2]", [1, 2], id="json-list-text"),
        pytest.param(ParameterType.JSON, "", {}, id="json-empty-text"),
        pytest.param(ParameterType.JSON, {"a": [1]}, {"a": [1]}, id="json-object"),
        pytest.param(ParameterType.JSON, [1], [1], id="json-list"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, "a,b", ["a", "b"], id="list"),
        pytest.param(
            ParameterType.COMMA_DELIMITED_LIST, " a , b ,c ", ["a", "b", "c"], id="list-stripped"
        ),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, "a", ["a"], id="list-one"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, "a,,b", ["a", "", "b"], id="list-gap"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, "", [], id="list-empty-text"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, ["a", 1], ["a", "1"], id="list-list"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, [], [], id="list-empty-list"),
    ],
)
def test_coerce_converts_like_heat(kind: ParameterType, value: Any, expected: Any) -> None:
    result = parameters.coerce(kind, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        pytest.param(ParameterType.STRING, None, id="string-none"),
        pytest.param(ParameterType.STRING, ["x"], id="string-list"),
        pytest.param(ParameterType.STRING, {"a": 1}, id="string-mapping"),
        pytest.param(ParameterType.NUMBER, "three", id="number-word"),
        pytest.param(ParameterType.NUMBER, "", id="number-empty"),
        pytest.param(ParameterType.NUMBER, "0x10", id="number-hex"),
        pytest.param(ParameterType.NUMBER, True, id="number-boolean"),
        pytest.param(ParameterType.NUMBER, None, id="number-none"),
        pytest.param(ParameterType.NUMBER, "nan", id="number-nan-text"),
        pytest.param(ParameterType.NUMBER, "inf", id="number-inf-text"),
        pytest.param(ParameterType.NUMBER, math.inf, id="number-inf"),
        pytest.param(ParameterType.NUMBER, [1], id="number-list"),
        pytest.param(ParameterType.BOOLEAN, "maybe", id="boolean-word"),
        pytest.param(ParameterType.BOOLEAN, "", id="boolean-empty"),
        pytest.param(ParameterType.BOOLEAN, 2, id="boolean-two"),
        pytest.param(ParameterType.BOOLEAN, None, id="boolean-none"),
        pytest.param(ParameterType.JSON, "nope", id="json-invalid"),
        pytest.param(ParameterType.JSON, '"text"', id="json-string"),
        pytest.param(ParameterType.JSON, "5", id="json-number-text"),
        pytest.param(ParameterType.JSON, 5, id="json-number"),
        pytest.param(ParameterType.JSON, '{"a": NaN}', id="json-nan"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, 5, id="list-number"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, {"a": 1}, id="list-mapping"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, [["a"]], id="list-of-lists"),
        pytest.param(ParameterType.COMMA_DELIMITED_LIST, [None], id="list-of-none"),
    ],
)
def test_coerce_refuses(kind: ParameterType, value: Any) -> None:
    with pytest.raises(ValueError, match="must be"):
        parameters.coerce(kind, value)
