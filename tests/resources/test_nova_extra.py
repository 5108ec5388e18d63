"""OS::Nova::ServerGroup, OS::Nova::Flavor and OS::Nova::FloatingIPAssociation as
templates declare them: Heat's names are accepted, and what Nova would refuse for
certain is a located error when the template is validated."""

from __future__ import annotations

from typing import Any

from cool.clouds.base import ENDPOINT_FOUND_TYPES
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = "heat_template_version: 2018-08-31\nresources:\n"


def _problems(registry: ResourceTypeRegistry, body: str) -> list[tuple[str, str]]:
    report = check(HEAD + body, registry, {})
    return [(p.pointer, p.message) for p in report.problems]


def _pointers(registry: ResourceTypeRegistry, body: str) -> list[Any]:
    return [pointer for pointer, _ in _problems(registry, body)]


def _group(*lines: str) -> str:
    """A server group ``g`` with these lines of properties."""
    return "  g:\n    type: OS::Nova::ServerGroup\n    properties:\n" + "".join(
        f"      {line}\n" for line in lines
    )


def test_heat_templates_of_the_three_types_validate(registry: ResourceTypeRegistry) -> None:
    body = """\
  group:
    type: OS::Nova::ServerGroup
    properties:
      name: web-group
      policies: [anti-affinity]
      rules: {max_server_per_host: 2}
  default_group:
    type: OS::Nova::ServerGroup
  server:
    type: OS::Nova::Server
    properties:
      image: cirros
      flavor: {get_resource: flavor}
      scheduler_hints: {group: {get_resource: group}}
  flavor:
    type: OS::Nova::Flavor
    properties:
      ram: 512
      vcpus: 1
      disk: 1
      swap: 0
      ephemeral: 0
      rxtx_factor: 1.0
      is_public: false
      flavorid: small.1
      tenants: [demo]
      extra_specs: {"hw:cpu_policy": dedicated}
      description: a small flavor
  association:
    type: OS::Nova::FloatingIPAssociation
    properties:
      server_id: {get_resource: server}
      floating_ip: 8a3b29a6-0000-4000-8000-000000000001
outputs:
  members: {value: {get_attr: [group, members]}}
  public: {value: {get_attr: [flavor, is_public]}}
  specs: {value: {get_attr: [flavor, extra_specs]}}
"""
    assert _problems(registry, body) == []


def test_a_server_group_takes_one_known_policy(registry: ResourceTypeRegistry) -> None:
    two = _group("policies: [affinity, anti-affinity]")
    assert _pointers(registry, two) == ["/resources/g/properties/policies"]
    unknown = _group("policies: [spread]")
    assert _pointers(registry, unknown) == ["/resources/g/properties/policies/0"]
    assert _problems(registry, _group("policies: [soft-affinity]")) == []


def test_server_group_rules_only_with_anti_affinity(registry: ResourceTypeRegistry) -> None:
    body = _group("policies: [affinity]", "rules: {max_server_per_host: 2}")
    [(pointer, message)] = _problems(registry, body)
    assert pointer == "/resources/g/properties/rules"
    assert "only with the anti-affinity policy" in message
    zero = _group("rules: {max_server_per_host: 0}")
    assert _pointers(registry, zero) == ["/resources/g/properties/rules/max_server_per_host"]
    other = _group("rules: {max_servers: 2}")
    assert _pointers(registry, other) == ["/resources/g/properties/rules/max_servers"]


def test_a_flavor_needs_ram_and_vcpus_in_novas_ranges(registry: ResourceTypeRegistry) -> None:
    missing = "  f:\n    type: OS::Nova::Flavor\n    properties:\n      ram: 512\n"
    assert _pointers(registry, missing) == ["/resources/f/properties/vcpus"]
    body = (
        "  f:\n    type: OS::Nova::Flavor\n    properties:\n"
        "      ram: 0\n      vcpus: 1\n      disk: -1\n      flavorid: ' bad'\n"
    )
    assert sorted(_pointers(registry, body)) == [
        "/resources/f/properties/disk",
        "/resources/f/properties/flavorid",
        "/resources/f/properties/ram",
    ]


def test_a_nova_association_needs_both_ends(registry: ResourceTypeRegistry) -> None:
    body = "  a:\n    type: OS::Nova::FloatingIPAssociation\n    properties:\n      server_id: s\n"
    assert _pointers(registry, body) == ["/resources/a/properties/floating_ip"]


def test_only_the_association_is_found_by_its_endpoints() -> None:
    """A Nova association is a link with no mark of its own: the re-check before a
    terminal status must not sweep another build's identical link; the group and the
    flavor carry the step's mark (cool.clouds.base.finds_by_mark)."""
    assert "OS::Nova::FloatingIPAssociation" in ENDPOINT_FOUND_TYPES
    assert not {"OS::Nova::ServerGroup", "OS::Nova::Flavor"} & ENDPOINT_FOUND_TYPES
