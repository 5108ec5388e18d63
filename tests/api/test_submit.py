"""Submitting and validating through the whole pipeline, against a real ZooKeeper."""

from __future__ import annotations

import json
import threading

import yaml
from kazoo.client import KazooClient

from tests.api.helpers import VALUE_TEMPLATE, ZK_ROOT, Caller, error_codes, queued

BROKEN = """heat_template_version: 2018-08-31
resources:
  a:
    type: OS::Heat::Value
    properties:
      value: {get_attr: [b, foo]}
      extra: 1
"""


def test_submit_template_object_answers_202_with_location(alice: Caller) -> None:
    result = alice.submit(VALUE_TEMPLATE, name="first", parameters={"word": "hi"})
    assert result.status_code == 202, result.text
    build = result.json["build"]
    assert build["status"] == "CREATE_QUEUED"
    assert build["name"] == "first"
    assert build["project_id"] == "p-one"
    assert build["user_id"] == "alice"
    assert build["progress"] == {"done": 0, "total": 1}
    assert result.headers["location"].endswith(f"/v1/builds/{build['id']}")
    assert build["request_id"] == result.headers["x-openstack-request-id"]
    shown = alice.get(f"/v1/builds/{build['id']}")
    assert shown.status_code == 200
    assert shown.json["build"]["id"] == build["id"]


def test_submit_template_as_yaml_string_and_as_raw_yaml_body(alice: Caller) -> None:
    text = yaml.safe_dump(VALUE_TEMPLATE)
    as_string = alice.submit(text, timeout_mins=5, rollback=False)
    assert as_string.status_code == 202, as_string.text
    assert as_string.json["build"]["timeout_mins"] == 5
    assert as_string.json["build"]["rollback"] is False
    raw = alice.post(
        "/v1/builds",
        body=text,
        headers={"Content-Type": "application/yaml"},
        params={"name": "raw", "timeout_mins": "7", "parameter": "word=yo"},
    )
    assert raw.status_code == 202, raw.text
    assert raw.json["build"]["name"] == "raw"
    assert raw.json["build"]["timeout_mins"] == 7


def test_submit_reports_every_template_problem_with_line_and_column(alice: Caller) -> None:
    result = alice.submit(BROKEN)
    assert result.status_code == 400
    entries = result.json["errors"]
    assert [e["code"] for e in entries] == [
        "cool.template.unknown_resource",
        "cool.template.unknown_property",
    ]
    assert entries[0]["source"] == {
        "pointer": "/resources/a/properties/value/get_attr/0",
        "line": 6,
        "column": 26,
    }
    assert entries[1]["source"]["line"] == 7
    assert entries[1]["title"] == "Invalid template"


def test_submit_object_template_problems_carry_pointers_only(alice: Caller) -> None:
    template = yaml.safe_load(BROKEN)
    template["heat_template_version"] = "2018-08-31"  # YAML read it as a date
    result = alice.submit(template)
    assert result.status_code == 400
    sources = [e["source"] for e in result.json["errors"]]
    assert sources == [
        {"pointer": "/resources/a/properties/value/get_attr/0"},
        {"pointer": "/resources/a/properties/extra"},
    ]


def test_submit_reports_request_and_template_problems_together(alice: Caller) -> None:
    result = alice.submit(BROKEN, stack_name="x", timeout_mins="soon", rollback="yes")
    assert result.status_code == 400
    codes = error_codes(result)
    assert codes[:3] == [
        "cool.request.unknown_field",
        "cool.request.invalid_type",
        "cool.request.invalid_type",
    ]
    assert "cool.template.unknown_resource" in codes
    pointers = [e["source"].get("pointer") for e in result.json["errors"]]
    assert pointers[:3] == ["/stack_name", "/timeout_mins", "/rollback"]
    assert "the field is called 'name'" in result.json["errors"][0]["detail"]


def test_submit_bad_parameter_values_are_each_reported(alice: Caller) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {
            "count": {"type": "number"},
            "size": {"type": "string", "constraints": [{"allowed_values": ["s", "m"]}]},
        },
        "resources": {"n": {"type": "OS::Heat::None"}},
    }
    result = alice.submit(template, parameters={"count": "many", "size": "xl", "other": 1})
    assert result.status_code == 400
    codes = error_codes(result)
    assert "cool.parameter.invalid_value" in codes
    assert "cool.parameter.constraint_violated" in codes
    assert "cool.parameter.undeclared" in codes


