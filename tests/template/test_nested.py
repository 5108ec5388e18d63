"""Nested stacks flattened into one plan: template resources, OS::Heat::Stack,
OS::Heat::ResourceGroup, resource_facade, and where their problems are located."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from cool.model import NestedKind, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template import functions as fn
from cool.template.compile import Report, check
from cool.template.environment import Source
from cool.template.parse import DEFAULT_LIMITS, Limits
from cool.template.problems import Code

Located = tuple[Code, str | None, str, int | None, int | None]

SERVER = """\
heat_template_version: 2018-08-31
parameters:
  name: {type: string}
  network: {type: string}
  size: {type: number, default: 1, constraints: [{range: {max: 10}}]}
resources:
  port:
    type: OS::Neutron::Port
    properties: {network: {get_param: network}, name: {get_param: name}}
  data:
    type: OS::Heat::Value
    properties: {value: {get_param: size}}
outputs:
  port_id: {value: {get_resource: port}}
  ip: {value: {get_attr: [port, fixed_ips, 0, ip_address]}}
  size: {value: {get_attr: [data, value]}}
"""


def _check(
    text: str,
    registry: ResourceTypeRegistry,
    files: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    *,
    environment: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Report:
    sources = [Source("env.yaml", textwrap.dedent(environment))] if environment else []
    files = {name: textwrap.dedent(body) for name, body in (files or {}).items()}
    return check(
        textwrap.dedent(text),
        registry,
        {} if values is None else values,
        limits,
        environments=sources,
        files=files,
    )


def _plan(report: Report) -> Plan:
    assert not report.problems, [p.to_dict() for p in report.problems]
    assert report.plan is not None
    return report.plan


def _located(report: Report) -> list[Located]:
    return sorted((p.code, p.file, p.pointer, p.line, p.column) for p in report.problems)


def _resources(plan: Plan) -> dict[str, tuple[str, NestedKind | None, tuple[str, ...]]]:
    return {r.name: (r.type, r.nested, r.depends_on) for r in plan.resources}


def _outputs(plan: Plan) -> dict[str, Any]:
    return {o.name: o.value for o in plan.outputs}


# -- template resources -------------------------------------------------------------------


def test_template_resource_members_are_named_under_it_and_wait_for_its_dependencies(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              app:
                type: server.yaml
                properties: {name: app, network: {get_resource: net}}
              after: {type: OS::Heat::None, depends_on: app}
            outputs:
              port: {value: {get_attr: [app, port_id]}}
              ip: {value: {get_attr: [app, ip]}}
              size: {value: {get_attr: [app, size]}}
            """,
            registry,
            {"server.yaml": SERVER},
        )
    )
    assert _resources(plan) == {
        "net": ("OS::Neutron::Net", None, ()),
        # What a member does not wait for inside the stack waits for the stack's own
        # dependencies; the stack's resource waits for its members.
        "app/port": ("OS::Neutron::Port", None, ("net",)),
        "app/data": ("OS::Heat::Value", None, ("net",)),
        "app": ("server.yaml", NestedKind.TEMPLATE, ("app/data", "app/port", "net")),
        "after": ("OS::Heat::None", None, ("app",)),
    }
    assert plan.resource("app/port").properties["network"] == {"get_resource": "net"}
    assert plan.resource("app/port").properties["name"] == "app"
    assert plan.resource("app/data").properties["value"] == 1  # the parameter's default
    assert _outputs(plan) == {
        "port": {"get_resource": "app/port"},
        "ip": {"get_attr": ["app/port", "fixed_ips", 0, "ip_address"]},
        "size": {"get_attr": ["app/data", "value"]},
    }
    assert [r.name for r in plan.resources] == ["net", "app/data", "app/port", "app", "after"]


def test_get_resource_of_a_template_resource_is_its_stack_id_output_if_it_has_one(
    registry: ResourceTypeRegistry,
) -> None:
    with_id = SERVER + "  OS::stack_id: {value: {get_resource: port}}\n"
    text = """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: with_id.yaml, properties: {name: a, network: n}}
          b: {type: plain.yaml, properties: {name: b, network: n}}
        outputs:
          a: {value: {get_resource: a}}
          b: {value: {get_resource: b}}
        """
    plan = _plan(_check(text, registry, {"with_id.yaml": with_id, "plain.yaml": SERVER}))
    assert _outputs(plan) == {"a": {"get_resource": "a/port"}, "b": {"get_resource": "b"}}


