"""What validation got wrong against Heat on real templates, one regression test each.

Each case follows what Heat itself does (the Heat source named in each test's
docstring); every refusal is checked with its exact code, JSON pointer and
line:column, and a fragment of its message. Templates start with
``heat_template_version`` on line 1, so a resource declared on line N has its
properties' keys on line N + 2 (column 7).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cool.resources.constraints import OFFLINE
from cool.resources.registry import ResourceTypeRegistry
from cool.resources.schema import CustomConstraint
from cool.template import param_path
from cool.template.problems import Code
from tests.template.checking import check_text as _check
from tests.template.checking import where as _where

REPO = Path(__file__).resolve().parents[2]


def _subnet(cidr: str, extra: str = "") -> str:
    return f"""\
        heat_template_version: 2018-08-31
        resources:
          s:
            type: OS::Neutron::Subnet
            properties:
              network: private
              cidr: "{cidr}"
        {extra}"""


# -- 1. net_cidr: host bits are allowed ----------------------------------------------


@pytest.mark.parametrize(
    "cidr",
    ["10.0.0.1/24", "10.0.0.0/24", "192.168.1.77/16", "0.0.0.0/0", "2001:db8::1/64", "::/0"],
)
def test_subnet_cidr_as_heat_net_cidr_accepts(cidr: str, registry: ResourceTypeRegistry) -> None:
    """Heat's CIDRConstraint (common_constraints.py) takes neutron-lib's validate_subnet:
    a network with a prefix, host bits allowed, IPv4 in canonical form."""
    version = "      ip_version: 6\n" if ":" in cidr else ""
    report = _check(_subnet(cidr, version), registry)
    assert report.problems == ()


@pytest.mark.parametrize(
    "cidr",
    [
        "10.0.0.0",
        "10.0.0.0/33",
        "10.0.0.01/24",
        "10.0.0.0/024",
        "10/8",
        "10.0.0.0/255.255.255.0",
        "10.0.0.0 /24",
        "nonsense",
        "2001:db8::/129",
    ],
)
def test_subnet_cidr_as_heat_net_cidr_refuses(cidr: str, registry: ResourceTypeRegistry) -> None:
    report = _check(_subnet(cidr), registry)
    assert _where(report) == [(Code.PROPERTY_CONSTRAINT, "/resources/s/properties/cidr", 7, 7)]
    assert "is not a valid network CIDR" in report.problems[0].message


def test_parameter_net_cidr_accepts_host_bits(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          cidr: {type: string, default: 10.0.0.1/24, constraints: [{custom_constraint: net_cidr}]}
        resources: {}
        """
    assert _check(text, registry, {}).problems == ()
    refused = _check(text, registry, {"cidr": "10.0.0.1"})
    assert _where(refused) == [(Code.PARAMETER_CONSTRAINT, "/parameters/cidr", 3, 3)]
    assert "'10.0.0.1' is not a valid network CIDR" in refused.problems[0].message


# -- 2. allowed_address_pairs.ip_address: ip_or_cidr ------------------------------------


def _pair(address: str) -> str:
    return f"""\
        heat_template_version: 2018-08-31
        resources:
          p:
            type: OS::Neutron::Port
            properties:
              network: private
              allowed_address_pairs: [{{ip_address: "{address}"}}]
        """


@pytest.mark.parametrize("address", ["10.0.0.5", "10.0.0.0/24", "10.0.0.5/24", "2001:db8::5"])
def test_port_allowed_address_pair_takes_an_address_or_a_cidr(
    address: str, registry: ResourceTypeRegistry
) -> None:
    """Heat's Port declares ip_address with the ip_or_cidr constraint (IPCIDRConstraint)."""
    assert _check(_pair(address), registry).problems == ()


