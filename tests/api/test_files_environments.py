"""``files``, ``environment`` and ``environment_files`` on submit and validate, against a
real ZooKeeper (the app in process)."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from jsonschema_rs import Draft202012Validator

from cool.api.bodies import TemplateRequest
from cool.api.discovery import openapi_document
from cool.template.environment import INLINE, Source
from tests.api.helpers import Caller, error_codes

TEMPLATE = """\
heat_template_version: 2018-08-31
parameters:
  word: {type: string, default: template}
resources:
  motd:
    type: OS::Heat::Value
    properties:
      value:
        str_replace:
          template: {get_file: motd.txt}
          params: {WORD: {get_param: word}}
  net:
    type: OS::Networking::Net
"""
ENV = "resource_registry:\n  OS::Networking::Net: OS::Heat::None\nparameters:\n  word: env\n"


def _plan_value(alice: Caller, build_id: str) -> str:
    resources = alice.get(f"/v1/builds/{build_id}/resources").json["resources"]
    return {r["name"]: r["type"] for r in resources}


def test_submit_with_files_and_environment_files(alice: Caller) -> None:
    result = alice.submit(
        TEMPLATE,
        files={"motd.txt": "hello WORD", "file:///envs/env.yaml": ENV},
        environment_files=["file:///envs/env.yaml"],
        environment={"parameters": {"word": "ignored, as Heat ignores it"}},
    )
    assert result.status_code == 202, result.text
    assert _plan_value(alice, result.json["build"]["id"]) == {
        "motd": "OS::Heat::Value",
        "net": "OS::Heat::None",
    }


def test_validate_applies_the_environment(alice: Caller) -> None:
    result = alice.post(
        "/v1/validate",
        json={"template": TEMPLATE, "files": {"motd.txt": "hi"}, "environment": ENV},
    )
    assert result.status_code == 200, result.text
    types = {r["name"]: r["type"] for r in result.json["resources"]}
    assert types == {"motd": "OS::Heat::Value", "net": "OS::Heat::None"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"files": {}, "environment": ENV},
            [
                (
                    "cool.template.missing_file",
                    None,
                    "/resources/motd/properties/value/str_replace/template/get_file",
                    10,
                    22,
                )
            ],
            id="get-file-not-in-files",
        ),
        pytest.param(
            {"files": {"motd.txt": "x"}, "environment": "paramters: {}\n" + ENV},
            [("cool.template.unknown_section", "environment", "/paramters", 1, 1)],
            id="inline-environment-located",
        ),
        pytest.param(
            {
                "files": {"motd.txt": "x"},
                "environment": {
                    "parameters": {"nope": 1},
                    "resource_registry": {"OS::Networking::Net": "OS::Heat::None"},
                },
            },
            [("cool.parameter.undeclared", "environment", "/parameters/nope", None, None)],
            id="environment-object-pointer-only",
        ),
        pytest.param(
            {
                "files": {"motd.txt": "x", "e.yaml": ENV + "event_sinks: [{type: zaqar-queue}]\n"},
                "environment_files": ["e.yaml"],
            },
            [("cool.template.unsupported_feature", "e.yaml", "/event_sinks", 5, 1)],
            id="environment-file-located",
        ),
    ],
)
def test_refusals_are_located(alice: Caller, body: dict, expected: list) -> None:
    result = alice.post("/v1/validate", json={"template": TEMPLATE, **body})
    assert result.status_code == 400, result.text
    found = [
        (
            e["code"],
            e["source"].get("file"),
            e["source"]["pointer"],
            e["source"].get("line"),
            e["source"].get("column"),
        )
        for e in result.json["errors"]
    ]
    assert found == expected


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        pytest.param({"files": ["motd.txt"]}, "/files", id="files-not-a-map"),
        pytest.param({"files": {"motd.txt": 3}}, "/files/motd.txt", id="file-not-a-string"),
        pytest.param({"environment": 5}, "/environment", id="environment-type"),
        pytest.param({"environment_files": "e.yaml"}, "/environment_files", id="names-type"),
        pytest.param(
            {"files": {"motd.txt": "x"}, "environment_files": ["e.yaml"]},
            "/environment_files/0",
            id="environment-file-missing",
        ),
    ],
)
def test_bad_fields_are_400(alice: Caller, fields: dict, pointer: str) -> None:
    result = alice.submit(TEMPLATE, **fields)
    assert result.status_code == 400, result.text
    assert pointer in [e["source"].get("pointer") for e in result.json["errors"]]
    assert all(e["code"].startswith("cool.") for e in result.json["errors"])


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({f"f{i}": "" for i in range(501)}, id="too-many-files"),
        pytest.param({"big": "x" * (513 * 1024)}, id="file-too-large"),
        pytest.param(
            {f"f{i}": "x" * (400 * 1024) for i in range(3)}, id="template-and-files-too-large"
        ),
    ],
)
def test_size_limits_cover_the_whole_request(alice: Caller, files: dict) -> None:
    result = alice.post(
        "/v1/builds",
        body=json.dumps({"template": TEMPLATE, "files": files}),
        headers={"Content-Type": "application/json"},
    )
    assert result.status_code == 413, result.text
    assert error_codes(result) == ["cool.request.too_large"]


def test_environment_files_over_max_files_is_a_located_400(alice: Caller) -> None:
    # 100,000 names in a small body: refused at once, one problem, not one per name.
    result = alice.submit(
        TEMPLATE, files={"motd.txt": "x", "e.yaml": ENV}, environment_files=["e.yaml"] * 100_000
    )
    assert result.status_code == 400, result.text
    errors = [e for e in result.json["errors"] if e["code"].startswith("cool.request.")]
    assert [(e["code"], e["source"]["pointer"]) for e in errors] == [
        ("cool.request.invalid_value", "/environment_files")
    ]
    assert "100000 names, over the limit of 500" in errors[0]["detail"]


def test_environment_file_listed_twice_is_a_located_400(alice: Caller) -> None:
    result = alice.submit(
        TEMPLATE,
        files={"motd.txt": "x", "e.yaml": ENV, "f.yaml": ENV},
        environment_files=["e.yaml", "f.yaml", "e.yaml"],
    )
    assert result.status_code == 400, result.text
    errors = [e for e in result.json["errors"] if e["code"].startswith("cool.request.")]
    assert [(e["code"], e["source"]["pointer"]) for e in errors] == [
        ("cool.request.invalid_value", "/environment_files/2")
    ]
    assert "listed twice (at 0 and 2)" in errors[0]["detail"]


def test_request_digest_names_environment_files_not_their_text() -> None:
    # What an Idempotency-Key is checked against: the files once, not once per listing.
    env = "parameter_defaults:\n" + "x" * 500_000
    files = {f"e{i}": env + str(i) for i in range(2)}
    listed = [Source(name, text) for name, text in files.items()]
    request = TemplateRequest("t", True, {}, files=files, environments=tuple(listed * 50))
    tracemalloc.start()
    try:
        first = request.digest()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 12 * 1_000_000, peak  # 50 listings of 1 MB would be 50 MB and more
    again = TemplateRequest("t", True, {}, files=files, environments=tuple(listed * 50))
    assert again.digest() == first
    other = TemplateRequest("t", True, {}, files=files, environments=tuple(listed[::-1] * 50))
    assert other.digest() != first  # the order of the listing is part of the request
    inline = TemplateRequest("t", True, {}, environments=(Source(INLINE, "parameters: {}"),))
    changed = TemplateRequest("t", True, {}, environments=(Source(INLINE, "parameters: {a: 1}"),))
    assert inline.digest() != changed.digest()


NULLS = {"files": None, "environment": None, "environment_files": None}


def test_null_files_and_environments_are_absent_in_the_api_and_its_document(
    alice: Caller,
) -> None:
    body = {"template": "heat_template_version: 2018-08-31\n", **NULLS}
    document = openapi_document()
    for name in ("SubmitRequest", "ValidateRequest"):
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        assert Draft202012Validator(schema).is_valid(body), name
    assert alice.post("/v1/validate", json=body).status_code == 200
    assert alice.post("/v1/builds", json=body).status_code == 202
