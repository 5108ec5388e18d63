"""A record too large for ZooKeeper fails its build with a note (finding 3 of issue 15).

A 4.5 KB template whose value resolved to 2.25 MB at run time: the worker sent the
write, ZooKeeper dropped its connection, and the worker reconnected and resent it
forever while the build sat CREATE_IN_PROGRESS. Now a value over the resolution
budget fails its step; a record that is over the write limit although each value is
within budget is never sent: the resource fails with a small record, the build rolls
back; outputs over the limit are replaced by errors. The worker's session is the one
it started with throughout.
"""

from __future__ import annotations

from pathlib import Path

from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.records import BuildState
from tests.worker.helpers import open_store, running_worker, statuses, submit, wait_terminal

SEED = f'  seed: {{type: OS::Heat::Value, properties: {{value: "{"$a" * 1200}"}}}}\n'
# 240,000 bytes each: within the budget of one value (256 KiB), five over 1,000,000.
PIECE = (
    f'{{str_replace: {{template: {{get_attr: [seed, value]}}, params: {{"$a": "{"x" * 200}"}}}}}}'
)

AMPLIFIED = f"""
heat_template_version: wallaby
resources:
  seed: {{type: OS::Heat::Value, properties: {{value: "{"$a" * 1500}"}}}}
  big:
    type: OS::Heat::Value
    properties:
      value:
        str_replace:
          template: {{get_attr: [seed, value]}}
          params: {{"$a": "{"x" * 1500}"}}
  after: {{type: OS::Heat::None, depends_on: big}}
"""

WIDE_RECORD = (
    "heat_template_version: wallaby\nresources:\n"
    + SEED
    + f"  big:\n    type: OS::Heat::Value\n    properties:\n      type: json\n"
    f"      value: [{', '.join([PIECE] * 5)}]\n"
    "  after: {type: OS::Heat::None, depends_on: big}\n"
)

WIDE_OUTPUTS = (
    "heat_template_version: wallaby\nresources:\n"
    + SEED
    + "outputs:\n"
    + "".join(f"  o{i}: {{description: piece {i}, value: {PIECE}}}\n" for i in range(1, 6))
    + "  small: {value: {get_attr: [seed, value]}}\n"
)


def _run(hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, template: str) -> tuple:
    """The build's final state and records, and whether the worker kept its session."""
    with open_store(hosts) as store, running_worker(hosts, tmp_path / "sim.db") as worker:
        session_id = worker.session.session_id
        build_id = submit(store, registry, template)
        wait_terminal(store, build_id, timeout_s=30)
        state: BuildState = store.state(build_id)[0]  # (read again: wait_terminal may race)
        same_session = worker.session.session_id == session_id
        return state, _records(store, build_id), statuses(store, build_id), same_session


def _records(store: BuildStore, build_id: str) -> dict:
    return {name: record for name, (record, _) in store.resources(build_id).items()}


def test_record_too_large_fails_the_build_with_a_note_and_no_reconnection(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    assert len(WIDE_RECORD) < 8_000
    state, records, recorded, same_session = _run(zk_hosts, tmp_path, registry, WIDE_RECORD)
    assert same_session  # never disconnected
    assert state.status is BuildStatus.ROLLBACK_COMPLETE, state.reason
    assert state.note is not None
    assert state.note["resource"] == "big"
    error = str(state.note["error"])
    assert error.startswith("the record of resource big would be 1,20")
    assert error.endswith("1,000,000-byte limit of one ZooKeeper write; it was not written")
    assert "after" not in recorded  # the build stopped at the failure
    assert recorded["big"] == "DELETE_COMPLETE"  # its physical id was kept for the rollback
    assert records["big"].physical_id is not None
    assert records["big"].attributes == {}


def test_value_over_the_resolution_budget_fails_its_step_with_a_note(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    assert len(AMPLIFIED) < 5_000
    state, _, recorded, same_session = _run(zk_hosts, tmp_path, registry, AMPLIFIED)
    assert same_session
    assert state.status is BuildStatus.ROLLBACK_COMPLETE, state.reason
    assert state.note is not None
    assert state.note["resource"] == "big"
    assert str(state.note["error"]).startswith("its properties could not be resolved: ")
    assert "budget" in str(state.note["error"])
    assert "after" not in recorded
    assert recorded["big"] == "DELETE_COMPLETE"  # recorded CREATE_FAILED, then rolled back


def test_outputs_too_large_are_replaced_by_an_error_and_the_build_completes(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    state, _, _, same_session = _run(zk_hosts, tmp_path, registry, WIDE_OUTPUTS)
    assert same_session
    assert state.status is BuildStatus.CREATE_COMPLETE, state.reason
    assert state.reason == "build complete; outputs too large to keep: o1"
    outputs = state.outputs or {}
    assert outputs["small"] == {"description": "", "value": "$a" * 1200}
    assert [name for name, entry in outputs.items() if "value" in entry] == [
        "o2", "o3", "o4", "o5", "small"
    ]  # fmt: skip
    assert outputs["o1"]["description"] == "piece 1"
    error = outputs["o1"]["error"]
    assert error.startswith("not kept: its value is 240,002 bytes, and the build's record")
    assert error.endswith("over the 1,000,000-byte limit of one ZooKeeper write")
