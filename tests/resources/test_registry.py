"""The resource type registry: stevedore plugins, loaded once, checked loudly."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from cool.errors import ConfigurationError
from cool.resources import heat
from cool.resources.registry import ENTRY_POINT_GROUP, ResourceTypeRegistry
from cool.resources.schema import (
    ProblemKind,
    Property,
    PropertyProblem,
    PropertyType,
    ResourceType,
)
from cool.template.problems import Code
from cool.template.properties import check_properties

EXPECTED = {
    "OS::Neutron::Net",
    "OS::Neutron::Subnet",
    "OS::Neutron::Router",
    "OS::Neutron::RouterInterface",
    "OS::Neutron::Port",
    "OS::Neutron::SecurityGroup",
    "OS::Neutron::FloatingIP",
    "OS::Nova::Server",
    "OS::Nova::KeyPair",
    "OS::Cinder::Volume",
    "OS::Cinder::VolumeAttachment",
    "OS::Heat::None",
    "OS::Heat::Value",
    "OS::Heat::RandomString",
    "OS::Heat::TestResource",
}


def test_registry_loads_every_declared_type_from_entry_points(
    registry: ResourceTypeRegistry,
) -> None:
    assert {t.name for t in registry} >= EXPECTED
    assert [t.name for t in registry] == sorted(t.name for t in registry)
    assert "OS::Nova::Server" in registry
    assert registry.get("OS::Nova::Nope") is None


def test_registry_types_describe_themselves_as_json(registry: ResourceTypeRegistry) -> None:
    for rtype in registry:
        described = json.loads(json.dumps(rtype.to_dict()))
        assert described["resource_type"] == rtype.name
        assert described["description"], rtype.name
        assert "show" in described["attributes"], rtype.name
        for name, prop in described["properties"].items():
            assert prop["description"] or prop.get("deprecated_for"), (rtype.name, name)


def test_registry_refuses_a_type_declared_twice() -> None:
    with pytest.raises(ConfigurationError, match="OS::Heat::None is declared twice"):
        ResourceTypeRegistry([heat.NONE, heat.NONE])


def test_registry_load_refuses_a_plugin_that_is_not_a_list_of_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An operator's broken plugin stops the service with a message that names it."""
    bad = EntryPoint(name="broken", value="cool.resources.heat:NONE", group=ENTRY_POINT_GROUP)
    good = EntryPoint(name="heat", value="cool.resources.heat:TYPES", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        "stevedore.ExtensionManager.list_entry_points",
        lambda self: [good, bad],
    )
    with pytest.raises(ConfigurationError, match=r"'broken' of cool\.resource_types must name"):
        ResourceTypeRegistry.load()


def test_registry_load_refuses_a_plugin_that_cannot_be_imported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = EntryPoint(name="gone", value="cool.resources.gone:TYPES", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr("stevedore.ExtensionManager.list_entry_points", lambda self: [missing])
    with pytest.raises(ConfigurationError, match="cannot load resource types from"):
        ResourceTypeRegistry.load()


def test_registry_load_accepts_an_operator_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = ResourceType("Example::Thing", "An operator's own type.", {}, {})
    module = type("module", (), {"TYPES": (extra,)})
    monkeypatch.setitem(__import__("sys").modules, "example_plugin", module)
    plugin = EntryPoint(name="example", value="example_plugin:TYPES", group=ENTRY_POINT_GROUP)
    heat_types = EntryPoint(name="heat", value="cool.resources.heat:TYPES", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(
        "stevedore.ExtensionManager.list_entry_points", lambda self: [heat_types, plugin]
    )
    loaded = ResourceTypeRegistry.load()
    assert loaded.get("Example::Thing") is extra
    assert len(loaded) == len(heat.TYPES) + 1


def test_a_plugin_check_may_return_plain_tuples() -> None:
    """Checks returned ``(path, kind, message)`` tuples before PropertyProblem named
    them; an operator's plugin written that way keeps working."""

    def check(properties: Mapping[str, Any]) -> list[tuple[tuple[str, ...], str, str]]:
        return [(("size",), "constraint", "too big")] if properties["size"] > 1 else []

    rtype = ResourceType(
        "Example::Sized",
        "An operator's own type.",
        {"size": Property(PropertyType.INTEGER, "How big.")},
        {},
        checks=(check,),  # type: ignore[arg-type]
    )
    reported: list[tuple[Code, str, tuple[str | int, ...]]] = []
    check_properties(rtype, {"size": 2}, ("resources", "r", "properties"), _collect(reported))
    assert reported == [
        (
            Code.PROPERTY_CONSTRAINT,
            "resources.r.properties: too big",
            ("resources", "r", "properties", "size"),
        )
    ]
    assert PropertyProblem(("size",), ProblemKind.CONSTRAINT, "too big") == (
        ("size",),
        "constraint",
        "too big",
    )


def _collect(
    into: list[tuple[Code, str, tuple[str | int, ...]]],
) -> Callable[[Code, str, tuple[str | int, ...]], None]:
    return lambda code, message, path: into.append((code, message, tuple(path)))
