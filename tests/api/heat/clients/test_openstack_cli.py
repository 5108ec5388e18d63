"""``openstack stack ...`` and ``openstack orchestration ...`` (python-openstackclient
with python-heatclient, from PyPI) against cool, typed as a Heat user types them:
OS_* variables of a project's member, cool found in the catalog as ``orchestration``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.api.heat.clients.helpers import (
    EXAMPLES,
    TEMPLATES,
    HeatService,
    Run,
    openstack,
    unique,
)
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

POLL = ("--poll", "1")  # heatclient's own option; its default polls every 5 s


def _stack_event(run: Run, name: str, status: str) -> bool:
    """Whether ``--wait`` printed the stack's own event with ``status``, as
    heatclient's event log prints it: ``<time> <id> [<stack name>]: <status>  <reason>``."""
    return re.search(rf"^\S+ \S+ \S+ \[{re.escape(name)}\]: {status}\b", run.out, re.M) is not None


@pytest.fixture(scope="module")
def hello(heat_service: HeatService) -> tuple[str, Run]:
    """``stack create --wait`` of hello.yaml: the stack's name and what the CLI said."""
    name = unique("hello")
    created = openstack(
        heat_service,
        heat_service.member,
        *("stack", "create", "--wait", *POLL, "-t", TEMPLATES / "hello.yaml", name),
        *("--parameter", "greeting=bonjour", "-f", "json"),
    )
    return name, created


def test_create_waits_for_the_stacks_complete_event(hello: tuple[str, Run]) -> None:
    name, created = hello
    assert created.rc == 0, created.err
    assert _stack_event(created, name, "CREATE_IN_PROGRESS"), created.out
    assert _stack_event(created, name, "CREATE_COMPLETE"), created.out
    assert f"Stack {name} CREATE_COMPLETE" not in created.err
    shown = created.json()
    assert shown["stack_name"] == name
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert len(shown["id"]) == 26  # cool's build id (a ULID), which heatclient takes as is


def test_list_and_show(heat_service: HeatService, hello: tuple[str, Run]) -> None:
    name, created = hello
    stack_id = created.json()["id"]
    listed = openstack(heat_service, heat_service.member, "stack", "list", "-f", "json")
    assert listed.rc == 0, listed.err
    (row,) = [row for row in listed.json() if row["Stack Name"] == name]
    assert row["ID"] == stack_id
    assert row["Stack Status"] == "CREATE_COMPLETE"
    assert row["Creation Time"].endswith("Z")

    shown = openstack(heat_service, heat_service.member, "stack", "show", name, "-f", "json")
    assert shown.rc == 0, shown.err
    stack = shown.json()
    assert stack["id"] == stack_id
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert stack["description"] == "Says hello, on any cloud."
    assert stack["parameters"]["greeting"] == "bonjour"
    assert stack["parameters"]["times"] == "2"  # Heat's parameters are strings
    assert stack["parameters"]["OS::stack_name"] == name
    assert stack["outputs"] == [
        {"output_key": "said", "output_value": "bonjour", "description": "What the speaker said."}
    ]
    by_id = openstack(heat_service, heat_service.member, "stack", "show", stack_id, "-f", "json")
    assert by_id.rc == 0, by_id.err
    assert by_id.json()["stack_name"] == name


def test_events_resources_outputs_and_template(
    heat_service: HeatService, hello: tuple[str, Run]
) -> None:
    name, _ = hello
    member = heat_service.member

    events = openstack(heat_service, member, "stack", "event", "list", name, "-f", "json")
    assert events.rc == 0, events.err
    said = [(e["resource_name"], e["resource_status"]) for e in events.json()]
    assert said[0] == (name, "CREATE_IN_PROGRESS")
    assert ("speaker", "CREATE_COMPLETE") in said
    assert said[-1] == (name, "CREATE_COMPLETE")

    resources = openstack(heat_service, member, "stack", "resource", "list", name, "-f", "json")
    assert resources.rc == 0, resources.err
    (speaker,) = resources.json()
    assert speaker["resource_name"] == "speaker"
    assert speaker["resource_type"] == "OS::Heat::TestResource"
    assert speaker["resource_status"] == "CREATE_COMPLETE"

    shown = openstack(
        heat_service, member, "stack", "resource", "show", name, "speaker", "-f", "json"
    )
    assert shown.rc == 0, shown.err
    resource = shown.json()
    assert resource["physical_resource_id"] == speaker["physical_resource_id"]
    assert resource["attributes"]["output"] == "bonjour"

    outputs = openstack(heat_service, member, "stack", "output", "list", name, "-f", "json")
    assert outputs.rc == 0, outputs.err
    assert outputs.json() == [{"output_key": "said", "description": "What the speaker said."}]
    output = openstack(heat_service, member, "stack", "output", "show", name, "said", "-f", "json")
    assert output.rc == 0, output.err
    assert output.json()["output_value"] == "bonjour"

    template = openstack(heat_service, member, "stack", "template", "show", name, "-f", "json")
    assert template.rc == 0, template.err
    assert template.json()["resources"]["speaker"]["type"] == "OS::Heat::TestResource"
    assert str(template.json()["heat_template_version"]) == "2018-08-31"


