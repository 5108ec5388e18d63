"""``cool resources --nested`` and the parent in ``cool events``, on a nested build run
by the local system's real workers (the plan is stored by hand: the compiler does not
flatten nested templates in this test's scope)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from cool.clouds.nested import nested_stack_id
from harness.system.local import PROJECT, USER, LocalSystem
from harness.zk_clients import open_store
from tests.cli.conftest import Result
from tests.nested_plan import group_plan
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

Cool = Callable[..., Result]


def _built(system: LocalSystem, cool: Cool) -> str:
    with open_store(system.zk_hosts) as store:
        build_id = store.submit(group_plan(), project_id=PROJECT, user_id=USER).build_id

    def complete() -> bool:
        shown = json.loads(cool("status", build_id, "-f", "json").out)
        return shown["status"] == "CREATE_COMPLETE"

    assert_eventually(complete, timeout_s=60, message="the nested build completes")
    return build_id


def test_resources_nested_shows_the_tree_with_each_parent(system: LocalSystem, cool: Cool) -> None:
    build_id = _built(system, cool)
    top = json.loads(cool("resources", build_id, "-f", "json").out)
    assert [r["Name"] for r in top] == ["web", "after"]
    assert "Parent" not in top[0]  # as before nested stacks: the template's own resources

    tree = cool("resources", build_id, "--nested", "-f", "json")
    assert tree.rc == 0, tree.err
    rows = json.loads(tree.out)
    assert [(r["Name"], r["Parent"], r["Nested"]) for r in rows] == [
        ("web/0/net", "web/0", ""),
        ("web/0/value", "web/0", ""),
        ("web/1/net", "web/1", ""),
        ("web/1/value", "web/1", ""),
        ("web/0", "web", "template"),
        ("web/1", "web", "template"),
        ("web", "", "group"),
        ("after", "", ""),
    ]
    assert {r["Status"] for r in rows} == {"CREATE_COMPLETE"}
    web = next(r for r in rows if r["Name"] == "web")
    assert web["Physical ID"] == nested_stack_id(build_id, "web")

    table = cool("resources", build_id, "--nested").out
    assert "| Parent" in table
    assert "| web/0/net " in table

    events = json.loads(cool("events", build_id, "-f", "json").out)
    parents = {(e["Resource"], e["Parent"]) for e in events}
    assert ("web/0/net", "web/0") in parents
    assert ("web", "") in parents
    assert ("", "") in parents  # the build's own events