def test_nested_problems_are_located_in_their_file_and_property_problems_in_the_parent(
    registry: ResourceTypeRegistry,
) -> None:
    broken = SERVER.replace("network: {get_param: network}", "network: {get_param: netwrk}")
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          a:
            type: broken.yaml
            properties: {name: a, network: n, size: 11, colour: red}
          b:
            type: broken.yaml
            properties: {network: n}
        outputs:
          x: {value: {get_attr: [a, nothing]}}
        """,
        registry,
        {"broken.yaml": broken},
    )
    assert _located(report) == [
        (Code.MISSING_PROPERTY, None, "/resources/b/properties", 8, 5),
        (Code.PROPERTY_CONSTRAINT, None, "/resources/a/properties/size", 5, 39),
        # Once, although both resources use the file.
        (
            Code.UNKNOWN_PARAMETER,
            "broken.yaml",
            "/resources/port/properties/network/get_param",
            9,
            28,
        ),
        (Code.UNKNOWN_PROPERTY, None, "/resources/a/properties/colour", 5, 49),
    ]
    messages = " | ".join(p.message for p in report.problems)
    assert "resource 'b' (broken.yaml) needs property 'name'" in messages
    assert "resource 'a' (broken.yaml): unknown property 'colour'" in messages
    # The output asks a stack with problems: no second, cascading one.
    assert report.plan is None


def test_unknown_output_of_a_sound_template_is_refused_with_the_outputs_named(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: server.yaml, properties: {name: a, network: n}}
        outputs:
          x: {value: {get_attr: [a, port_ids]}}
        """,
        registry,
        {"server.yaml": SERVER},
    )
    assert _located(report) == [
        (Code.UNKNOWN_ATTRIBUTE, None, "/outputs/x/value/get_attr/1", 5, 29)
    ]
    assert "did you mean 'port_id'?" in report.problems[0].message
    assert "(outputs: ip, port_id, size)" in report.problems[0].message


def test_template_not_in_the_files_is_a_located_error(registry: ResourceTypeRegistry) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: server.yaml}
        """,
        registry,
        {"servers.yaml": SERVER},
    )
    assert _located(report) == [(Code.MISSING_FILE, None, "/resources/a/type", 3, 7)]
    assert "cool never fetches a template" in report.problems[0].message
    assert "did you mean 'servers.yaml'?" in report.problems[0].message


def test_a_template_that_uses_itself_stops_at_the_depth_bound(
    registry: ResourceTypeRegistry,
) -> None:
    loop = """\
        heat_template_version: 2018-08-31
        resources:
          again: {type: loop.yaml}
        """
    report = _check(loop, registry, {"loop.yaml": loop})
    assert _located(report) == [(Code.STACK_TOO_DEEP, "loop.yaml", "/resources/again/type", 3, 11)]
    assert "5 levels deep" in report.problems[0].message


def test_depth_bound_is_configurable_and_exact(registry: ResourceTypeRegistry) -> None:
    leaf = "heat_template_version: 2018-08-31\nresources: {v: {type: OS::Heat::None}}\n"
    mid = "heat_template_version: 2018-08-31\nresources: {m: {type: leaf.yaml}}\n"
    top = "heat_template_version: 2018-08-31\nresources: {t: {type: mid.yaml}}\n"
    files = {"leaf.yaml": leaf, "mid.yaml": mid}
    assert _check(top, registry, files, limits=Limits(max_stack_depth=2)).plan is not None
    refused = _check(top, registry, files, limits=Limits(max_stack_depth=1))
    assert [p.code for p in refused.problems] == [Code.STACK_TOO_DEEP]


def test_parameters_of_the_environment_stay_at_the_top_and_defaults_reach_nested_ones(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's rule: parameter_defaults apply to every template of the tree; parameters
    (and the request's values) to the top one only; a property wins over both."""
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          size: {type: number, default: 1}
        resources:
          a: {type: My::Server, properties: {name: a}}
          b: {type: My::Server, properties: {name: b, size: 9}}
        """
    plan = _plan(
        _check(
            text,
            registry,
            {"server.yaml": SERVER},
            environment="""\
            resource_registry: {My::Server: server.yaml}
            parameters: {size: 2}
            parameter_defaults: {network: from-defaults, size: 7}
            """,
        )
    )
    assert plan.resource("a/port").properties["network"] == "from-defaults"
    assert plan.resource("a/data").properties["value"] == 7
    assert plan.resource("b/data").properties["value"] == 9
    assert plan.resource("a").type == "My::Server"
    assert {p.name: p.value for p in plan.parameters} == {"size": 2}


def test_conditions_of_a_nested_template_follow_its_properties(
    registry: ResourceTypeRegistry,
) -> None:
    nested = """\
        heat_template_version: 2018-08-31
        parameters:
          env: {type: string}
        conditions:
          prod: {equals: [{get_param: env}, prod]}
        resources:
          backup: {type: OS::Heat::None, condition: prod}
          app: {type: OS::Heat::None}
        outputs:
          backup: {value: {if: [prod, {get_resource: backup}, none]}}
        """
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              dev: {type: app.yaml, properties: {env: dev}}
              prod: {type: app.yaml, properties: {env: prod}}
            outputs:
              dev: {value: {get_attr: [dev, backup]}}
              prod: {value: {get_attr: [prod, backup]}}
            """,
            registry,
            {"app.yaml": nested},
        )
    )
    assert {r.name for r in plan.resources} == {"dev", "dev/app", "prod", "prod/app", "prod/backup"}
    assert _outputs(plan) == {"dev": "none", "prod": {"get_resource": "prod/backup"}}


