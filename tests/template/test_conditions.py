"""Conditions: the section, condition fields, if and the condition functions (Heat's rules).

Each template below is written out in full; the expected line:column of a
problem was counted from the text next to it (1-based, a mapping member
located at its key, a list item where it starts).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cool.model import Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.problems import Code
from tests.template.checking import Where
from tests.template.checking import check_text as _check
from tests.template.checking import where as _where


def _plan(text: str, registry: ResourceTypeRegistry, values: dict[str, Any]) -> Plan:
    report = _check(text, registry, values)
    assert not report.problems, report.problems
    assert report.plan is not None
    return report.plan


def _names(plan: Plan) -> set[str]:
    return {r.name for r in plan.resources}


def _enabled(definition: str, registry: ResourceTypeRegistry, values: dict[str, Any]) -> bool:
    """Whether a resource with ``condition: c`` exists, ``c`` defined as ``definition``."""
    text = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  env: {type: string, default: dev}\n"
        "  flag: {type: boolean, default: false}\n"
        "  zones: {type: comma_delimited_list, default: 'a,b'}\n"
        "conditions:\n"
        "  yes_: true\n"
        "  no_: false\n"
        f"  c: {definition}\n"
        "resources:\n"
        "  r: {type: OS::Heat::None, condition: c}\n"
        "  always: {type: OS::Heat::None}\n"
    )
    plan = _plan(text, registry, values)
    return "r" in _names(plan)


# -- the condition functions: truth tables ------------------------------------

TRUTH = [
    # literal booleans and names
    ("true", {}, True),
    ("false", {}, False),
    ("{not: yes_}", {}, False),
    ("{not: no_}", {}, True),
    ("{not: true}", {}, False),
    ("{not: {not: yes_}}", {}, True),
    # equals
    ("{equals: [a, a]}", {}, True),
    ("{equals: [a, b]}", {}, False),
    ("{equals: [1, 1]}", {}, True),
    ("{equals: [[1, 2], [1, 2]]}", {}, True),
    ("{equals: [{x: 1}, {x: 2}]}", {}, False),
    ("{equals: [{get_param: env}, prod]}", {"env": "prod"}, True),
    ("{equals: [{get_param: env}, prod]}", {"env": "dev"}, False),
    ("{equals: [{get_param: env}, prod]}", {}, False),  # the default
    # get_param of a boolean parameter is a condition
    ("{get_param: flag}", {"flag": True}, True),
    ("{get_param: flag}", {"flag": "false"}, False),
    # and / or: every combination of two, and three
    ("{and: [true, true]}", {}, True),
    ("{and: [true, false]}", {}, False),
    ("{and: [false, true]}", {}, False),
    ("{and: [false, false]}", {}, False),
    ("{and: [yes_, yes_, no_]}", {}, False),
    ("{or: [true, true]}", {}, True),
    ("{or: [true, false]}", {}, True),
    ("{or: [false, true]}", {}, True),
    ("{or: [false, false]}", {}, False),
    ("{or: [no_, no_, yes_]}", {}, True),
    # Heat's is_enabled(None) is True: a null condition in and/or is true.
    ("{and: [null, true]}", {}, True),
    ("{and: [null, false]}", {}, False),
    ("{or: [null, false]}", {}, True),
    ("{and: [yes_, {or: [no_, {equals: [{get_param: env}, dev]}]}]}", {}, True),
    # contains: in a list, and in a string (a substring, as Python's in)
    ("{contains: [a, [a, b]]}", {}, True),
    ("{contains: [c, [a, b]]}", {}, False),
    ("{contains: [b, {get_param: zones}]}", {}, True),
    ("{contains: [z, {get_param: zones}]}", {}, False),
    ("{contains: [ell, hello]}", {}, True),
    ("{contains: [[1], [[1], [2]]]}", {}, True),
]


@pytest.mark.parametrize(("definition", "values", "expected"), TRUTH)
def test_condition_function_truth(
    definition: str, values: dict[str, Any], expected: bool, registry: ResourceTypeRegistry
) -> None:
    assert _enabled(definition, registry, values) is expected


def test_conditions_name_conditions_in_any_order(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          env: {type: string}
        conditions:
          last: {and: [middle, {not: first_false}]}
          middle: {or: [first_false, is_prod]}
          first_false: false
          is_prod: {equals: [{get_param: env}, prod]}
        resources:
          r: {type: OS::Heat::None, condition: last}
          s: {type: OS::Heat::None, condition: {not: last}}
        """
    assert _names(_plan(text, registry, {"env": "prod"})) == {"r"}
    assert _names(_plan(text, registry, {"env": "dev"})) == {"s"}


