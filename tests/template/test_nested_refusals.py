"""Wrong values where a nested stack is made: each a located problem with its code,
never an exception out of check(), never a nested stack silently left empty."""

from __future__ import annotations

import textwrap

import pytest

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.problems import Code

Located = tuple[Code, str | None, str, int | None, int | None]

CHILD = """\
heat_template_version: 2018-08-31
parameters:
  a: {type: number, default: 0}
"""
HEADER = """\
heat_template_version: 2018-08-31
parameters:
  n: {type: number, default: -2}
resources:
  v: {type: OS::Heat::Value, properties: {value: {a: 1}}}
"""  # the resource under test is on line 6


def _located(resource: str) -> list[Located]:
    text = HEADER + textwrap.indent(textwrap.dedent(resource), "  ")
    report = check(text, _REGISTRY, {}, files={"child.yaml": CHILD})
    return sorted((p.code, p.file, p.pointer, p.line, p.column) for p in report.problems)


_REGISTRY = ResourceTypeRegistry.load()

GROUP = "g: {type: OS::Heat::ResourceGroup, properties: "
STACK = "s: {type: OS::Heat::Stack, properties: "


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        # A value the property checks refuse goes no further (it used to crash).
        pytest.param(
            GROUP + "{count: -1, resource_def: {type: OS::Heat::None}}}",
            [(Code.PROPERTY_CONSTRAINT, None, "/resources/g/properties/count", 6, 51)],
            id="group-count-negative",
        ),
        pytest.param(
            GROUP + "{count: {get_param: n}, resource_def: {type: OS::Heat::None}}}",
            [(Code.PROPERTY_CONSTRAINT, None, "/resources/g/properties/count", 6, 51)],
            id="group-count-from-a-negative-default",
        ),
        pytest.param(
            GROUP + "{resource_def: {type: OS::Heat::ResourceGroup, properties: "
            "{count: -3, resource_def: {type: OS::Heat::None}}}}}",
            [
                (
                    Code.PROPERTY_CONSTRAINT,
                    None,
                    "/resources/g/properties/resource_def/properties/count",
                    6,
                    110,
                )
            ],
            id="member-group-count-negative",
        ),
        pytest.param(
            STACK + "{template: {heat_template_version: 2018-08-31}, parameters: x}}",
            [(Code.PROPERTY_TYPE, None, "/resources/s/properties/parameters", 6, 90)],
            id="stack-parameters-a-string",
        ),
        pytest.param(
            STACK + "{template: {heat_template_version: 2018-08-31}, parameters: [1]}}",
            [(Code.PROPERTY_TYPE, None, "/resources/s/properties/parameters", 6, 90)],
            id="stack-parameters-a-list",
        ),
        pytest.param(
            """\
            g:
              type: OS::Heat::ResourceGroup
              update_policy: {batch_create: 5}
              properties: {count: 3, resource_def: {type: OS::Heat::None}}
            """,
            [(Code.PROPERTY_TYPE, None, "/resources/g/update_policy/batch_create", 8, 21)],
            id="update-policy-batch-create-not-a-mapping",
        ),
        # Values known only when the build runs, where the tree must be known before.
        pytest.param(
            STACK + "{template: {heat_template_version: 2018-08-31}, "
            "parameters: {get_attr: [v, value]}}}",
            [(Code.INVALID_VALUE, None, "/resources/s/properties/parameters", 6, 90)],
            id="stack-parameters-known-at-run-time",
        ),
        pytest.param(
            GROUP + "{count: 1, resource_def: {get_attr: [v, value]}}}",
            [(Code.INVALID_VALUE, None, "/resources/g/properties/resource_def", 6, 61)],
            id="group-resource-def-known-at-run-time",
        ),
        pytest.param(
            GROUP + "{count: 1, resource_def: {type: child.yaml, properties: "
            "{get_attr: [v, value]}}}}",
            [
                (
                    Code.INVALID_VALUE,
                    None,
                    "/resources/g/properties/resource_def/properties",
                    6,
                    94,
                )
            ],
            id="member-properties-known-at-run-time",
        ),
        pytest.param(
            GROUP + "{count: 1, resource_def: {type: OS::Heat::None, properties: "
            "{get_attr: [v, value]}}}}",
            [
                (
                    Code.INVALID_VALUE,
                    None,
                    "/resources/g/properties/resource_def/properties",
                    6,
                    98,
                )
            ],
            id="plain-member-properties-known-at-run-time",
        ),
        pytest.param(
            STACK + "{template: 123}}",
            [(Code.INVALID_TYPE, None, "/resources/s/properties/template", 6, 43)],
            id="stack-template-a-number",
        ),
        pytest.param(
            STACK + "{template: [1]}}",
            [(Code.INVALID_TYPE, None, "/resources/s/properties/template", 6, 43)],
            id="stack-template-a-list",
        ),
        pytest.param(
            GROUP + "{resource_def: {type: OS::Heat::Stack, properties: "
            "{template: {heat_template_version: 2018-08-31}}}}}",
            [
                (
                    Code.UNSUPPORTED_FEATURE,
                    None,
                    "/resources/g/properties/resource_def/properties/template",
                    6,
                    102,
                )
            ],
            id="group-of-stacks-with-an-inline-template",
        ),
    ],
)
def test_nested_refusals_are_located(resource: str, expected: list[Located]) -> None:
    assert _located(resource) == expected
