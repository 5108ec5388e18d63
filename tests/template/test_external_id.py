"""A resource's ``external_id``: accepted from 2016-10-14, as Heat reads it.

Locations: line 1 is ``heat_template_version``; every expected location was
counted by hand from the text next to it.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from cool.model import DeletionPolicy, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import compile_template
from cool.template.problems import Code
from tests.template.checking import Where, check_text, where

NET_ID = "1f0a4cb0-7b64-4c7e-9a55-4b0f9ad3c2a1"


def _plan(text: str, registry: ResourceTypeRegistry, values: dict[str, Any] | None = None) -> Plan:
    return compile_template(textwrap.dedent(text), registry, values or {})


def test_external_id_accepted_and_recorded_in_the_plan(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        f"""\
        heat_template_version: 2016-10-14
        parameters:
          net: {{type: string, default: {NET_ID}}}
        resources:
          net:
            type: OS::Neutron::Net
            external_id: {{get_param: net}}
          subnet:
            type: OS::Neutron::Subnet
            properties:
              network: {{get_resource: net}}
              cidr: 10.0.0.0/24
        outputs:
          name: {{value: {{get_attr: [net, name]}}}}
        """,
        registry,
    )
    net = plan.resource("net")
    assert net.external_id == NET_ID
    assert net.deletion_policy is DeletionPolicy.RETAIN  # as Heat's ResourceDefinition
    assert net.properties == {}
    assert net.depends_on == ()
    assert plan.resource("subnet").depends_on == ("net",)  # others may depend on it
    assert plan.levels == (("net",), ("subnet",))


def test_external_id_properties_are_neither_checked_nor_kept(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat does not use them (resource.py create, stack.py validate): a property the
    type lacks, or a value of the wrong type, is no problem."""
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          key:
            type: OS::Nova::KeyPair
            external_id: my-key
            properties:
              no_such_property: 1
              save_private_key: not-a-boolean
        """,
        registry,
    )
    assert plan.resource("key").properties == {}
    assert plan.resource("key").external_id == "my-key"


def test_external_id_references_in_its_properties_add_no_dependency(
    registry: ResourceTypeRegistry,
) -> None:
    """Heat's required_resource_names: an external resource depends on nothing."""
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          a:
            type: OS::Heat::None
          port:
            type: OS::Neutron::Port
            external_id: port-1
            properties:
              network: {get_resource: a}
        """,
        registry,
    )
    assert plan.resource("port").depends_on == ()


def test_external_id_explicit_depends_on_given_deletion_policy_is_retain(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          net:
            type: OS::Neutron::Net
            external_id: n-1
            deletion_policy: Delete
        """,
        registry,
    )
    assert plan.resource("net").deletion_policy is DeletionPolicy.RETAIN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2016-04-08
            resources:
              r:
                type: OS::Neutron::Net
                external_id: n-1
            """,
            [(Code.FEATURE_VERSION, "/resources/r/external_id", 5, 5)],
            id="version-too-old",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Neutron::Net
              r:
                type: OS::Neutron::Net
                external_id: {get_resource: a}
            """,
            [(Code.INVALID_VALUE, "/resources/r/external_id", 7, 5)],
            id="deferred-get-resource",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Neutron::Net
              r:
                type: OS::Neutron::Net
                external_id: {get_attr: [a, name]}
            """,
            [(Code.INVALID_VALUE, "/resources/r/external_id", 7, 5)],
            id="deferred-get-attr",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Neutron::Net
                external_id: ""
            """,
            [(Code.INVALID_VALUE, "/resources/r/external_id", 5, 5)],
            id="empty",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Neutron::Net
                external_id: [a, b]
            """,
            [(Code.INVALID_TYPE, "/resources/r/external_id", 5, 5)],
            id="not-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Neutron::Net
                external_id: null
            """,
            [(Code.INVALID_TYPE, "/resources/r/external_id", 5, 5)],
            id="null",
        ),
        pytest.param(
            f"""\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Neutron::Net
                external_id: {"x" * 256}
            """,
            [(Code.INVALID_VALUE, "/resources/r/external_id", 5, 5)],
            id="too-long",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Heat::None
              r:
                type: OS::Neutron::Net
                external_id: n-1
                depends_on: a
            """,
            [(Code.INVALID_VALUE, "/resources/r/depends_on", 8, 5)],
            id="depends-on",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::ResourceGroup
                external_id: g-1
                properties:
                  count: 1
                  resource_def: {type: OS::Heat::None}
            """,
            [(Code.UNSUPPORTED_FEATURE, "/resources/r/external_id", 5, 5)],
            id="nested-stack",
        ),
    ],
)
def test_external_id_refuses(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    report = check_text(text, registry, {})
    assert where(report) == sorted(expected)
    assert report.plan is None


def test_external_id_depends_on_message_names_heat_s_refusal(
    registry: ResourceTypeRegistry,
) -> None:
    report = check_text(
        """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: OS::Heat::None}
          r:
            type: OS::Neutron::Net
            external_id: n-1
            depends_on: [a]
        """,
        registry,
        {},
    )
    [problem] = report.problems
    assert "Invalid dependency with external OS::Neutron::Net resource: n-1" in problem.message


def test_external_id_from_parameter_without_value_is_not_a_problem(
    registry: ResourceTypeRegistry,
) -> None:
    report = check_text(
        """\
        heat_template_version: 2018-08-31
        parameters:
          net: {type: string}
        resources:
          r:
            type: OS::Neutron::Net
            external_id: {get_param: net}
        """,
        registry,
    )
    assert where(report) == []
    assert report.missing == ("net",)


def test_external_id_plan_round_trips(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          r:
            type: OS::Neutron::Net
            external_id: n-1
        """,
        registry,
    )
    text = plan.to_json()
    assert '"external_id":"n-1"' in text
    again = Plan.from_json(text)
    assert again == plan
    assert again.to_json() == text


def test_external_id_absent_keeps_the_plan_s_bytes(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          r: {type: OS::Neutron::Net}
        """,
        registry,
    )
    assert plan.resource("r").external_id is None
    assert "external_id" not in plan.to_json()
    assert Plan.from_json(plan.to_json()) == plan


def test_external_id_corpus_example_is_accepted(registry: ResourceTypeRegistry) -> None:
    """Heat's own example (heat-templates hot/external_resource.yaml), as it is."""
    plan = _plan(
        """\
        heat_template_version: newton
        parameters:
          external_server_id:
            type: string
            default: da5b940a-14ff-4884-8e95-5cf6a3a1028f
        resources:
          external_server:
            type: OS::Nova::Server
            external_id: { get_param: external_server_id }
        outputs:
          server_address:
            value: { get_attr: [external_server, networks, private, 0 ] }
        """,
        registry,
    )
    server = plan.resource("external_server")
    assert server.external_id == "da5b940a-14ff-4884-8e95-5cf6a3a1028f"
    assert server.properties == {}