# -- problems: exact code and place -------------------------------------------

SECTION = "heat_template_version: 2018-08-31\nparameters:\n  env: {type: string, default: dev}\n"
NONE_R = "resources:\n  r: {type: OS::Heat::None}\n"

PROBLEMS: list[tuple[str, str, list[Where]]] = [
    (
        "cycle of two",
        SECTION + "conditions:\n  a: {not: b}\n  b: {not: a}\n" + NONE_R,
        [(Code.CONDITION_CYCLE, "/conditions/a", 5, 3)],
    ),
    (
        "a condition naming itself",
        SECTION + "conditions:\n  a: {and: [true, a]}\n" + NONE_R,
        [(Code.CONDITION_CYCLE, "/conditions/a", 5, 3)],
    ),
    (
        "unknown name",
        SECTION + "conditions:\n  a: {not: nope}\n" + NONE_R,
        [(Code.UNKNOWN_CONDITION, "/conditions/a/not", 5, 7)],
    ),
    (
        "a bare name is no definition (Heat refuses it)",
        SECTION + "conditions:\n  a: true\n  b: a\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/b", 6, 3)],
    ),
    (
        "a definition that resolves to a string",
        SECTION + "conditions:\n  a: {get_param: env}\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/a", 5, 3)],
    ),
    (
        "a definition that is a number",
        SECTION + "conditions:\n  a: 1\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/a", 5, 3)],
    ),
    (
        "a condition cannot refer to a resource",
        SECTION + "conditions:\n  a: {equals: [{get_resource: r}, x]}\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/a/equals/0/get_resource", 5, 17)],
    ),
    (
        "if is no condition function",
        SECTION + "conditions:\n  a: {not: {if: [true, true, false]}}\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/a/not/if", 5, 13)],
    ),
    (
        "equals takes two",
        SECTION + "conditions:\n  a: {equals: [1, 2, 3]}\n" + NONE_R,
        [(Code.INVALID_FUNCTION, "/conditions/a/equals", 5, 7)],
    ),
    (
        "and takes two or more",
        SECTION + "conditions:\n  a: {and: [true]}\n" + NONE_R,
        [(Code.INVALID_FUNCTION, "/conditions/a/and", 5, 7)],
    ),
    (
        "or takes a list",
        SECTION + "conditions:\n  a: {or: true}\n" + NONE_R,
        [(Code.INVALID_FUNCTION, "/conditions/a/or", 5, 7)],
    ),
    (
        "not takes a condition",
        SECTION + "conditions:\n  a: {not: null}\n" + NONE_R,
        [(Code.INVALID_FUNCTION, "/conditions/a/not", 5, 7)],
    ),
    (
        "not of a number",
        SECTION + "conditions:\n  a: {not: 3}\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/a/not", 5, 7)],
    ),
    (
        "contains in a mapping",
        SECTION + "conditions:\n  a: {contains: [x, {x: 1}]}\n" + NONE_R,
        [(Code.INVALID_FUNCTION, "/conditions/a/contains", 5, 7)],
    ),
    (
        "contains a number in a string",
        SECTION + "conditions:\n  a: {contains: [1, '123']}\n" + NONE_R,
        [(Code.INVALID_FUNCTION, "/conditions/a/contains", 5, 7)],
    ),
    (
        "a pseudo parameter is known only when the build runs",
        SECTION + "conditions:\n  a: {equals: [{get_param: OS::stack_name}, x]}\n" + NONE_R,
        [(Code.INVALID_CONDITION, "/conditions/a/equals/0/get_param", 5, 17)],
    ),
    (
        "an undeclared parameter",
        SECTION + "conditions:\n  a: {equals: [{get_param: nope}, x]}\n" + NONE_R,
        [(Code.UNKNOWN_PARAMETER, "/conditions/a/equals/0/get_param", 5, 17)],
    ),
    (
        "the section is a mapping",
        SECTION + "conditions: [a]\n" + NONE_R,
        [(Code.INVALID_TYPE, "/conditions", 4, 1)],
    ),
    (
        "a resource's condition names no condition",
        SECTION + "resources:\n  r: {type: OS::Heat::None, condition: nope}\n",
        [(Code.UNKNOWN_CONDITION, "/resources/r/condition", 5, 29)],
    ),
    (
        "a resource's condition is null",
        SECTION + "resources:\n  r: {type: OS::Heat::None, condition: null}\n",
        [(Code.INVALID_CONDITION, "/resources/r/condition", 5, 29)],
    ),
    (
        "a resource's condition is a list",
        SECTION + "resources:\n  r: {type: OS::Heat::None, condition: [true]}\n",
        [(Code.INVALID_CONDITION, "/resources/r/condition", 5, 29)],
    ),
    (
        "equals in a value",
        SECTION + "resources:\n  r:\n    type: OS::Heat::Value\n"
        "    properties:\n      value: {equals: [1, 1]}\n",
        [(Code.INVALID_FUNCTION, "/resources/r/properties/value/equals", 8, 15)],
    ),
    (
        "if takes two or three",
        SECTION + "resources:\n  r:\n    type: OS::Heat::Value\n"
        "    properties:\n      value: {if: [true]}\n",
        [(Code.INVALID_FUNCTION, "/resources/r/properties/value/if", 8, 15)],
    ),
    (
        "if on an unknown condition",
        SECTION + "resources:\n  r:\n    type: OS::Heat::Value\n"
        "    properties:\n      value: {if: [nope, a, b]}\n",
        [(Code.UNKNOWN_CONDITION, "/resources/r/properties/value/if/0", 8, 20)],
    ),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in PROBLEMS])
