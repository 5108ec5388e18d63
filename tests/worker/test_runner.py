"""Builds run by a real worker, on a real ZooKeeper, against the sim cloud."""

from __future__ import annotations

from pathlib import Path

from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from tests.worker.helpers import (
    event_lines,
    open_store,
    running_worker,
    statuses,
    submit,
    wait_terminal,
)

CHAIN = """
heat_template_version: wallaby
resources:
  a: {type: OS::Heat::Value, properties: {value: one}}
  b:
    type: OS::Heat::Value
    properties: {value: {list_join: ['-', [{get_attr: [a, value]}, two]]}}
  c:
    type: OS::Heat::Value
    properties: {value: {str_replace: {template: X-$b, params: {$b: {get_attr: [b, value]}}}}}
outputs:
  last: {value: {get_attr: [c, value]}, description: the end of the chain}
"""

FAN_OUT = """
heat_template_version: wallaby
resources:
  root: {type: OS::Heat::RandomString, properties: {length: 12}}
""" + "".join(
    f"  leaf{i}:\n    type: OS::Heat::Value\n"
    "    properties: {value: {get_attr: [root, value]}}\n"
    for i in range(8)
)

DIAMOND = """
heat_template_version: wallaby
resources:
  top: {type: OS::Heat::None}
  left: {type: OS::Heat::TestResource, depends_on: top, properties: {value: L, wait_secs: 0.05}}
  right: {type: OS::Heat::TestResource, depends_on: top, properties: {value: R}}
  bottom:
    type: OS::Heat::Value
    properties:
      value: {list_join: [',', [{get_attr: [left, output]}, {get_attr: [right, output]}]]}
outputs:
  joined: {value: {get_attr: [bottom, value]}}
"""


def _assert_dependency_order(
    events: list[tuple[str | None, str | None, str]], deps: dict[str, set[str]]
) -> None:
    """Each resource started only after every one of its dependencies completed (its
    first event: a type with no side effect is created complete at once)."""
    position: dict[tuple[str, str], int] = {}
    started: dict[str, int] = {}
    for index, (resource, _old, new) in enumerate(events):
        if resource is not None:
            position[(resource, new)] = index
            started.setdefault(resource, index)
    for name, needs in deps.items():
        for dep in needs:
            assert position[(dep, "CREATE_COMPLETE")] < started[name]


def test_runner_builds_a_chain_with_references_and_outputs(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, CHAIN, request_id="req-chain")
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE
        assert state.outputs == {
            "last": {"description": "the end of the chain", "value": "X-one-two"}
        }
        assert (state.done, state.total) == (3, 3)
        events = store.events(build_id)
        assert [n for n, _ in events] == sorted(n for n, _ in events)
        assert {e.request_id for _, e in events} == {"req-chain"}
        _assert_dependency_order(event_lines(store, build_id), {"b": {"a"}, "c": {"b"}})
        assert event_lines(store, build_id)[:2] == [
            (None, None, "CREATE_QUEUED"),
            (None, "CREATE_QUEUED", "CREATE_IN_PROGRESS"),
        ]
        assert event_lines(store, build_id)[-1] == (None, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
        assert store.pending() == []
        assert store.claimed() == []


def test_runner_builds_a_fan_out_in_parallel(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, FAN_OUT)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE
        records = store.resources(build_id)
        value = records["root"][0].attributes["value"]
        assert len(value) == 12
        for i in range(8):
            leaf = records[f"leaf{i}"][0]
            assert leaf.attributes["value"] == value
        _assert_dependency_order(
            event_lines(store, build_id), {f"leaf{i}": {"root"} for i in range(8)}
        )


def test_runner_builds_a_diamond(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, DIAMOND)
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state
        assert state.outputs == {"joined": {"description": "", "value": "L,R"}}
        _assert_dependency_order(
            event_lines(store, build_id),
            {"left": {"top"}, "right": {"top"}, "bottom": {"left", "right"}},
        )


def test_runner_builds_the_multi_tier_example_on_the_sim_cloud(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, examples_dir: Path
) -> None:
    template = (examples_dir / "multi-tier.yaml").read_text()
    db = tmp_path / "sim.db"
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db, latency_s=0.05):
        build_id = submit(store, registry, template, name="multi")
        state = wait_terminal(store, build_id)
        assert state.status is BuildStatus.CREATE_COMPLETE, state.note
        url = state.outputs["web_url"]["value"]
        assert url.startswith("http://")
        assert url.endswith("/")
        recorded = statuses(store, build_id)
    assert set(recorded.values()) == {"CREATE_COMPLETE"}
    with SimProvider(db) as sim:
        live = sim.live_resources(build_id)
        assert sorted(r.resource_name for r in live) == sorted(recorded)
        assert sim.duplicates(build_id) == []
        server = next(r for r in live if r.resource_name == "web")
        assert server.properties["key_name"] == "multi-key"  # get_resource gives the name


