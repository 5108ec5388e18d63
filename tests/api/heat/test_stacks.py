"""Heat's stack create, show, list and delete, and a stack's parts, in-process."""

from __future__ import annotations

from urllib.parse import urlsplit

from kazoo.client import KazooClient

from cool.model import BuildStatus
from tests.api.heat.helpers import fault
from tests.api.heat.stack_helpers import HEAT_TIME, STACK_KEYS, TEMPLATE, create, finish
from tests.api.helpers import Caller


def test_create_answers_201_with_the_absolute_canonical_url(alice: Caller) -> None:
    result = alice.post(
        "/v1/p-one/stacks",
        json={
            "stack_name": "web",
            "template": TEMPLATE,
            "disable_rollback": True,
            "password": "ignored, as Heat ignores unknown keys",
        },
    )
    assert result.status_code == 201, result.text
    stack_id = result.json["stack"]["id"]
    href = f"http://falconframework.org/v1/p-one/stacks/web/{stack_id}"
    assert result.json == {"stack": {"id": stack_id, "links": [{"href": href, "rel": "self"}]}}
    assert result.headers["location"] == href


def test_create_takes_a_yaml_string_string_parameters_tags_and_rollback(
    alice: Caller,
) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "parameters:\n  n: {type: number}\n"
        "resources:\n  v: {type: OS::Heat::Value, properties: {value: {get_param: n}}}\n"
    )
    result = alice.post(
        "/v1/p-one/stacks",
        json={
            "stack_name": "tf",
            "template": text,
            "parameters": {"n": "42"},
            "tags": "a,b",
            "disable_rollback": "false",
            "timeout_mins": "7",
        },
    )
    assert result.status_code == 201, result.text
    shown = alice.get(urlsplit(result.headers["location"]).path).json["stack"]
    assert shown["parameters"]["n"] == "42"
    assert shown["tags"] == ["a", "b"]
    assert shown["disable_rollback"] is False
    assert shown["timeout_mins"] == 7
    listed = create(alice, "listed", tags=["x"])
    assert alice.get(f"/v1/p-one/stacks/listed/{listed}").json["stack"]["tags"] == ["x"]


def test_create_with_environment_files_ignores_the_environment_field(alice: Caller) -> None:
    env_file = "file:///tmp/env.yaml"
    stack_id = create(
        alice,
        "envs",
        files={env_file: '{"parameters": {"word": "from-file"}}'},
        environment_files=[env_file],
        environment={"parameters": {"word": "from-field"}},
    )
    shown = alice.get(f"/v1/p-one/stacks/envs/{stack_id}").json["stack"]
    assert shown["parameters"]["word"] == "from-file"
    environment = alice.get(f"/v1/p-one/stacks/envs/{stack_id}/environment")
    assert environment.status_code == 200, environment.text
    assert environment.json["parameters"]["word"] == "from-file"
    files = alice.get(f"/v1/p-one/stacks/envs/{stack_id}/files")
    assert files.json == {env_file: '{"parameters": {"word": "from-file"}}'}


def test_create_refusals_in_heats_fault_body(alice: Caller) -> None:
    missing = alice.post("/v1/p-one/stacks", json={"template": TEMPLATE})
    assert missing.status_code == 400
    assert "No stack name specified" in fault(missing)["message"]
    bad_name = alice.post("/v1/p-one/stacks", json={"stack_name": "1x", "template": TEMPLATE})
    assert bad_name.status_code == 400
    assert "/stack_name" in fault(bad_name)["message"]
    url = alice.post(
        "/v1/p-one/stacks", json={"stack_name": "u", "template_url": "http://x/t.yaml"}
    )
    assert url.status_code == 400
    assert "template_url is not supported" in fault(url)["message"]
    assert "'template' is required" not in fault(url)["message"]
    adopt = alice.post(
        "/v1/p-one/stacks",
        json={"stack_name": "a", "template": TEMPLATE, "adopt_stack_data": "{}"},
    )
    assert adopt.status_code == 400
    assert fault(adopt)["type"] == "NotSupported"


