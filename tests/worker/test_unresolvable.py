"""A plan whose values cannot be resolved fails its step with a note (review of issue 17).

The compiler refuses values that would read as functions, but a plan is data in
ZooKeeper: if one still holds such a shape (or nests too deep for the run-time
walk), the KeyError or RecursionError it raises must fail the step with a note.
Before, they escaped the runner: the claim was released and the build was
claimed again and again until it was poison, with no note.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import compile_template
from tests.worker.helpers import open_store, running_worker, wait_terminal

pytestmark = pytest.mark.slow

TEMPLATE = """\
heat_template_version: wallaby
resources:
  a: {type: OS::Heat::Value, properties: {value: one}}
  b: {type: OS::Heat::Value, depends_on: a, properties: {value: two}}
"""


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"str_replace": {"a": 1}}, "'template'"),  # KeyError: no template
        ({"get_param": "nope"}, "'nope'"),  # KeyError: no such pseudo parameter
        (_deep(700), "recursion"),  # RecursionError: deeper than the walk goes
    ],
    ids=["str_replace-without-template", "get_param-unknown", "too-deep"],
)
def test_an_unresolvable_value_fails_the_step_with_a_note(
    value: Any, error: str, zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    plan = compile_template(TEMPLATE, registry, {})
    resources = tuple(
        dataclasses.replace(spec, properties={"value": value}) if spec.name == "b" else spec
        for spec in plan.resources
    )
    plan = dataclasses.replace(plan, resources=resources)
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = store.submit(plan, project_id="p1", user_id="u1").build_id
        state = wait_terminal(store, build_id, timeout_s=45)
        lease, _ = store.lease_data(build_id)
    assert state.status is BuildStatus.ROLLBACK_COMPLETE, state.reason
    assert lease["claims"] == 1
    assert state.note is not None
    assert state.note["resource"] == "b"
    note = str(state.note["error"])
    assert note.startswith("its properties could not be resolved: ")
    assert error in note
