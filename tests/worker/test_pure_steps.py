"""A resource with no side effect is one ZooKeeper transaction (issue 20).

OS::Heat::None, Value, RandomString and the configuration types make nothing anywhere:
the intent checkpoint before their create guarded no side effect, and cost a second
transaction per resource. A worker that dies before the one write leaves nothing: the
next one makes the value again.
"""

from __future__ import annotations

from pathlib import Path

from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from tests.worker.helpers import event_lines, open_store, running_worker, submit, wait_terminal

TEMPLATE = """
heat_template_version: wallaby
resources:
  none: {type: OS::Heat::None}
  value: {type: OS::Heat::Value, properties: {value: {get_resource: none}}}
  random: {type: OS::Heat::RandomString, properties: {length: 12}}
  config: {type: OS::Heat::SoftwareConfig, properties: {config: {get_attr: [value, value]}}}
  broken: {type: OS::Heat::Value, properties: {type: number, value: {get_resource: none}}}
  net: {type: OS::Neutron::Net}
outputs:
  random: {value: {get_attr: [random, value]}}
  config: {value: {get_attr: [config, config]}}
"""


def test_a_resource_with_no_side_effect_is_written_once(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, TEMPLATE.replace("  broken:", "  #broken:"))
        state = wait_terminal(store, build_id)
        records = store.resources(build_id)
        lines = event_lines(store, build_id)
    assert state.status is BuildStatus.CREATE_COMPLETE, state.reason
    for name in ("none", "value", "random", "config"):
        record, version = records[name]
        assert version == 0, name  # one write: created complete
        assert [(old, new) for r, old, new in lines if r == name] == [
            ("PENDING", "CREATE_COMPLETE")
        ]
        assert record.physical_id, name
    assert records["value"][0].attributes["value"] == records["none"][0].physical_id
    assert len(state.outputs["random"]["value"]) == 12
    assert state.outputs["config"]["value"] == records["none"][0].physical_id
    # A cloud resource keeps its checkpoint before the create.
    net_events = [(old, new) for r, old, new in lines if r == "net"]
    assert net_events == [
        ("PENDING", "CREATE_IN_PROGRESS"),
        ("CREATE_IN_PROGRESS", "CREATE_COMPLETE"),
    ]


def test_a_resource_with_no_side_effect_that_fails_is_written_once_with_its_error(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, TEMPLATE, rollback=False)
        state = wait_terminal(store, build_id)
        record, version = store.resources(build_id)["broken"]
    assert state.status is BuildStatus.CREATE_FAILED, state.reason
    assert state.note is not None
    assert state.note["resource"] == "broken"
    assert "number" in str(state.note["error"])
    assert str(record.status) == "CREATE_FAILED"
    assert version == 0
    assert record.error
