"""Heat's template validate and stack preview, and what cool refuses in Heat's shape."""

from __future__ import annotations

import pytest

from tests.api.heat.helpers import fault
from tests.api.heat.stack_helpers import TEMPLATE, create
from tests.api.helpers import Caller

CONSTRAINED = {
    "heat_template_version": "2018-08-31",
    "description": "constrained",
    "parameter_groups": [{"label": "main", "parameters": ["size"]}],
    "parameters": {
        "size": {
            "type": "number",
            "label": "Size",
            "description": "how big",
            "default": 2,
            "constraints": [
                {"range": {"min": 1, "max": 8}, "description": "1 to 8"},
                {"allowed_values": [1, 2, 4, 8]},
            ],
        },
        "key": {"type": "string", "hidden": True},
    },
    "resources": {
        "v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "size"}}},
        "w": {"type": "OS::Heat::Value", "properties": {"value": {"get_attr": ["v", "value"]}}},
    },
}


def test_validate_answers_heats_shape(alice: Caller) -> None:
    result = alice.post(
        "/v1/p-one/validate",
        params={"show_nested": "true", "ignore_errors": "99001"},
        json={"template": CONSTRAINED, "parameters": {"key": "k"}, "environment": {}},
    )
    assert result.status_code == 200, result.text
    assert result.json == {
        "Description": "constrained",
        "Parameters": {
            "key": {
                "Type": "String",
                "Description": "",
                "NoEcho": "true",
                "Label": "key",
                "Value": "******",
            },
            "size": {
                "Type": "Number",
                "Description": "how big",
                "NoEcho": "false",
                "Label": "Size",
                "Default": 2,
                "MinValue": 1,
                "MaxValue": 8,
                "AllowedValues": [1, 2, 4, 8],
                "ConstraintDescription": "1 to 8",
            },
        },
        "ParameterGroups": [{"label": "main", "parameters": ["size"]}],
        "Environment": {
            "parameters": {"key": "******"},
            "parameter_defaults": {},
            "resource_registry": {},
            "encrypted_param_names": [],
            "event_sinks": [],
        },
    }


def test_validate_refuses_with_every_located_problem(alice: Caller) -> None:
    text = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  a: {type: OS::Heat::Value, properties: {value: {get_param: nope}}}\n"
        "  b: {type: OS::No::Such}\n"
    )
    result = alice.post("/v1/p-one/validate", json={"template": text})
    assert result.status_code == 400
    error = fault(result)
    assert error["type"] == "StackValidationFailed"
    assert len(error["message"].splitlines()) >= 2
    assert "line 3" in error["message"]
    assert "line 4" in error["message"]


def test_preview_shows_the_stack_and_its_resources_and_stores_nothing(alice: Caller) -> None:
    result = alice.post(
        "/v1/p-one/stacks/preview",
        json={"stack_name": "pre", "template": CONSTRAINED, "parameters": {"key": "k"}},
    )
    assert result.status_code == 200, result.text
    stack = result.json["stack"]
    assert stack["id"] == "None"
    assert stack["stack_name"] == "pre"
    assert "stack_status" not in stack
    assert stack["parameters"]["key"] == "******"
    assert stack["parameters"]["size"] == "2"
    resources = {r["resource_name"]: r for r in stack["resources"]}
    assert resources["v"]["resource_type"] == "OS::Heat::Value"
    assert resources["v"]["properties"] == {"value": 2}
    assert resources["v"]["required_by"] == ["w"]
    assert resources["w"]["required_by"] == []
    assert alice.get("/v1/p-one/stacks").json["stacks"] == []


def test_preview_of_a_bad_body_is_400(alice: Caller) -> None:
    result = alice.post("/v1/p-one/stacks/preview", json={"template": CONSTRAINED})
    assert result.status_code == 400
    assert "No stack name specified" in fault(result)["message"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_update_is_not_supported_yet(alice: Caller, method: str) -> None:
    stack_id = create(alice, "upd")
    for path in (f"/v1/p-one/stacks/upd/{stack_id}", f"/v1/p-one/stacks/upd/{stack_id}/preview"):
        result = alice.request(method, path, json={"template": TEMPLATE})
        assert result.status_code == 400, (path, result.text)
        error = fault(result)
        assert error["type"] == "NotSupported"
        assert "not supported by cool yet" in error["message"]
    unknown = alice.request(method, "/v1/p-one/stacks/upd/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("DELETE", "/abandon"),
        ("GET", "/export"),
        ("POST", "/actions"),
        ("GET", "/snapshots"),
        ("POST", "/snapshots"),
        ("GET", "/snapshots/s1"),
        ("POST", "/snapshots/s1/restore"),
    ],
)
def test_stack_features_cool_lacks_are_not_supported(
    alice: Caller, method: str, suffix: str
) -> None:
    stack_id = create(alice, "feat")
    result = alice.request(method, f"/v1/p-one/stacks/feat/{stack_id}{suffix}", json={})
    assert result.status_code == 400, result.text
    error = fault(result)
    assert error["type"] == "NotSupported"
    assert "not supported by cool" in error["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/software_configs",
        "/software_configs/c1",
        "/software_deployments",
        "/software_deployments/d1",
        "/build_info",
        "/services",
    ],
)
def test_services_cool_lacks_are_not_supported(alice: Caller, bob: Caller, path: str) -> None:
    result = alice.get(f"/v1/p-one{path}")
    assert result.status_code == 400, result.text
    assert fault(result)["type"] == "NotSupported"
    assert bob.get(f"/v1/p-one{path}").status_code == 403


def test_preview_masks_hidden_values_in_resource_properties(alice: Caller) -> None:
    """A hidden parameter's value is never shown back, also where a property holds it
    (a Keystone user's password, a name built from it)."""
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {
            "pw": {"type": "string", "hidden": True},
            "pin": {"type": "number", "hidden": True, "default": 8675309},
        },
        "resources": {
            "user": {
                "type": "OS::Keystone::User",
                "properties": {
                    "password": {"get_param": "pw"},
                    "name": {"list_join": ["-", ["bob", {"get_param": "pw"}]]},
                },
            },
            "v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "pin"}}},
        },
    }
    result = alice.post(
        "/v1/p-one/stacks/preview",
        json={"stack_name": "pre", "template": template, "parameters": {"pw": "s3cret-pw"}},
    )
    assert result.status_code == 200, result.text
    assert "s3cret-pw" not in result.text
    assert "8675309" not in result.text
    resources = {r["resource_name"]: r for r in result.json["stack"]["resources"]}
    assert resources["user"]["properties"]["password"] == "******"
    assert resources["user"]["properties"]["name"] == "bob-******"
    assert resources["v"]["properties"] == {"value": "******"}
