"""Property-based tests of nested stacks at validation (cool.template.nested).

Random trees of nested stacks, written as a request would send them: a top
template and a ``files`` map of templates that use one another (themselves too),
through template resources (a file name, or an alias of the environment's
``resource_registry``), ``OS::Heat::Stack`` (a template written inline, or read
with ``get_file``) and ``OS::Heat::ResourceGroup`` (random counts, ``index_var``,
``removal_policies``; members plain, template or group); an environment with
``parameters`` and ``parameter_defaults``; references into the trees (``refs``,
``refs_map``, ``resource.N[.attr]``, ``attributes``, a member attribute, outputs,
``OS::stack_id``, ``get_resource``), some of them wrong. Whatever comes out,
``check`` answers with a report and:

* nothing is raised;
* the work is bounded: at most ``Limits.max_total_resources`` resources in a
  plan, and a report's problems stay within the cap of
  :class:`~cool.template.problems.Problems`;
* a plan is deterministic (the same request twice: the same JSON) and sound:
  every ``depends_on`` names a resource of the plan, each resource's level is one
  above its deepest dependency, every resource standing for a nested stack
  depends on each of its direct members, and every nested name's parent is in
  the plan and stands for a nested stack.

Every test is derandomized and uses no example database, so CI runs the same
examples every time.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from cool.model import NestedKind, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import Report, check
from cool.template.environment import Source
from cool.template.parse import Limits
from cool.template.problems import MAX_PROBLEMS, Code

Draw = Callable[[st.SearchStrategy[Any]], Any]

VERSION = "2018-08-31"


def _settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        # No explain phase: it re-runs a failing test many times.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def _nones(count: int) -> str:
    return _dump(
        {
            "heat_template_version": VERSION,
            "resources": {f"r{i}": {"type": "OS::Heat::None"} for i in range(count)},
        }
    )


# -- the bound on the whole tree (regression) ------------------------------------------------


def test_total_bound_counts_the_resources_of_a_nested_template(
    registry: ResourceTypeRegistry,
) -> None:
    """A nested template's own resources count against the bound, not only the stacks
    expanded after them: 1 + 50 resources with a bound of 30 used to make a plan."""
    top = _dump({"heat_template_version": VERSION, "resources": {"t": {"type": "big.yaml"}}})
    report = check(
        top, registry, {}, Limits(max_total_resources=30), files={"big.yaml": _nones(50)}
    )
    assert report.plan is None
    assert [(p.code, p.file, p.pointer) for p in report.problems] == [
        (Code.TOO_MANY_RESOURCES, "big.yaml", "/resources")
    ]
    assert "more than 30 resources" in report.problems[0].message


def test_total_bound_holds_for_a_template_without_nested_stacks(
    registry: ResourceTypeRegistry,
) -> None:
    report = check(_nones(50), registry, {}, Limits(max_total_resources=30))
    assert [(p.code, p.file, p.pointer) for p in report.problems] == [
        (Code.TOO_MANY_RESOURCES, None, "/resources")
    ]


def _group(count: int) -> str:
    group = {
        "type": "OS::Heat::ResourceGroup",
        "properties": {"count": count, "resource_def": {"type": "OS::Heat::None"}},
    }
    return _dump({"heat_template_version": VERSION, "resources": {"g": group}})


def test_total_bound_counts_every_member_of_a_group(registry: ResourceTypeRegistry) -> None:
    """The group and its members exactly at the bound make a plan; one more member is
    refused (the last member used to be let through: checked before it was counted)."""
    limits = Limits(max_total_resources=3)
    at_bound = check(_group(2), registry, {}, limits)
    assert at_bound.plan is not None
    assert len(at_bound.plan.resources) == 3
    over = check(_group(3), registry, {}, limits)
    assert [(p.code, p.pointer) for p in over.problems] == [
        (Code.TOO_MANY_RESOURCES, "/resources/g/properties/resource_def/type")
    ]


def test_a_huge_count_costs_no_more_than_the_bound(registry: ResourceTypeRegistry) -> None:
    """A few bytes of template must not make the API allocate one name per member asked
    for: count 1,000,000 used to build a million names (about 60 MB; 10**8, 7 GB)
    before the bound of 50 stopped the expansion."""
    tracemalloc.start()
    try:
        report = check(_group(10**6), registry, {}, Limits(max_total_resources=50))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.code for p in report.problems] == [Code.TOO_MANY_RESOURCES]
    assert peak < 4 * 1024 * 1024, f"{peak:,} bytes"


def _groups(depth: int, member: str) -> str:
    """Groups of one member each, ``depth`` deep, the innermost of ``member``."""
    definition: dict[str, Any] = {"type": member}
    for _ in range(depth):
        definition = {
            "type": "OS::Heat::ResourceGroup",
            "properties": {"count": 1, "resource_def": definition},
        }
    return _dump({"heat_template_version": VERSION, "resources": {"g": definition}})


def test_a_group_is_a_level_of_nesting_and_its_members_another(
    registry: ResourceTypeRegistry,
) -> None:
    """As Heat counts nested_depth (a ResourceGroup is a nested stack, a member that is a
    template resource or a group one more): groups of groups and a group of template
    resources used to count as one level, so max_stack_depth let them go deeper than
    Heat's max_nested_stack_depth."""
    leaf = _nones(1)
    for depth, text in [(2, _groups(2, "OS::Heat::None")), (2, _groups(1, "leaf.yaml"))]:
        files = {"leaf.yaml": leaf}
        fits = check(text, registry, {}, Limits(max_stack_depth=depth), files=files)
        assert fits.plan is not None, [p.message for p in fits.problems]
        deeper = check(text, registry, {}, Limits(max_stack_depth=depth - 1), files=files)
        assert [p.code for p in deeper.problems] == [Code.STACK_TOO_DEEP], text
    plain = check(_groups(1, "OS::Heat::None"), registry, {}, Limits(max_stack_depth=1))
    assert plain.plan is not None  # plain members are no level of their own


