"""The compiler, through ``compile.check`` and ``compile_template``: every rule, valid and invalid.

Most templates start with ``heat_template_version`` on line 1 and
``resources:`` on line 2, so the first resource is on line 3, column 3, its
fields on column 5 and its properties on column 7. Locations are 1-based
and, for a mapping member, where its key is written; a list item is located
where it starts. Every expected location below was counted by hand from the
text next to it.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from cool.errors import TemplateInvalidError
from cool.model import DeletionPolicy, Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import Report, check, compile_template
from cool.template.parse import Limits
from cool.template.problems import Code
from tests.template.checking import Where
from tests.template.checking import check_text as _check
from tests.template.checking import where as _where

HEAD = "heat_template_version: 2018-08-31\nresources:\n"


def _plan(text: str, registry: ResourceTypeRegistry, values: dict[str, Any] | None = None) -> Plan:
    return compile_template(textwrap.dedent(text), registry, values or {})


def _messages(report: Report) -> list[str]:
    return [p.message for p in report.problems]


# -- sections -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources: {}
            """,
            id="empty-resources",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
            """,
            id="null-resources",
        ),
        pytest.param("heat_template_version: 2018-08-31\n", id="version-only"),
        pytest.param(
            """\
            heat_template_version: wallaby
            description: a template
            parameter_groups:
              - label: all
                parameters: [p]
            parameters:
              p: {type: string, default: x}
            resources: {}
            outputs: {}
            """,
            id="every-section",
        ),
        pytest.param(
            """\
            heat_template_version: 2013-05-23
            description: >
              folded
              text
            resources: {}
            """,
            id="oldest-version-and-folded-description",
        ),
    ],
)
def test_sections_accepts(text: str, registry: ResourceTypeRegistry) -> None:
    report = _check(text, registry, {})
    assert _where(report) == []
    assert report.plan is not None
    assert report.plan.resources == ()


def test_sections_release_alias_becomes_the_date(registry: ResourceTypeRegistry) -> None:
    plan = _plan("heat_template_version: rocky\nresources: {}\n", registry)
    assert plan.template_version == "2018-08-31"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            description: no version
            resources: {}
            """,
            [(Code.MISSING_VERSION, "", 1, 1)],
            id="missing-version",
        ),
        pytest.param(
            """\
            heat_template_version: 2012-12-12
            resources: {}
            """,
            [(Code.INVALID_VERSION, "/heat_template_version", 1, 1)],
            id="unknown-version",
        ),
        pytest.param(
            """\
            heat_template_version: 2018
            resources: {}
            """,
            [(Code.INVALID_VERSION, "/heat_template_version", 1, 1)],
            id="version-not-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resource:
              r: {type: OS::Heat::None}
            """,
            [(Code.UNKNOWN_SECTION, "/resource", 2, 1)],
            id="unknown-section",
        ),
        pytest.param(
            """\
            heat_template_version: 2016-04-08
            conditions:
              c: {equals: [1, 1]}
            resources: {}
            """,
            [(Code.FEATURE_VERSION, "/conditions", 2, 1)],
            id="conditions-before-newton",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources: {}
            parameter_defaults:
              a: 1
            """,
            [(Code.UNSUPPORTED_FEATURE, "/parameter_defaults", 3, 1)],
            id="parameter-defaults",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources: {}
            resource_registry:
              "My::Type": my.yaml
            """,
            [(Code.UNSUPPORTED_FEATURE, "/resource_registry", 3, 1)],
            id="resource-registry",
        ),
        pytest.param(
            """\
            HeatTemplateFormatVersion: '2012-12-12'
            Resources: {}
            """,
            # One problem: the format itself, not each of its sections.
            [(Code.UNSUPPORTED_FEATURE, "", 1, 1)],
            id="cloudformation-heat",
        ),
        pytest.param(
            """\
            AWSTemplateFormatVersion: '2010-09-09'
            """,
            [(Code.UNSUPPORTED_FEATURE, "", 1, 1)],
            id="cloudformation-aws",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            description: [a, b]
            resources: {}
            """,
            [(Code.INVALID_TYPE, "/description", 2, 1)],
            id="description-not-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources: [a, b]
            """,
            [(Code.INVALID_TYPE, "/resources", 2, 1)],
            id="resources-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on: a
            outputs: [a]
            """,
            [(Code.INVALID_TYPE, "/outputs", 7, 1)],
            id="outputs-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters: abc
            resources: {}
            """,
            [(Code.INVALID_TYPE, "/parameters", 2, 1)],
            id="parameters-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameter_groups:
              label: all
            resources: {}
            """,
            [(Code.INVALID_TYPE, "/parameter_groups", 2, 1)],
            id="parameter-groups-not-a-list",
        ),
    ],
)
def test_sections_refuses(text: str, expected: list[Where], registry: ResourceTypeRegistry) -> None:
    report = _check(text, registry, {})
    assert _where(report) == sorted(expected)
    assert report.plan is None


def test_sections_unknown_section_suggests_the_closest(registry: ResourceTypeRegistry) -> None:
    report = _check(
        HEAD.replace("resources:", "resource:") + "  r: {type: OS::Heat::None}\n", registry
    )
    (message,) = _messages(report)
    assert "unknown section 'resource'; did you mean 'resources'?" in message


@pytest.mark.parametrize(
    ("section", "words"),
    [
        pytest.param("parameter_defaults", "belongs in an environment", id="parameter-defaults"),
        pytest.param("resource_registry", "resource_registry", id="resource-registry"),
    ],
)
def test_sections_unsupported_section_says_why(
    section: str, words: str, registry: ResourceTypeRegistry
) -> None:
    report = _check(f"heat_template_version: 2018-08-31\n{section}: {{}}\n", registry)
    (message,) = _messages(report)
    assert words in message


