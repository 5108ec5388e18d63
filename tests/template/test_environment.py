"""Heat environments and get_file: parse, merge, precedence, registry, every refusal."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import Report, check
from cool.template.environment import MAX_HOPS, Entry, Registry, Source, _Env
from cool.template.parse import parse
from cool.template.problems import Code


@pytest.fixture(scope="module")
def registry() -> ResourceTypeRegistry:
    return ResourceTypeRegistry.load()


TEMPLATE = textwrap.dedent(
    """\
    heat_template_version: 2018-08-31
    parameters:
      flavor: {type: string, default: m1.small}
      count: {type: number, default: 1}
      names: {type: comma_delimited_list, default: a}
      settings: {type: json, default: {}}
      secret: {type: string, hidden: true, default: x}
    resources:
      v:
        type: OS::Heat::Value
        properties:
          value: {get_param: flavor}
    outputs:
      flavor: {value: {get_param: flavor}}
    """
)


def _check(
    registry: ResourceTypeRegistry,
    *envs: str,
    values: dict | None = None,
    template: str = TEMPLATE,
    files: dict | None = None,
) -> Report:
    sources = [Source(f"env{i}.yaml", textwrap.dedent(text)) for i, text in enumerate(envs)]
    return check(template, registry, values or {}, environments=sources, files=files)


def _where(report: Report) -> list[tuple]:
    return [(p.code, p.file, p.pointer, p.line, p.column) for p in report.problems]


def _parameter(report: Report, name: str):
    assert report.plan is not None, report.problems
    return next(p.value for p in report.plan.parameters if p.name == name)


# -- precedence ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("envs", "values", "expected"),
    [
        pytest.param((), {}, "m1.small", id="template-default"),
        pytest.param(("parameter_defaults: {flavor: d}",), {}, "d", id="parameter-defaults"),
        pytest.param(
            ("parameter_defaults: {flavor: d}\nparameters: {flavor: p}",), {}, "p", id="parameters"
        ),
        pytest.param(("parameters: {flavor: p}",), {"flavor": "r"}, "r", id="request-wins"),
        pytest.param(("parameters: {flavor: a}", "parameters: {flavor: b}"), {}, "b", id="later"),
        pytest.param(
            ("parameters: {flavor: a}", "parameter_defaults: {flavor: b}"),
            {},
            "a",
            id="values-over-later-defaults",
        ),
        pytest.param(("parameters: {flavor: ~}",), {}, "m1.small", id="null-is-not-given"),
        pytest.param(("",), {}, "m1.small", id="empty-environment"),
        pytest.param(("# only a comment\n",), {}, "m1.small", id="comment-only"),
    ],
)
def test_environment_precedence(registry, envs, values, expected) -> None:
    report = _check(registry, *envs, values=values)
    assert _parameter(report, "flavor") == expected


def test_environment_defaults_for_undeclared_parameters_are_ignored(registry) -> None:
    report = _check(registry, "parameter_defaults: {nobody: 1}")
    assert report.ok, report.problems


# -- merge strategies ------------------------------------------------------------


@pytest.mark.parametrize(
    ("envs", "name", "expected"),
    [
        pytest.param(
            (
                "parameter_merge_strategies: {flavor: merge}\nparameters: {flavor: a}",
                "parameters: {flavor: b}",
            ),
            "flavor",
            "ab",
            id="string-merge",
        ),
        pytest.param(
            (
                "parameter_merge_strategies: {default: merge}\nparameters: {names: [a, b]}",
                "parameters: {names: c}",
            ),
            "names",
            ["a", "b", "c"],
            id="list-merge",
        ),
        pytest.param(
            (
                "parameter_merge_strategies: {settings: merge}\n"
                "parameters: {settings: {a: {x: 1}, s: p}}",
                "parameters: {settings: {a: {y: 2}}}",
            ),
            "settings",
            {"a": {"y": 2}, "s": "p"},
            id="json-merge-shallow",
        ),
        pytest.param(
            (
                "parameter_merge_strategies: {settings: deep_merge}\n"
                "parameters: {settings: {a: {x: 1}, s: p, l: [1]}}",
                "parameters: {settings: {a: {y: 2}, s: q, l: [2]}}",
            ),
            "settings",
            {"a": {"x": 1, "y": 2}, "s": "pq", "l": [1, 2]},
            id="json-deep-merge",
        ),
        pytest.param(
            (
                "parameter_merge_strategies: {settings: merge}\n"
                "parameters: {settings: '{\"a\": 1}'}",
                "parameters: {settings: {b: 2}}",
            ),
            "settings",
            {"a": 1, "b": 2},
            id="json-text-merge",
        ),
    ],
)
def test_environment_merge_strategies(registry, envs, name, expected) -> None:
    assert _parameter(_check(registry, *envs), name) == expected


# -- registry ------------------------------------------------------------------

REGISTRY_TEMPLATE = textwrap.dedent(
    """\
    heat_template_version: 2018-08-31
    resources:
      net:
        type: OS::Networking::Net
        properties: {name: n}
      other:
        type: OS::Networking::Net
        properties: {name: o}
      web:
        type: OS::Nova::Server
        properties: {image: cirros, flavor: m1.tiny, bogus: 1}
    """
)


def _types(report: Report) -> dict[str, str]:
    assert report.ok, report.problems
    return dict(report.resource_types)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            """\
            resource_registry:
              OS::Networking::Net: OS::Neutron::Net
              OS::Nova::Server: OS::Heat::None
            """,
            {"net": "OS::Neutron::Net", "other": "OS::Neutron::Net", "web": "OS::Heat::None"},
            id="alias-and-none",
        ),
        pytest.param(
            """\
            resource_registry:
              "OS::Networking::*": "OS::Neutron::*"
              OS::Nova::Server: OS::Heat::None
            """,
            {"net": "OS::Neutron::Net", "other": "OS::Neutron::Net", "web": "OS::Heat::None"},
            id="glob",
        ),
        pytest.param(
            """\
            resource_registry:
              OS::Networking::Net: OS::Neutron::Net
              "OS::Nova::*": OS::Heat::None
            """,
            {"net": "OS::Neutron::Net", "other": "OS::Neutron::Net", "web": "OS::Heat::None"},
            id="many-to-one-glob",
        ),
        pytest.param(
            """\
            resource_registry:
              OS::Networking::Net: OS::Neutron::Net
              OS::Nova::Server: OS::Heat::None
              resources:
                other:
                  OS::Networking::Net: OS::Heat::None
            """,
            {"net": "OS::Neutron::Net", "other": "OS::Heat::None", "web": "OS::Heat::None"},
            id="per-resource-wins",
        ),
        pytest.param(
            """\
            resource_registry:
              OS::Networking::Net: My::Net
              My::Net: OS::Neutron::Net
              OS::Nova::Server: OS::Heat::None
              resources:
                web:
                  restricted_actions: [update, replace]
            """,
            {"net": "OS::Neutron::Net", "other": "OS::Neutron::Net", "web": "OS::Heat::None"},
            id="chain-and-restricted-actions",
        ),
    ],
)
def test_environment_registry(registry, env, expected) -> None:
    report = _check(registry, env, template=REGISTRY_TEMPLATE)
    assert _types(report) == expected
    assert report.plan is not None
    web = next(r for r in report.plan.resources if r.name == "web")
    assert web.type == "OS::Heat::None"
    assert web.properties == {}  # switched off: ignored, as Heat does


def test_environment_registry_later_file_wins(registry) -> None:
    report = _check(
        registry,
        "resource_registry: {OS::Networking::Net: OS::Heat::None,"
        " OS::Nova::Server: OS::Heat::None}",
        "resource_registry: {OS::Networking::Net: OS::Neutron::Net}",
        template=REGISTRY_TEMPLATE,
    )
    assert _types(report)["net"] == "OS::Neutron::Net"


def test_environment_switched_off_resource_keeps_its_dependencies(registry) -> None:
    template = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: OS::Heat::Value, properties: {value: 1}}
          b:
            type: OS::Heat::Value
            properties: {value: {get_attr: [a, value]}}
        """
    )
    report = _check(
        registry,
        "resource_registry: {resources: {b: {OS::Heat::Value: OS::Heat::None}}}",
        template=template,
    )
    assert report.plan is not None
    b = next(r for r in report.plan.resources if r.name == "b")
    assert (b.type, b.properties, b.depends_on) == ("OS::Heat::None", {}, ("a",))