# -- resource groups ----------------------------------------------------------------------

GROUP = """\
heat_template_version: 2018-08-31
parameters:
  n: {type: number, default: 3}
resources:
  net: {type: OS::Neutron::Net}
  web:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: n}
      removal_policies: [{resource_list: ['1']}]
      resource_def:
        type: server.yaml
        properties: {name: web-%index%, network: {get_resource: net}}
        metadata: {slot: '%index%'}
outputs:
  refs: {value: {get_attr: [web, refs]}}
  refs_map: {value: {get_attr: [web, refs_map]}}
  first: {value: {get_attr: [web, resource.0]}}
  last_ip: {value: {get_attr: [web, resource.3.ip]}}
  ips: {value: {get_attr: [web, ip]}}
  by_name: {value: {get_attr: [web, attributes, size]}}
  removed: {value: {get_attr: [web, removed_rsrc_list]}}
  group: {value: {get_resource: web}}
"""


def test_group_members_skip_removed_names_and_answer_every_attribute(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(_check(GROUP, registry, {"server.yaml": SERVER}))
    members = [r.name for r in plan.resources if r.parent == "web"]
    assert members == ["web/0", "web/2", "web/3"]  # '1' is in a removal policy: never used
    assert plan.resource("web").nested is NestedKind.GROUP
    assert plan.resource("web").depends_on == ("net", "web/0", "web/2", "web/3")
    assert plan.resource("web/2").properties == {
        "name": "web-2",
        "network": {"get_resource": "net"},
    }
    assert plan.resource("web/2").metadata == {"slot": "2"}
    assert plan.resource("web/2/port").properties["name"] == "web-2"
    assert plan.resource("web/2/port").depends_on == ("net",)
    assert _outputs(plan) == {
        "refs": [{"get_resource": f"web/{i}"} for i in (0, 2, 3)],
        "refs_map": {i: {"get_resource": f"web/{i}"} for i in ("0", "2", "3")},
        "first": {"get_resource": "web/0"},
        "last_ip": {"get_attr": ["web/3/port", "fixed_ips", 0, "ip_address"]},
        "ips": [{"get_attr": [f"web/{i}/port", "fixed_ips", 0, "ip_address"]} for i in (0, 2, 3)],
        "by_name": {i: {"get_attr": [f"web/{i}/data", "value"]} for i in ("0", "2", "3")},
        "removed": ["1"],
        "group": {"get_resource": "web"},
    }


def test_group_of_plain_resources_with_a_custom_index_var(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              vals:
                type: OS::Heat::ResourceGroup
                properties:
                  count: 2
                  index_var: $i$
                  resource_def:
                    type: OS::Heat::Value
                    properties: {value: {list_join: ['-', [v, $i$, '%index%']]}}
            outputs:
              values: {value: {get_attr: [vals, value]}}
              one: {value: {get_attr: [vals, resource.1.value]}}
            """,
            registry,
        )
    )
    assert plan.resource("vals/1").properties["value"] == "v-1-%index%"
    assert plan.resource("vals/1").type == "OS::Heat::Value"
    assert _outputs(plan) == {
        "values": [{"get_attr": ["vals/0", "value"]}, {"get_attr": ["vals/1", "value"]}],
        "one": {"get_attr": ["vals/1", "value"]},
    }


def test_group_of_zero_is_empty_and_its_attributes_are_empty(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          none:
            type: OS::Heat::ResourceGroup
            properties: {count: 0, resource_def: {type: OS::Heat::Value, properties: {value: 1}}}
        outputs:
          refs: {value: {get_attr: [none, refs]}}
          values: {value: {get_attr: [none, value]}}
        """,
        registry,
    )
    plan = _plan(report)
    assert _resources(plan) == {"none": ("OS::Heat::ResourceGroup", NestedKind.GROUP, ())}
    assert _outputs(plan) == {"refs": [], "values": []}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ("count: {get_param: n}", "count: {get_attr: [net, mtu]}"),
            [(Code.INVALID_VALUE, None, "/resources/web/properties/count", 9, 7)],
            id="count-known-only-at-run-time",
        ),
        pytest.param(
            ("type: server.yaml", "type: OS::Nova::Servr"),
            [
                (
                    Code.UNSUPPORTED_RESOURCE_TYPE,
                    None,
                    "/resources/web/properties/resource_def/type",
                    12,
                    9,
                )
            ],
            id="member-type-unsupported",
        ),
        pytest.param(
            ("ips: {value: {get_attr: [web, ip]}}", "ips: {value: {get_attr: [web, ipz]}}"),
            [(Code.UNKNOWN_ATTRIBUTE, None, "/outputs/ips/value/get_attr/1", 20, 33)],
            id="member-attribute-unknown",
        ),
        pytest.param(
            ("resource.3.ip", "resource.1.ip"),
            [(Code.UNKNOWN_ATTRIBUTE, None, "/outputs/last_ip/value/get_attr/1", 19, 37)],
            id="member-removed-by-its-policy",
        ),
        pytest.param(
            ("[web, attributes, size]", "[web, attributes]"),
            [(Code.INVALID_PATH, None, "/outputs/by_name/value/get_attr/1", 21, 37)],
            id="attributes-without-a-path",
        ),
        pytest.param(
            ("name: web-%index%, ", "name: web-%index%, nme: x, "),
            [
                (
                    Code.UNKNOWN_PROPERTY,
                    None,
                    "/resources/web/properties/resource_def/properties/nme",
                    13,
                    41,
                )
            ],
            id="member-property-unknown-once-for-all-members",
        ),
    ],
)
def test_group_refusals(
    change: tuple[str, str], expected: list[Located], registry: ResourceTypeRegistry
) -> None:
    assert change[0] in GROUP
    report = _check(GROUP.replace(*change), registry, {"server.yaml": SERVER})
    assert _located(report) == expected, [p.message for p in report.problems]