@pytest.mark.parametrize("address", ["10.0.0", "10.0.0.5/40", "010.0.0.5", "host"])
def test_port_allowed_address_pair_refuses_neither(
    address: str, registry: ResourceTypeRegistry
) -> None:
    report = _check(_pair(address), registry)
    pointer = "/resources/p/properties/allowed_address_pairs/0/ip_address"
    assert _where(report) == [(Code.PROPERTY_CONSTRAINT, pointer, 7, 32)]
    assert "is not a valid IP address or CIDR" in report.problems[0].message


# -- 3. every custom constraint Heat registers ------------------------------------------


def _heat_setup_cfg_constraints() -> set[str]:
    """The names of Heat's ``heat.constraints`` entry points, as its setup.cfg lists them
    (a copy of that list is kept in cool.resources.constraints)."""
    from cool.resources.constraints import HEAT_CONSTRAINTS

    return set(HEAT_CONSTRAINTS)


@pytest.mark.parametrize(
    "name",
    [
        "blazar.reservation",
        "trove.flavor",
        "designate.zone",
        "octavia.loadbalancer",
        "ironic.node",
        "json_string",
        "nova.network",
        "test_constr",
        "manila.share_type",
    ],
)
def test_parameter_accepts_every_heat_custom_constraint(
    name: str, registry: ResourceTypeRegistry
) -> None:
    text = f"""\
        heat_template_version: 2018-08-31
        parameters:
          p: {{type: string, constraints: [{{custom_constraint: {name}}}]}}
        resources: {{}}
        """
    assert _check(text, registry, {"p": ""}).problems == ()


