"""Resizes recorded in ZooKeeper (cool.store.scaling), on a real server: one transaction
whatever races it, a plan version written once, and nothing left behind by a prune."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import pytest
from kazoo.client import KazooClient

from cool.errors import BuildConflictError
from cool.model import BuildStatus, Plan, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.fence import claim
from cool.store.layout import Layout
from cool.store.prune import Pruner
from cool.store.records import ResourceRecord
from cool.store.scaling import Compile, Recipe, Resizes
from cool.template.compile import check, compile_template

TEMPLATE = """\
heat_template_version: wallaby
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 0
      desired_capacity: 1
      max_size: 10
      resource: {type: OS::Heat::None}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: asg}
      scaling_adjustment: 1
"""
NOW = 1_800_000_000.0
MAX = 2000  # [template] max_total_resources' default


@pytest.fixture
def store(kazoo_client: KazooClient) -> BuildStore:
    store = BuildStore(kazoo_client, Layout("/cool"), clock=lambda: NOW - 100)
    store.ensure_layout()
    return store


def _compiler(registry: ResourceTypeRegistry, calls: list[int] | None = None) -> Compile:
    def compile_plan(recipe: Recipe, members: Mapping[str, Sequence[str]]) -> Plan:
        if calls is not None:
            calls.append(1)
        report = check(recipe.template, registry, recipe.parameters, members=members)
        assert report.plan is not None
        return report.plan

    return compile_plan


def _complete(store: BuildStore, plan: Plan, *, recipe: bool = True) -> str:
    """A build made and finished as a worker would (every resource complete)."""
    build_id = store.submit(
        plan,
        project_id="p1",
        user_id="u1",
        recipe=Recipe(TEMPLATE).to_dict() if recipe else None,
    ).build_id
    _finish(store, build_id, plan, BuildStatus.CREATE_COMPLETE)
    return build_id


def _finish(store: BuildStore, build_id: str, plan: Plan, status: BuildStatus) -> None:
    fence = claim(store.client, store.layout, build_id, "test-worker")
    assert fence is not None
    state, version = store.state(build_id)
    records = []
    held = store.resources(build_id)
    for spec in plan.resources:
        done = ResourceStatus.DELETE_COMPLETE if spec.name in plan.retiring else None
        record = ResourceRecord(
            spec.name, spec.type, done or ResourceStatus.CREATE_COMPLETE, physical_id=spec.name
        )
        before = held.get(spec.name)
        records.append((record, before[1] if before else None))
    fence.write(
        resources=records,
        state=(state.but(status=status, reason="done", update=None), version),
        finish=True,
    )


def test_racing_signals_resize_once(store: BuildStore, registry: ResourceTypeRegistry) -> None:
    plan = compile_template(TEMPLATE, registry, {})
    build_id = _complete(store, plan)
    resizes = Resizes(store, clock=lambda: NOW)
    barrier = threading.Barrier(6)
    outcomes = []

    def signal() -> None:
        barrier.wait(timeout=10)
        outcomes.append(
            resizes.signal(build_id, "up", {}, compile_plan=_compiler(registry), max_members=MAX)
        )

    threads = [threading.Thread(target=signal) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 6
    assert sum(o.resized for o in outcomes) == 1
    assert all("only a complete build" in o.reason for o in outcomes if not o.resized)
    state, _ = store.state(build_id)
    assert state.status is BuildStatus.UPDATE_IN_PROGRESS
    assert state.plan_version == 1
    assert store.is_pending(build_id)
    resized = store.plan_at(build_id, 1)
    assert {s.name for s in resized.resources} == {"asg", "asg/0", "asg/1", "up"}
    assert (state.done, state.total) == (3, 4)  # the new member is what is left to do
    # Who reads the build now reads the plan its state names.
    assert store.live_plan(build_id) == resized
    assert store.get(build_id).plan == resized


def test_each_plan_version_replaces_the_one_before(
    store: BuildStore, registry: ResourceTypeRegistry, kazoo_client: KazooClient
) -> None:
    plan = compile_template(TEMPLATE, registry, {})
    build_id = _complete(store, plan)
    resizes = Resizes(store, clock=lambda: NOW)
    layout = store.layout
    for version in (1, 2, 3):
        outcome = resizes.signal(
            build_id, "up", {}, compile_plan=_compiler(registry), max_members=MAX
        )
        assert outcome.resized, outcome.reason
        assert outcome.state.plan_version == version
        assert outcome.state.scaling == {"asg": {"next": version + 1}}
        _finish(store, build_id, store.plan_at(build_id, version), BuildStatus.UPDATE_COMPLETE)
        children = kazoo_client.get_children(layout.build(build_id))
        assert [c for c in children if c.startswith("plan-")] == [f"plan-{version:010d}"]
    assert [s.name for s in store.live_plan(build_id).resources if s.parent == "asg"] == [
        "asg/0",
        "asg/1",
        "asg/2",
        "asg/3",
    ]


def test_a_build_without_a_recipe_is_not_resized(
    store: BuildStore, registry: ResourceTypeRegistry
) -> None:
    plan = compile_template(TEMPLATE, registry, {})
    build_id = _complete(store, plan, recipe=False)
    with pytest.raises(BuildConflictError, match="no recipe"):
        Resizes(store).signal(build_id, "up", {}, compile_plan=_compiler(registry), max_members=MAX)
    assert store.state(build_id)[0].status is BuildStatus.CREATE_COMPLETE


def test_a_signal_that_changes_nothing_writes_nothing(
    store: BuildStore, registry: ResourceTypeRegistry
) -> None:
    plan = compile_template(TEMPLATE, registry, {})
    build_id = _complete(store, plan)
    before = store.state(build_id)
    events = len(store.event_numbers(build_id))
    calls: list[int] = []
    outcome = Resizes(store).signal(
        build_id, "up", {"current": "ok"}, compile_plan=_compiler(registry, calls), max_members=MAX
    )
    assert not outcome.resized
    assert calls == []  # not even compiled
    assert store.state(build_id) == before
    assert len(store.event_numbers(build_id)) == events
    assert not store.is_pending(build_id)


def test_a_resized_build_is_pruned_whole(
    store: BuildStore, registry: ResourceTypeRegistry, kazoo_client: KazooClient
) -> None:
    plan = compile_template(TEMPLATE, registry, {})
    build_id = _complete(store, plan)
    assert (
        Resizes(store)
        .signal(build_id, "up", {}, compile_plan=_compiler(registry), max_members=MAX)
        .resized
    )
    _finish(store, build_id, store.plan_at(build_id, 1), BuildStatus.UPDATE_COMPLETE)
    pruner = Pruner(kazoo_client, store.layout)
    listed = {b.build_id: b for chunk in pruner.finished() for b in chunk}
    result = pruner.prune([listed[build_id]])
    assert result.pruned == [build_id]
    assert result.transactions == 1  # the recipe and the plan version are leaves
    assert kazoo_client.exists(store.layout.build(build_id)) is None