def test_submit_missing_parameter_is_a_400(alice: Caller) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"flavor": {"type": "string"}},
        "resources": {"n": {"type": "OS::Heat::None"}},
    }
    result = alice.submit(template)
    assert result.status_code == 400
    assert error_codes(result) == ["cool.parameter.missing_value"]


def test_submit_timeout_over_the_maximum_is_a_400(alice: Caller) -> None:
    result = alice.submit(VALUE_TEMPLATE, timeout_mins=100_000)
    assert result.status_code == 400
    assert error_codes(result) == ["cool.build.invalid"]


def test_submit_with_idempotency_key_twice_makes_one_build(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    again = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json["build"]["id"] == again.json["build"]["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert queued(kazoo_client) == [first.json["build"]["id"]]


def test_submit_idempotency_key_with_another_request_is_a_422(alice: Caller) -> None:
    headers = {"Idempotency-Key": "order-43"}
    first = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    assert first.status_code == 202
    other = alice.post(
        "/v1/builds", json={"template": VALUE_TEMPLATE, "name": "other"}, headers=headers
    )
    assert other.status_code == 422
    assert error_codes(other) == ["cool.build.idempotency_key_reused"]


def test_submit_idempotency_keys_belong_to_their_user(alice: Caller, bob: Caller) -> None:
    headers = {"Idempotency-Key": "same-key"}
    one = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    two = bob.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    assert one.status_code == two.status_code == 202
    assert one.json["build"]["id"] != two.json["build"]["id"]


def test_submit_concurrent_retries_with_one_key_make_one_build(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    ids: list[str] = []
    start = threading.Barrier(6)

    def submit() -> None:
        start.wait()
        result = alice.post(
            "/v1/builds", json={"template": VALUE_TEMPLATE}, headers={"Idempotency-Key": "race"}
        )
        assert result.status_code == 202, result.text
        ids.append(result.json["build"]["id"])

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 6
    assert len(set(ids)) == 1
    assert queued(kazoo_client) == ids[:1]


def test_submit_bad_idempotency_key_is_a_400(alice: Caller) -> None:
    result = alice.post(
        "/v1/builds", json={"template": VALUE_TEMPLATE}, headers={"Idempotency-Key": "x" * 300}
    )
    assert result.status_code == 400
    assert result.json["errors"][0]["source"] == {"parameter": "Idempotency-Key"}


def test_validate_lists_build_order_and_needed_parameters(alice: Caller) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"word": {"type": "string"}},
        "resources": {
            "first": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "word"}}},
            "second": {
                "type": "OS::Heat::Value",
                "properties": {"value": {"get_attr": ["first", "value"]}},
            },
        },
    }
    result = alice.post("/v1/validate", json={"template": template})
    assert result.status_code == 200, result.text
    body = result.json
    assert body["levels"] == [["first"], ["second"]]
    assert body["missing_parameters"] == ["word"]
    assert body["resources"][1] == {
        "name": "second",
        "type": "OS::Heat::Value",
        "depends_on": ["first"],
        "level": 1,
    }
    with_values = alice.post("/v1/validate", json={"template": template, "parameters": {"word": 1}})
    assert with_values.status_code == 200
    assert with_values.json["missing_parameters"] == []


def test_validate_stores_nothing(alice: Caller, kazoo_client: KazooClient) -> None:
    assert alice.post("/v1/validate", json={"template": VALUE_TEMPLATE}).status_code == 200
    assert not queued(kazoo_client)


def test_validate_refuses_submit_only_fields(alice: Caller) -> None:
    result = alice.post("/v1/validate", json={"template": VALUE_TEMPLATE, "name": "x"})
    assert result.status_code == 400
    assert error_codes(result) == ["cool.request.unknown_field"]


def test_validate_problems_in_a_json_string_template_are_located(alice: Caller) -> None:
    text = json.dumps(yaml.safe_load(BROKEN), indent=2, default=str)
    result = alice.post("/v1/validate", json={"template": text})
    assert result.status_code == 400
    assert all("line" in e["source"] for e in result.json["errors"])


def test_submit_with_a_key_whose_build_is_gone_is_a_clear_409(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    """Found in review: a key left behind by a build pruned without it (its record was
    unreadable) answered 'a build with this id exists already'."""
    headers = {"Idempotency-Key": "orphan"}
    first = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    build_id = first.json["build"]["id"]
    kazoo_client.delete(f"{ZK_ROOT}/builds/{build_id[-2:]}/{build_id}", recursive=True)
    again = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    assert again.status_code == 409
    assert "no longer exists; use a new key" in again.json["errors"][0]["detail"]