def test_parameter_refuses_a_constraint_heat_does_not_know(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          p: {type: string, constraints: [{custom_constraint: trove.flavour}]}
        resources: {}
        """
    report = _check(text, registry, {"p": "x"})
    pointer = "/parameters/p/constraints/0/custom_constraint"
    assert _where(report) == [(Code.INVALID_CONSTRAINT, pointer, 3, 36)]
    assert "unknown custom constraint 'trove.flavour'; did you mean 'trove.flavor'?" in (
        report.problems[0].message
    )


@pytest.mark.parametrize(
    ("name", "good", "bad", "fragment"),
    [
        ("ip_addr", "10.0.0.1", "10.0.0.01", "is not a valid IP address"),
        ("ip_addr", "2001:db8::1", "10.0.0", "is not a valid IP address"),
        ("net_cidr", "10.0.0.1/24", "10.0.0.1", "is not a valid network CIDR"),
        ("ip_or_cidr", "10.0.0.1", "10.0.0.1/33", "is not a valid IP address or CIDR"),
        ("mac_addr", "fa:16:3e:00:00:01", "fa:16:3e:00:00", "is not a valid MAC address"),
        ("mac_addr", "fa-16-3e-00-00-01", "zz:16:3e:00:00:01", "is not a valid MAC address"),
        ("dns_name", "www.example.com.", "-bad.example.com", "not in valid format"),
        ("dns_name", "", "a..b", "not in valid format"),
        ("dns_domain", "example.com.", "example.com", "must end with '.'"),
        ("dns_domain", "", "ex_ample.com.", "not in valid format"),
        ("rel_dns_name", "www", "www.example.com.", "is a FQDN"),
        ("rel_dns_name", "", "a" * 253, "exceed the maximum length"),
        ("iso_8601", "2024-01-02T03:04:05Z", "yesterday", "is not an ISO 8601 date and time"),
        ("expiration", "2999-01-01T00:00:00Z", "2001-01-01T00:00:00Z", "is out of date"),
        ("expiration", "", "never", "is invalid"),
        ("cron_expression", "*/5 * * * *", "61 * * * *", "Invalid CRON expression"),
        ("json_string", '{"a": 1}', "{a: 1}", "is invalid"),
    ],
)
def test_offline_constraints_check_as_heat(name: str, good: str, bad: str, fragment: str) -> None:
    """Heat's common_constraints.py: each check that needs no cloud, with its message."""
    constraint = CustomConstraint(name)
    assert constraint.check(good) is None
    message = constraint.check(bad)
    assert message is not None
    assert fragment in message, message


def test_constraint_table_is_heat_setup_cfg_and_documented() -> None:
    from cool.resources.constraints import HEAT_CONSTRAINTS, Checked

    names = _heat_setup_cfg_constraints()
    assert len(names) == 70
    assert {"blazar.reservation", "trove.flavor", "designate.zone", "net_cidr"} <= names
    docs = (REPO / "docs" / "templates.md").read_text()
    table = docs.split("### Custom constraints", 1)[1].split("\n#", 1)[0]
    for name, checked in HEAT_CONSTRAINTS.items():
        assert f"`{name}`" in table, name
        assert isinstance(checked, Checked)


def test_types_use_only_heat_constraints_and_run_time_ones_are_looked_up() -> None:
    from cool.resources.constraints import HEAT_CONSTRAINTS, Checked

    used = {
        c.name
        for rtype in ResourceTypeRegistry.load()
        for prop in _all_properties(rtype.properties)
        for c in prop.constraints
        if isinstance(c, CustomConstraint)
    }
    assert used <= set(HEAT_CONSTRAINTS)
    run_time = {n for n, c in HEAT_CONSTRAINTS.items() if c is Checked.RUN_TIME}
    assert run_time == used - {n for n, c in HEAT_CONSTRAINTS.items() if c is Checked.OFFLINE}


def _all_properties(schema: Any) -> list[Any]:
    out = []
    for prop in schema.values():
        out.append(prop)
        if prop.map_schema is not None:
            out += _all_properties(prop.map_schema)
        if prop.item_schema is not None:
            out.append(prop.item_schema)
            if prop.item_schema.map_schema is not None:
                out += _all_properties(prop.item_schema.map_schema)
    return out


# -- 4. get_param into a missing key or index returns '' ---------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("[j, missing]", ""),  # KeyError
        ("[j, a, deeper]", ""),  # a number cannot be traversed: TypeError
        ("[l, 5]", ""),  # IndexError
        ("[l, x]", ""),  # a list indexed by a non-number: TypeError
        ("[l, '1']", "y"),  # a string that is an integer indexes a list
        ("[l, -1]", "y"),  # Python's negative index, as Heat's collection[key]
        ("[j, n, 0]", "p"),  # a string is a sequence in Heat: its characters
        ("[j, a]", 1),
    ],
)
def test_get_param_path_follows_heat(
    path: str, expected: Any, registry: ResourceTypeRegistry
) -> None:
    """heat/engine/hot/functions.py GetParam.result: KeyError, IndexError and TypeError
    on the path all give ''."""
    text = f"""\
        heat_template_version: 2018-08-31
        parameters:
          j: {{type: json, default: {{a: 1, n: pq}}}}
          l: {{type: comma_delimited_list, default: "x,y"}}
        resources:
          v: {{type: OS::Heat::Value, properties: {{value: {{get_param: {path}}}}}}}
        outputs:
          o: {{value: {{get_param: {path}}}}}
        """
    report = _check(text, registry, {})
    assert report.problems == ()
    assert report.plan is not None
    (resource,) = report.plan.resources
    assert resource.properties["value"] == expected
    assert report.plan.outputs[0].value == expected


# -- 5. an empty default is no default; an empty output description ---------------------


def test_parameter_empty_default_is_no_default(registry: ResourceTypeRegistry) -> None:
    """Heat's parameters.Schema: required = default is None."""
    text = """\
        heat_template_version: 2018-08-31
        parameters:
          p:
            type: string
            default:
        resources: {}
        outputs:
          o:
            value: {get_param: p}
            description:
        """
    assert _check(text, registry, {"p": "x"}).problems == ()
    without = _check(text, registry, {})
    assert _where(without) == [(Code.PARAMETER_MISSING, "/parameters/p", 3, 3)]
    assert "needs a value (it has no default)" in without.problems[0].message
    validated = _check(text, registry, None)
    assert validated.problems == ()
    assert validated.missing == ("p",)


