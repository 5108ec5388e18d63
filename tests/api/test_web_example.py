"""The issue's example (examples/web: a ResourceGroup of nested templates, a get_file'd
script and an environment) sent over real HTTP, as a client that is not cool's CLI sends
it, to a whole local system (ZooKeeper, gunicorn cool-api, a cool-worker, the sim)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cool.clouds.sim.provider import SimProvider
from harness.system.local import USER, LocalSystem

pytestmark = pytest.mark.slow

WEB = Path(__file__).resolve().parents[2] / "examples" / "web"
MEMBER, SCRIPT = "files/web-server.yaml", "files/cloud-init.sh"
BASE = "file:///home/user/web/"  # where a heatclient user's copy of examples/web would be


def _read(name: str) -> str:
    return (WEB / name).read_text()


def _plain_names() -> dict[str, Any]:
    """Files keyed by the names the template and the environment use."""
    return {
        "template": _read("web.yaml"),
        "files": {MEMBER: _read(MEMBER), SCRIPT: _read(SCRIPT)},
        "environment": _read("env.yaml"),
    }


def _heatclient_urls() -> dict[str, Any]:
    """As python-heatclient sends it: every name rewritten to an absolute file:// URL,
    the environment itself one of the files, listed in environment_files."""
    env_url = BASE + "env.yaml"
    env = _read("env.yaml").replace(f" {MEMBER}", f" {BASE}{MEMBER}")
    return {
        "template": _read("web.yaml").replace(f"get_file: {SCRIPT}", f"get_file: {BASE}{SCRIPT}"),
        "files": {BASE + MEMBER: _read(MEMBER), BASE + SCRIPT: _read(SCRIPT), env_url: env},
        "environment_files": [env_url],
    }


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    with LocalSystem(
        tmp_path_factory.mktemp("web-system"), workers=1, api_workers=1, sim_latency_s=0.1
    ) as system:
        yield system


@pytest.fixture
def session(system: LocalSystem) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (USER, system.password)
        yield session


def _finished(session: requests.Session, url: str, build_id: str) -> dict[str, Any]:
    """Long-poll the events until the build is finished (bounded); the build."""
    marker = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        build = session.get(f"{url}/v1/builds/{build_id}", timeout=10).json()["build"]
        if build["finished"]:
            return build
        params: dict[str, Any] = {"wait": 5, **({"marker": marker} if marker else {})}
        page = session.get(f"{url}/v1/builds/{build_id}/events", params=params, timeout=30)
        assert page.status_code == 200, page.text
        events = page.json()["events"]
        marker = events[-1]["id"] if events else marker
    raise AssertionError(f"build {build_id} did not finish in 90 s")


@pytest.mark.parametrize("body", [_plain_names(), _heatclient_urls()], ids=["names", "urls"])
def test_web_example_builds_as_a_tree_and_deletes(
    system: LocalSystem, session: requests.Session, body: dict[str, Any]
) -> None:
    url = system.url
    submitted = session.post(f"{url}/v1/builds", json=body, timeout=30)
    assert submitted.status_code == 202, submitted.text
    build_id = submitted.json()["build"]["id"]
    build = _finished(session, url, build_id)
    assert build["status"] == "CREATE_COMPLETE", build

    path = f"{url}/v1/builds/{build_id}/resources"
    top = session.get(path, timeout=10).json()["resources"]
    assert {r["name"]: (r["parent"], r["nested"]) for r in top} == {
        "network": (None, None),
        "subnet": (None, None),
        "monitor": (None, None),
        "web": (None, "group"),
    }
    tree = session.get(path, params={"nested": "true"}, timeout=10).json()["resources"]
    shown = {r["name"]: (r["parent"], r["nested"], r["status"]) for r in tree}
    done = "CREATE_COMPLETE"
    assert shown == {
        "network": (None, None, done),
        "subnet": (None, None, done),
        "monitor": (None, None, done),
        "web": (None, "group", done),
        **{f"web/{i}": ("web", "template", done) for i in range(2)},
        **{f"web/{i}/{n}": (f"web/{i}", None, done) for i in range(2) for n in ("port", "server")},
    }
    physical = {r["name"]: r["physical_id"] for r in tree}
    outputs = {name: output["value"] for name, output in build["outputs"].items()}
    assert outputs["web_servers"] == [physical["web/0/server"], physical["web/1/server"]]
    assert len(set(outputs["web_ips"])) == 2
    assert outputs["first_web_ip"] == outputs["web_ips"][0]

    events = session.get(
        f"{url}/v1/builds/{build_id}/events", params={"limit": 1000}, timeout=10
    ).json()["events"]
    parents = {(e["resource"], e["parent"]) for e in events}
    assert {("web/0/server", "web/0"), ("web/1/port", "web/1"), ("web/0", "web")} <= parents
    assert {("web", None), ("network", None), (None, None)} <= parents

    deleted = session.delete(f"{url}/v1/builds/{build_id}", timeout=10)
    assert deleted.status_code == 202, deleted.text
    assert _finished(session, url, build_id)["status"] == "DELETE_COMPLETE"
    with SimProvider(system.directory / "sim.sqlite") as sim:
        assert sim.live_resources(build_id) == []


def test_validate_without_the_nested_template_names_it_where_it_is_named(
    system: LocalSystem, session: requests.Session
) -> None:
    body = _heatclient_urls()
    del body["files"][BASE + MEMBER]
    result = session.post(f"{system.url}/v1/validate", json=body, timeout=30)
    assert result.status_code == 400, result.text
    errors = result.json()["errors"]
    assert [(e["code"], e["status"], e["title"]) for e in errors] == [
        ("cool.template.missing_file", 400, "Invalid template")
    ]
    (error,) = errors
    assert error["request_id"] == result.headers["x-openstack-request-id"]
    assert f"template '{BASE}{MEMBER}' is not among the request's files" in error["detail"]
    lines = body["template"].splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "type: Cool::WebServer" in text)
    assert error["source"] == {
        "pointer": "/resources/web/properties/resource_def/type",
        "line": line,
        "column": lines[line - 1].index("type:") + 1,
    }