def test_sections_parameters_not_a_mapping_is_reported_once_with_values(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters: [a]
        parameter_groups:
          - parameters: [a]
        resources: {}
        """,
        registry,
        {"a": 1},
    )
    assert _where(report) == sorted(
        [
            (Code.INVALID_TYPE, "/parameters", 2, 1),
            (Code.UNKNOWN_GROUP_PARAMETER, "/parameter_groups/0/parameters/0", 4, 18),
            (Code.PARAMETER_UNDECLARED, "", 1, 1),
        ]
    )


# -- resources: names, fields, types --------------------------------------------


def _named(name: str) -> str:
    return HEAD + f"  {json.dumps(name)}: {{type: OS::Heat::None}}\n"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("a", id="letter"),
        pytest.param("web.server-1_b", id="dot-dash-underscore"),
        pytest.param("_private", id="leading-underscore"),
        pytest.param("9lives", id="leading-digit"),
        pytest.param("a..b", id="inner-dots"),
        pytest.param("x" * 255, id="255-characters"),
    ],
)
def test_resources_accepts_name(name: str, registry: ResourceTypeRegistry) -> None:
    plan = _plan(_named(name), registry)
    assert [r.name for r in plan.resources] == [name]


@pytest.mark.parametrize(
    ("name", "pointer"),
    [
        pytest.param("a/b", "/resources/a~1b", id="slash"),
        pytest.param("a b", "/resources/a b", id="space"),
        pytest.param("..", "/resources/..", id="dot-dot"),
        pytest.param(".hidden", "/resources/.hidden", id="leading-dot"),
        pytest.param("-x", "/resources/-x", id="leading-dash"),
        pytest.param("a~b", "/resources/a~0b", id="tilde"),
        pytest.param("caf\u00e9", "/resources/caf\u00e9", id="non-ascii"),
        pytest.param("x" * 256, "/resources/" + "x" * 256, id="256-characters"),
    ],
)
def test_resources_refuses_name(name: str, pointer: str, registry: ResourceTypeRegistry) -> None:
    report = _check(_named(name), registry, {})
    assert _where(report) == [(Code.INVALID_NAME, pointer, 3, 3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r: OS::Heat::None
            """,
            [(Code.INVALID_TYPE, "/resources/r", 3, 3)],
            id="body-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                properties: {}
            """,
            [(Code.MISSING_KEY, "/resources/r", 3, 3)],
            id="missing-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: [OS::Heat::None]
            """,
            [(Code.INVALID_TYPE, "/resources/r/type", 4, 5)],
            id="type-not-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Nova::Servr
            """,
            [(Code.UNSUPPORTED_RESOURCE_TYPE, "/resources/r/type", 4, 5)],
            id="unknown-type",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: foo.yaml
            """,
            [(Code.MISSING_FILE, "/resources/r/type", 4, 5)],
            id="nested-template-not-in-files",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: https://example.com/templates/nested
            """,
            [(Code.UNSUPPORTED_RESOURCE_TYPE, "/resources/r/type", 4, 5)],
            id="nested-template-url",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                propertys: {}
            """,
            [(Code.UNKNOWN_KEY, "/resources/r/propertys", 5, 5)],
            id="unknown-key",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                update_policy: {rolling_update: {}}
            """,
            [(Code.UNKNOWN_KEY, "/resources/r/update_policy/rolling_update", 5, 21)],
            id="update-policy-the-type-has-none",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                condition: c
            """,
            [(Code.UNKNOWN_CONDITION, "/resources/r/condition", 5, 5)],
            id="condition-unknown",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: Snapshot
            """,
            [(Code.UNSUPPORTED_FEATURE, "/resources/r/deletion_policy", 5, 5)],
            id="deletion-policy-snapshot",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: snapshot
            """,
            [(Code.UNSUPPORTED_FEATURE, "/resources/r/deletion_policy", 5, 5)],
            id="deletion-policy-snapshot-lowercase",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: Keep
            """,
            [(Code.INVALID_VALUE, "/resources/r/deletion_policy", 5, 5)],
            id="deletion-policy-garbage",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: [Retain]
            """,
            [(Code.INVALID_VALUE, "/resources/r/deletion_policy", 5, 5)],
            id="deletion-policy-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              policy: {type: string, default: Keep}
            resources:
              r:
                type: OS::Heat::None
                deletion_policy: {get_param: policy}
            """,
            [(Code.INVALID_VALUE, "/resources/r/deletion_policy", 7, 5)],
            id="deletion-policy-garbage-from-get-param",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              r:
                type: OS::Heat::None
                deletion_policy: {get_resource: a}
            """,
            [(Code.INVALID_VALUE, "/resources/r/deletion_policy", 6, 5)],
            id="deletion-policy-from-get-resource",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                deletion_policy:
                  get_file: policy.txt
            """,
            [(Code.MISSING_FILE, "/resources/r/deletion_policy/get_file", 6, 7)],
            id="deletion-policy-get-file-missing",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                metadata: [a, b]
            """,
            [(Code.INVALID_TYPE, "/resources/r/metadata", 5, 5)],
            id="metadata-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                metadata:
                  peer: {get_resource: nobody}
            """,
            [(Code.UNKNOWN_RESOURCE, "/resources/r/metadata/peer/get_resource", 6, 14)],
            id="metadata-unknown-reference",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::None
                properties: [a]
            """,
            [(Code.INVALID_TYPE, "/resources/r/properties", 5, 5)],
            id="properties-not-a-mapping",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              props: {type: json, default: {valu: 1}}
            resources:
              b:
                type: OS::Heat::Value
                properties: {get_param: props}
            """,
            [
                (Code.UNKNOWN_PROPERTY, "/resources/b/properties/valu", 7, 5),
                (Code.MISSING_PROPERTY, "/resources/b/properties/value", 7, 5),
            ],
            id="properties-from-get-param-are-checked",
        ),
        pytest.param(
            # Known only when the build runs: the properties cannot be checked,
            # and the plan must not silently drop them.
            """\
            heat_template_version: 2018-08-31
            resources:
              a:
                type: OS::Heat::Value
                properties: {value: {value: 1}}
              b:
                type: OS::Heat::Value
                properties: {get_attr: [a, value]}
            """,
            [(Code.INVALID_TYPE, "/resources/b/properties", 8, 5)],
            id="properties-from-get-attr",
        ),
    ],
)
def test_resources_refuses(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    report = _check(text, registry, {})
    assert _where(report) == sorted(expected)
    assert report.plan is None


@pytest.mark.parametrize(
    ("type_name", "words"),
    [
        pytest.param(
            "OS::Nova::Servr",
            "resource type 'OS::Nova::Servr' is not supported by cool; "
            "did you mean 'OS::Nova::Server'?",
            id="suggestion",
        ),
        pytest.param("foo.yaml", "template 'foo.yaml' is not among the request's files", id="file"),
        pytest.param(
            "https://example.com/templates/nested",
            "looks like a template file, but Heat takes a template resource only from a name "
            "ending in .yaml or .template",
            id="url",
        ),
    ],
)
def test_resources_unknown_type_message(
    type_name: str, words: str, registry: ResourceTypeRegistry
) -> None:
    report = _check(HEAD + f"  r:\n    type: {type_name}\n", registry)
    (message,) = _messages(report)
    assert words in message


def test_resources_unknown_key_suggests_the_closest(registry: ResourceTypeRegistry) -> None:
    report = _check(HEAD + "  r:\n    type: OS::Heat::None\n    dependson: []\n", registry)
    (message,) = _messages(report)
    assert "did you mean 'depends_on'?" in message


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        pytest.param(None, DeletionPolicy.DELETE, id="default"),
        pytest.param("Delete", DeletionPolicy.DELETE, id="delete"),
        pytest.param("Retain", DeletionPolicy.RETAIN, id="retain"),
        pytest.param("retain", DeletionPolicy.RETAIN, id="retain-lowercase"),
        pytest.param("delete", DeletionPolicy.DELETE, id="delete-lowercase"),
        pytest.param("{get_param: policy}", DeletionPolicy.RETAIN, id="from-get-param"),
    ],
)
def test_resources_deletion_policy_in_the_plan(
    policy: str | None, expected: DeletionPolicy, registry: ResourceTypeRegistry
) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  policy: {type: string, default: Retain}\n"
        "resources:\n"
        "  r:\n"
        "    type: OS::Heat::None\n"
    )
    if policy is not None:
        text += f"    deletion_policy: {policy}\n"
    plan = _plan(text, registry)
    assert plan.resource("r").deletion_policy is expected


def test_resources_deletion_policy_from_parameter_without_value_is_not_a_problem(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          policy: {type: string}
        resources:
          r:
            type: OS::Heat::None
            deletion_policy: {get_param: policy}
        """,
        registry,
    )
    assert _where(report) == []
    assert report.missing == ("policy",)