# -- 6. gateway_ip outside cidr; the prefix of property messages -------------------------


def test_subnet_gateway_outside_cidr_is_allowed(registry: ResourceTypeRegistry) -> None:
    """Neutron takes a gateway outside the subnet (force_gateway_on_subnet is gone)."""
    assert _check(_subnet("10.0.0.0/24", "      gateway_ip: 10.0.1.1\n"), registry).problems == ()


def test_subnet_gateway_of_the_other_ip_version_is_still_refused(
    registry: ResourceTypeRegistry,
) -> None:
    report = _check(_subnet("10.0.0.0/24", "      gateway_ip: 2001:db8::1\n"), registry)
    pointer = "/resources/s/properties/gateway_ip"
    assert _where(report) == [(Code.PROPERTY_CONSTRAINT, pointer, 8, 7)]
    assert report.problems[0].message.startswith("resources.s.properties: gateway_ip 2001:db8::1")


@pytest.mark.parametrize(
    ("props", "code", "pointer", "line", "prefix"),
    [
        (
            "{network: n, subnetpool: p, cidr: 10.0.0.0/24}",
            Code.PROPERTY_CONFLICT,
            "/resources/r/properties/subnetpool",
            6,
            "resources.r.properties: subnetpool cannot",
        ),
        (
            "{network: n}",
            Code.MISSING_PROPERTY,
            "/resources/r/properties/cidr",
            6,
            "resources.r.properties: cidr is required",
        ),
        (
            "{network: n, cidr: 10.0.0.0/24, allocation_pools: [{start: 10.0.0.9, end: 10.0.0.2}]}",
            Code.PROPERTY_CONSTRAINT,
            "/resources/r/properties/allocation_pools/0/end",
            6,
            "resources.r.properties.allocation_pools[0]: end 10.0.0.2 comes before",
        ),
        (
            "{network: n, cidr: 10.0.0.0/24, colour: red}",
            Code.UNKNOWN_PROPERTY,
            "/resources/r/properties/colour",
            6,
            "resources.r.properties: unknown property 'colour' in OS::Neutron::Subnet",
        ),
    ],
)
def test_property_messages_carry_the_resource_prefix(
    props: str, code: Code, pointer: str, line: int, prefix: str, registry: ResourceTypeRegistry
) -> None:
    text = f"""\
        heat_template_version: 2018-08-31
        resources:
          r:
            type: OS::Neutron::Subnet
            properties:
              {props}
        """
    text = text.replace(f"properties:\n              {props}", f"properties: {props}")
    report = _check(text, registry)
    assert [(p.code, p.pointer) for p in report.problems] == [(code, pointer)]
    assert report.problems[0].line == line - 1
    assert report.problems[0].message.startswith(prefix), report.problems[0].message


def test_unsupported_property_message_carries_the_resource_prefix(
    registry: ResourceTypeRegistry,
) -> None:
    text = """\
        heat_template_version: 2018-08-31
        resources:
          web:
            type: OS::Nova::Server
            properties: {image: i, flavor: f, personality: {}}
        """
    report = _check(text, registry)
    assert _where(report) == [
        (Code.UNSUPPORTED_PROPERTY, "/resources/web/properties/personality", 5, 39)
    ]
    assert report.problems[0].message.startswith(
        "resources.web.properties: property 'personality' of OS::Nova::Server is not supported"
    )


# -- 7. a function in a parameter default, reported once ---------------------------------


@pytest.mark.parametrize("kind", ["string", "json", "number"])
def test_parameter_default_holding_a_function_is_reported_once(
    kind: str, registry: ResourceTypeRegistry
) -> None:
    text = f"""\
        heat_template_version: 2018-08-31
        parameters:
          a: {{type: {kind}, default: {{get_param: OS::stack_name}}}}
        resources: {{}}
        """
    report = _check(text, registry, {})
    assert _where(report) == [(Code.INVALID_PARAMETER, "/parameters/a/default", 3, 15 + len(kind))]
    (problem,) = report.problems
    assert "default of parameter 'a' holds the function 'get_param'" in problem.message
    assert "value of parameter" not in problem.message