# -- refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            "parameters: {flavor: a}\nparamters: {}\n",
            [(Code.UNKNOWN_SECTION, "env0.yaml", "/paramters", 2, 1)],
            id="unknown-section",
        ),
        pytest.param(
            "event_sinks:\n  - {type: zaqar-queue, target: q}\n",
            [(Code.UNSUPPORTED_FEATURE, "env0.yaml", "/event_sinks", 1, 1)],
            id="event-sinks",
        ),
        pytest.param(
            "encrypted_param_names: [secret]\n",
            [(Code.UNSUPPORTED_FEATURE, "env0.yaml", "/encrypted_param_names", 1, 1)],
            id="encrypted-param-names",
        ),
        pytest.param(
            "parameters:\n",
            [(Code.INVALID_TYPE, "env0.yaml", "/parameters", 1, 1)],
            id="empty-section",
        ),
        pytest.param(
            "parameters: [a]\n",
            [(Code.INVALID_TYPE, "env0.yaml", "/parameters", 1, 1)],
            id="parameters-not-a-mapping",
        ),
        pytest.param(
            "- a\n",
            [(Code.NOT_A_MAPPING, "env0.yaml", "", 1, 1)],
            id="not-a-mapping",
        ),
        pytest.param(
            "parameters: {flavor: [\n",
            [(Code.SYNTAX, "env0.yaml", "/parameters/flavor", 1, 23)],
            id="syntax",
        ),
        pytest.param(
            "parameters:\n  flavour: x\n",
            [(Code.PARAMETER_UNDECLARED, "env0.yaml", "/parameters/flavour", 2, 3)],
            id="undeclared-parameter",
        ),
        pytest.param(
            "parameters:\n  count: many\n",
            [(Code.PARAMETER_VALUE, "env0.yaml", "/parameters/count", 2, 3)],
            id="bad-value-located-in-environment",
        ),
        pytest.param(
            "parameter_merge_strategies:\n  flavor: mix\n",
            [(Code.INVALID_VALUE, "env0.yaml", "/parameter_merge_strategies/flavor", 2, 3)],
            id="unknown-strategy",
        ),
        pytest.param(
            "resource_registry:\n  resources:\n    v:\n      hooks: pre-create\n",
            [(Code.UNSUPPORTED_FEATURE, "env0.yaml", "/resource_registry/resources/v/hooks", 4, 7)],
            id="hooks",
        ),
        pytest.param(
            "resource_registry:\n  resources:\n    v:\n      restricted_actions: delete\n",
            [
                (
                    Code.INVALID_VALUE,
                    "env0.yaml",
                    "/resource_registry/resources/v/restricted_actions",
                    4,
                    7,
                )
            ],
            id="restricted-actions",
        ),
        pytest.param(
            "resource_registry:\n  OS::Heat::Value: [a]\n",
            [(Code.INVALID_TYPE, "env0.yaml", "/resource_registry/OS::Heat::Value", 2, 3)],
            id="entry-not-a-string",
        ),
        pytest.param(
            "resource_registry:\n  'OS::*::Value': OS::Heat::None\n",
            [(Code.INVALID_VALUE, "env0.yaml", "/resource_registry/OS::*::Value", 2, 3)],
            id="glob-not-at-end",
        ),
        pytest.param(
            "resource_registry:\n  OS::Heat::Value: my_value.yaml\n",
            [(Code.MISSING_FILE, None, "/resources/v/type", 10, 5)],
            id="template-resource-not-in-files-at-the-resource",
        ),
        pytest.param(
            "resource_registry:\n  OS::Heat::Value: A::B\n  A::B: OS::Heat::Value\n",
            [(Code.INVALID_VALUE, None, "/resources/v/type", 10, 5)],
            id="cycle",
        ),
        pytest.param(
            "resource_registry:\n  OS::Heat::Value: OS::Trove::Instance\n",
            [(Code.UNSUPPORTED_RESOURCE_TYPE, None, "/resources/v/type", 10, 5)],
            id="mapped-to-unsupported",
        ),
    ],
)
def test_environment_refuses(registry, env, expected) -> None:
    report = _check(registry, env)
    assert _where(report) == expected
    assert report.plan is None