def test_resources_metadata_references_add_dependencies(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          b:
            type: OS::Heat::None
            metadata:
              peer: {get_resource: a}
              name: {get_attr: [a, show]}
              plain: [1, two]
          a: {type: OS::Heat::None}
        """,
        registry,
    )
    b = plan.resource("b")
    assert b.depends_on == ("a",)
    assert b.level == 1
    assert b.metadata == {
        "peer": {"get_resource": "a"},
        "name": {"get_attr": ["a", "show"]},
        "plain": [1, "two"],
    }


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        pytest.param(2, [], id="at-the-limit"),
        pytest.param(3, [(Code.TOO_MANY_RESOURCES, "/resources", 2, 1)], id="over-the-limit"),
    ],
)
def test_resources_limit(count: int, expected: list[Where], registry: ResourceTypeRegistry) -> None:
    text = HEAD + "".join(f"  r{i}: {{type: OS::Heat::None}}\n" for i in range(count))
    report = _check(text, registry, {}, Limits(max_resources=2))
    assert _where(report) == expected


# -- properties against schemas ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  lenght: 8
            """,
            [(Code.UNKNOWN_PROPERTY, "/resources/r/properties/lenght", 6, 7)],
            id="unknown-property",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              sg:
                type: OS::Neutron::SecurityGroup
                properties:
                  rules:
                    - protcol: tcp
            """,
            [(Code.UNKNOWN_PROPERTY, "/resources/sg/properties/rules/0/protcol", 7, 11)],
            id="unknown-nested-property",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  image: cirros
                  flavor: m1.tiny
                  personality: {/etc/motd: hello}
            """,
            [(Code.UNSUPPORTED_PROPERTY, "/resources/s/properties/personality", 8, 7)],
            id="unsupported-property",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              k:
                type: OS::Nova::KeyPair
                properties:
                  public_key: ssh-ed25519 AAAA
            """,
            [(Code.MISSING_PROPERTY, "/resources/k/properties/name", 5, 5)],
            id="missing-required-located-at-properties",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              k:
                type: OS::Nova::KeyPair
            """,
            [(Code.MISSING_PROPERTY, "/resources/k/properties/name", 3, 3)],
            id="missing-required-located-at-resource",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              k:
                type: OS::Nova::KeyPair
                properties:
                  name: null
            """,
            [(Code.MISSING_PROPERTY, "/resources/k/properties/name", 6, 7)],
            id="missing-required-given-null",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  character_sequences:
                    - min: 2
            """,
            [
                (
                    Code.MISSING_PROPERTY,
                    "/resources/r/properties/character_sequences/0/sequence",
                    7,
                    11,
                )
            ],
            id="missing-required-in-list-item",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  length: abc
            """,
            [(Code.PROPERTY_TYPE, "/resources/r/properties/length", 6, 7)],
            id="integer-given-a-word",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  length: true
            """,
            [(Code.PROPERTY_TYPE, "/resources/r/properties/length", 6, 7)],
            id="integer-given-a-boolean",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              sg:
                type: OS::Neutron::SecurityGroup
                properties:
                  rules:
                    - protocol: tcp
                      port_range_min: 22
                      port_range_max: 22
                    - protocol: tcp
                      port_range_min: abc
                      port_range_max: 80
            """,
            [(Code.PROPERTY_TYPE, "/resources/sg/properties/rules/1/port_range_min", 11, 11)],
            id="integer-in-list-item",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              t:
                type: OS::Heat::TestResource
                properties:
                  action_wait_secs:
                    create: soon
            """,
            [(Code.PROPERTY_TYPE, "/resources/t/properties/action_wait_secs/create", 7, 9)],
            id="number-in-map",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              t:
                type: OS::Heat::TestResource
                properties:
                  fail: maybe
            """,
            [(Code.PROPERTY_TYPE, "/resources/t/properties/fail", 6, 7)],
            id="boolean-given-a-word",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              t:
                type: OS::Heat::TestResource
                properties:
                  fail: "yes"
            """,
            [(Code.PROPERTY_TYPE, "/resources/t/properties/fail", 6, 7)],
            id="boolean-given-yes-as-heat-refuses",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              t:
                type: OS::Heat::TestResource
                properties:
                  value: [a]
            """,
            [(Code.PROPERTY_TYPE, "/resources/t/properties/value", 6, 7)],
            id="string-given-a-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              t:
                type: OS::Heat::TestResource
                properties:
                  value: 2.5
            """,
            [(Code.PROPERTY_TYPE, "/resources/t/properties/value", 6, 7)],
            id="string-given-a-float-as-heat-refuses",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  image: cirros
                  flavor: m1.tiny
                  security_groups: default
            """,
            [(Code.PROPERTY_TYPE, "/resources/s/properties/security_groups", 8, 7)],
            id="list-given-a-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  image: cirros
                  flavor: m1.tiny
                  metadata: [a, b]
            """,
            [(Code.PROPERTY_TYPE, "/resources/s/properties/metadata", 8, 7)],
            id="map-given-a-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  image: cirros
                  flavor: m1.tiny
                  security_groups: [default, [web]]
            """,
            [(Code.PROPERTY_TYPE, "/resources/s/properties/security_groups/1", 8, 34)],
            id="string-item-given-a-list",
        ),
    ],
)
def test_properties_refuses(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    report = _check(text, registry, {})
    assert _where(report) == sorted(expected)
    assert report.plan is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param(
            HEAD + "  r:\n    type: OS::Heat::RandomString\n    properties:\n      lenght: 8\n",
            "unknown property 'lenght' in OS::Heat::RandomString; did you mean 'length'?",
            id="unknown-property-suggestion",
        ),
        pytest.param(
            HEAD + "  s:\n    type: OS::Nova::Server\n    properties:\n"
            "      image: cirros\n      flavor: m1.tiny\n      personality: {}\n",
            "property 'personality' of OS::Nova::Server is not supported by cool: deprecated",
            id="unsupported-property-reason",
        ),
        pytest.param(
            HEAD + "  k:\n    type: OS::Nova::KeyPair\n",
            "resources.k.properties.name is required",
            id="missing-property-dotted-path",
        ),
    ],
)
def test_properties_messages(text: str, words: str, registry: ResourceTypeRegistry) -> None:
    (message,) = _messages(_check(text, registry))
    assert words in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: private
                  cidr: 10.0.0.0/24
                  ip_version: 5
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/s/properties/ip_version", 8, 7)],
            id="allowed-values",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              sg:
                type: OS::Neutron::SecurityGroup
                properties:
                  rules:
                    - direction: sideways
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/sg/properties/rules/0/direction", 7, 11)],
            id="allowed-values-in-list-item",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  length: 0
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/r/properties/length", 6, 7)],
            id="range-below",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              r:
                type: OS::Heat::RandomString
                properties:
                  length: "513"
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/r/properties/length", 6, 7)],
            id="range-above-after-coercion",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              k:
                type: OS::Nova::KeyPair
                properties:
                  name: ""
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/k/properties/name", 6, 7)],
            id="length",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: private
                  cidr: 10.0.0.0/33
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/s/properties/cidr", 7, 7)],
            id="custom-net-cidr",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: private
                  cidr: 10.0.0.0/24
                  allocation_pools:
                    - start: 10.0.0.300
                      end: 10.0.0.20
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/s/properties/allocation_pools/0/start", 9, 11)],
            id="custom-ip-addr-in-list-item",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              p:
                type: OS::Neutron::Port
                properties:
                  network: private
                  mac_address: fa:16:3e:zz:00:01
            """,
            [(Code.PROPERTY_CONSTRAINT, "/resources/p/properties/mac_address", 7, 7)],
            id="custom-mac-addr",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              ri:
                type: OS::Neutron::RouterInterface
                properties:
                  router: r1
                  subnet: s1
                  port: p1
            """,
            [(Code.PROPERTY_CONFLICT, "/resources/ri/properties/port", 8, 7)],
            id="router-interface-subnet-and-port",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              ri:
                type: OS::Neutron::RouterInterface
                properties:
                  router: r1
            """,
            [(Code.MISSING_PROPERTY, "/resources/ri/properties/subnet", 5, 5)],
            id="router-interface-neither-subnet-nor-port",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: private
                  cidr: 10.0.0.0/24
                  allocation_pools: [{start: 10.0.1.1, end: 10.0.1.9}]
            """,
            [
                (Code.PROPERTY_CONSTRAINT, "/resources/s/properties/allocation_pools/0/end", 8, 44),
                (
                    Code.PROPERTY_CONSTRAINT,
                    "/resources/s/properties/allocation_pools/0/start",
                    8,
                    27,
                ),
            ],
            id="subnet-pool-outside-cidr",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  flavor: m1.small
            """,
            [(Code.MISSING_PROPERTY, "/resources/s/properties/image", 5, 5)],
            id="server-without-boot-source",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: private
                  network_id: private
                  cidr: 10.0.0.0/24
            """,
            [(Code.PROPERTY_CONFLICT, "/resources/s/properties/network_id", 7, 7)],
            id="subnet-network-and-deprecated-network-id",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  cidr: 10.0.0.0/24
            """,
            [(Code.MISSING_PROPERTY, "/resources/s/properties/network", 5, 5)],
            id="subnet-without-network",
        ),
    ],
)
def test_properties_refuses_constraint_and_cross_check(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    report = _check(text, registry, {})
    assert _where(report) == sorted(expected)


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        pytest.param(
            HEAD + "  r:\n    type: OS::Heat::RandomString\n    properties:\n      length: '5'\n",
            "r",
            {"length": 5},
            id="string-to-integer",
        ),
        pytest.param(
            HEAD + "  r:\n    type: OS::Heat::RandomString\n    properties:\n      length: ' 7 '\n",
            "r",
            {"length": 7},
            id="padded-string-to-integer",
        ),
        pytest.param(
            HEAD + "  t:\n    type: OS::Heat::TestResource\n    properties:\n"
            "      value: 5\n      fail: 'true'\n      wait_secs: '1.5'\n",
            "t",
            {"value": "5", "fail": True, "wait_secs": 1.5, "attr_wait_secs": 0},
            id="integer-to-string-string-to-boolean-and-number",
        ),
        pytest.param(
            HEAD + "  t:\n    type: OS::Heat::TestResource\n    properties:\n      fail: 'False'\n",
            "t",
            {"value": "test_string", "fail": False, "wait_secs": 0, "attr_wait_secs": 0},
            id="capitalised-false",
        ),
        pytest.param(
            HEAD + "  t:\n    type: OS::Heat::TestResource\n    properties:\n      value: true\n",
            "t",
            # Heat's String property takes a boolean as str(value): "True".
            {"value": "True", "fail": False, "wait_secs": 0, "attr_wait_secs": 0},
            id="boolean-to-string-as-heat",
        ),
        pytest.param(
            HEAD + "  r:\n    type: OS::Heat::RandomString\n",
            "r",
            {"length": 32},
            id="default-length",
        ),
        pytest.param(
            HEAD + "  t:\n    type: OS::Heat::TestResource\n    properties:\n"
            "      value: null\n      wait_secs: null\n",
            "t",
            {"value": "test_string", "fail": False, "wait_secs": 0, "attr_wait_secs": 0},
            id="null-means-not-set",
        ),
        pytest.param(
            HEAD + "  sg:\n    type: OS::Neutron::SecurityGroup\n    properties:\n"
            "      rules:\n        - {protocol: tcp, port_range_min: '22', port_range_max: 22}\n",
            "sg",
            {
                "rules": [
                    {
                        "protocol": "tcp",
                        "port_range_min": 22,
                        "port_range_max": 22,
                        "direction": "ingress",
                        "ethertype": "IPv4",
                        "remote_mode": "remote_ip_prefix",
                    }
                ]
            },
            id="coercion-and-defaults-in-list-items",
        ),
        pytest.param(
            HEAD + "  s:\n    type: OS::Neutron::Subnet\n    properties:\n"
            "      network_id: private\n      cidr: 10.0.0.0/24\n",
            "s",
            {
                "network": "private",
                "cidr": "10.0.0.0/24",
                "value_specs": {},
                "ip_version": 4,
                "dns_nameservers": [],
                "enable_dhcp": True,
            },
            id="deprecated-name-renamed",
        ),
        pytest.param(
            HEAD + "  n:\n    type: OS::Heat::None\n    properties:\n"
            "      anything: [1, {a: b}]\n      stack: {get_param: OS::stack_name}\n",
            "n",
            {"anything": [1, {"a": "b"}], "stack": {"get_param": "OS::stack_name"}},
            id="none-takes-anything",
        ),
    ],
)
def test_properties_in_the_plan(
    text: str, name: str, expected: dict[str, Any], registry: ResourceTypeRegistry
) -> None:
    assert _plan(text, registry).resource(name).properties == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  flavor: m1.small
                  block_device_mapping_v2:
                    - volume_id: vol-1
                      boot_index: 0
            """,
            id="server-boots-from-volume",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              ri:
                type: OS::Neutron::RouterInterface
                properties:
                  router: r1
                  port: p1
            """,
            id="router-interface-port-only",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: private
                  cidr: 10.0.0.0/24
                  gateway_ip: 10.0.0.1
                  allocation_pools: [{start: 10.0.0.10, end: 10.0.0.20}]
                  host_routes: [{destination: 0.0.0.0/0, nexthop: 10.0.0.254}]
            """,
            id="subnet-addresses-inside-cidr",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              n:
                type: OS::Heat::None
                properties:
                  unknown_to_anyone: {nested: [null, 1.5, true]}
            """,
            id="none-accepts-any-properties",
        ),
    ],
)
def test_properties_accepts(text: str, registry: ResourceTypeRegistry) -> None:
    assert _where(_check(text, registry, {})) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              sg: {type: OS::Neutron::SecurityGroup}
              s:
                type: OS::Nova::Server
                properties:
                  image: cirros
                  flavor: m1.small
                  security_groups: {get_resource: sg}
            """,
            [(Code.PROPERTY_TYPE, "/resources/s/properties/security_groups", 9, 7)],
            id="get-resource-into-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              s:
                type: OS::Neutron::Subnet
                properties:
                  network: {get_attr: [net, subnets]}
                  cidr: 10.0.0.0/24
            """,
            [(Code.PROPERTY_TYPE, "/resources/s/properties/network", 7, 7)],
            id="list-attribute-into-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              count: {type: number}
            resources:
              s:
                type: OS::Nova::Server
                properties:
                  image: cirros
                  flavor: m1.small
                  networks: {get_param: count}
            """,
            [(Code.PROPERTY_TYPE, "/resources/s/properties/networks", 10, 7)],
            id="number-parameter-without-value-into-list",
        ),
    ],
)
def test_properties_refuses_deferred_value_of_wrong_type(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    assert _where(_check(text, registry)) == expected


def test_properties_deferred_value_of_compatible_type_is_kept(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          net: {type: OS::Neutron::Net}
          s:
            type: OS::Neutron::Subnet
            properties:
              network: {get_resource: net}
              cidr: 10.0.0.0/24
              ip_version: {get_attr: [net, mtu]}
        """,
        registry,
    )
    properties = plan.resource("s").properties
    assert properties["network"] == {"get_resource": "net"}
    assert properties["ip_version"] == {"get_attr": ["net", "mtu"]}