def test_condition_problems_are_located(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    report = check(text, registry, {})
    assert _where(report) == expected, report.problems
    assert report.plan is None


def test_condition_messages_say_why(registry: ResourceTypeRegistry) -> None:
    cycle = check(SECTION + "conditions:\n  a: {not: b}\n  b: {not: a}\n" + NONE_R, registry, {})
    assert cycle.problems[0].message == "conditions refer to one another in a cycle: a -> b -> a"
    unknown = check(SECTION + "conditions:\n  a: {not: nope}\n" + NONE_R, registry, {})
    assert unknown.problems[0].message == "unknown condition 'nope' (conditions: a)"


# -- versions ------------------------------------------------------------------


def _versioned(version: str, body: str) -> str:
    return f"heat_template_version: {version}\n" + body


VERSIONS: list[tuple[str, str, list[Where]]] = [
    (
        "2016-04-08",
        "conditions:\n  a: true\nresources:\n  r: {type: OS::Heat::None, condition: a}\n"
        "outputs:\n  o: {value: 1, condition: a}\n",
        [
            (Code.FEATURE_VERSION, "/conditions", 2, 1),
            (Code.FEATURE_VERSION, "/outputs/o/condition", 7, 17),
            (Code.FEATURE_VERSION, "/resources/r/condition", 5, 29),
        ],
    ),
    (
        "2016-04-08",
        "resources:\n  r:\n    type: OS::Heat::Value\n    properties:\n"
        "      value: {if: [true, 1, 2]}\n",
        [(Code.FUNCTION_VERSION, "/resources/r/properties/value/if", 6, 15)],
    ),
    (
        "2017-02-24",
        "conditions:\n  a: {contains: [a, [a]]}\nresources:\n  r: {type: OS::Heat::None}\n",
        [(Code.FUNCTION_VERSION, "/conditions/a/contains", 3, 7)],
    ),
    (
        "2017-02-24",
        "resources:\n  r:\n    type: OS::Heat::Value\n    properties:\n"
        "      value: {contains: [a, [a]]}\n",
        [(Code.FUNCTION_VERSION, "/resources/r/properties/value/contains", 6, 15)],
    ),
    (
        "2018-08-31",
        "resources:\n  r:\n    type: OS::Heat::Value\n    properties:\n"
        "      value: {if: [true, 1]}\n",
        [(Code.FUNCTION_VERSION, "/resources/r/properties/value/if", 6, 15)],
    ),
    ("2016-10-14", "conditions:\n  a: {not: false}\nresources:\n  r: {type: OS::Heat::None}\n", []),
    ("newton", "conditions:\n  a: {or: [a2, a2]}\n  a2: true\nresources: {}\n", []),
    ("pike", "conditions:\n  a: {contains: [a, [a]]}\nresources: {}\n", []),
    (
        "wallaby",
        "resources:\n  r:\n    type: OS::Heat::Value\n    properties:\n"
        "      value: {if: [true, 1]}\n",
        [],
    ),
]


@pytest.mark.parametrize(("version", "body", "expected"), VERSIONS)
def test_condition_features_follow_heat_versions(
    version: str, body: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    assert _where(check(_versioned(version, body), registry, {})) == expected


def test_version_message_names_the_first_version(registry: ResourceTypeRegistry) -> None:
    report = check(_versioned("2015-10-15", "conditions: {}\nresources: {}\n"), registry, {})
    assert report.problems[0].message == (
        "the conditions section needs heat_template_version 2016-10-14 (newton) or later "
        "(this template is 2015-10-15 (liberty))"
    )


# -- resources whose condition is false ----------------------------------------

PROD_ONLY = """\
    heat_template_version: 2018-08-31
    parameters:
      env: {type: string}
    conditions:
      is_prod: {equals: [{get_param: env}, prod]}
    resources:
      base:
        type: OS::Heat::Value
        properties: {value: base}
      extra:
        type: OS::Heat::Value
        condition: is_prod
        properties:
          value: {get_attr: [base, value]}
      user:
        type: OS::Heat::Value
        depends_on: [extra]
        properties:
          value: {if: [is_prod, {get_attr: [extra, value]}, none]}
    outputs:
      extra_value:
        condition: is_prod
        value: {get_attr: [extra, value]}
      always: {value: {get_attr: [user, value]}}
    """


def test_a_false_resource_is_absent_from_the_plan(registry: ResourceTypeRegistry) -> None:
    dev = _plan(PROD_ONLY, registry, {"env": "dev"})
    assert _names(dev) == {"base", "user"}
    user = next(r for r in dev.resources if r.name == "user")
    assert user.depends_on == ()  # depends_on a false resource is dropped, as in Heat
    assert user.properties["value"] == "none"
    assert {o.name: o.value for o in dev.outputs} == {
        "extra_value": None,
        "always": {"get_attr": ["user", "value"]},
    }
    prod = _plan(PROD_ONLY, registry, {"env": "prod"})
    assert _names(prod) == {"base", "extra", "user"}
    user = next(r for r in prod.resources if r.name == "user")
    assert user.depends_on == ("extra",)
    assert user.properties["value"] == {"get_attr": ["extra", "value"]}
    assert {o.name: o.value for o in prod.outputs}["extra_value"] == {
        "get_attr": ["extra", "value"]
    }


REFERS = """\
    heat_template_version: 2018-08-31
    conditions:
      disabled: false
    resources:
      gone:
        type: OS::Heat::Value
        condition: disabled
        properties: {value: x}
      r:
        type: OS::Heat::Value
        properties:
          value: {get_attr: [gone, value]}
      s:
        type: OS::Heat::Value
        properties:
          value: {get_resource: gone}
      t:
        type: OS::Heat::Value
        condition: disabled
        properties:
          value: {get_resource: gone}
    outputs:
      o: {value: {get_resource: gone}}
      p: {value: {get_resource: gone}, condition: disabled}
    """


def test_references_to_a_false_resource_are_refused(registry: ResourceTypeRegistry) -> None:
    report = _check(REFERS, registry, {})
    assert _where(report) == [
        (Code.ABSENT_RESOURCE, "/outputs/o/value/get_resource", 23, 15),
        (Code.ABSENT_RESOURCE, "/resources/r/properties/value/get_attr/0", 12, 26),
        (Code.ABSENT_RESOURCE, "/resources/s/properties/value/get_resource", 16, 15),
    ]
    assert report.problems[0].message.startswith(
        "get_attr refers to resource 'gone', which does not exist: "
        "its condition 'disabled' is false"
    )


def test_a_false_resource_type_is_not_looked_up(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        resources:
          r: {type: OS::Not::Supported, condition: false}
        """
    assert _names(_plan(text, registry, {})) == set()


# -- if --------------------------------------------------------------------------

IFS = """\
    heat_template_version: 2021-04-16
    parameters:
      env: {type: string}
    conditions:
      is_prod: {equals: [{get_param: env}, prod]}
    resources:
      r:
        type: OS::Heat::RandomString
        properties:
          length: {if: [is_prod, 64, null]}
          salt: {if: [{not: is_prod}, {list_join: [-, [a, b]]}, {get_param: env}]}
          character_classes:
            - {class: digits}
            - if: [is_prod, {class: letters}]
      v:
        type: OS::Heat::Value
        properties:
          value:
            kept: 1
            dropped: {if: [is_prod, {if: [false, x]}, y]}
    """


def test_if_takes_one_branch(registry: ResourceTypeRegistry) -> None:
    prod = {r.name: r.properties for r in _plan(IFS, registry, {"env": "prod"}).resources}
    assert prod["r"]["length"] == 64
    assert prod["r"]["salt"] == "prod"
    assert prod["r"]["character_classes"] == [
        {"class": "digits", "min": 1},
        {"class": "letters", "min": 1},
    ]
    assert prod["v"]["value"] == {"kept": 1}  # a two-argument if left its key out
    dev = {r.name: r.properties for r in _plan(IFS, registry, {"env": "dev"}).resources}
    assert dev["r"]["length"] == 32  # null: not set, so the default
    assert dev["r"]["salt"] == "a-b"
    assert dev["r"]["character_classes"] == [{"class": "digits", "min": 1}]
    assert dev["v"]["value"] == {"kept": 1, "dropped": "y"}


def test_the_branch_not_taken_is_not_looked_at(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          enabled: {type: boolean}
        resources:
          r:
            type: OS::Heat::Value
            properties:
              value: {if: [{get_param: enabled}, {get_resource: nowhere}, fine]}
        """
    assert _plan(text, registry, {"enabled": False}).resources[0].properties["value"] == "fine"
    assert _where(_check(text, registry, {"enabled": True})) == [
        (Code.UNKNOWN_RESOURCE, "/resources/r/properties/value/if/1/get_resource", 8, 43)
    ]


# -- validation without values -------------------------------------------------


def test_unknown_conditions_check_both_branches_and_make_no_plan(
    registry: ResourceTypeRegistry,
) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          env: {type: string}
        conditions:
          is_prod: {equals: [{get_param: env}, prod]}
        resources:
          r:
            type: OS::Heat::Value
            condition: is_prod
            properties:
              value: {if: [is_prod, {get_resource: nowhere}, {get_attr: [q, value]}]}
          q: {type: OS::Heat::Value, properties: {value: 1}}
        """
    report = _check(text, registry, None)
    assert report.plan is None
    assert report.missing == ("env",)
    assert _where(report) == [
        (Code.UNKNOWN_RESOURCE, "/resources/r/properties/value/if/1/get_resource", 11, 30)
    ]


def test_an_unknown_context_refers_to_a_false_resource_without_error(
    registry: ResourceTypeRegistry,
) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          env: {type: string}
        conditions:
          is_prod: {equals: [{get_param: env}, prod]}
        resources:
          gone: {type: OS::Heat::None, condition: false}
          r:
            type: OS::Heat::Value
            condition: is_prod
            properties: {value: {get_resource: gone}}
        """
    report = _check(text, registry, None)
    assert report.problems == ()
    assert _where(_check(text, registry, {"env": "prod"})) == [
        (Code.ABSENT_RESOURCE, "/resources/r/properties/value/get_resource", 11, 26)
    ]
    assert _names(_plan(text, registry, {"env": "dev"})) == set()


# -- the example ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "present"),
    [
        ("dev", {"network", "subnet", "port", "server"}),
        (
            "prod",
            {
                "network",
                "subnet",
                "port",
                "server",
                "router",
                "router_interface",
                "volume",
                "volume_attachment",
                "floating_ip",
            },
        ),
    ],
)
def test_the_conditions_example_compiles_for_dev_and_prod(
    environment: str, present: set[str], registry: ResourceTypeRegistry, examples_dir: Path
) -> None:
    text = (examples_dir / "conditions.yaml").read_text()
    plan = _plan(text, registry, {"environment": environment})
    assert _names(plan) == present
    outputs = {o.name: o.value for o in plan.outputs}
    server = next(r for r in plan.resources if r.name == "server")
    if environment == "prod":
        assert outputs["volume"] == {"get_resource": "volume"}
        assert outputs["address"] == {"get_attr": ["floating_ip", "floating_ip_address"]}
        assert server.properties["metadata"] == {"environment": "prod"}
    else:
        assert outputs["volume"] is None
        assert outputs["address"] == {"get_attr": ["server", "first_address"]}
        assert server.properties["metadata"] == {"environment": "dev", "debug": "true"}


# -- properties: random conditions never raise; plans are deterministic ---------

NAMES = ["c0", "c1", "c2", "c3"]


def _expr(depth: int, below: int) -> st.SearchStrategy[Any]:
    """A condition over names c0..c{below-1} and parameters p (string) and q (boolean)."""
    leaves: list[st.SearchStrategy[Any]] = [
        st.booleans(),
        st.just({"get_param": "q"}),
        st.builds(lambda v: {"equals": [{"get_param": "p"}, v]}, st.sampled_from(["a", "b"])),
        st.builds(lambda v: {"contains": [v, ["a", "b"]]}, st.sampled_from(["a", "z"])),
    ]
    if below:
        leaves.append(st.sampled_from(NAMES[:below]))
    leaf = st.one_of(leaves)
    if depth == 0:
        return leaf
    inner = _expr(depth - 1, below)
    return st.one_of(
        leaf,
        st.builds(lambda e: {"not": e}, inner),
        st.builds(lambda es: {"and": es}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda es: {"or": es}, st.lists(inner, min_size=2, max_size=3)),
    )


def _truth(expr: Any, truths: dict[str, bool], p: str, q: bool) -> bool:
    """An independent reading of Heat's rules, for the generated conditions."""
    if isinstance(expr, bool):
        return expr
    if isinstance(expr, str):
        return truths[expr]
    (name, args), *_ = expr.items()
    if name == "get_param":
        return q
    if name == "equals":
        return p == args[1]
    if name == "contains":
        return args[0] in args[1]
    if name == "not":
        return not _truth(args, truths, p, q)
    values = [_truth(a, truths, p, q) for a in args]
    return all(values) if name == "and" else any(values)


@st.composite
def _definitions(draw: st.DrawFn) -> list[Any]:
    """c0..c3, each referring only to those before it (no cycle); a definition is
    a boolean or a function, never a bare name (Heat refuses one)."""
    return [
        draw(_expr(2, index).filter(lambda e: not isinstance(e, str)))
        for index in range(len(NAMES))
    ]


def _template(definitions: list[Any]) -> str:
    lines = [
        "heat_template_version: 2018-08-31",
        "parameters:",
        "  p: {type: string}",
        "  q: {type: boolean}",
        "conditions:",
    ]
    lines += [f"  {name}: {json.dumps(d)}" for name, d in zip(NAMES, definitions, strict=True)]
    lines.append("resources:")
    lines += [
        f"  r{i}: {{type: OS::Heat::Value, condition: {name}, properties: "
        f"{{value: {{if: [{name}, pos, neg]}}}}}}"
        for i, name in enumerate(NAMES)
    ]
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    definitions=_definitions(),
    p=st.sampled_from(["a", "b", "c"]),
    q=st.booleans(),
)
def test_random_conditions_evaluate_as_heat_and_deterministically(
    definitions: list[Any], p: str, q: bool, registry: ResourceTypeRegistry
) -> None:
    text = _template(definitions)
    first = check(text, registry, {"p": p, "q": q})
    assert first.problems == ()
    assert first.plan is not None
    assert check(text, registry, {"p": p, "q": q}).plan == first.plan
    truths: dict[str, bool] = {}
    for name, definition in zip(NAMES, definitions, strict=True):
        truths[name] = _truth(definition, truths, p, q)
    present = {r.name: r.properties["value"] for r in first.plan.resources}
    assert present == {f"r{i}": "pos" for i, name in enumerate(NAMES) if truths[name]}
    unknown = check(text, registry, None)  # without values: no plan, no exception
    assert unknown.plan is None


JUNK = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 3),
        st.sampled_from(["c0", "c1", "nope", "p", "", "OS::stack_name"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "if",
                    "equals",
                    "not",
                    "and",
                    "or",
                    "contains",
                    "get_param",
                    "get_resource",
                    "yaql",
                    "list_join",
                    "x",
                ]
            ),
            inner,
            min_size=1,
            max_size=2,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c0=JUNK,
    c1=JUNK,
    field=JUNK,
    value=JUNK,
    version=st.sampled_from(["2015-10-15", "2016-10-14", "2017-09-01", "2021-04-16"]),
    values=st.one_of(st.none(), st.just({"p": "a"})),
)
def test_any_condition_gives_a_report_never_an_exception(
    c0: Any,
    c1: Any,
    field: Any,
    value: Any,
    version: str,
    values: Any,
    registry: ResourceTypeRegistry,
) -> None:
    import json

    text = json.dumps(
        {
            "heat_template_version": version,
            "parameters": {"p": {"type": "string"}},
            "conditions": {"c0": c0, "c1": c1},
            "resources": {
                "r": {
                    "type": "OS::Heat::Value",
                    "condition": field,
                    "properties": {"value": value},
                },
                "s": {"type": "OS::Heat::Value", "properties": {"value": value}},
            },
            "outputs": {"o": {"value": value, "condition": field}},
        }
    )
    first = check(text, registry, values)
    again = check(text, registry, values)
    assert first == again
    for problem in first.problems:
        assert problem.pointer.startswith(("/conditions", "/resources", "/outputs")), problem