def test_environment_template_resource_message_names_the_feature(registry) -> None:
    report = _check(registry, "resource_registry:\n  OS::Heat::Value: my_value.yaml\n")
    (problem,) = report.problems
    assert "template 'my_value.yaml' is not among the request's files" in problem.message
    assert "mapped by the environment" in problem.message
    assert "env0.yaml:2:3" in problem.message  # where the mapping is


def test_environment_conflicting_strategies_refused(registry) -> None:
    report = _check(
        registry,
        "parameter_merge_strategies: {flavor: merge}\nparameters: {flavor: a}",
        "parameter_merge_strategies: {flavor: overwrite}\nparameters: {flavor: b}",
    )
    assert _where(report) == [
        (Code.INVALID_VALUE, "env1.yaml", "/parameter_merge_strategies/flavor", 1, 30)
    ]


def test_environment_number_cannot_be_merged(registry) -> None:
    report = _check(
        registry,
        "parameter_merge_strategies: {default: merge}\nparameters: {count: 1}",
        "parameters: {count: 2}",
    )
    assert _where(report) == [(Code.INVALID_VALUE, "env1.yaml", "/parameters/count", 1, 14)]


def test_environment_hidden_value_not_shown(registry) -> None:
    template = TEMPLATE.replace(
        "secret: {type: string, hidden: true, default: x}",
        "secret: {type: string, hidden: true, constraints: [{length: {max: 3}}]}",
    )
    report = _check(registry, "parameters: {secret: hunter2hunter2}", template=template)
    assert _where(report) == [(Code.PARAMETER_CONSTRAINT, "env0.yaml", "/parameters/secret", 1, 14)]
    assert "hunter2" not in report.problems[0].message