# -- references -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              port:
                type: OS::Neutron::Port
                properties:
                  network:
                    get_resource: nett
            """,
            [(Code.UNKNOWN_RESOURCE, "/resources/port/properties/network/get_resource", 8, 9)],
            id="get-resource-unknown",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    get_attr: [nett, name]
            """,
            [(Code.UNKNOWN_RESOURCE, "/resources/v/properties/value/get_attr/0", 8, 20)],
            id="get-attr-unknown-resource",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    get_attr: [net, nmae]
            """,
            [(Code.UNKNOWN_ATTRIBUTE, "/resources/v/properties/value/get_attr/1", 8, 25)],
            id="get-attr-unknown-attribute",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    get_attr: [net, name, 0]
            """,
            [(Code.INVALID_PATH, "/resources/v/properties/value/get_attr/2", 8, 31)],
            id="get-attr-path-on-string-attribute",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              net: {type: OS::Neutron::Net}
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    get_attr: [net, name, [0]]
            """,
            [(Code.INVALID_PATH, "/resources/v/properties/value/get_attr/2", 8, 31)],
            id="get-attr-path-step-not-a-key",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              name: {type: string, default: x}
            resources:
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    get_param: nme
            """,
            [(Code.UNKNOWN_PARAMETER, "/resources/v/properties/value/get_param", 9, 9)],
            id="get-param-unknown",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    get_param: [OS::stack_name, 0]
            """,
            [(Code.INVALID_PATH, "/resources/v/properties/value/get_param", 7, 9)],
            id="pseudo-parameter-with-path",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              p:
                type: OS::Heat::Value
                properties:
                  value:
                    get_resource: p
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/p/properties/value/get_resource", 7, 9)],
            id="self-reference-get-resource",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              p:
                type: OS::Heat::Value
                properties:
                  value:
                    get_attr: [p, value]
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/p/properties/value/get_attr/0", 7, 20)],
            id="self-reference-get-attr",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on: aa
            """,
            [(Code.UNKNOWN_RESOURCE, "/resources/b/depends_on", 6, 5)],
            id="depends-on-unknown-string",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on: [a, c]
            """,
            [(Code.UNKNOWN_RESOURCE, "/resources/b/depends_on/1", 6, 21)],
            id="depends-on-unknown-in-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on: b
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/b/depends_on", 6, 5)],
            id="depends-on-self",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on:
                  - a
                  - b
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/b/depends_on/1", 8, 9)],
            id="depends-on-self-in-list",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on: [1]
            """,
            [(Code.INVALID_TYPE, "/resources/b/depends_on/0", 6, 18)],
            id="depends-on-non-string-item",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              a: {type: OS::Heat::None}
              b:
                type: OS::Heat::None
                depends_on: {a: b}
            """,
            [(Code.INVALID_TYPE, "/resources/b/depends_on", 6, 5)],
            id="depends-on-mapping",
        ),
        pytest.param(
            # 'a' exists; it is reported once, where it is wrong.
            """\
            heat_template_version: 2018-08-31
            resources:
              a: 5
              b:
                type: OS::Heat::None
                depends_on: a
                properties:
                  x: {get_resource: a}
            """,
            [(Code.INVALID_TYPE, "/resources/a", 3, 3)],
            id="reference-to-malformed-resource",
        ),
    ],
)
def test_references_refuses(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    report = _check(text, registry, {})
    assert _where(report) == sorted(expected)
    assert report.plan is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param(
            HEAD + "  net: {type: OS::Neutron::Net}\n  v:\n    type: OS::Heat::Value\n"
            "    properties:\n      value: {get_resource: nett}\n",
            "get_resource refers to unknown resource 'nett'; did you mean 'net'?",
            id="get-resource-suggestion",
        ),
        pytest.param(
            HEAD + "  net: {type: OS::Neutron::Net}\n  v:\n    type: OS::Heat::Value\n"
            "    properties:\n      value: {get_attr: [nett, name]}\n",
            "get_attr refers to unknown resource 'nett'; did you mean 'net'?",
            id="get-attr-suggestion",
        ),
        pytest.param(
            HEAD + "  net: {type: OS::Neutron::Net}\n  v:\n    type: OS::Heat::Value\n"
            "    properties:\n      value: {get_attr: [net, nmae]}\n",
            "resource 'net' (OS::Neutron::Net) has no attribute 'nmae'; did you mean 'name'? "
            "(attributes: admin_state_up, l2_adjacency, mtu, name, port_security_enabled, "
            "qos_policy_id, segments, show, status, subnets, tenant_id)",
            id="get-attr-lists-attributes",
        ),
        pytest.param(
            HEAD + "  a: {type: OS::Heat::None}\n  b:\n    type: OS::Heat::None\n"
            "    depends_on: [aa]\n",
            "depends_on names unknown resource 'aa'; did you mean 'a'?",
            id="depends-on-suggestion",
        ),
    ],
)
def test_references_messages(text: str, words: str, registry: ResourceTypeRegistry) -> None:
    (message,) = _messages(_check(text, registry))
    assert words in message


def test_references_get_attr_into_none_takes_any_attribute(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          n: {type: OS::Heat::None}
          v:
            type: OS::Heat::Value
            properties:
              value: {get_attr: [n, whatever, deep, 0]}
        """,
        registry,
    )
    assert plan.resource("v").properties == {"value": {"get_attr": ["n", "whatever", "deep", 0]}}
    assert plan.resource("v").depends_on == ("n",)