# -- 8. a Heat type cool does not support: no "did you mean" ----------------------------


@pytest.mark.parametrize(
    ("type_name", "why"),
    [
        ("OS::Heat::SoftwareDeployment", "it needs Heat's agent inside the server"),
        ("OS::Heat::StructuredDeploymentGroup", "it needs Heat's agent inside the server"),
        ("OS::Trove::Instance", "it drives Trove (databases), a service cool does not"),
        ("OS::Neutron::LBaaS::Pool", "it drives Neutron LBaaS v2, removed from Neutron"),
        ("AWS::AutoScaling::ScalingPolicy", "it changes a build after it is complete"),
        ("OS::Octavia::L7Policy", "cool does not support it yet"),
    ],
)
def test_heat_type_not_supported_names_it_and_why_without_suggestion(
    type_name: str, why: str, registry: ResourceTypeRegistry
) -> None:
    text = f"""\
        heat_template_version: 2018-08-31
        resources:
          r: {{type: {type_name}}}
        """
    report = _check(text, registry)
    assert _where(report) == [(Code.UNSUPPORTED_RESOURCE_TYPE, "/resources/r/type", 3, 7)]
    message = report.problems[0].message
    assert message.startswith(
        f"resource type '{type_name}' is a Heat resource type that cool does not support: {why}"
    )
    assert "did you mean" not in message


def test_misspelt_type_still_gets_a_suggestion(registry: ResourceTypeRegistry) -> None:
    text = """\
        heat_template_version: 2018-08-31
        resources:
          r: {type: OS::Nova::Servr}
        """
    (problem,) = _check(text, registry).problems
    assert "did you mean 'OS::Nova::Server'?" in problem.message


def test_heat_types_table_holds_heat_resource_mapping_names() -> None:
    from cool.resources import heat_types

    names = heat_types.HEAT_RESOURCE_TYPES
    assert {
        "OS::Heat::SoftwareConfig",
        "OS::Heat::ResourceGroup",
        "AWS::EC2::Instance",
        "OS::Nova::Server",
        "OS::Neutron::Net",
    } <= names
    assert all(re.fullmatch(r"(OS|AWS)::\w+::\w+(::\w+)?", n) for n in names)
    assert len(names) >= 200


def test_every_gap_names_heat_types_cool_does_not_build(registry: ResourceTypeRegistry) -> None:
    """Each "why unsupported" prefix matches a Heat type, and none says a type cool
    supports needs an agent, a service or updates."""
    from cool.resources import heat_types

    names = heat_types.HEAT_RESOURCE_TYPES
    for prefix in heat_types._GAPS:
        assert any(n.startswith(prefix) for n in names), prefix
    supported = {t.name for t in registry}
    assert not {n for n in supported if heat_types.gap(n) is not None}
    assert heat_types.gap("OS::Heat::SoftwareDeploymentGroup") == heat_types.gap(
        "OS::Heat::SoftwareDeployment"
    )
    assert heat_types.gap("OS::Neutron::PortPairGroup") is not None
    assert heat_types.gap("OS::Neutron::Port") is None  # a prefix of PortPair, not of Port


# -- no input makes a check raise --------------------------------------------------------

_SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


@_SETTINGS
@given(name=st.sampled_from(sorted(OFFLINE)), value=st.text(max_size=300))
def test_offline_constraints_never_raise(name: str, value: str) -> None:
    message = CustomConstraint(name).check(value)
    assert message is None or isinstance(message, str)


@_SETTINGS
@given(
    value=_JSON,
    path=st.lists(st.integers() | st.text(max_size=4) | st.booleans() | _JSON, max_size=4),
)
def test_get_param_path_never_raises(value: Any, path: list[Any]) -> None:
    param_path.follow(value, path)
