"""The provider of the types that need no cloud: None, Value, RandomString, TestResource."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cool.clouds.base import ResourceFailedError, ResourceGoneError, StepContext
from cool.clouds.heat import CHARACTER_CLASSES, HeatProvider
from cool.resources.registry import ResourceTypeRegistry
from tests.clouds.helpers import FakeClock

BUILD = "01HXBBBBBBBBBBBBBBBBBBBBBB"
NONE, VALUE = "OS::Heat::None", "OS::Heat::Value"
RANDOM, TEST = "OS::Heat::RandomString", "OS::Heat::TestResource"


@pytest.fixture
def heat(clock: FakeClock) -> HeatProvider:
    return HeatProvider(clock=clock)


def ctx(resource_type: str, name: str = "thing") -> StepContext:
    return StepContext(BUILD, name, resource_type, project_id="demo")


def test_heat_runs_exactly_the_types_that_need_no_cloud(
    heat: HeatProvider, registry: ResourceTypeRegistry
) -> None:
    # The nested stacks' types need no cloud either: their steps are NestedProvider's;
    # nor do wait conditions, which the worker's signals provider runs (ZooKeeper state).
    nested = {"OS::Heat::ResourceGroup", "OS::Heat::Stack"}
    nested |= {"OS::Heat::AutoScalingGroup", "OS::Heat::InstanceGroup"}
    waits = {"OS::Heat::WaitConditionHandle", "OS::Heat::WaitCondition"}
    waits |= {"OS::Heat::UpdateWaitConditionHandle", "OS::Heat::ScalingPolicy"}
    waits |= {"AWS::CloudFormation::WaitConditionHandle", "AWS::CloudFormation::WaitCondition"}
    configs = {
        "OS::Heat::SoftwareConfig", "OS::Heat::StructuredConfig", "OS::Heat::CloudConfig",
        "OS::Heat::MultipartMime",
    }  # fmt: skip
    expected = {NONE, VALUE, RANDOM, TEST, *nested, *waits, *configs}
    assert {t.name for t in registry if not t.needs_cloud} == expected
    others = nested | waits
    assert all(heat.supports(t.name) != t.needs_cloud for t in registry if t.name not in others)
    assert not any(heat.supports(name) for name in others)


@pytest.mark.parametrize(
    ("resource_type", "properties", "attributes"),
    [
        (NONE, {"anything": [1, 2]}, {}),
        (VALUE, {"value": {"a": [1]}}, {"value": {"a": [1]}}),
        (VALUE, {"value": "42", "type": "number"}, {"value": 42}),
        (VALUE, {"value": "a, b", "type": "comma_delimited_list"}, {"value": ["a", "b"]}),
        (TEST, {"value": "hello"}, {"output": "hello"}),
        (TEST, {}, {"output": "test_string"}),
    ],
)
def test_heat_type_creates_observes_and_deletes(
    heat: HeatProvider,
    resource_type: str,
    properties: dict[str, Any],
    attributes: dict[str, Any],
) -> None:
    step = ctx(resource_type)
    physical_id = heat.create(step, properties)
    assert physical_id.startswith(step.cloud_name)
    observed = heat.observe(step, physical_id)
    assert (observed.ready, observed.failed, dict(observed.attributes)) == (True, None, attributes)
    assert heat.find(step) == []
    heat.delete(step, physical_id)
    heat.delete(step, physical_id)
    assert heat.is_deleted(step, physical_id)


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [(NONE, {}), (VALUE, {"value": "v"}), (RANDOM, {}), (TEST, {"value": "v"})],
)
def test_heat_reference_is_what_heat_gives(
    heat: HeatProvider, resource_type: str, properties: dict[str, Any]
) -> None:
    step = ctx(resource_type)
    observed = heat.observe(step, heat.create(step, properties))
    expected = {  # Heat's get_reference_id: the value, the physical resource name, the id
        RANDOM: observed.attributes.get("value"),
        TEST: step.cloud_name,
    }.get(resource_type)
    assert observed.reference == expected


def test_heat_test_resource_refers_to_its_name_once_ready(
    heat: HeatProvider, clock: FakeClock
) -> None:
    step = ctx(TEST)
    physical_id = heat.create(step, {"value": "secretless", "wait_secs": 2})
    assert heat.observe(step, physical_id).reference is None  # not ready yet
    clock.now += 2
    assert heat.observe(step, physical_id).reference == step.cloud_name != physical_id


def test_heat_value_of_the_wrong_type_fails(heat: HeatProvider) -> None:
    with pytest.raises(ResourceFailedError, match="must be a number"):
        heat.create(ctx(VALUE), {"value": "many", "type": "number"})


def test_heat_value_unknown_to_another_worker_is_gone(heat: HeatProvider, clock: FakeClock) -> None:
    physical_id = heat.create(ctx(VALUE), {"value": "s3cret"})
    assert "s3cret" not in physical_id
    with pytest.raises(ResourceGoneError, match="create it again"):
        HeatProvider(clock=clock).observe(ctx(VALUE), physical_id)


# -- RandomString -------------------------------------------------------------------


def _random_string(heat: HeatProvider, properties: dict[str, Any]) -> tuple[str, str]:
    step = ctx(RANDOM)
    physical_id = heat.create(step, properties)
    return physical_id, heat.observe(step, physical_id).attributes["value"]


def test_heat_random_string_defaults_as_heat(heat: HeatProvider) -> None:
    values = {_random_string(heat, {})[1] for _ in range(50)}
    assert len(values) == 50  # fresh every create
    for value in values:
        assert len(value) == 32
        assert set(value) <= set(string.ascii_letters + string.digits)


def test_heat_random_string_takes_heats_hidden_sequence_as_one_more_class(
    heat: HeatProvider,
) -> None:
    """Heat translates the old ``sequence`` into a class added to character_classes,
    with a minimum of 1: alone, it is the only class."""
    for _ in range(20):
        _, digits = _random_string(heat, {"sequence": "digits", "length": 40})
        assert set(digits) <= set(string.digits)
        classes = [{"class": "uppercase", "min": 5}]
        props = {"sequence": "digits", "character_classes": classes, "length": 8}
        _, mixed = _random_string(heat, props)
        assert set(mixed) <= set(string.ascii_uppercase + string.digits)
        assert sum(c.isdigit() for c in mixed) >= 1
        assert sum(c.isupper() for c in mixed) >= 5


_POOLS = st.lists(
    st.one_of(
        st.tuples(st.just("class"), st.sampled_from(sorted(CHARACTER_CLASSES))),
        st.tuples(st.just("sequence"), st.text(string.punctuation, min_size=1, max_size=6)),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    pools=_POOLS, mins=st.lists(st.integers(1, 6), min_size=4, max_size=4), extra=st.integers(0, 40)
)
def test_heat_random_string_honours_classes_sequences_and_mins(
    pools: list[tuple[str, str]], mins: list[int], extra: int
) -> None:
    properties: dict[str, Any] = {"character_classes": [], "character_sequences": []}
    wanted: list[tuple[str, int]] = []
    for (kind, what), minimum in zip(pools, mins, strict=False):
        if kind == "class":
            properties["character_classes"].append({"class": what, "min": minimum})
            wanted.append((CHARACTER_CLASSES[what], minimum))
        else:
            properties["character_sequences"].append({"sequence": what, "min": minimum})
            wanted.append((what, minimum))
    length = sum(minimum for _, minimum in wanted) + extra
    properties["length"] = length
    _, value = _random_string(HeatProvider(), properties)
    assert len(value) == length
    assert set(value) <= set().union(*(set(chars) for chars, _ in wanted))
    for chars, minimum in wanted:
        assert sum(c in chars for c in value) >= minimum


def test_heat_random_string_is_stable_and_its_id_holds_only_the_recipe(
    heat: HeatProvider, clock: FakeClock
) -> None:
    properties = {
        "length": 12,
        "character_classes": [{"class": "digits", "min": 3}],
        "character_sequences": [{"sequence": "!?", "min": 2}],
    }
    physical_id, value = _random_string(heat, properties)
    assert value not in physical_id
    assert heat.observe(ctx(RANDOM), physical_id).attributes["value"] == value
    # After a takeover, another worker makes a new value from the same recipe.
    other = HeatProvider(clock=clock)
    again = other.observe(ctx(RANDOM), physical_id).attributes["value"]
    assert other.observe(ctx(RANDOM), physical_id).attributes["value"] == again
    assert other.observe(ctx(RANDOM), physical_id).reference == again  # get_resource agrees
    assert len(again) == 12
    assert sum(c.isdigit() for c in again) >= 3
    assert sum(c in "!?" for c in again) >= 2
    heat.delete(ctx(RANDOM), physical_id)
    assert heat.is_deleted(ctx(RANDOM), physical_id)


@pytest.mark.parametrize(
    ("properties", "why"),
    [
        ({"length": 3, "character_classes": [{"class": "digits", "min": 4}]}, "smaller than"),
        ({"character_classes": [{"class": "emoji", "min": 1}]}, "unknown character class"),
        ({"character_sequences": [{"sequence": "", "min": 1}]}, "cannot be empty"),
        ({"length": 0}, "from 1 to 512"),
    ],
)
def test_heat_random_string_refuses_impossible_recipes(
    heat: HeatProvider, properties: dict[str, Any], why: str
) -> None:
    with pytest.raises(ResourceFailedError, match=why):
        heat.create(ctx(RANDOM), properties)


def test_heat_random_string_foreign_id_is_gone(heat: HeatProvider) -> None:
    with pytest.raises(ResourceGoneError):
        heat.observe(ctx(RANDOM), "somebody-else?length=x")


# -- TestResource ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "ready_after_s"),
    [
        ({"wait_secs": 5}, 5.0),
        ({"wait_secs": 5, "action_wait_secs": {"create": 2}}, 2.0),
        ({"action_wait_secs": {"create": 0}, "wait_secs": 9}, 0.0),
        ({"wait_secs": 1, "attr_wait_secs": 3}, 4.0),
    ],
)
def test_heat_test_resource_waits_and_survives_a_takeover(
    heat: HeatProvider, clock: FakeClock, properties: dict[str, Any], ready_after_s: float
) -> None:
    step = ctx(TEST, "slow")
    physical_id = heat.create(step, {"value": "done", **properties})
    assert physical_id.startswith(f"{step.cloud_name}@{clock.now + ready_after_s:.3f}")
    successor = HeatProvider(clock=clock)  # another worker, after a takeover
    if ready_after_s:
        clock.now += ready_after_s - 0.01
        assert not successor.observe(step, physical_id).ready
        clock.now += 0.01
    observed = successor.observe(step, physical_id)
    assert (observed.ready, dict(observed.attributes)) == (True, {"output": "done"})


def test_heat_test_resource_fails_as_asked(heat: HeatProvider, clock: FakeClock) -> None:
    with pytest.raises(ResourceFailedError, match=r"thing failed as asked \(fail: true\)"):
        heat.create(ctx(TEST), {"fail": True})
    step = ctx(TEST)
    physical_id = heat.create(step, {"fail": True, "wait_secs": 3})
    assert heat.observe(step, physical_id) == heat.observe(step, physical_id)
    assert not heat.observe(step, physical_id).ready
    assert heat.observe(step, physical_id).failed is None
    clock.now += 3
    observed = heat.observe(step, physical_id)
    assert not observed.ready
    assert observed.failed == "OS::Heat::TestResource thing failed as asked (fail: true)"
    heat.delete(step, physical_id)  # Heat does not fail the delete: rollback works
    assert not heat.is_deleted(step, physical_id)  # wait_secs is every action's wait
    clock.now += 3
    assert heat.is_deleted(step, physical_id)


def test_heat_test_resource_delete_waits(heat: HeatProvider, clock: FakeClock) -> None:
    step = ctx(TEST)
    physical_id = heat.create(step, {"wait_secs": 1, "action_wait_secs": {"delete": 4}})
    clock.now += 1
    heat.delete(step, physical_id)
    clock.now += 2
    heat.delete(step, physical_id)  # again: the first delete's deadline stands
    assert not heat.is_deleted(step, physical_id)
    clock.now += 2
    assert heat.is_deleted(step, physical_id)
    quick = heat.create(step, {})
    heat.delete(step, quick)
    assert heat.is_deleted(step, quick)


def test_heat_test_resource_foreign_id_is_gone(heat: HeatProvider) -> None:
    with pytest.raises(ResourceGoneError):
        heat.observe(ctx(TEST), "cool-other-thing@12.0")
    with pytest.raises(ResourceGoneError):
        heat.observe(ctx(TEST), "no deadline at all")
    heat.delete(ctx(TEST), "no deadline at all")  # nothing to wait for
    assert heat.is_deleted(ctx(TEST), "no deadline at all")


@pytest.mark.parametrize("resource_type", [NONE, VALUE, RANDOM, TEST])
def test_heat_ids_of_a_top_level_and_a_nested_name_that_map_alike_differ(
    heat: HeatProvider, resource_type: str
) -> None:
    """``a.0`` and the group member ``a/0`` share a cloud_name: their ids must not."""
    top, member = ctx(resource_type, "a.0"), ctx(resource_type, "a/0")
    assert top.cloud_name == member.cloud_name
    assert heat.create(top, {"value": "top"}) != heat.create(member, {"value": "member"})


def test_heat_values_of_a_top_level_and_a_nested_name_that_map_alike_stay_apart(
    heat: HeatProvider,
) -> None:
    top, member = ctx(VALUE, "a.0"), ctx(VALUE, "a/0")
    top_id = heat.create(top, {"value": "top"})
    member_id = heat.create(member, {"value": "member"})
    assert heat.observe(top, top_id).attributes == {"value": "top"}
    assert heat.observe(member, member_id).attributes == {"value": "member"}
    heat.delete(member, member_id)
    assert heat.observe(top, top_id).attributes == {"value": "top"}
    for kind in (RANDOM, TEST):  # ids carry the exact name, checked by another process
        physical_id = heat.create(ctx(kind, "a.0"), {})
        with pytest.raises(ResourceGoneError):
            HeatProvider().observe(ctx(kind, "a/0"), physical_id)