def test_references_get_attr_with_path_into_map_attribute(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          s:
            type: OS::Nova::Server
            properties: {image: cirros, flavor: m1.small}
          v:
            type: OS::Heat::Value
            properties:
              value: {get_attr: [s, networks, private, 0]}
        """,
        registry,
    )
    assert plan.resource("v").properties == {"value": {"get_attr": ["s", "networks", "private", 0]}}


def test_references_pseudo_parameters_are_kept_for_the_build(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          n:
            type: OS::Heat::None
            properties:
              name: {get_param: OS::stack_name}
              id: {get_param: OS::stack_id}
              project: {get_param: OS::project_id}
        outputs:
          name: {value: {get_param: OS::stack_name}}
        """,
        registry,
    )
    assert plan.resource("n").properties == {
        "name": {"get_param": "OS::stack_name"},
        "id": {"get_param": "OS::stack_id"},
        "project": {"get_param": "OS::project_id"},
    }
    assert plan.outputs[0].value == {"get_param": "OS::stack_name"}


def test_references_pseudo_parameter_cannot_be_declared(registry: ResourceTypeRegistry) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          OS::stack_name: {type: string, default: x}
        resources: {}
        """,
        registry,
        {},
    )
    assert _where(report) == [(Code.INVALID_NAME, "/parameters/OS::stack_name", 3, 3)]


@pytest.mark.parametrize(
    ("depends_on", "expected"),
    [
        pytest.param("a", ("a",), id="string"),
        pytest.param("[a]", ("a",), id="list-of-one"),
        pytest.param("[c, a]", ("a", "c"), id="list-sorted"),
        pytest.param("[a, a]", ("a",), id="list-duplicates"),
        pytest.param("[]", (), id="empty-list"),
    ],
)
def test_references_depends_on_in_the_plan(
    depends_on: str, expected: tuple[str, ...], registry: ResourceTypeRegistry
) -> None:
    text = (
        HEAD
        + "  a: {type: OS::Heat::None}\n  c: {type: OS::Heat::None}\n"
        + f"  b:\n    type: OS::Heat::None\n    depends_on: {depends_on}\n"
    )
    assert _plan(text, registry).resource("b").depends_on == expected


def test_references_implied_dependencies_are_sorted(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          z: {type: OS::Heat::None}
          m: {type: OS::Heat::None}
          b: {type: OS::Heat::None}
          a:
            type: OS::Heat::None
            depends_on: [z]
            properties:
              x: {get_attr: [m, show]}
              y: {get_resource: z}
            metadata:
              peer: {get_resource: b}
        """,
        registry,
    )
    assert plan.resource("a").depends_on == ("b", "m", "z")
    assert plan.resource("a").level == 1