def test_group_over_the_total_bound_is_refused_at_once(registry: ResourceTypeRegistry) -> None:
    text = GROUP.replace("{get_param: n}", "100000")
    report = _check(text, registry, {"server.yaml": SERVER}, limits=Limits(max_total_resources=50))
    assert _located(report) == [
        (Code.TOO_MANY_RESOURCES, None, "/resources/web/properties/resource_def/type", 12, 9)
    ]
    assert "more than 50 resources" in report.problems[0].message


def test_group_of_groups_nests_two_levels(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              outer:
                type: OS::Heat::ResourceGroup
                properties:
                  count: 2
                  resource_def:
                    type: OS::Heat::ResourceGroup
                    properties:
                      count: 2
                      resource_def: {type: OS::Heat::None}
            outputs:
              inner: {value: {get_attr: [outer, resource.1.refs]}}
            """,
            registry,
        )
    )
    assert sorted(r.name for r in plan.resources) == [
        "outer", "outer/0", "outer/0/0", "outer/0/1", "outer/1", "outer/1/0", "outer/1/1",
    ]  # fmt: skip
    assert plan.resource("outer/1").nested is NestedKind.GROUP
    assert _outputs(plan) == {
        "inner": [{"get_resource": "outer/1/0"}, {"get_resource": "outer/1/1"}]
    }


# -- OS::Heat::Stack ------------------------------------------------------------------------


def test_stack_with_an_inline_template_and_one_from_get_file(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            parameters:
              top: {type: string, default: t}
            resources:
              inline:
                type: OS::Heat::Stack
                properties:
                  parameters: {word: {get_param: top}}
                  template:
                    heat_template_version: 2018-08-31
                    parameters:
                      word: {type: string}
                    resources:
                      v: {type: OS::Heat::Value, properties: {value: {get_param: word}}}
                    outputs:
                      out: {value: {get_attr: [v, value]}}
              from_file:
                type: OS::Heat::Stack
                properties:
                  template: {get_file: server.yaml}
                  parameters: {name: f, network: n}
            outputs:
              all: {value: {get_attr: [inline, outputs]}}
              one: {value: {get_attr: [inline, outputs, out]}}
              port: {value: {get_attr: [from_file, outputs, port_id]}}
            """,
            registry,
            {"server.yaml": SERVER},
        )
    )
    assert plan.resource("inline/v").properties["value"] == "t"
    assert plan.resource("inline").nested is NestedKind.STACK
    assert plan.resource("from_file/port").type == "OS::Neutron::Port"
    assert _outputs(plan) == {
        "all": {"out": {"get_attr": ["inline/v", "value"]}},
        "one": {"get_attr": ["inline/v", "value"]},
        "port": {"get_resource": "from_file/port"},
    }


def test_stack_problems_point_into_the_parent_or_into_its_file(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          inline:
            type: OS::Heat::Stack
            properties:
              context: {region_name: RegionTwo}
              template:
                heat_template_version: 2018-08-31
                resources:
                  v: {type: OS::Heat::Valeu}
          from_file:
            type: OS::Heat::Stack
            properties:
              template: {get_file: server.yaml}
        """,
        registry,
        {"server.yaml": SERVER},
    )
    assert _located(report) == [
        (Code.MISSING_PROPERTY, None, "/resources/from_file/properties/parameters", 13, 5),
        (Code.MISSING_PROPERTY, None, "/resources/from_file/properties/parameters", 13, 5),
        (Code.UNSUPPORTED_FEATURE, None, "/resources/inline/properties/context/region_name", 6, 17),
        # Inline: located in the parent's text, where the nested template is written.
        (
            Code.UNSUPPORTED_RESOURCE_TYPE,
            None,
            "/resources/inline/properties/template/resources/v/type",
            10,
            15,
        ),
    ]
    messages = sorted(p.message for p in report.problems)
    assert "resource 'from_file' (OS::Heat::Stack) needs parameter 'name'" in messages[0]


# -- resource_facade ----------------------------------------------------------------------


def test_resource_facade_reads_the_resource_a_nested_template_stands_for(
    registry: ResourceTypeRegistry,
) -> None:
    facade = """\
        heat_template_version: 2018-08-31
        resources:
          v:
            type: OS::Heat::Value
            properties:
              value:
                meta: {resource_facade: metadata}
                policy: {resource_facade: deletion_policy}
        """
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: facade.yaml
                metadata: {role: db}
                deletion_policy: Retain
              g:
                type: OS::Heat::ResourceGroup
                properties:
                  count: 1
                  resource_def: {type: facade.yaml, metadata: {role: 'web-%index%'}}
            """,
            registry,
            {"facade.yaml": facade},
        )
    )
    assert plan.resource("a/v").properties["value"] == {"meta": {"role": "db"}, "policy": "Retain"}
    assert plan.resource("g/0/v").properties["value"] == {
        "meta": {"role": "web-0"},
        "policy": "Delete",
    }