def test_environment_problems_serialise_their_file(registry) -> None:
    (problem,) = _check(registry, "paramters: {}").problems
    assert problem.to_dict()["source"] == {
        "pointer": "/paramters",
        "line": 1,
        "column": 1,
        "file": "env0.yaml",
    }


# -- get_file ------------------------------------------------------------------

GET_FILE = textwrap.dedent(
    """\
    heat_template_version: 2018-08-31
    parameters:
      name: {type: string, default: motd.txt}
    resources:
      v:
        type: OS::Heat::Value
        properties:
          value: {get_file: motd.txt}
      w:
        type: OS::Heat::Value
        properties:
          value:
            str_replace:
              template: {get_file: {get_param: name}}
              params: {world: cool}
    """
)


def test_get_file_reads_files(registry) -> None:
    report = check(GET_FILE, registry, {}, files={"motd.txt": "hello world\n"})
    assert report.plan is not None, report.problems
    values = {r.name: r.properties["value"] for r in report.plan.resources}
    assert values == {"v": "hello world\n", "w": "hello cool\n"}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            None,
            [
                (Code.MISSING_FILE, None, "/resources/v/properties/value/get_file", 8, 15),
                (
                    Code.MISSING_FILE,
                    None,
                    "/resources/w/properties/value/str_replace/template/get_file",
                    14,
                    22,
                ),
            ],
            id="no-files",
        ),
        pytest.param(
            {"other.txt": "x"},
            [
                (Code.MISSING_FILE, None, "/resources/v/properties/value/get_file", 8, 15),
                (
                    Code.MISSING_FILE,
                    None,
                    "/resources/w/properties/value/str_replace/template/get_file",
                    14,
                    22,
                ),
            ],
            id="not-in-files",
        ),
    ],
)
def test_get_file_refuses(registry, files, expected) -> None:
    report = check(GET_FILE, registry, {}, files=files)
    assert _where(report) == expected


