"""The dependency graph: levels for parallel steps, and cycles with their paths.

A graph maps each node to the set of nodes it depends on; a cycle is given as
a path that starts and ends at its smallest node, each depending on the next.
"""

from __future__ import annotations

import textwrap

import pytest

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.graph import levels
from cool.template.problems import Code


@pytest.mark.parametrize(
    ("dependencies", "expected"),
    [
        pytest.param({}, {}, id="empty"),
        pytest.param({"a": set()}, {"a": 0}, id="single"),
        pytest.param({"a": set(), "b": set(), "c": set()}, {"a": 0, "b": 0, "c": 0}, id="flat"),
        pytest.param(
            {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"c"}},
            {"a": 0, "b": 1, "c": 2, "d": 3},
            id="chain",
        ),
        pytest.param(
            {"root": set(), "x": {"root"}, "y": {"root"}, "z": {"root"}},
            {"root": 0, "x": 1, "y": 1, "z": 1},
            id="fan-out",
        ),
        pytest.param(
            {"x": set(), "y": set(), "z": set(), "sink": {"x", "y", "z"}},
            {"x": 0, "y": 0, "z": 0, "sink": 1},
            id="fan-in",
        ),
        pytest.param(
            {"top": set(), "left": {"top"}, "right": {"top"}, "bottom": {"left", "right"}},
            {"top": 0, "left": 1, "right": 1, "bottom": 2},
            id="diamond",
        ),
        pytest.param(
            {"a": set(), "b": {"a"}, "c": {"b"}, "d": {"a", "c"}},
            {"a": 0, "b": 1, "c": 2, "d": 3},
            id="deepest-dependency-decides",
        ),
        pytest.param(
            {"a": set(), "b": {"a"}, "p": set(), "q": {"p"}, "r": {"q"}},
            {"a": 0, "b": 1, "p": 0, "q": 1, "r": 2},
            id="two-components",
        ),
    ],
)
def test_levels_orders_acyclic_graphs(
    dependencies: dict[str, set[str]], expected: dict[str, int]
) -> None:
    assert levels(dependencies) == (expected, [])


@pytest.mark.parametrize(
    ("dependencies", "expected_levels", "cycles"),
    [
        pytest.param({"a": {"a"}}, {}, [["a", "a"]], id="self-loop"),
        pytest.param(
            {"a": set(), "b": {"b", "a"}}, {"a": 0}, [["b", "b"]], id="self-loop-with-dependency"
        ),
        pytest.param({"a": {"b"}, "b": {"a"}}, {}, [["a", "b", "a"]], id="two-cycle-once"),
        pytest.param(
            {"a": {"b"}, "b": {"c"}, "c": {"a"}}, {}, [["a", "b", "c", "a"]], id="three-cycle"
        ),
        pytest.param(
            {"c": {"b"}, "b": {"a"}, "a": {"c"}},
            {},
            [["a", "c", "b", "a"]],
            id="starts-at-smallest-node",
        ),
        pytest.param(
            {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}, "e": set()},
            {"e": 0},
            [["a", "b", "a"], ["c", "d", "c"]],
            id="two-cycles",
        ),
        pytest.param(
            {"z": {"y"}, "y": {"z"}, "b": {"a"}, "a": {"b"}},
            {},
            [["a", "b", "a"], ["y", "z", "y"]],
            id="cycles-sorted",
        ),
        pytest.param(
            {"a": {"b"}, "b": {"a"}, "c": {"a"}, "d": {"c"}, "e": set(), "f": {"e"}},
            {"e": 0, "f": 1},
            [["a", "b", "a"]],
            id="nodes-behind-a-cycle-get-no-level",
        ),
        pytest.param(
            {"base": set(), "a": {"b", "base"}, "b": {"a"}, "top": {"a", "base"}},
            {"base": 0},
            [["a", "b", "a"]],
            id="cycle-above-a-base",
        ),
        pytest.param(
            {"base": set(), "a": {"base", "b"}, "b": {"base", "a"}},
            {"base": 0},
            [["a", "b", "a"]],
            id="cycle-whose-members-share-a-dependency",
        ),
        pytest.param(
            {"a": {"b"}, "b": {"c"}, "c": {"a", "b"}},
            {},
            [["a", "b", "c", "a"]],
            id="component-reported-once",
        ),
        pytest.param(
            {"a": {"b", "d"}, "b": {"c"}, "c": {"a"}, "d": {"a"}},
            {},
            [["a", "d", "a"]],
            id="shortest-cycle-through-smallest-node",
        ),
    ],
)
def test_levels_reports_cycles(
    dependencies: dict[str, set[str]],
    expected_levels: dict[str, int],
    cycles: list[list[str]],
) -> None:
    assert levels(dependencies) == (expected_levels, cycles)