_WRAPPER = """\
heat_template_version: 2018-08-31
parameters:
  value: {type: string}
resources:
  inner: {type: OS::Heat::Value, properties: {value: {get_param: value}}}
  other: {type: My::Other}
outputs:
  value: {value: {get_attr: [inner, value]}}
"""


def test_a_template_that_wraps_the_type_it_replaces_uses_the_real_type_inside(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's get_child_environment removes, in the nested template, the registry entry
    that mapped its resource to it (item_to_remove): ``OS::Heat::Value: wrap.yaml``
    where wrap.yaml uses OS::Heat::Value is the real type inside, not a loop. The other
    entries still apply there. This used to be refused as nesting too deep."""
    top = _dump(
        {
            "heat_template_version": VERSION,
            "resources": {
                "t": {"type": "OS::Heat::Value", "properties": {"value": "x"}},
                "g": {
                    "type": "OS::Heat::ResourceGroup",
                    "properties": {
                        "count": 2,
                        "resource_def": {"type": "OS::Heat::Value", "properties": {"value": "y"}},
                    },
                },
            },
        }
    )
    environment = "resource_registry: {OS::Heat::Value: wrap.yaml, My::Other: OS::Heat::None}\n"
    report = check(
        top,
        registry,
        {},
        files={"wrap.yaml": _WRAPPER},
        environments=[Source("env.yaml", environment)],
    )
    assert report.plan is not None, [p.message for p in report.problems]
    assert {r.name: (r.type, r.nested) for r in report.plan.resources} == {
        "t": ("OS::Heat::Value", NestedKind.TEMPLATE),
        "t/inner": ("OS::Heat::Value", None),
        "t/other": ("OS::Heat::None", None),
        "g": ("OS::Heat::ResourceGroup", NestedKind.GROUP),
        "g/0": ("OS::Heat::Value", NestedKind.TEMPLATE),
        "g/0/inner": ("OS::Heat::Value", None),
        "g/0/other": ("OS::Heat::None", None),
        "g/1": ("OS::Heat::Value", NestedKind.TEMPLATE),
        "g/1/inner": ("OS::Heat::Value", None),
        "g/1/other": ("OS::Heat::None", None),
    }


# -- random trees of nested stacks -----------------------------------------------------------

FILES = ("a.yaml", "b.yaml", "c.yaml")
ALIASES = ("My::A", "My::B")  # the environment maps them to files (or switches one off)
PLAIN = ("OS::Heat::None", "OS::Heat::Value", "OS::Heat::RandomString")
GROUP = "OS::Heat::ResourceGroup"
STACK = "OS::Heat::Stack"
# What get_attr asks of a resource: right for some kinds, wrong for others.
ATTRIBUTES: tuple[tuple[Any, ...], ...] = (
    ("value",),
    ("out",),
    ("out", 0),
    ("OS::stack_id",),
    ("refs",),
    ("refs", 0),
    ("refs_map",),
    ("resource.0",),
    ("resource.1.out",),
    ("resource.0.value",),
    ("resource.r0",),
    ("resource.r0.value",),
    ("attributes", "out"),
    ("attributes",),
    ("removed_rsrc_list",),
    ("outputs",),
    ("outputs", "out"),
    ("stack_name",),
    ("show",),
    ("nothing",),
)


@dataclass(frozen=True)
class Request:
    """One validation request: what check() is given."""

    text: str
    files: dict[str, str]
    environment: str | None
    limits: Limits

    def run(self, registry: ResourceTypeRegistry) -> Report:
        sources = [Source("env.yaml", self.environment)] if self.environment else []
        return check(self.text, registry, {}, self.limits, environments=sources, files=self.files)


class _Trees:
    """Draws templates whose resources stand for nested stacks, and references to them."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw
        # The odds of each choice, from one seeded generator: hypothesis' own floats
        # lean to their bounds, which would make the rare choices common.
        self.random: random.Random = draw(st.randoms(use_true_random=True))
        # One request in ten also holds values the property checks refuse, or known
        # only at run time where a nested stack is made: each a located problem.
        self.faulty = self.random.random() < 0.1

    def pick(self, options: Any) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        return self.random.random() < p

    def fault(self, p: float) -> bool:
        return self.faulty and self.chance(p)

    def template(self, own: int, *, nested: bool, inline_depth: int = 0) -> dict[str, Any]:
        """A template; ``own`` is its index in FILES (later files are used more, so most
        trees end; earlier ones and itself sometimes, so some go round)."""
        parameters: dict[str, Any] = {"name": {"type": "string", "default": "x"}}
        parameters["n"] = {"type": "number", "default": self.draw(st.integers(0, 3))}
        if nested and self.chance(0.1):
            parameters["n"] = {"type": "number"}  # a property must give it
        if nested and self.chance(0.8):
            # Without a default, from parameter_defaults or a property.
            word = {"type": "string"}
            parameters["word"] = word if self.chance(0.3) else {**word, "default": "w"}
        names = [f"r{i}" for i in range(self.draw(st.integers(1, 4)))]
        kinds = {name: self.kind(nested, inline_depth) for name in names}
        resources = {
            name: self.resource(name, kinds[name], names, kinds, own, nested, inline_depth)
            for name in names
        }
        data: dict[str, Any] = {
            "heat_template_version": VERSION,
            "parameters": parameters,
            "resources": resources,
        }
        outputs: dict[str, Any] = {}
        if self.chance(0.8):
            outputs["out"] = {"value": self.value(names, kinds)}
        if self.chance(0.3):
            outputs["OS::stack_id"] = {"value": {"get_resource": self.pick(names)}}
        if outputs:
            data["outputs"] = outputs
        return data

    def kind(self, nested: bool, inline_depth: int) -> str:
        kinds = (
            ["plain", "plain", "template", "group"] if nested else ["plain", "template", "group"]
        )
        if inline_depth < 2:
            kinds.append("stack")
        return self.pick(kinds)

    def nested_type(self, own: int) -> str:
        later = [f for i, f in enumerate(FILES) if i > own]
        if later and self.chance(0.8):
            return self.pick(later)
        return self.pick([*FILES, *ALIASES]) if self.chance(0.9) else "missing.yaml"

    def resource(
        self,
        name: str,
        kind: str,
        names: list[str],
        kinds: dict[str, str],
        own: int,
        nested: bool,
        inline_depth: int,
    ) -> dict[str, Any]:
        body: dict[str, Any]
        if kind == "plain":
            body = self.plain(name, names, kinds, nested)
        elif kind == "template":
            body = {"type": self.nested_type(own), "properties": self.parameters()}
        elif kind == "stack":
            body = {"type": STACK, "properties": self.stack(own, inline_depth)}
        else:
            body = {"type": GROUP, "properties": self.group(own)}
        earlier = names[: names.index(name)]
        if self.chance(0.2) and (earlier or self.chance(0.1)):
            body["depends_on"] = self.pick(earlier) if earlier and self.chance(0.95) else name
        if kind != "plain" and self.chance(0.2):
            body["metadata"] = {"role": self.pick(("web", "db"))}
        if kind == "group" and self.fault(0.3):
            batch = self.pick(({"max_batch_size": -1}, 5, {"max_batch_size": 2}))
            body["update_policy"] = {"batch_create": batch}
        return body

    def plain(
        self, name: str, names: list[str], kinds: dict[str, str], nested: bool
    ) -> dict[str, Any]:
        rtype = self.pick(PLAIN)
        if rtype == "OS::Heat::RandomString":
            return {"type": rtype, "properties": {"length": self.draw(st.integers(4, 16))}}
        value: Any = self.value(names, kinds, name)
        if nested and self.chance(0.15):
            value = {"resource_facade": self.pick(("metadata", "deletion_policy"))}
        if rtype == "OS::Heat::Value":
            return {"type": rtype, "properties": {"value": value}}
        return {"type": rtype, "properties": {"data": value}}

    def parameters(self, index_var: str | None = None) -> dict[str, Any]:
        """The values a nested template is given: mostly right, sometimes not."""
        given: dict[str, Any] = {}
        if self.chance(0.7):
            given["name"] = (
                f"m-{index_var}" if index_var else self.pick(("p", {"get_param": "name"}))
            )
        if self.chance(0.5):
            given["n"] = self.draw(st.integers(0, 3))
        if self.chance(0.3):
            given["word"] = index_var or "w"
        if self.chance(0.05):
            given["colour"] = "red"  # declared by no template
        return given

    def stack(self, own: int, inline_depth: int) -> dict[str, Any]:
        if self.chance(0.5):
            template: Any = self.template(len(FILES), nested=True, inline_depth=inline_depth + 1)
        else:
            template = {"get_file": self.nested_type(own)}
        if self.fault(0.2):  # neither text nor a mapping, or known only at run time
            template = self.pick((123, [1], {"get_attr": ["r0", "value"]}))
        properties: dict[str, Any] = {"template": template}
        if self.chance(0.8):
            properties["parameters"] = self.parameters()
        elif self.fault(0.5):  # not a mapping, or one known only at run time
            properties["parameters"] = self.pick(("x", [1], {"get_attr": ["r0", "value"]}))
        return properties

    def group(self, own: int, depth: int = 0) -> dict[str, Any]:
        # An inner group's own index_var: the outer one's would be replaced in it (Heat).
        index_var = self.pick((None, "$i$", "%index%") if depth == 0 else (None, "$j$"))
        member = self.pick(["plain", "template", "template"] + (["group"] if depth < 1 else []))
        definition: dict[str, Any]
        if member == "plain":
            shown = index_var or "%index%"
            definition = {"type": "OS::Heat::Value", "properties": {"value": f"v-{shown}"}}
        elif member == "template":
            definition = {"type": self.nested_type(own), "properties": self.parameters(index_var)}
        else:
            definition = {"type": GROUP, "properties": self.group(own, depth + 1)}
        if self.chance(0.2):
            definition["metadata"] = {"slot": index_var or "%index%"}
        count: Any = self.draw(st.integers(0, 3))
        if self.chance(0.15):
            count = {"get_param": "n"}
        elif self.fault(0.2):
            count = -1  # refused by the property checks, then used for nothing
        if self.fault(0.2):  # a definition (or its properties) known only at run time
            where = self.pick(("definition", "properties"))
            if where == "definition":
                definition = {"get_attr": ["r0", "value"]}
            else:
                definition = {**definition, "properties": {"get_attr": ["r0", "value"]}}
        properties: dict[str, Any] = {"count": count, "resource_def": definition}
        if index_var is not None:
            properties["index_var"] = index_var
        if self.chance(0.3):
            listed = self.draw(st.lists(st.sampled_from(("0", "1", 2, "x")), max_size=2))
            properties["removal_policies"] = [{"resource_list": listed}]
        return properties

    def value(self, names: list[str], kinds: dict[str, str], before: str | None = None) -> Any:
        """A reference: mostly to a resource written before ``before`` (so that most
        trees have no cycle), of what that kind of resource answers; sometimes anything."""
        earlier = names[: names.index(before)] if before is not None else names
        how = self.pick(("resource", "attr", "attr", "param", "literal", "join"))
        if not earlier and self.chance(0.9):
            how = self.pick(("param", "literal"))
        target = self.pick(earlier) if earlier and self.chance(0.95) else self.pick(names)
        if how == "resource":
            return {"get_resource": target}
        if how == "param":
            return {"get_param": self.pick(("name", "n"))}
        if how == "literal":
            return "text"
        if how == "join":
            return {"list_join": ["-", [self.value(names, kinds, before), "x"]]}
        return {"get_attr": [target, *self.attribute(kinds[target])]}

    def attribute(self, kind: str) -> tuple[Any, ...]:
        likely = {
            "plain": [("value",), ("show",)],
            "template": [("out",), ("resource.r0",)],
            "stack": [("outputs",), ("outputs", "out"), ("stack_name",), ("resource.r0",)],
            "group": [("refs",), ("refs_map",), ("resource.0",), ("out",), ("attributes", "out")],
        }[kind]
        return self.pick(likely) if self.chance(0.7) else self.pick(ATTRIBUTES)

    def environment(self) -> str | None:
        if self.chance(0.05):
            return None
        registry: dict[str, Any] = {
            alias: (self.pick(FILES) if self.chance(0.9) else "OS::Heat::None") for alias in ALIASES
        }
        environment: dict[str, Any] = {"resource_registry": registry}
        defaults: dict[str, Any] = {}
        if self.chance(0.8):
            defaults["word"] = "from-defaults"
        if self.chance(0.4):
            defaults["n"] = self.draw(st.integers(0, 2))
        if defaults:
            environment["parameter_defaults"] = defaults
        if self.chance(0.4):
            environment["parameters"] = {"n": self.draw(st.integers(0, 2))}
        return _dump(environment)


def _request(draw: Draw) -> Request:
    trees = _Trees(draw)
    files = {name: _dump(trees.template(i, nested=True)) for i, name in enumerate(FILES)}
    text = _dump(trees.template(-1, nested=False))
    limits = Limits(
        max_stack_depth=draw(st.sampled_from((2, 5, 5))),
        max_total_resources=draw(st.sampled_from((15, 40, 120))),
    )
    request = Request(text, files, trees.environment(), limits)
    note(f"template:\n{text}")
    for name, body in files.items():
        note(f"{name}:\n{body}")
    note(f"environment:\n{request.environment}")
    note(f"limits: {limits}")
    return request


# -- the properties --------------------------------------------------------------------------


def _plan_faults(plan: Plan, limits: Limits) -> list[str]:
    """What is unsound in ``plan`` (empty when nothing)."""
    faults: list[str] = []
    by_name = {r.name: r for r in plan.resources}
    if len(by_name) != len(plan.resources):
        faults.append("a name appears twice")
    if len(plan.resources) > limits.max_total_resources:
        faults.append(f"{len(plan.resources)} resources, over {limits.max_total_resources}")
    members: dict[str, set[str]] = {}
    for r in plan.resources:
        unknown = [d for d in r.depends_on if d not in by_name]
        if unknown:
            faults.append(f"{r.name} depends on {unknown}, not in the plan")
            continue
        expected = 1 + max((by_name[d].level for d in r.depends_on), default=-1)
        if r.level != expected:
            faults.append(f"{r.name} is at level {r.level}, its dependencies say {expected}")
        if r.parent is not None:
            parent = by_name.get(r.parent)
            if parent is None or parent.nested is None:
                faults.append(f"{r.name}: its parent {r.parent} is not a nested stack of the plan")
            members.setdefault(r.parent, set()).add(r.name)
    for r in plan.resources:
        missing = members.get(r.name, set()) - set(r.depends_on)
        if missing:
            faults.append(f"{r.name} does not depend on its members {sorted(missing)}")
    if Plan.from_json(plan.to_json()) != plan:
        faults.append("the plan does not round-trip")
    return faults


@pytest.mark.slow
def test_random_trees_of_nested_stacks_give_sound_reports(registry: ResourceTypeRegistry) -> None:
    """No exception, bounded reports, sound deterministic plans; and enough of the
    requests make a plan (and enough are refused) for the properties to be tried."""
    outcomes = {"plan": 0, "nested plan": 0, "problems": 0}

    @_settings(400)
    @given(data=st.data())
    def sound(data: st.DataObject) -> None:
        request = _request(data.draw)
        report = request.run(registry)
        # The cap: MAX_PROBLEMS kept, one saying how many more.
        assert len(report.problems) <= MAX_PROBLEMS + 1
        assert len(report.resource_types) <= (
            request.limits.max_total_resources + request.limits.max_resources
        )
        # Located in the template, a file of the request, or the environment (or, for
        # an OS::Heat::Stack's template given as text, at the property that holds it).
        named = {*request.files, "env.yaml"}
        assert all(p.file is None or p.file in named or p.file[0] == "/" for p in report.problems)
        again = request.run(registry)
        assert again.problems == report.problems
        if report.plan is None:
            assert report.problems, "no plan, yet no problem"
            outcomes["problems"] += 1
            return
        assert not report.problems
        assert again.plan is not None
        assert again.plan.to_json() == report.plan.to_json()
        assert _plan_faults(report.plan, request.limits) == []
        outcomes["plan"] += 1
        if any(r.nested for r in report.plan.resources):
            outcomes["nested plan"] += 1

    sound()
    print(outcomes)  # shown with -s: how the requests came out
    # Derandomized, yet the draws differ from run to run once a request's outcome
    # depends on set order (58 to 66 nested plans were seen on 2026-12-07): the bar
    # says the generator reaches nested plans often, with room for that spread.
    assert outcomes["nested plan"] >= 40, outcomes
    assert outcomes["problems"] >= 120, outcomes


_COMPILE = """
import json, sys
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
request = json.load(sys.stdin)
report = check(request["text"], ResourceTypeRegistry.load(), {}, files=request["files"])
print(report.plan.to_json() if report.plan is not None else repr(report.problems))
"""

_MEMBER = """\
heat_template_version: 2018-08-31
parameters:
  name: {type: string}
resources:
  a: {type: OS::Heat::RandomString}
  b: {type: OS::Heat::None, properties: {x: {get_resource: a}, y: {get_param: name}}}
  c: {type: OS::Heat::None, depends_on: [a, b]}
outputs:
  out: {value: {get_attr: [a, value]}}
"""

_TOP = """\
heat_template_version: 2018-08-31
resources:
  first: {type: OS::Heat::None}
  second: {type: OS::Heat::None}
  web:
    type: OS::Heat::ResourceGroup
    depends_on: [first, second]
    properties:
      count: 4
      resource_def: {type: member.yaml, properties: {name: web-%index%}}
  after: {type: member.yaml, depends_on: [web, second], properties: {name: after}}
outputs:
  all: {value: {get_attr: [web, out]}}
  refs: {value: {get_attr: [web, refs_map]}}
"""


@pytest.mark.slow
def test_nested_plan_does_not_depend_on_the_hash_seed() -> None:
    """Grafting adds a stack's dependencies to its members' as sets: their order must
    never reach the plan."""
    request = json.dumps({"text": _TOP, "files": {"member.yaml": _MEMBER}})
    plans = []
    for seed in ("0", "1", "4242"):
        done = subprocess.run(
            [sys.executable, "-c", _COMPILE],
            input=request,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        plans.append(done.stdout)
    assert plans[0].startswith("{"), plans[0]
    assert plans[1] == plans[0]
    assert plans[2] == plans[0]
