"""OS::Neutron::Trunk and OS::Nova::FloatingIP as templates declare them: Heat's
examples validate, Heat's constraints are located errors, and so is what Neutron
refuses for certain (one segmentation twice in a trunk)."""

from __future__ import annotations

from pathlib import Path

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = "heat_template_version: 2017-02-24\nresources:\n"
CORPUS = Path(__file__).resolve().parents[1] / "data" / "heat-templates" / "hot"
PORTS = """\
  net: {type: OS::Neutron::Net}
  parent: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  one: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
  two: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
"""


def _problems(registry: ResourceTypeRegistry, body: str) -> list[tuple[str, str]]:
    report = check(HEAD + PORTS + body, registry, {})
    return [(p.pointer, p.message) for p in report.problems]


def _trunk(*sub_ports: str) -> str:
    lines = "".join(f"        - {s}\n" for s in sub_ports)
    return (
        "  t:\n    type: OS::Neutron::Trunk\n    properties:\n"
        "      port: {get_resource: parent}\n      sub_ports:\n" + lines
    )


def test_heats_trunk_example_validates_and_boots_the_server_after_the_trunk(
    registry: ResourceTypeRegistry,
) -> None:
    report = check((CORPUS / "neutron" / "instance_trunk_port.yaml").read_text(), registry, {})
    assert report.problems == ()
    assert report.plan is not None
    order = [r.name for r in report.plan.resources]
    assert order.index("parent_port") < order.index("trunk0") < order.index("instance0")
    assert order.index("subport2") < order.index("trunk0")


def test_trunk_constraints_are_heats(registry: ResourceTypeRegistry) -> None:
    problems = _problems(
        registry,
        _trunk(
            "{port: {get_resource: one}, segmentation_type: vxlan, segmentation_id: 5}",
            "{port: {get_resource: two}, segmentation_type: vlan, segmentation_id: 4095}",
            "{segmentation_type: vlan, segmentation_id: 9}",
        ),
    )
    pointers = [pointer for pointer, _ in problems]
    assert pointers == [
        "/resources/t/properties/sub_ports/0/segmentation_type",
        "/resources/t/properties/sub_ports/1/segmentation_id",
        "/resources/t/properties/sub_ports/2/port",
    ], problems
    assert _problems(registry, "  t: {type: OS::Neutron::Trunk}\n")[0][0] == (
        "/resources/t/properties/port"
    )


def test_a_segmentation_twice_in_a_trunk_is_refused_where_it_repeats(
    registry: ResourceTypeRegistry,
) -> None:
    problems = _problems(
        registry,
        _trunk(
            "{port: {get_resource: one}, segmentation_type: vlan, segmentation_id: 7}",
            "{port: {get_resource: two}, segmentation_type: vlan, segmentation_id: 7}",
        ),
    )
    assert len(problems) == 1, problems
    pointer, message = problems[0]
    assert pointer == "/resources/t/properties/sub_ports/1/segmentation_id"
    assert "sub-ports 0 and 1 both use segmentation vlan 7" in message
    assert (
        _problems(
            registry,
            _trunk(
                "{port: {get_resource: one}, segmentation_type: vlan, segmentation_id: 7}",
                "{port: {get_resource: two}, segmentation_type: vlan, segmentation_id: 8}",
            ),
        )
        == []
    )


def test_a_nova_floating_ip_and_its_association_validate(registry: ResourceTypeRegistry) -> None:
    """server_with_ip.yaml's floating IP part (its AWS security group is not this test's)."""
    body = """\
  server:
    type: OS::Nova::Server
    properties: {image: cirros, flavor: m1.tiny}
  floating_ip:
    type: OS::Nova::FloatingIP
  pooled:
    type: OS::Nova::FloatingIP
    properties: {pool: public}
  floating_ip_association:
    type: OS::Nova::FloatingIPAssociation
    properties:
      floating_ip: {get_resource: floating_ip}
      server_id: {get_resource: server}
outputs:
  ip: {value: {get_attr: [floating_ip, ip]}}
  pool: {value: {get_attr: [pooled, pool]}}
"""
    assert check(HEAD + body, registry, {}).problems == ()
    wrong = "  f:\n    type: OS::Nova::FloatingIP\n    properties: {network: public}\n"
    assert [p for p, _ in _problems(registry, wrong)] == ["/resources/f/properties/network"]