def test_levels_handles_long_chains_without_recursion() -> None:
    size = 20_000
    names = [f"n{i:05d}" for i in range(size)]
    dependencies = {name: ({names[i - 1]} if i else set()) for i, name in enumerate(names)}
    level, cycles = levels(dependencies)
    assert cycles == []
    assert level[names[-1]] == size - 1


def test_levels_finds_long_cycles_without_recursion() -> None:
    size = 20_000
    names = [f"n{i:05d}" for i in range(size)]
    dependencies = {name: {names[(i + 1) % size]} for i, name in enumerate(names)}
    level, cycles = levels(dependencies)
    assert level == {}
    assert cycles == [[*names, names[0]]]


# -- through the compiler -------------------------------------------------------


def _where(text: str, registry: ResourceTypeRegistry) -> list[tuple[Code, str, int, int]]:
    report = check(textwrap.dedent(text), registry, {})
    return [(p.code, p.pointer, p.line, p.column) for p in report.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Heat::None
                depends_on: b
              b:
                type: OS::Heat::None
                depends_on: [a]
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a", 3, 3)],
            id="depends-on-cycle",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              base: {type: OS::Heat::None}
              a:
                type: OS::Heat::None
                depends_on: [base, b]
              b:
                type: OS::Heat::None
                depends_on: [base, a]
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a", 4, 3)],
            id="cycle-whose-members-share-a-dependency",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              b:
                type: OS::Heat::None
                properties:
                  x: {get_resource: a}
              a:
                type: OS::Heat::None
                properties:
                  y: {get_attr: [b, show]}
              c:
                type: OS::Heat::None
                depends_on: a
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a", 7, 3)],
            id="reference-cycle-reported-at-smallest-name",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Heat::None
                depends_on: a
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a/depends_on", 5, 5)],
            id="depends-on-itself",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Heat::None
                depends_on: [b, a]
              b:
                type: OS::Heat::None
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a/depends_on/1", 5, 21)],
            id="depends-on-itself-in-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Heat::None
                properties:
                  x: {get_resource: a}
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a/properties/x/get_resource", 6, 11)],
            id="refers-to-itself-at-the-reference",
        ),
    ],
)
def test_graph_cycles_in_templates(
    text: str, expected: list[tuple[Code, str, int, int]], registry: ResourceTypeRegistry
) -> None:
    assert _where(text, registry) == expected


def test_graph_levels_in_report_and_plan(registry: ResourceTypeRegistry) -> None:
    text = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        resources:
          top: {type: OS::Heat::None}
          left:
            type: OS::Heat::None
            properties: {x: {get_resource: top}}
          right:
            type: OS::Heat::None
            properties: {x: {get_attr: [top, show]}}
          bottom:
            type: OS::Heat::None
            depends_on: [left, right]
          alone: {type: OS::Heat::None}
        """
    )
    report = check(text, registry, {})
    assert report.problems == ()
    assert report.levels == (("alone", "top"), ("left", "right"), ("bottom",))
    assert report.plan is not None
    assert [(r.name, r.level, r.depends_on) for r in report.plan.resources] == [
        ("alone", 0, ()),
        ("top", 0, ()),
        ("left", 1, ("top",)),
        ("right", 1, ("top",)),
        ("bottom", 2, ("left", "right")),
    ]