def test_invalid_template_is_stack_validation_failed_listing_every_located_problem(
    alice: Caller,
) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  a: {type: OS::Heat::Value, properties: {value: {get_param: nope}}}\n"
        "  b: {type: OS::No::Such}\n"
    )
    result = alice.post("/v1/p-one/stacks", json={"stack_name": "bad", "template": text})
    assert result.status_code == 400
    error = fault(result)
    assert error["type"] == "StackValidationFailed"
    lines = error["message"].splitlines()
    assert len(lines) >= 2, error
    assert any("nope" in line and "line 3" in line for line in lines), lines
    assert any("OS::No::Such" in line and "line 4" in line for line in lines), lines


def test_duplicate_name_is_409_stack_exists(alice: Caller) -> None:
    create(alice, "dup")
    again = alice.post("/v1/p-one/stacks", json={"stack_name": "dup", "template": TEMPLATE})
    assert again.status_code == 409
    error = fault(again)
    assert error["type"] == "StackExists"
    assert error["message"] == "The Stack (dup) already exists."


def test_show_formats_the_stack_as_heat_does(alice: Caller, kazoo_client: KazooClient) -> None:
    stack_id = create(alice, "web")
    queued = alice.get(f"/v1/p-one/stacks/web/{stack_id}").json["stack"]
    assert queued["stack_status"] == "CREATE_IN_PROGRESS"  # cool's CREATE_QUEUED
    finish(kazoo_client, stack_id)
    result = alice.get(f"/v1/p-one/stacks/web/{stack_id}")
    assert result.status_code == 200, result.text
    stack = result.json["stack"]
    assert set(stack) == STACK_KEYS | {
        "template_description",
        "parameters",
        "outputs",
        "disable_rollback",
        "timeout_mins",
        "capabilities",
        "notification_topics",
    }
    assert stack["stack_status"] == "CREATE_COMPLETE"
    assert stack["stack_status_reason"] == "Stack CREATE completed successfully"
    assert HEAT_TIME.fullmatch(stack["creation_time"])
    assert stack["updated_time"] is None
    assert stack["deletion_time"] is None
    assert stack["description"] == stack["template_description"] == "a value and its parameters"
    assert stack["parameters"] == {
        "word": "hi",
        "n": "3",
        "flag": "True",
        "items": "a,b",
        "blob": '{"k": [1]}',
        "secret": "******",
        "OS::project_id": "p-one",
        "OS::stack_id": stack_id,
        "OS::stack_name": "web",
    }
    assert stack["outputs"] == [
        {
            "output_key": "broken",
            "output_value": None,
            "description": "",
            "output_error": "v has no attribute 'value'",
        },
        {"output_key": "said", "output_value": "hi", "description": "what v said"},
    ]
    assert stack["disable_rollback"] is True  # Heat's default
    assert stack["capabilities"] == []
    assert stack["notification_topics"] == []
    assert stack["tags"] is None
    assert stack["parent"] is None
    unresolved = alice.get(
        f"/v1/p-one/stacks/web/{stack_id}", params={"resolve_outputs": "False"}
    ).json["stack"]
    assert "outputs" not in unresolved


def test_lookup_then_show_round_trip(alice: Caller) -> None:
    stack_id = create(alice, "round")
    found = alice.get("/v1/p-one/stacks/round", params={"resolve_outputs": "false"})
    assert found.status_code == 302
    location = urlsplit(found.headers["location"])
    shown = alice.get(location.path, query_string=location.query)
    assert shown.status_code == 200, shown.text
    assert shown.json["stack"]["id"] == stack_id
    assert "outputs" not in shown.json["stack"]