def test_runner_failure_leaves_a_note_and_rolls_back(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, examples_dir: Path
) -> None:
    template = (examples_dir / "multi-tier.yaml").read_text()
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        sim.arm("db", "create", times=None, message="No valid host was found")
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db, worker_id="w-fail"):
        build_id = submit(store, registry, template)
        state = wait_terminal(store, build_id)
        lines = event_lines(store, build_id)
    assert state.status is BuildStatus.ROLLBACK_COMPLETE
    assert state.note is not None
    assert state.note["resource"] == "db"
    assert state.note["type"] == "OS::Nova::Server"
    assert state.note["action"] == "CREATE"
    assert "No valid host was found" in state.note["error"]
    assert state.note["worker"] == "w-fail"
    assert state.note["at"] > 0
    assert state.reason == "rolled back"
    assert (None, "CREATE_IN_PROGRESS", "CREATE_FAILED") in lines
    assert (None, "CREATE_FAILED", "ROLLBACK_IN_PROGRESS") in lines
    assert lines[-1] == (None, "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE")
    with SimProvider(db) as sim:
        # Everything was deleted but the volume kept by deletion_policy: Retain.
        kept = [(r.resource_name, r.type) for r in sim.live_resources(build_id)]
        assert kept in ([], [("db_volume", "OS::Cinder::Volume")])


FAILS_LAST = """
heat_template_version: wallaby
resources:
  a: {type: OS::Heat::Value, properties: {value: one}}
  b: {type: OS::Heat::Value, properties: {value: {get_attr: [a, value]}}}
  c: {type: OS::Heat::TestResource, depends_on: b, properties: {fail: true}}
"""


def test_runner_without_rollback_keeps_what_was_built(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, FAILS_LAST, rollback=False)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.CREATE_FAILED
    assert state.note is not None
    assert state.note["resource"] == "c"
    assert "failed as asked" in state.note["error"]
    assert recorded == {"a": "CREATE_COMPLETE", "b": "CREATE_COMPLETE", "c": "CREATE_FAILED"}


def test_runner_failure_stops_new_steps_and_finishes_those_in_flight(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    template = """
heat_template_version: wallaby
resources:
  slow: {type: OS::Heat::TestResource, properties: {wait_secs: 0.3}}
  bad: {type: OS::Heat::TestResource, properties: {fail: true}}
  later: {type: OS::Heat::None, depends_on: slow}
"""
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, template, rollback=False)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.CREATE_FAILED
    assert recorded == {"slow": "CREATE_COMPLETE", "bad": "CREATE_FAILED"}


def test_two_workers_share_builds_each_built_once(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    with (
        open_store(zk_hosts) as store,
        running_worker(zk_hosts, db, worker_id="w1") as first,
        running_worker(zk_hosts, db, worker_id="w2") as second,
    ):
        builds = [submit(store, registry, CHAIN) for _ in range(12)]
        for build_id in builds:
            assert wait_terminal(store, build_id).status is BuildStatus.CREATE_COMPLETE
        owners = set()
        for build_id in builds:
            lease, _ = store.lease_data(build_id)
            assert lease["claims"] == 1  # claimed once: no herd, no double work
            owners.add(lease["worker_id"])
        assert owners == {first.worker_id, second.worker_id}


def test_runner_rollback_that_fails_ends_rollback_failed_with_both_reasons(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    template = """
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net}
  sg: {type: OS::Neutron::SecurityGroup, depends_on: net}
"""
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        sim.arm("sg", "create", times=None, message="quota exceeded")
        sim.arm("net", "delete", times=None, message="network in use")
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, template)
        state = wait_terminal(store, build_id)
        recorded = statuses(store, build_id)
    assert state.status is BuildStatus.ROLLBACK_FAILED
    assert state.note is not None
    assert state.note["resource"] == "sg"  # the failure that started it all
    assert "quota exceeded" in state.note["error"]
    assert state.reason.startswith("rollback failed: DELETE of net (OS::Neutron::Net) failed")
    assert "network in use" in state.reason
    assert recorded["net"] == "DELETE_FAILED"


ONE_VOLUME = """
heat_template_version: wallaby
resources:
  vol: {type: OS::Cinder::Volume, properties: {size: 1}}
"""


def test_a_create_failed_at_its_first_look_records_what_it_made(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """The id is written by the first look that finds a resource not ready; one already
    in ERROR at that look is recorded with its failure, so what it made is known by id."""
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim:
        sim.arm("vol", "create", times=None, mode="error_status", message="disk on fire")
    with open_store(zk_hosts) as store, running_worker(zk_hosts, db):
        build_id = submit(store, registry, ONE_VOLUME, rollback=False)
        state = wait_terminal(store, build_id)
        record = store.resources(build_id)["vol"][0]
    assert state.status is BuildStatus.CREATE_FAILED
    with SimProvider(db) as sim:
        [made] = sim.live_resources(build_id)
    assert record.status is ResourceStatus.CREATE_FAILED
    assert record.physical_id == made.physical_id