def test_resource_facade_outside_a_nested_template_is_refused(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          v: {type: OS::Heat::Value, properties: {value: {resource_facade: metadata}}}
          w: {type: OS::Heat::Value, properties: {value: {resource_facade: colour}}}
        """,
        registry,
    )
    assert _located(report) == [
        (Code.INVALID_FUNCTION, None, "/resources/v/properties/value/resource_facade", 3, 51),
        (Code.INVALID_FUNCTION, None, "/resources/w/properties/value/resource_facade", 4, 51),
    ]


# -- the plan ------------------------------------------------------------------------------


def test_nested_plans_are_deterministic_and_round_trip(registry: ResourceTypeRegistry) -> None:
    files = {"server.yaml": SERVER}
    first = _plan(_check(GROUP, registry, files))
    second = _plan(_check(GROUP, registry, files))
    assert first.to_json() == second.to_json()
    assert Plan.from_json(first.to_json()) == first
    assert '"nested":"group"' in first.to_json()


def test_plans_without_nested_stacks_keep_their_bytes(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        _check(
            "heat_template_version: 2018-08-31\nresources: {a: {type: OS::Heat::None}}\n", registry
        )
    )
    assert '"nested"' not in plan.to_json()


def test_validation_without_values_checks_the_member_template_once(
    registry: ResourceTypeRegistry,
) -> None:
    """count is a parameter without a value: the member template is still checked."""
    text = GROUP.replace("n: {type: number, default: 3}", "n: {type: number}")
    broken = SERVER.replace("type: OS::Heat::Value", "type: OS::Heat::Valu")
    report = check(textwrap.dedent(text), registry, None, files={"server.yaml": broken})
    assert report.missing == ("n",)
    assert [(p.code, p.file) for p in report.problems] == [
        (Code.UNSUPPORTED_RESOURCE_TYPE, "server.yaml")
    ]


def test_plan_names_too_long_with_their_parents_are_refused_at_the_top_resource(
    registry: ResourceTypeRegistry,
) -> None:
    long = "r" * 75  # 75 + 1 + 75 + 1 + 75: over 223, the cap, though under 255
    inner = f"heat_template_version: 2018-08-31\nresources: {{{long}: {{type: OS::Heat::None}}}}\n"
    middle = f"heat_template_version: 2018-08-31\nresources: {{{long}: {{type: inner.yaml}}}}\n"
    report = _check(
        f"""\
        heat_template_version: 2018-08-31
        resources:
          {long}: {{type: middle.yaml}}
          short: {{type: inner.yaml}}
        """,
        registry,
        {"inner.yaml": inner, "middle.yaml": middle},
    )
    assert _located(report) == [(Code.INVALID_NAME, None, f"/resources/{long}", 3, 3)]
    assert "227 characters in 3 parts" in report.problems[0].message


# -- update_policy ----------------------------------------------------------------------


def test_batch_create_makes_each_batch_wait_for_the_one_before(
    registry: ResourceTypeRegistry,
) -> None:
    text = GROUP.replace(
        "    type: OS::Heat::ResourceGroup\n",
        "    type: OS::Heat::ResourceGroup\n"
        "    update_policy:\n"
        "      {batch_create: {max_batch_size: 2}, rolling_update: {max_batch_size: 1}}\n",
    ).replace("{get_param: n}", "5")
    plan = _plan(_check(text, registry, {"server.yaml": SERVER}))
    members = [r.name for r in plan.resources if r.parent == "web"]
    assert members == ["web/0", "web/2", "web/3", "web/4", "web/5"]
    # Batches: (0, 2), (3, 4), (5). The first waits for what the group waits for; each
    # member of a later batch (its resources too) waits for the batch before (and so,
    # through it, for what the group waits for).
    assert plan.resource("web/0/port").depends_on == ("net",)
    assert plan.resource("web/3/port").depends_on == ("web/0", "web/2")
    assert plan.resource("web/4/data").depends_on == ("web/0", "web/2")
    assert plan.resource("web/5/port").depends_on == ("web/3", "web/4")
    assert plan.resource("web/3").depends_on == ("web/0", "web/2", "web/3/data", "web/3/port")
    assert plan.resource("web").update_policy == {
        "batch_create": {"max_batch_size": 2, "pause_time": 0},
        "rolling_update": {"max_batch_size": 1, "min_in_service": 0, "pause_time": 0},
    }


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(
            "{batch_create: {max_batch_size: 0}}",
            (Code.PROPERTY_CONSTRAINT, "/resources/web/update_policy/batch_create/max_batch_size"),
            id="batch-size-zero",
        ),
        pytest.param(
            "{batch_create: {pause_time: 5}}",
            (Code.UNSUPPORTED_FEATURE, "/resources/web/update_policy/batch_create/pause_time"),
            id="pause-time",
        ),
        pytest.param(
            "{rolling_updates: {}}",
            (Code.UNKNOWN_PROPERTY, "/resources/web/update_policy/rolling_updates"),
            id="unknown-policy",
        ),
        pytest.param("[a]", (Code.INVALID_TYPE, "/resources/web/update_policy"), id="not-a-map"),
    ],
)
def test_update_policy_refusals(
    policy: str, expected: tuple[Code, str], registry: ResourceTypeRegistry
) -> None:
    text = GROUP.replace(
        "    type: OS::Heat::ResourceGroup\n",
        f"    type: OS::Heat::ResourceGroup\n    update_policy: {policy}\n",
    )
    report = _check(text, registry, {"server.yaml": SERVER})
    assert [(p.code, p.pointer) for p in report.problems] == [expected]


def test_update_policy_on_a_type_without_one_is_refused_and_reaches_a_facade(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          n: {type: OS::Heat::None, update_policy: {rolling_update: {}}}
        """,
        registry,
    )
    assert _located(report) == [
        (Code.UNKNOWN_KEY, None, "/resources/n/update_policy/rolling_update", 3, 45)
    ]
    facade = """\
        heat_template_version: 2018-08-31
        resources:
          v: {type: OS::Heat::Value, properties: {value: {resource_facade: update_policy}}}
        """
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: facade.yaml, update_policy: {anything: 1}}
            """,
            registry,
            {"facade.yaml": facade},
        )
    )
    assert plan.resource("a/v").properties["value"] == {"anything": 1}


def test_registry_entries_for_nested_resources_apply_under_their_parent_only(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's child environment: what resource_registry.resources says under a resource's
    name applies to the resources of its nested stack (and, under a group's, to its
    members by index); a glob names several parents."""
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              app: {type: server.yaml, properties: {name: a, network: n}}
              other: {type: server.yaml, properties: {name: o, network: n}}
              web:
                type: OS::Heat::ResourceGroup
                properties:
                  count: 2
                  resource_def: {type: server.yaml, properties: {name: w, network: n}}
            """,
            registry,
            {"server.yaml": SERVER},
            environment="""\
            resource_registry:
              resources:
                app:
                  port: {OS::Neutron::Port: OS::Heat::None}
                'we*':
                  '1':
                    data: {OS::Heat::Value: OS::Heat::None}
            """,
        )
    )
    types = {r.name: r.type for r in plan.resources}
    assert types["app/port"] == "OS::Heat::None"
    assert plan.resource("app/port").properties == {}  # switched off: ignored, as in Heat
    assert types["other/port"] == "OS::Neutron::Port"
    assert types["web/1/data"] == "OS::Heat::None"
    assert types["web/0/data"] == "OS::Heat::Value"
    assert types["web/1/port"] == "OS::Neutron::Port"


def test_a_template_standing_for_the_type_it_replaces_uses_the_real_type_inside(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's item_to_remove: the entry that made a resource a template resource is not
    in its nested stack's registry."""
    wrapper = """\
        heat_template_version: 2018-08-31
        parameters:
          value: {type: string}
        resources:
          inner: {type: OS::Heat::Value, properties: {value: {get_param: value}}}
        outputs:
          value: {value: {get_attr: [inner, value]}}
        """
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              v: {type: OS::Heat::Value, properties: {value: x}}
            outputs:
              o: {value: {get_attr: [v, value]}}
            """,
            registry,
            {"wrap.yaml": wrapper},
            environment="resource_registry: {OS::Heat::Value: wrap.yaml}\n",
        )
    )
    assert {r.name: r.type for r in plan.resources} == {
        "v/inner": "OS::Heat::Value",
        "v": "OS::Heat::Value",
    }
    assert _outputs(plan) == {"o": {"get_attr": ["v/inner", "value"]}}


# -- review findings (issue 17): paths after resource.N, get_attr [res], run-time lists --


def test_a_path_after_resource_dot_n_names_the_member_attribute_as_heat_does(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's grouputils.get_nested_attrs: [g, resource.0, ip] is [g, resource.0.ip]."""
    text = GROUP.replace(
        "resources:\n",
        "resources:\n  one: {type: server.yaml, properties: {name: a, network: b}}\n",
    ) + (
        "  split_ip: {value: {get_attr: [web, resource.0, ip]}}\n"
        "  split_deep: {value: {get_attr: [web, resource.0, size, 0]}}\n"
        "  t_split: {value: {get_attr: [one, resource.port, fixed_ips, 0]}}\n"
        "  t_joined: {value: {get_attr: [one, resource.port.fixed_ips, 0]}}\n"
        "  t_ref: {value: {get_attr: [one, resource.port]}}\n"
    )
    plan = _plan(_check(text, registry, {"server.yaml": SERVER}))
    outputs = _outputs(plan)
    assert outputs["split_ip"] == outputs["ips"][0]
    assert outputs["split_ip"] == {"get_attr": ["web/0/port", "fixed_ips", 0, "ip_address"]}
    assert outputs["split_deep"] == {"get_attr": ["web/0/data", "value", 0]}
    assert outputs["t_split"] == outputs["t_joined"] == {"get_attr": ["one/port", "fixed_ips", 0]}
    assert outputs["t_ref"] == {"get_resource": "one/port"}