def test_show_with_the_wrong_name_or_another_project_is_404(alice: Caller, bob: Caller) -> None:
    stack_id = create(alice, "mine")
    wrong = alice.get(f"/v1/p-one/stacks/other/{stack_id}")
    assert wrong.status_code == 404
    assert fault(wrong)["type"] == "EntityNotFound"
    assert bob.get(f"/v1/p-two/stacks/mine/{stack_id}").status_code == 404


def test_outputs_template_environment_and_files(alice: Caller, kazoo_client: KazooClient) -> None:
    stack_id = create(
        alice,
        "parts",
        parameters={"secret": "hush"},
        environment={"parameter_defaults": {"word": "yo"}},
    )
    finish(kazoo_client, stack_id)
    base = f"/v1/p-one/stacks/parts/{stack_id}"
    assert alice.get(base + "/outputs").json == {
        "outputs": [
            {"output_key": "broken", "description": ""},
            {"output_key": "said", "description": "what v said"},
        ]
    }
    said = alice.get(base + "/outputs/said")
    assert said.json == {
        "output": {"output_key": "said", "output_value": "hi", "description": "what v said"}
    }
    unknown = alice.get(base + "/outputs/nope")
    assert unknown.status_code == 404
    assert fault(unknown)["type"] == "EntityNotFound"
    assert alice.get(base + "/template").json == TEMPLATE
    environment = alice.get(base + "/environment").json
    assert environment["parameters"] == {"secret": "******"}
    assert environment["parameter_defaults"] == {"word": "yo"}
    assert alice.get(base + "/files").json == {}


def test_delete_answers_204_and_a_deleted_stack_is_found_by_id_only(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    stack_id = create(alice, "gone")
    finish(kazoo_client, stack_id)
    result = alice.delete(f"/v1/p-one/stacks/gone/{stack_id}")
    assert result.status_code == 204, result.text
    shown = alice.get(f"/v1/p-one/stacks/gone/{stack_id}").json["stack"]
    assert shown["stack_status"] == "DELETE_IN_PROGRESS"
    finish(kazoo_client, stack_id, BuildStatus.DELETE_COMPLETE)
    deleted = alice.get(f"/v1/p-one/stacks/gone/{stack_id}").json["stack"]
    assert deleted["stack_status"] == "DELETE_COMPLETE"
    assert HEAT_TIME.fullmatch(deleted["deletion_time"])
    assert "outputs" not in deleted
    again = alice.delete(f"/v1/p-one/stacks/gone/{stack_id}")
    assert again.status_code == 404
    assert fault(again)["type"] == "EntityNotFound"


def test_reader_cannot_create_or_delete(alice: Caller, rita: Caller) -> None:
    stack_id = create(alice, "kept")
    refused = rita.post("/v1/p-one/stacks", json={"stack_name": "r", "template": TEMPLATE})
    assert refused.status_code == 403
    assert fault(refused)["type"] == "Forbidden"
    assert rita.delete(f"/v1/p-one/stacks/kept/{stack_id}").status_code == 403


def test_a_failure_and_a_cancel_in_heats_words(alice: Caller, kazoo_client: KazooClient) -> None:
    failed = create(alice, "failed")
    note = {
        "resource": "v",
        "type": "OS::Heat::Value",
        "action": "CREATE",
        "error": "quota exceeded",
        "worker": "w1",
        "at": 1.0,
    }
    finish(kazoo_client, failed, BuildStatus.CREATE_FAILED, reason="v failed", note=note)
    stack = alice.get(f"/v1/p-one/stacks/failed/{failed}").json["stack"]
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == (
        "Resource CREATE failed: OS::Heat::Value: resources.v: quota exceeded"
    )
    cancelled = create(alice, "cancelled")
    finish(kazoo_client, cancelled, BuildStatus.CANCEL_COMPLETE, reason="cancelled")
    stack = alice.get(f"/v1/p-one/stacks/cancelled/{cancelled}").json["stack"]
    assert stack["stack_status"] == "CREATE_FAILED"
    assert stack["stack_status_reason"] == "Stack CREATE cancelled"
