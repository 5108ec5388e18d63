"""The step of a nested stack's resource: nothing made anywhere, a stable id."""

from __future__ import annotations

import uuid

import pytest

from cool.clouds.base import StepContext, fences_creates
from cool.clouds.heat import HeatProvider
from cool.clouds.nested import NestedProvider, nested_stack_id
from cool.clouds.registry import Providers
from cool.errors import ConfigurationError
from cool.model import DeletionPolicy, NestedKind, ResourceSpec

BUILD = "01HXBBBBBBBBBBBBBBBBBBBBBB"


def ctx(name: str = "web/0", build_id: str = BUILD) -> StepContext:
    return StepContext(build_id, name, "OS::Heat::ResourceGroup", project_id="demo")


def spec(name: str, resource_type: str, nested: NestedKind | None = None) -> ResourceSpec:
    return ResourceSpec(name, resource_type, {}, (), 0, DeletionPolicy.DELETE, {}, nested)


def test_nested_step_creates_nothing_and_is_ready_at_once() -> None:
    nested = NestedProvider()
    step = ctx()
    assert nested.find(step) == []
    physical_id = nested.create(step, {"count": 2})
    observed = nested.observe(step, physical_id)
    assert (observed.ready, observed.failed, dict(observed.attributes)) == (True, None, {})
    assert observed.reference is None  # get_resource gives the id, as Heat's nested stack id
    nested.delete(step, physical_id)
    nested.delete(step, physical_id)
    assert nested.is_deleted(step, physical_id)
    assert fences_creates(nested)


def test_nested_stack_id_is_a_uuid5_of_build_and_name() -> None:
    first = NestedProvider().create(ctx("web/0"), {})
    again = NestedProvider().create(ctx("web/0"), {})  # another worker, after a takeover
    assert first == again == nested_stack_id(BUILD, "web/0")
    assert uuid.UUID(first).version == 5
    elsewhere = [("web/1", BUILD), ("web", BUILD), ("web/0", "01HXCCCCCCCCCCCCCCCCCCCCCC")]
    others = {NestedProvider().create(ctx(name, build), {}) for name, build in elsewhere}
    assert first not in others
    assert len(others) == 3


def test_providers_run_a_nested_stack_by_its_kind_not_its_type() -> None:
    heat = HeatProvider()
    providers = Providers([heat])
    group = spec("web", "OS::Heat::ResourceGroup", NestedKind.GROUP)
    member = spec("web/0", "server.yaml", NestedKind.TEMPLATE)
    assert isinstance(providers.for_spec(group), NestedProvider)
    assert isinstance(providers.for_spec(member), NestedProvider)
    assert providers.for_spec(spec("web/0/v", "OS::Heat::Value")) is heat
    with pytest.raises(ConfigurationError):
        providers.for_spec(spec("web", "OS::Heat::ResourceGroup"))  # not nested: no provider


@pytest.mark.parametrize(
    ("name", "cloud_name"),
    [
        ("web", "cool-01hxbbbbbbbbbbbbbbbbbbbbbb-web"),
        ("web/0/key", "cool-01hxbbbbbbbbbbbbbbbbbbbbbb-web.0.key"),
    ],
)
def test_cloud_names_of_nested_resources_hold_no_slash(name: str, cloud_name: str) -> None:
    step = ctx(name)
    assert step.cloud_name == cloud_name
    assert step.tags["cool-resource"] == name  # the tags keep the full name


def test_cloud_names_stay_within_what_clouds_accept() -> None:
    """A 255-character name (223 with its parents') makes a cloud name past 255:
    shortened with a digest of the exact name, the same every time."""
    long, other = "x" * 255, "x" * 254 + "y"
    for name in (long, "a/" + "b" * 221, other):
        assert len(ctx(name).cloud_name) <= 255
    assert ctx(long).cloud_name == ctx(long).cloud_name != ctx(other).cloud_name
    assert ctx(long).cloud_name.startswith("cool-01hxbbbbbbbbbbbbbbbbbbbbbb-xxx")
    short = "y" * (255 - len("cool-01hxbbbbbbbbbbbbbbbbbbbbbb-"))
    assert ctx(short).cloud_name == f"cool-01hxbbbbbbbbbbbbbbbbbbbbbb-{short}"  # fits: as it was