def test_validate_and_resource_types(heat_service: HeatService) -> None:
    member = heat_service.member
    valid = openstack(
        heat_service,
        member,
        *("orchestration", "template", "validate", "-t", TEMPLATES / "hello.yaml", "-f", "json"),
    )
    assert valid.rc == 0, valid.err
    answer = valid.json()
    assert answer["Description"] == "Says hello, on any cloud."
    assert answer["Parameters"]["greeting"]["Default"] == "hello"
    assert answer["Parameters"]["times"]["Type"] == "Number"

    types = openstack(
        heat_service, member, "orchestration", "resource", "type", "list", "-f", "json"
    )
    assert types.rc == 0, types.err
    names = {row["Resource Type"] for row in types.json()}
    assert {"OS::Heat::TestResource", "OS::Nova::Server", "OS::Neutron::Net"} <= names

    shown = openstack(
        heat_service,
        member,
        *("orchestration", "resource", "type", "show", "OS::Heat::TestResource", "-f", "json"),
    )
    assert shown.rc == 0, shown.err
    schema = shown.json()
    assert schema["resource_type"] == "OS::Heat::TestResource"
    assert {"value", "fail"} <= set(schema["properties"])
    assert "output" in schema["attributes"]


def test_a_refused_template_shows_every_located_problem(heat_service: HeatService) -> None:
    """As Heat's users see a refused template: ``ERROR: <message>`` (heatclient's
    HTTPException), here with each of cool's problems and where it is."""
    broken = TEMPLATES / "broken.yaml"
    for args in (
        ("orchestration", "template", "validate", "-t", broken),
        ("stack", "create", "-t", broken, unique("broken")),
    ):
        refused = openstack(heat_service, heat_service.member, *args)
        assert refused.rc == 1, refused.out
        assert refused.err.startswith("ERROR: "), refused.err
        # heatclient sends the template parsed (a JSON object): each problem is located
        # by its JSON pointer (a template sent as YAML text gets lines: test_gophercloud)
        assert "unknown property 'valeu'" in refused.err, refused.err
        assert "(/resources/speaker/properties/valeu)" in refused.err, refused.err
        assert "unknown resource 'nobody'" in refused.err, refused.err
        assert "(/resources/echo/properties/value/get_attr/0)" in refused.err, refused.err
        assert "Traceback" not in refused.err
    listed = openstack(heat_service, heat_service.member, "stack", "list", "-f", "json")
    assert not [row for row in listed.json() if row["Stack Name"].startswith("broken-")]


def test_a_resource_failing_at_run_time_ends_create_failed(heat_service: HeatService) -> None:
    name = unique("doomed")
    failed = openstack(
        heat_service,
        heat_service.member,
        *("stack", "create", "--wait", *POLL, "-t", TEMPLATES / "failing.yaml", name),
    )
    assert failed.rc == 1, failed.out
    assert _stack_event(failed, name, "CREATE_FAILED"), failed.out
    assert f"Stack {name} CREATE_FAILED" in failed.err  # heatclient's CommandError
    shown = openstack(heat_service, heat_service.member, "stack", "show", name, "-f", "json")
    stack = shown.json()
    assert stack["stack_status"] == "CREATE_FAILED"
    assert "doomed" in stack["stack_status_reason"]


def test_another_projects_stack_is_invisible(
    heat_service: HeatService, hello: tuple[str, Run]
) -> None:
    name, created = hello
    stack_id = created.json()["id"]
    outsider = heat_service.outsider
    listed = openstack(heat_service, outsider, "stack", "list", "-f", "json")
    assert listed.rc == 0, listed.err
    assert stack_id not in listed.out
    for who in (name, stack_id):
        shown = openstack(heat_service, outsider, "stack", "show", who)
        assert shown.rc == 1
        assert f"Stack not found: {who}" in shown.err, shown.err  # the 404, as heatclient says it


def test_a_duplicate_name_is_refused(heat_service: HeatService, hello: tuple[str, Run]) -> None:
    name, _ = hello
    again = openstack(
        heat_service,
        heat_service.member,
        *("stack", "create", "-t", TEMPLATES / "hello.yaml", name),
    )
    assert again.rc == 1, again.out
    assert f"ERROR: The Stack ({name}) already exists." in again.err, again.err  # Heat's 409