def test_get_attr_of_a_resource_only_keeps_every_attribute_for_run_time(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's get_attr [res] is every attribute but show: not the provider's raw body."""
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              app: {type: server.yaml, properties: {name: a, network: {get_resource: net}}}
            outputs:
              all: {value: {get_attr: [net]}}
              inner: {value: {get_attr: [app, resource.port]}}
              from_output: {value: {get_attr: [app, every]}}
            """,
            registry,
            {"server.yaml": SERVER + "  every: {value: {get_attr: [port]}}\n"},
        )
    )
    outputs = _outputs(plan)
    assert outputs["all"] == {"get_attr": ["net"]}
    assert outputs["from_output"] == {"get_attr": ["app/port"]}


_LISTS = """\
heat_template_version: 2018-08-31
parameters:
  names: {type: comma_delimited_list}
resources:
  first: {type: OS::Heat::Value, properties: {value: {get_param: [names, 0]}}}
  joined: {type: OS::Heat::Value, properties: {value: {list_join: ["-", {get_param: names}]}}}
"""


def test_a_run_time_string_given_to_a_comma_delimited_list_is_split_as_heat_does(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat joins a template resource's list property and parses the child's parameter
    back from that text: a string known only at run time is split on commas."""
    plan = _plan(
        _check(
            """\
            heat_template_version: 2018-08-31
            resources:
              word: {type: OS::Heat::RandomString}
              g:
                type: OS::Heat::ResourceGroup
                properties: {count: 2, resource_def: {type: OS::Heat::None}}
              from_string: {type: lists.yaml, properties: {names: {get_attr: [word, value]}}}
              from_list: {type: lists.yaml, properties: {names: {get_attr: [g, refs]}}}
            """,
            registry,
            {"lists.yaml": _LISTS},
        )
    )
    split = {"str_split": [",", {"get_attr": ["word", "value"]}]}
    assert plan.resource("from_string/joined").properties["value"] == {"list_join": ["-", split]}
    assert plan.resource("from_string/first").properties["value"] == {"Fn::Select": [0, split]}
    refs = [{"get_resource": "g/0"}, {"get_resource": "g/1"}]  # a list stays a list
    assert plan.resource("from_list/joined").properties["value"] == {"list_join": ["-", refs]}
    assert plan.resource("from_list/first").properties["value"] == {"get_resource": "g/0"}
    values = {"word": "x,y"}

    def run(expression: Any) -> Any:
        return fn.resolve(
            expression,
            get_resource=lambda name: name,
            get_attr=lambda name, attribute: values[name],
            pseudo={},
        )

    assert run(plan.resource("from_string/joined").properties["value"]) == "x-y"
    assert run(plan.resource("from_string/first").properties["value"]) == "x"
    values["word"] = "x"
    assert run({"Fn::Select": [1, split]}) == ""  # Heat's get_param past the end


def test_a_string_not_known_yet_given_to_a_comma_delimited_list_is_a_list(
    registry: ResourceTypeRegistry,
) -> None:
    """Validated without values, a string built from a parameter (``list_join`` of a
    list) given to a child's comma_delimited_list is still a list there, as it will
    be once it has a value (Heat splits it)."""
    child = """\
        heat_template_version: 2018-08-31
        parameters:
          groups: {type: comma_delimited_list}
        resources:
          port:
            type: OS::Neutron::Port
            properties: {network: private, security_groups: {get_param: groups}}
        """
    parent = """\
        heat_template_version: 2018-08-31
        parameters:
          names: {type: comma_delimited_list}
        resources:
          child: {type: child.yaml, properties: {groups: {list_join: [",", {get_param: names}]}}}
        """
    files = {"child.yaml": textwrap.dedent(child)}
    unvalued = check(textwrap.dedent(parent), registry, None, files=files)
    assert unvalued.problems == ()
    assert unvalued.missing == ("names",)
    given = _check(parent, registry, {"child.yaml": child}, {"names": "web,db"})
    assert given.problems == ()


def test_a_path_into_a_nested_output_made_at_run_time_is_followed_when_the_build_runs(
    registry: ResourceTypeRegistry,
) -> None:
    """``get_attr: [stack, output, key]`` where the output merges attributes (tripleo's
    role_data): the key is selected when the build runs, as Heat selects it then."""
    child = """\
        heat_template_version: rocky
        resources:
          v: {type: OS::Heat::Value, properties: {type: json, value: {extra: 1}}}
        outputs:
          role_data:
            value: {map_merge: [{debug: true}, {get_attr: [v, value]}]}
        """
    parent = """\
        heat_template_version: rocky
        resources:
          base: {type: child.yaml}
          debug: {type: OS::Heat::Value, properties: {value: {get_attr: [base, role_data, debug]}}}
          nope: {type: OS::Heat::Value, properties: {value: {get_attr: [base, role_data, nope]}}}
        """
    plan = _plan(_check(parent, registry, {"child.yaml": child}))

    def run(expression: Any) -> Any:
        return fn.resolve(
            expression,
            get_resource=lambda name: name,
            get_attr=lambda name, attribute: {"extra": 1},
            pseudo={},
        )

    assert run(plan.resource("debug").properties["value"]) is True
    assert run(plan.resource("nope").properties["value"]) == ""  # Fn::Select's nothing
    assert "base" in plan.resource("debug").depends_on


def test_a_nested_condition_on_a_parent_run_time_value_says_so(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        resources:
          v: {type: OS::Heat::Value, properties: {value: prod}}
          t: {type: app.yaml, properties: {env: {get_attr: [v, value]}}}
        """,
        registry,
        {
            "app.yaml": """\
            heat_template_version: 2018-08-31
            parameters:
              env: {type: string}
            conditions:
              prod: {equals: [{get_param: env}, prod]}
            """
        },
    )
    assert _located(report) == [
        (Code.INVALID_CONDITION, "app.yaml", "/conditions/prod/equals/0/get_param", 5, 20)
    ]
    (problem,) = report.problems
    assert "pseudo parameter" not in problem.message
    assert "parameter 'env'" in problem.message
    assert "known only when the build runs" in problem.message