@pytest.mark.parametrize(
    ("text", "expected", "message"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              b:
                type: OS::Heat::Value
                properties:
                  value: {get_attr: [a, value]}
              a:
                type: OS::Heat::Value
                depends_on: b
                properties:
                  value: 1
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a", 7, 3)],
            "dependency cycle: a -> b -> a (each depends on the next)",
            id="two-through-get-attr-and-depends-on",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              c:
                type: OS::Heat::None
                properties:
                  x: {get_resource: a}
              b:
                type: OS::Heat::None
                properties:
                  x: {get_attr: [c, show]}
              a:
                type: OS::Heat::None
                depends_on: [b]
              d:
                type: OS::Heat::None
                depends_on: a
            """,
            [(Code.DEPENDENCY_CYCLE, "/resources/a", 11, 3)],
            "dependency cycle: a -> b -> c -> a (each depends on the next)",
            id="three-with-a-dependent-outside",
        ),
    ],
)
def test_references_reports_cycle(
    text: str, expected: list[Where], message: str, registry: ResourceTypeRegistry
) -> None:
    report = _check(text, registry, {})
    assert _where(report) == expected
    assert _messages(report) == [message]
    assert report.levels == ()
    assert report.plan is None


def test_references_levels(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        resources:
          bottom:
            type: OS::Heat::None
            depends_on: [left, right]
          right:
            type: OS::Heat::None
            properties: {x: {get_attr: [top, show]}}
          left:
            type: OS::Heat::None
            properties: {x: {get_resource: top}}
          top: {type: OS::Heat::None}
          solo: {type: OS::Heat::None}
        """
    expected = (("solo", "top"), ("left", "right"), ("bottom",))
    report = _check(text, registry, {})
    assert report.levels == expected
    assert report.dependencies == {
        "bottom": ("left", "right"),
        "right": ("top",),
        "left": ("top",),
        "top": (),
        "solo": (),
    }
    plan = report.plan
    assert plan is not None
    assert plan.levels == expected
    assert [(r.name, r.level) for r in plan.resources] == [
        ("solo", 0),
        ("top", 0),
        ("left", 1),
        ("right", 1),
        ("bottom", 2),
    ]


# -- functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args"),
    [
        pytest.param("Fn::GetAtt", "[a, b]", id="fn-getatt"),
        pytest.param("Fn::If", "[c, a, b]", id="fn-if"),
    ],
)
def test_functions_refuses_unsupported(
    name: str, args: str, registry: ResourceTypeRegistry
) -> None:
    text = (
        HEAD
        + "  v:\n    type: OS::Heat::Value\n    properties:\n      value:\n"
        + f"        {name}: {args}\n"
    )
    report = _check(text, registry, {})
    assert _where(report) == [
        (Code.UNSUPPORTED_FUNCTION, f"/resources/v/properties/value/{name}", 7, 9)
    ]
    (message,) = _messages(report)
    assert f"intrinsic function {name!r} is not supported by cool" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              v:
                type: OS::Heat::Value
                properties:
                  value:
                    str_replace:
                      template: {get_file: motd.txt}
                      params: {}
            """,
            [
                (
                    Code.MISSING_FILE,
                    "/resources/v/properties/value/str_replace/template/get_file",
                    8,
                    22,
                )
            ],
            id="inside-str-replace",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources: {}
            outputs:
              o:
                value:
                  Fn::Base64: abc
            """,
            # Heat's HOT has it in 2013-05-23 only (tests/template/test_hot_functions.py).
            [(Code.FUNCTION_VERSION, "/outputs/o/value/Fn::Base64", 6, 7)],
            id="in-outputs",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            resources:
              n:
                type: OS::Heat::None
                metadata:
                  items: [{Fn::GetAtt: [a, b]}]
            """,
            [(Code.UNSUPPORTED_FUNCTION, "/resources/n/metadata/items/0/Fn::GetAtt", 6, 16)],
            id="in-metadata-list",
        ),
    ],
)
def test_functions_refuses_unsupported_anywhere(
    text: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    assert _where(_check(text, registry, {})) == expected


def _function(line: str) -> str:
    return (
        HEAD + "  net: {type: OS::Neutron::Net}\n  v:\n    type: OS::Heat::Value\n"
        "    properties:\n      value:\n" + f"        {line}\n"
    )


@pytest.mark.parametrize(
    ("line", "pointer", "column"),
    [
        pytest.param("get_attr: net", "/get_attr", 9, id="get-attr-not-a-list"),
        pytest.param("get_attr: []", "/get_attr", 9, id="get-attr-empty"),
        pytest.param("get_attr: [[net], name]", "/get_attr", 9, id="get-attr-name-not-a-string"),
        pytest.param("get_resource: [net]", "/get_resource", 9, id="get-resource-list"),
        pytest.param("get_param: []", "/get_param", 9, id="get-param-empty-list"),
        pytest.param("get_param: {a: b}", "/get_param", 9, id="get-param-mapping"),
        pytest.param("str_replace: x", "/str_replace", 9, id="str-replace-not-a-mapping"),
        pytest.param("str_replace: {template: x}", "/str_replace", 9, id="str-replace-no-params"),
        pytest.param(
            "str_replace: {template: x, params: {}, extra: 1}",
            "/str_replace",
            9,
            id="str-replace-extra-key",
        ),
        pytest.param(
            "str_replace: {template: [a], params: {}}",
            "/str_replace/template",
            23,
            id="str-replace-template-not-a-string",
        ),
        pytest.param(
            "str_replace: {template: x, params: [a]}",
            "/str_replace/params",
            36,
            id="str-replace-params-not-a-mapping",
        ),
        pytest.param("list_join: a", "/list_join", 9, id="list-join-not-a-list"),
        pytest.param("list_join: [',']", "/list_join", 9, id="list-join-no-lists"),
        pytest.param("list_join: [1, [a]]", "/list_join/0", 21, id="list-join-delimiter"),
        pytest.param(
            "list_join: [',', notalist]", "/list_join/1", 26, id="list-join-item-not-a-list"
        ),
        pytest.param(
            "list_join: [',', {get_attr: [net, name]}]",
            "/list_join/1",
            26,
            id="list-join-string-attribute",
        ),
    ],
)
def test_functions_refuses_malformed(
    line: str, pointer: str, column: int, registry: ResourceTypeRegistry
) -> None:
    report = _check(_function(line), registry, {})
    assert _where(report) == [
        (Code.INVALID_FUNCTION, "/resources/v/properties/value" + pointer, 8, column)
    ]


def test_functions_fold_when_static(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          name: {type: string, default: world}
          hosts: {type: comma_delimited_list, default: "a, b,c"}
          port: {type: number, default: 80}
        resources:
          greet:
            type: OS::Heat::Value
            properties:
              value:
                str_replace:
                  template: hello NAME on PORT
                  params:
                    NAME: {get_param: name}
                    PORT: {get_param: port}
          joined:
            type: OS::Heat::Value
            properties:
              value: {list_join: [",", {get_param: hosts}, [d]]}
          nested:
            type: OS::Heat::Value
            properties:
              value:
                list_join:
                  - {str_replace: {template: "-X-", params: {X: {get_param: name}}}}
                  - [1, 2]
        """
    plan = _plan(text, registry)
    assert plan.resource("greet").properties == {"value": "hello world on 80"}
    assert plan.resource("joined").properties == {"value": "a,b,c,d"}
    assert plan.resource("nested").properties == {"value": "1-world-2"}
    given = _plan(text, registry, {"name": "you", "hosts": "x,y"})
    assert given.resource("greet").properties == {"value": "hello you on 80"}
    assert given.resource("joined").properties == {"value": "x,y,d"}


def test_functions_kept_as_expressions_over_get_attr(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        parameters:
          project: {type: string, default: demo}
          hosts: {type: comma_delimited_list, default: "a,b"}
        resources:
          net: {type: OS::Neutron::Net}
          replaced:
            type: OS::Heat::Value
            properties:
              value:
                str_replace:
                  template: net NAME in PROJECT
                  params:
                    NAME: {get_attr: [net, name]}
                    PROJECT: {get_param: project}
          joined:
            type: OS::Heat::Value
            properties:
              value:
                list_join: ["-", [{get_attr: [net, name]}, x], {get_param: hosts}]
        """,
        registry,
    )
    replaced = plan.resource("replaced").properties
    assert json.dumps(replaced, sort_keys=True, separators=(",", ":")) == (
        '{"value":{"str_replace":{"params":{"NAME":{"get_attr":["net","name"]},'
        '"PROJECT":"demo"},"template":"net NAME in PROJECT"}}}'
    )
    joined = plan.resource("joined").properties
    assert json.dumps(joined, sort_keys=True, separators=(",", ":")) == (
        '{"value":{"list_join":["-",[{"get_attr":["net","name"]},"x"],["a","b"]]}}'
    )
    assert plan.resource("replaced").depends_on == ("net",)
    assert plan.resource("joined").depends_on == ("net",)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              blob: {type: json}
            resources: {}
            """,
            {"blob": {"a": [{"get_resource": "x"}]}},
            [(Code.PARAMETER_VALUE, "/parameters/blob", 3, 3)],
            id="value",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              blob: {type: json}
            resources: {}
            """,
            {"blob": '{"Fn::GetAtt": ["a", "b"]}'},
            [(Code.PARAMETER_VALUE, "/parameters/blob", 3, 3)],
            id="value-as-json-text",
        ),
        pytest.param(
            """\
            heat_template_version: 2018-08-31
            parameters:
              blob:
                type: json
                default:
                  get_param: other
            resources: {}
            """,
            {},
            # Reported once, by the declaration: a default is a plain value.
            [(Code.INVALID_PARAMETER, "/parameters/blob/default", 5, 5)],
            id="default",
        ),
    ],
)
def test_functions_json_parameter_shaped_like_a_function_is_refused(
    text: str, values: dict[str, Any], expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    assert _where(_check(text, registry, values)) == expected


# -- outputs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        pytest.param(
            "  o:\n    description: nothing\n",
            [(Code.MISSING_KEY, "/outputs/o", 5, 3)],
            id="missing-value",
        ),
        pytest.param(
            "  o:\n    value: 1\n    valeu: 2\n",
            [(Code.UNKNOWN_KEY, "/outputs/o/valeu", 7, 5)],
            id="unknown-key",
        ),
        pytest.param(
            "  o:\n    value: 1\n    condition: c\n",
            [(Code.UNKNOWN_CONDITION, "/outputs/o/condition", 7, 5)],
            id="condition-unknown",
        ),
        pytest.param(
            "  o:\n    value: 1\n    description: [a]\n",
            [(Code.INVALID_TYPE, "/outputs/o/description", 7, 5)],
            id="description-not-a-string",
        ),
        pytest.param("  o: 5\n", [(Code.INVALID_TYPE, "/outputs/o", 5, 3)], id="not-a-mapping"),
        pytest.param(
            "  o:\n    value: {get_attr: [nope, x]}\n",
            [(Code.UNKNOWN_RESOURCE, "/outputs/o/value/get_attr/0", 6, 24)],
            id="unknown-resource",
        ),
        pytest.param(
            "  o:\n    value: {get_attr: [n, nope]}\n",
            [(Code.UNKNOWN_ATTRIBUTE, "/outputs/o/value/get_attr/1", 6, 27)],
            id="unknown-attribute",
        ),
        pytest.param(
            "  o:\n    value:\n      get_param: nope\n",
            [(Code.UNKNOWN_PARAMETER, "/outputs/o/value/get_param", 7, 7)],
            id="unknown-parameter",
        ),
        pytest.param(
            "  o:\n    value:\n      get_resource: n\n    description: the id\n", [], id="valid"
        ),
    ],
)
def test_outputs_checks(
    outputs: str, expected: list[Where], registry: ResourceTypeRegistry
) -> None:
    text = HEAD + "  n: {type: OS::Nova::KeyPair, properties: {name: k}}\noutputs:\n" + outputs
    assert _where(_check(text, registry, {})) == sorted(expected)


def test_outputs_in_the_plan_sorted_by_name(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          n: {type: OS::Heat::None}
        outputs:
          zeta: {value: {get_attr: [n, show]}, description: last}
          alpha: {value: 1}
          mid: {value: {get_resource: n}}
        """,
        registry,
    )
    assert [(o.name, o.value, o.description) for o in plan.outputs] == [
        ("alpha", 1, ""),
        ("mid", {"get_resource": "n"}, ""),
        ("zeta", {"get_attr": ["n", "show"]}, "last"),
    ]
    # Outputs read resources once the build is done; they add no dependency.
    assert plan.resource("n").depends_on == ()


# -- the plan ---------------------------------------------------------------------

SMALL = """\
heat_template_version: 2018-08-31
description: A small plan
parameters:
  length: {type: number, default: 12}
resources:
  secret:
    type: OS::Heat::RandomString
    deletion_policy: Retain
    properties:
      length: {get_param: length}
  holder:
    type: OS::Heat::Value
    properties:
      value: {get_attr: [secret, value]}
outputs:
  password:
    description: the secret
    value: {get_attr: [holder, value]}
"""

# The same template with every mapping's keys in another order.
SMALL_REORDERED = """\
outputs:
  password:
    value: {get_attr: [holder, value]}
    description: the secret
resources:
  holder:
    properties:
      value: {get_attr: [secret, value]}
    type: OS::Heat::Value
  secret:
    properties:
      length: {get_param: length}
    deletion_policy: Retain
    type: OS::Heat::RandomString
parameters:
  length: {default: 12, type: number}
description: A small plan
heat_template_version: 2018-08-31
"""

SMALL_JSON = (
    '{"description":"A small plan","format":1,'
    '"outputs":[{"description":"the secret","name":"password",'
    '"value":{"get_attr":["holder","value"]}}],'
    '"parameters":[{"hidden":false,"name":"length","type":"number","value":12}],'
    '"resources":['
    '{"deletion_policy":"Retain","depends_on":[],"level":0,"metadata":{},"name":"secret",'
    '"properties":{"length":12},"type":"OS::Heat::RandomString"},'
    '{"deletion_policy":"Delete","depends_on":["secret"],"level":1,"metadata":{},'
    '"name":"holder","properties":{"value":{"get_attr":["secret","value"]}},'
    '"type":"OS::Heat::Value"}],'
    '"template_version":"2018-08-31"}'
)


def test_plan_json_is_exact(registry: ResourceTypeRegistry) -> None:
    assert compile_template(SMALL, registry, {}).to_json() == SMALL_JSON


def test_plan_round_trips_through_json(registry: ResourceTypeRegistry) -> None:
    plan = compile_template(SMALL, registry, {"length": "20"})
    assert plan.resource("secret").properties == {"length": 20}
    assert Plan.from_json(plan.to_json()) == plan


def test_plan_does_not_depend_on_key_order(registry: ResourceTypeRegistry) -> None:
    first = compile_template(SMALL, registry, {})
    again = compile_template(SMALL, registry, {})
    reordered = compile_template(SMALL_REORDERED, registry, {})
    assert first.to_json() == again.to_json() == reordered.to_json() == SMALL_JSON


def test_plan_resources_in_level_then_name_order(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        """\
        heat_template_version: 2018-08-31
        resources:
          zz: {type: OS::Heat::None, depends_on: b}
          b: {type: OS::Heat::None}
          y: {type: OS::Heat::None}
          aa: {type: OS::Heat::None, depends_on: zz}
          a: {type: OS::Heat::None, depends_on: [b, y]}
        """,
        registry,
    )
    assert [r.name for r in plan.resources] == ["b", "y", "a", "zz", "aa"]
    assert plan.levels == (("b", "y"), ("a", "zz"), ("aa",))


def test_plan_compile_template_raises_every_problem(registry: ResourceTypeRegistry) -> None:
    text = HEAD + "  a: {type: OS::Nova::Servr}\n  b: {type: OS::Heat::None, depends_on: c}\n"
    with pytest.raises(TemplateInvalidError) as raised:
        compile_template(text, registry)
    assert sorted((p.code, p.pointer, p.line, p.column) for p in raised.value.problems) == [
        (Code.UNKNOWN_RESOURCE, "/resources/b/depends_on", 4, 29),
        (Code.UNSUPPORTED_RESOURCE_TYPE, "/resources/a/type", 3, 7),
    ]


# -- every problem at once --------------------------------------------------------


def test_check_reports_every_problem_at_once(registry: ResourceTypeRegistry) -> None:
    report = _check(
        """\
        heat_template_version: 2018-08-31
        parameters:
          size: {type: number}
        conditions: {}
        resources:
          net:
            type: OS::Neutron::Nett
          port:
            type: OS::Neutron::Port
            properties:
              network: {get_resource: nett}
              mac_address: not-a-mac
          key:
            type: OS::Nova::KeyPair
            update_policy: {batch_create: {}}
          rand:
            type: OS::Heat::RandomString
            properties:
              length: {get_param: sise}
              salt: {get_file: salt.txt}
        outputs:
          out:
            value: {get_attr: [key, private]}
            extra: 1
        """,
        registry,
        {},
    )
    assert _where(report) == sorted(
        [
            (Code.PARAMETER_MISSING, "/parameters/size", 3, 3),
            (Code.UNSUPPORTED_RESOURCE_TYPE, "/resources/net/type", 7, 5),
            (Code.UNKNOWN_RESOURCE, "/resources/port/properties/network/get_resource", 11, 17),
            (Code.PROPERTY_CONSTRAINT, "/resources/port/properties/mac_address", 12, 7),
            (Code.MISSING_PROPERTY, "/resources/key/properties/name", 13, 3),
            (Code.UNKNOWN_KEY, "/resources/key/update_policy/batch_create", 15, 21),
            (Code.UNKNOWN_PARAMETER, "/resources/rand/properties/length/get_param", 19, 16),
            (Code.MISSING_FILE, "/resources/rand/properties/salt/get_file", 20, 14),
            (Code.UNKNOWN_ATTRIBUTE, "/outputs/out/value/get_attr/1", 23, 29),
            (Code.UNKNOWN_KEY, "/outputs/out/extra", 24, 5),
        ]
    )
    assert report.plan is None


# -- without values -----------------------------------------------------------------

NEEDS_VALUES = """\
heat_template_version: 2018-08-31
parameters:
  image: {type: string}
  flavor: {type: string, default: m1.small}
  count: {type: number}
resources:
  net: {type: OS::Neutron::Net}
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks:
        - network: {get_resource: net}
"""


def test_check_without_values_lists_what_is_missing(registry: ResourceTypeRegistry) -> None:
    report = check(NEEDS_VALUES, registry)
    assert _where(report) == []
    assert report.ok
    assert report.missing == ("image", "count")
    assert report.levels == (("net",), ("server",))
    assert report.dependencies == {"net": (), "server": ("net",)}
    assert report.resource_types == {"net": "OS::Neutron::Net", "server": "OS::Nova::Server"}
    assert [p.name for p in report.parameters] == ["image", "flavor", "count"]
    assert report.plan is None


def test_check_without_values_still_checks_everything_else(registry: ResourceTypeRegistry) -> None:
    report = check(NEEDS_VALUES.replace("network: {get_resource: net}", "netwrk: x"), registry)
    assert _where(report) == sorted(
        [
            (Code.UNKNOWN_PROPERTY, "/resources/server/properties/networks/0/netwrk", 14, 11),
            (Code.MISSING_PROPERTY, "/resources/server/properties/networks/0", 14, 11),
        ]
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("{get_resource: {get_param: name}}", id="get-resource-name"),
        pytest.param("{get_attr: [{get_param: name}, show]}", id="get-attr-resource-name"),
        pytest.param("{get_param: [blob, {get_param: name}]}", id="get-param-path"),
    ],
)
def test_check_without_values_functions_of_unset_parameters_are_not_problems(
    value: str, registry: ResourceTypeRegistry
) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n"
        "  name: {type: string}\n"
        "  blob: {type: json, default: {a: 1}}\n"
        "resources:\n"
        "  a: {type: OS::Heat::None}\n"
        "  b:\n"
        "    type: OS::Heat::None\n"
        f"    properties: {{x: {value}}}\n"
    )
    report = check(text, registry)
    assert _where(report) == []
    assert report.missing == ("name",)
    # With the value, the same template compiles.
    assert compile_template(text, registry, {"name": "a"}).resource("b").properties


