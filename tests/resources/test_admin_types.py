"""OS::Cinder::VolumeType, OS::Cinder::EncryptedVolumeType and OS::Nova::HostAggregate as
templates declare them: Heat's names, defaults and allowed values, and Heat's refusal of
project access to a public volume type, as located errors when the template is
validated."""

from __future__ import annotations

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = "heat_template_version: 2018-08-31\nresources:\n"


def _problems(registry: ResourceTypeRegistry, body: str) -> list[tuple[str, str]]:
    report = check(HEAD + body, registry, {})
    return [(p.pointer, p.message) for p in report.problems]


def test_heat_templates_of_the_three_types_validate(registry: ResourceTypeRegistry) -> None:
    body = """\
  vtype:
    type: OS::Cinder::VolumeType
    properties:
      name: gold
      description: fast
      metadata: {volume_backend_name: lvm}
      is_public: false
      projects: [demo]
  encryption:
    type: OS::Cinder::EncryptedVolumeType
    properties:
      volume_type: {get_resource: vtype}
      provider: nova.volume.encryptors.luks.LuksEncryptor
      cipher: aes-cbc-essiv
      key_size: 256
      control_location: back-end
  volume:
    type: OS::Cinder::Volume
    properties: {size: 1, volume_type: {get_resource: encryption}}
  aggregate:
    type: OS::Nova::HostAggregate
    properties:
      name: rack-1
      availability_zone: az1
      hosts: [compute-1, compute-2]
      metadata: {ssd: "true"}
outputs:
  shown: {value: {get_attr: [aggregate, show]}}
"""
    assert _problems(registry, body) == []


def test_defaults_are_heats(registry: ResourceTypeRegistry) -> None:
    vtype = registry.get("OS::Cinder::VolumeType")
    encryption = registry.get("OS::Cinder::EncryptedVolumeType")
    aggregate = registry.get("OS::Nova::HostAggregate")
    assert vtype is not None
    assert encryption is not None
    assert aggregate is not None
    assert (vtype.properties["is_public"].default, vtype.properties["projects"].default) == (
        True,
        [],
    )
    assert encryption.properties["control_location"].default == "front-end"
    assert aggregate.properties["metadata"].default == {}
    assert set(aggregate.attributes) == set(vtype.attributes) == {"show"}  # as Heat's


def test_projects_of_a_public_volume_type_are_refused_as_heat_does(
    registry: ResourceTypeRegistry,
) -> None:
    body = "  vt:\n    type: OS::Cinder::VolumeType\n    properties: {name: a, projects: [p]}\n"
    [(pointer, message)] = _problems(registry, body)
    assert pointer == "/resources/vt/properties/projects"
    assert 'Can not specify property "projects" if the volume type is public.' in message


def test_encryption_values_outside_heats_are_refused(registry: ResourceTypeRegistry) -> None:
    body = """\
  enc:
    type: OS::Cinder::EncryptedVolumeType
    properties:
      volume_type: gold
      provider: luks
      cipher: aes-ecb
      control_location: middle
      key_size: -1
  bare:
    type: OS::Cinder::EncryptedVolumeType
    properties: {provider: luks}
"""
    pointers = sorted(pointer for pointer, _ in _problems(registry, body))
    assert pointers == [
        "/resources/bare/properties/volume_type",
        "/resources/enc/properties/cipher",
        "/resources/enc/properties/control_location",
        "/resources/enc/properties/key_size",
    ]


def test_an_aggregate_needs_a_name(registry: ResourceTypeRegistry) -> None:
    body = "  agg:\n    type: OS::Nova::HostAggregate\n    properties: {hosts: [h1]}\n"
    [(pointer, message)] = _problems(registry, body)
    assert "name" in message
    assert pointer.startswith("/resources/agg/properties")