def test_delete_waits_until_the_stack_is_gone(heat_service: HeatService) -> None:
    member = heat_service.member
    name = unique("brief")
    created = openstack(
        heat_service,
        member,
        *("stack", "create", "--wait", *POLL, "-t", TEMPLATES / "lingering.yaml", name),
        *("-f", "json"),
    )
    assert created.rc == 0, created.err
    stack_id = created.json()["id"]
    deleted = openstack(heat_service, member, "stack", "delete", "--wait", "-y", name)
    assert deleted.rc == 0, (deleted.out, deleted.err)
    # heatclient's event log: the stack's own event, then the stack is gone by name (a
    # 404 the CLI takes as the end, as with Heat, whose name lookup skips deleted stacks)
    assert _stack_event(deleted, name, "DELETE_IN_PROGRESS"), deleted.out
    assert "Unable to delete" not in deleted.out + deleted.err
    # Heat's rule: a deleted stack is still found by its id, as DELETE_COMPLETE
    shown = openstack(heat_service, member, "stack", "show", stack_id, "-f", "json")
    assert shown.rc == 0, shown.err
    assert shown.json()["stack_status"] == "DELETE_COMPLETE"
    listed = openstack(heat_service, member, "stack", "list", "-f", "json")
    assert stack_id not in listed.out
    gone = openstack(heat_service, member, "stack", "show", name)
    assert gone.rc == 1, gone.out
    assert f"Stack not found: {name}" in gone.err


def test_get_file_and_an_environment_bundled_by_heatclient(heat_service: HeatService) -> None:
    """examples/web: a get_file'd script, a nested template named by the environment's
    resource_registry, all sent by heatclient as it bundles them (file:// URLs)."""
    member = heat_service.member
    web: Path = EXAMPLES / "web"
    name = unique("web")
    created = openstack(
        heat_service,
        member,
        *("stack", "create", "--wait", *POLL, "-t", "web.yaml", "-e", "env.yaml", name),
        *("--parameter", "count=2", "-f", "json"),
        cwd=web,
    )
    assert created.rc == 0, (created.out, created.err)
    assert created.json()["stack_status"] == "CREATE_COMPLETE"

    # what heatclient sent: each file under its absolute file:// URL, the environment too
    files = openstack(heat_service, member, "stack", "file", "list", name, "-f", "json")
    assert files.rc == 0, files.err
    sent = files.json()["files"]
    base = web.resolve().as_uri()
    assert sent[f"{base}/files/cloud-init.sh"] == (web / "files" / "cloud-init.sh").read_text()
    assert {f"{base}/files/web-server.yaml", f"{base}/env.yaml"} <= set(sent)
    environment = openstack(
        heat_service, member, "stack", "environment", "show", name, "-f", "json"
    )
    assert environment.rc == 0, environment.err
    merged = environment.json()
    assert merged["parameters"]["site_name"] == "cool"
    registry = merged["resource_registry"]
    assert registry["Cool::WebServer"] == f"{base}/files/web-server.yaml"

    top = openstack(heat_service, member, "stack", "resource", "list", name, "-f", "json")
    assert top.rc == 0, top.err
    assert {row["resource_name"] for row in top.json()} == {
        "network",
        "subnet",
        "web",
        "monitor",
    }
    deep = openstack(
        heat_service, member, "stack", "resource", "list", "-n", "2", name, "-f", "json"
    )
    assert deep.rc == 0, deep.err
    rows = deep.json()
    assert all(row["resource_status"] == "CREATE_COMPLETE" for row in rows), rows
    # cool names a nested resource by its path (docs/heat-api.md), where Heat shows the
    # last segment and the nested stack's name
    by_name = {row["resource_name"]: row["resource_type"] for row in rows}
    assert by_name["web/0"] == by_name["web/1"] == "Cool::WebServer"  # depth 1
    for index in ("0", "1"):  # depth 2
        assert by_name[f"web/{index}/port"] == "OS::Neutron::Port"
        assert by_name[f"web/{index}/server"] == "OS::Nova::Server"
    server = openstack(
        heat_service, member, "stack", "resource", "show", name, "web/1/server", "-f", "json"
    )
    assert server.rc == 0, server.err
    assert server.json()["resource_status"] == "CREATE_COMPLETE"


def test_a_wait_condition_signalled_with_openstack_stack_resource_signal(
    heat_service: HeatService,
) -> None:
    name = unique("waits")
    created = openstack(
        heat_service,
        heat_service.member,
        *("stack", "create", "-f", "json", "-t", TEMPLATES / "waits.yaml", name),
    )
    assert created.rc == 0, created.err

    def handle_created() -> bool:
        shown = openstack(
            heat_service, heat_service.member, "stack", "resource", "show", name, "handle",
            "-f", "json",
        )  # fmt: skip
        return shown.rc == 0 and shown.json()["resource_status"] == "CREATE_COMPLETE"

    assert_eventually(handle_created, timeout_s=60, interval_s=0.5, message="the handle is up")
    signalled = openstack(
        heat_service,
        heat_service.member,
        *("stack", "resource", "signal", name, "handle"),
        *("--data", '{"status": "SUCCESS", "reason": "ready", "data": "hi", "id": "one"}'),
    )
    assert signalled.rc == 0, signalled.err

    def complete() -> dict | None:
        shown = openstack(heat_service, heat_service.member, "stack", "show", name, "-f", "json")
        stack = shown.json()
        return stack if stack["stack_status"] == "CREATE_COMPLETE" else None

    stack = assert_eventually(complete, timeout_s=60, interval_s=0.5, message="complete")
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["data"] == '{"one": "hi"}'