def test_check_with_empty_values_missing_ones_are_problems(registry: ResourceTypeRegistry) -> None:
    report = check(NEEDS_VALUES, registry, {})
    assert _where(report) == [
        (Code.PARAMETER_MISSING, "/parameters/count", 5, 3),
        (Code.PARAMETER_MISSING, "/parameters/image", 3, 3),
    ]
    assert report.missing == ("image", "count")
    assert report.plan is None


def test_check_with_every_value_makes_a_plan(registry: ResourceTypeRegistry) -> None:
    report = check(NEEDS_VALUES, registry, {"image": "cirros", "count": "2"})
    assert _where(report) == []
    assert report.plan is not None
    assert report.plan.resource("server").properties["image"] == "cirros"
    # Sorted by name, so that the plan does not depend on declaration order.
    assert [(p.name, p.value) for p in report.plan.parameters] == [
        ("count", 2),
        ("flavor", "m1.small"),
        ("image", "cirros"),
    ]


# -- hidden values ------------------------------------------------------------------

SECRET = "hunter2-secret"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(
            "    type: OS::Heat::RandomString\n    properties:\n      length: {get_param: pw}\n",
            Code.PROPERTY_TYPE,
            id="property-type",
        ),
        pytest.param(
            "    type: OS::Neutron::Subnet\n    properties:\n      network: n\n"
            "      cidr: {get_param: pw}\n",
            Code.PROPERTY_CONSTRAINT,
            id="property-constraint",
        ),
        pytest.param(
            "    type: OS::Neutron::Subnet\n    properties:\n      network: n\n"
            "      cidr: 'fd00::/64'\n      ip_version: 6\n      ipv6_ra_mode: {get_param: pw}\n",
            Code.PROPERTY_CONSTRAINT,
            id="allowed-values",
        ),
        pytest.param(
            "    type: OS::Heat::None\n    deletion_policy: {get_param: pw}\n",
            Code.INVALID_VALUE,
            id="deletion-policy",
        ),
        pytest.param(
            "    type: OS::Neutron::Subnet\n    properties:\n      network: n\n"
            "      cidr: {str_replace: {template: net-X, params: {X: {get_param: pw}}}}\n",
            Code.PROPERTY_CONSTRAINT,
            id="folded-into-a-string",
        ),
    ],
)
def test_check_never_shows_a_hidden_value(
    body: str, code: Code, registry: ResourceTypeRegistry
) -> None:
    text = (
        "heat_template_version: 2018-08-31\nparameters:\n  pw: {type: string, hidden: true}\n"
        "resources:\n  r:\n" + body
    )
    report = check(text, registry, {"pw": SECRET})
    assert [p.code for p in report.problems] == [code]
    assert all(SECRET not in p.message for p in report.problems)
