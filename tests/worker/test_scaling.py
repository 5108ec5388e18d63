"""Resizes run by a real worker on the real ZooKeeper and the sim: many resizes in a
build's life, two groups resized in turn, a cancel left from the create; each ends as
it should, and the sim holds each member once."""

from __future__ import annotations

from pathlib import Path

from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.control import Requests
from cool.store.signals import SignalBook
from tests.worker.helpers import open_store, resize, running_worker, submit, wait_terminal
from tests.zk import assert_eventually

TWO_GROUPS = """
heat_template_version: wallaby
resources:
  a:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 0
      desired_capacity: 1
      max_size: 20
      resource: {type: OS::Cinder::Volume, properties: {size: 1}}
  b:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 0
      desired_capacity: 2
      max_size: 20
      resource: {type: OS::Cinder::Volume, properties: {size: 2}}
  grow_a:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: a}
      scaling_adjustment: 1
  shrink_b:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: b}
      scaling_adjustment: -1
outputs:
  a: {value: {get_attr: [a, current_size]}}
  b: {value: {get_attr: [b, refs]}}
"""


def _live(db: Path, build_id: str) -> list[str]:
    with SimProvider(db) as sim:
        assert sim.duplicates(build_id) == []
        return sorted(r.resource_name for r in sim.live_resources(build_id))


def _outputs(state: object) -> dict[str, object]:
    return {k: v["value"] for k, v in (getattr(state, "outputs", None) or {}).items()}


def test_a_build_resized_many_times_is_still_deleted(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """Every resize is a claim of its own: the poison count starts again with each, so
    a build resized more times than [worker] max_claims is not taken for poison."""
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, TWO_GROUPS)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        for _ in range(8):
            assert resize(store, registry, build_id, "grow_a").resized
            state = wait_terminal(store, build_id)
            assert state.status is BuildStatus.UPDATE_COMPLETE, state.note
        assert _outputs(state)["a"] == 9
        assert len(_live(db, build_id)) == 9 + 2
        Requests(store).delete(build_id)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.DELETE_COMPLETE, state.note
    assert _live(db, build_id) == []


def test_resizing_one_group_leaves_the_other_as_an_earlier_resize_left_it(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, TWO_GROUPS)
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        assert resize(store, registry, build_id, "shrink_b").resized
        assert wait_terminal(store, build_id).status is BuildStatus.UPDATE_COMPLETE
        assert _live(db, build_id) == ["a/0", "b/1"]
        assert resize(store, registry, build_id, "grow_a").resized
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.UPDATE_COMPLETE, state.note
        # b keeps its one member (b/0 is not made again), and its outputs say so.
        assert _live(db, build_id) == ["a/0", "a/1", "b/1"]
        assert len(_outputs(state)["b"]) == 1  # type: ignore[arg-type]
        plan = store.live_plan(build_id)
        assert [s.name for s in plan.resources if s.parent == "b"] == ["b/1"]
        assert plan.retiring == ()


def test_a_cancel_left_from_the_create_does_not_stop_a_resize(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store:
        with running_worker(zk_hosts, db):
            build_id = submit(store, registry, TWO_GROUPS)
            assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        # A cancel that came as the create completed (the worker finished all the same).
        store.client.set(store.layout.control(build_id), b'{"cancel":{"at":1}}')
        assert resize(store, registry, build_id, "grow_a").resized
        control, _ = Requests(store).control(build_id)
        assert control == {}
        with running_worker(zk_hosts, db):
            state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.UPDATE_COMPLETE, state.note
        assert _live(db, build_id) == ["a/0", "a/1", "b/0", "b/1"]


WAITING_MEMBERS = """
heat_template_version: wallaby
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      desired_capacity: 1
      max_size: 3
      resource: {type: member.yaml}
  grow:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: asg}
      scaling_adjustment: 1
outputs:
  said: {value: {get_attr: [asg, outputs_list, said]}}
"""
MEMBER = """
heat_template_version: wallaby
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 60}
outputs:
  said: {value: {get_attr: [wait, data]}}
"""


def test_a_new_member_signals_its_own_handle_during_the_resize(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """A scaling group's members often wait for their servers: a new member's handle
    takes its server's signal while the build is resized, as the first ones did."""
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        book = SignalBook(store.client, store.layout)

        def signal(member: str) -> None:
            name = f"asg/{member}/handle"

            def token() -> str | None:
                record = store.resources(build_id).get(name)
                done = record is not None and record[0].status.value == "CREATE_COMPLETE"
                return str(record[0].attributes["token"]) if done else None

            given = assert_eventually(token, timeout_s=30, message=f"{name} is created")
            book.send(build_id, name, {"data": f"up {member}"}, token=given)

        build_id = submit(store, registry, WAITING_MEMBERS, files={"member.yaml": MEMBER})
        signal("0")
        assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        assert resize(store, registry, build_id, "grow").resized
        signal("1")
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.UPDATE_COMPLETE, state.note
        assert _outputs(state)["said"] == ['{"1": "up 0"}', '{"1": "up 1"}']