def test_get_file_needs_a_name_known_before_the_build(registry) -> None:
    template = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: OS::Heat::Value, properties: {value: x}}
          v:
            type: OS::Heat::Value
            properties:
              value: {get_file: {get_attr: [a, value]}}
        """
    )
    report = check(template, registry, {}, files={"x": "y"})
    assert _where(report) == [
        (Code.INVALID_FUNCTION, None, "/resources/v/properties/value/get_file", 7, 15)
    ]


def test_get_file_over_the_value_budget_is_located(registry) -> None:
    from cool.template.parse import Limits

    limits = Limits(max_value_bytes=1024, max_resolved_bytes=4096)
    report = check(GET_FILE, registry, {}, limits, files={"motd.txt": "x" * 2000})
    assert (Code.RESOLUTION_TOO_LARGE, None, "/resources/v/properties/value/get_file", 8, 15) in (
        _where(report)
    )


# -- any environment -------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(["x", "", "m1.small", "*"])
)
_TYPES = st.sampled_from(
    [
        "OS::Heat::None",
        "OS::Heat::Value",
        "OS::Neutron::Net",
        "OS::Neutron::*",
        "OS::Net*",
        "My::Type",
        "My::*",
        "nested.yaml",
        "file:///x.yaml",
        "",
    ]
)
_REGISTRY = st.dictionaries(
    _TYPES,
    st.one_of(
        _TYPES,
        _SCALARS,
        st.dictionaries(st.sampled_from(["v", "w"]), st.dictionaries(_TYPES, _TYPES), max_size=2),
    ),
    max_size=4,
)
_SECTIONS = st.fixed_dictionaries(
    {},
    optional={
        "parameters": st.dictionaries(st.sampled_from(["flavor", "count", "nope"]), _SCALARS),
        "parameter_defaults": st.dictionaries(st.sampled_from(["flavor", "names"]), _SCALARS),
        "resource_registry": st.one_of(_REGISTRY, st.fixed_dictionaries({"resources": _REGISTRY})),
        "parameter_merge_strategies": st.dictionaries(
            st.sampled_from(["flavor", "default"]), st.sampled_from(["merge", "overwrite", "x"])
        ),
        "event_sinks": st.lists(_SCALARS, max_size=1),
        "bogus": _SCALARS,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_SECTIONS, max_size=3))
def test_any_environments_give_a_report_never_an_exception(envs: list[dict]) -> None:
    registry = ResourceTypeRegistry.load()
    template = TEMPLATE + "  w: {value: {get_attr: [v, value]}}\n"
    sources = [Source(f"env{i}.yaml", json.dumps(env)) for i, env in enumerate(envs)]
    first = check(template, registry, {}, environments=sources, files={"nested.yaml": "x"})
    again = check(template, registry, {}, environments=sources, files={"nested.yaml": "x"})
    assert _where(first) == _where(again)
    assert (first.plan is None) == (again.plan is None)
    if first.plan is not None:
        assert first.plan.to_json() == again.plan.to_json()


# -- bounds: every request's registry and environments cost little -----------------


def _check_in_subprocess(template: str, envs: list[str]) -> list[list]:
    """check() in a child bounded in time (10 s) and memory (1 GiB): a registry that
    never ends fails the test instead of hanging it."""
    code = textwrap.dedent(
        """\
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from cool.resources.registry import ResourceTypeRegistry
        from cool.template.compile import check
        from cool.template.environment import Source
        template, envs = json.loads(sys.stdin.read())
        sources = [Source(f"env{i}.yaml", text) for i, text in enumerate(envs)]
        report = check(template, ResourceTypeRegistry.load(), {}, environments=sources)
        print(json.dumps([[p.code.value, p.file, p.pointer, p.line, p.column, p.message]
                          for p in report.problems]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps([template, envs]),
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


GROWING = "heat_template_version: 2018-08-31\nresources:\n  r:\n    type: A::x\n"


def test_environment_glob_that_lengthens_the_type_is_refused_at_the_hop_cap() -> None:
    # 'A*' -> 'AA*' maps A::x to AA::x, AAA::x, ... for ever: refused after MAX_HOPS.
    (problem,) = _check_in_subprocess(GROWING, ["resource_registry:\n  'A*': 'AA*'\n"])
    code, file, pointer_, line, column, message = problem
    assert (code, file, pointer_, line, column) == (
        Code.INVALID_VALUE.value,
        None,
        "/resources/r/type",
        4,
        5,
    )
    assert f"more than {MAX_HOPS} registry entries" in message
    assert "'A*': 'AA*' (env0.yaml:2:3 /resource_registry/A*)" in message


def test_environment_chain_of_max_hops_resolves_one_more_is_refused(registry) -> None:
    def chain(links: int) -> str:
        return "resource_registry:\n" + "".join(
            f"  T{i}: {'T' + str(i + 1) if i + 1 < links else 'OS::Heat::None'}\n"
            for i in range(links)
        )

    template = "heat_template_version: 2018-08-31\nresources:\n  r:\n    type: T0\n"
    assert _check(registry, chain(MAX_HOPS), template=template).ok
    report = _check(registry, chain(MAX_HOPS + 1), template=template)
    assert _where(report) == [(Code.INVALID_VALUE, None, "/resources/r/type", 4, 5)]


class _Counted(dict):
    """A registry's entries that count every entry read: a lookup's cost."""

    reads = 0

    def __getitem__(self, key):
        _Counted.reads += 1
        return super().__getitem__(key)

    def get(self, key, default=None):
        _Counted.reads += 1
        return super().get(key, default)

    def __contains__(self, key) -> bool:
        _Counted.reads += 1
        return super().__contains__(key)

    def items(self):
        for item in super().items():
            _Counted.reads += 1
            yield item


def test_environment_registry_lookups_are_not_quadratic() -> None:
    # 2,000 globs and a 30-link chain, 300 resources: each entry is read a bounded
    # number of times, not once per resource and hop (which was 300 * 30 * 2,000).
    text = (
        "resource_registry:\n"
        + "".join(f"  G{i}*: X\n" for i in range(2000))
        + "".join(f"  T{i}: T{i + 1}\n" for i in range(30))
    )
    document = parse(text)
    env = _Env("env0.yaml", document)
    entries = _Counted(
        (key, Entry(env, ("resource_registry", key), key, value))
        for key, value in document.data["resource_registry"].items()
    )
    _Counted.reads = 0
    found = Registry(entries).resolve  # built once per request, as _merge does
    for i in range(300):
        assert found("T0", f"r{i}").type_name == "T30"
        assert found(f"OS::Heat::V{i}", f"s{i}").type_name == f"OS::Heat::V{i}"
    assert _Counted.reads < 3 * len(entries) + 300 * 10, _Counted.reads


def test_environment_listed_twice_is_parsed_once(registry) -> None:
    env = "bogus: 1\nparameters: {flavor: m1.large}\n"
    report = check(TEMPLATE, registry, {}, environments=[Source("e.yaml", env)] * 3)
    assert _where(report) == [(Code.UNKNOWN_SECTION, "e.yaml", "/bogus", 1, 1)]


# 9**5 = 59,049 leaves, ~66,000 nodes: each under the budget of 250,000 nodes alone.
BOMB = textwrap.dedent(
    """\
    parameter_defaults:
      settings:
        a: &a [x, x, x, x, x, x, x, x, x]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    """
)


def test_environments_share_one_node_budget_with_the_template(registry) -> None:
    assert _check(registry, BOMB).ok  # one is fine
    sources = [Source(f"bomb{i}.yaml", BOMB) for i in range(10)]
    report = check(TEMPLATE, registry, {}, environments=sources)
    # The fourth brings the template and its environments over 250,000 nodes.
    assert [(p.code, p.file, p.pointer, p.line) for p in report.problems] == [
        (Code.ALIAS_EXPANSION, "bomb3.yaml", "/parameter_defaults/settings/e", 7)
    ]
    assert "250000 nodes" in report.problems[0].message