# -- bounds on what a tree makes (review of issue 17) ---------------------------------------


def test_each_nested_template_has_its_own_budget_so_a_large_group_of_normal_members_fits(
    registry: ResourceTypeRegistry,
) -> None:
    """A group of 500 members whose template resolves 4.2 KB each was refused: the whole
    tree shared one template's 2 MiB. Each template now has its own, and the plan a
    larger bound of its own."""
    member = (
        "heat_template_version: 2018-08-31\n"
        "parameters: {script: {type: string}}\n"
        "resources:\n  v: {type: OS::Heat::Value, properties: {value: {get_param: script}}}\n"
    )
    text = f"""\
        heat_template_version: 2018-08-31
        resources:
          web:
            type: OS::Heat::ResourceGroup
            properties:
              count: 500
              resource_def: {{type: member.yaml, properties: {{script: {"x" * 4200}}}}}
        """
    plan = _plan(_check(text, registry, {"member.yaml": member}))
    assert len(plan.resources) == 1001


def test_a_group_whose_copies_would_make_a_huge_plan_is_refused_before_it_is_made(
    registry: ResourceTypeRegistry,
) -> None:
    """400 KB of template made a 442 MB plan (1.3 GB in the API): every member's copy
    of its definition is charged to the plan's budget now."""
    text = f"""\
        heat_template_version: 2018-08-31
        resources:
          g:
            type: OS::Heat::ResourceGroup
            properties:
              count: 1990
              resource_def:
                type: OS::Heat::Value
                properties: {{value: "%index%{"y" * 200_000}"}}
        """
    report = _check(text, registry, limits=Limits(max_plan_bytes=4 * 1024 * 1024))
    codes = [(p.code, p.pointer) for p in report.problems]
    assert codes == [(Code.RESOLUTION_TOO_LARGE, "/resources/g/properties/resource_def/properties")]
    assert "budget of the build's plan" in report.problems[0].message
    assert report.plan is None


def test_a_large_template_used_by_many_members_counts_its_nodes_each_time(
    registry: ResourceTypeRegistry,
) -> None:
    """Each use of a nested template is evaluated whole: a 200 KB member template in a
    group of 1,999 took a minute, parsed once but walked 1,999 times."""
    items = ", ".join(str(i) for i in range(5000))
    member = (
        "heat_template_version: 2018-08-31\n"
        "resources: {v: {type: OS::Heat::None}}\n"
        f"outputs: {{many: {{value: [{items}]}}}}\n"
    )
    text = """\
        heat_template_version: 2018-08-31
        resources:
          g:
            type: OS::Heat::ResourceGroup
            properties: {count: 100, resource_def: {type: member.yaml}}
        """
    report = _check(text, registry, {"member.yaml": member}, limits=Limits(max_nodes=100_000))
    assert [(p.code, p.pointer) for p in report.problems] == [
        (Code.TOO_LARGE, "/resources/g/properties/resource_def/type")
    ]
    assert "counted as often as it is used" in report.problems[0].message
    fits = _check(text.replace("100,", "10,"), registry, {"member.yaml": member})
    assert fits.plan is not None