def test_if_on_a_null_condition_takes_the_true_branch(registry: ResourceTypeRegistry) -> None:
    """Heat's If resolves its condition and asks is_enabled, whose None is True."""
    text = """\
        heat_template_version: 2018-08-31
        resources:
          r:
            type: OS::Heat::Value
            properties:
              value: {if: [null, first, second]}
        """
    assert _plan(text, registry, {}).resources[0].properties["value"] == "first"


# -- the build's identity against an empty value -------------------------------------


@pytest.mark.parametrize(
    "definition",
    [
        "{equals: [{get_param: OS::stack_id}, '']}",
        "{equals: ['', {get_param: OS::project_id}]}",
        "{equals: [{get_param: OS::stack_id}, null]}",
    ],
)
def test_the_builds_identity_is_never_empty(
    definition: str, registry: ResourceTypeRegistry
) -> None:
    assert _enabled(definition, registry, {}) is False
    assert _enabled("{not: " + definition + "}", registry, {}) is True


def test_the_builds_identity_against_a_value_is_known_only_when_the_build_runs(
    registry: ResourceTypeRegistry,
) -> None:
    text = SECTION + "conditions:\n  a: {equals: [{get_param: OS::stack_id}, x]}\n" + NONE_R
    assert _where(_check(text, registry)) == [
        (Code.INVALID_CONDITION, "/conditions/a/equals", 5, 7)
    ]


def test_a_nested_template_told_the_root_stack_id_is_not_standalone(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's autohealing example: a member template tests whether it is nested by
    comparing the root_stack_id its parent gives (OS::stack_id) with its default ""
    (before: refused, a pseudo parameter in a condition)."""
    member = (
        "heat_template_version: 2016-10-14\n"
        "parameters:\n"
        "  root_stack_id: {type: string, default: ''}\n"
        "conditions:\n"
        "  is_standalone: {equals: [{get_param: root_stack_id}, '']}\n"
        "resources:\n"
        "  alone: {type: OS::Heat::None, condition: is_standalone}\n"
        "  nested: {type: OS::Heat::None, condition: {not: is_standalone}}\n"
    )
    parent = (
        "heat_template_version: 2016-10-14\n"
        "resources:\n"
        "  member:\n"
        "    type: member.yaml\n"
        "    properties: {root_stack_id: {get_param: OS::stack_id}}\n"
        "  standalone: {type: member.yaml}\n"
    )
    report = check(parent, registry, {}, files={"member.yaml": member})
    assert not report.problems, report.problems
    assert report.plan is not None
    assert _names(report.plan) == {
        "member",
        "member/nested",
        "standalone",
        "standalone/alone",
    }
