"""End to end over real HTTP: a real gunicorn cool-api, real workers, a real ZooKeeper."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.api import ApiProcess
from tests.api.helpers import USERS, password, write_htpasswd
from tests.worker.processes import WorkerProcess

pytestmark = pytest.mark.slow

FINAL = {
    "CREATE_COMPLETE",
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "CANCEL_COMPLETE",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
}


def _template(**test_resource: Any) -> dict[str, Any]:
    return {
        "heat_template_version": "2018-08-31",
        "resources": {
            "first": {"type": "OS::Heat::Value", "properties": {"value": "one"}},
            "slow": {
                "type": "OS::Heat::TestResource",
                "properties": {"value": {"get_attr": ["first", "value"]}, **test_resource},
            },
        },
        "outputs": {"said": {"value": {"get_attr": ["slow", "output"]}}},
    }


@pytest.fixture
def served(zk_hosts: str, tmp_path: Path) -> Iterator[str]:
    """cool-api (http_basic, two gunicorn workers) and two cool-workers on the sim."""
    htpasswd = write_htpasswd(tmp_path / "htpasswd")
    users = "".join(f"user = {u}:{p[0]}:{p[1]}\n" for u, p in USERS.items() if p)
    config = (
        "auth_strategy = http_basic\nworkers = 2\nthreads = 8\nmax_event_wait = 20\n"
        f"[http_basic]\nhtpasswd_file = {htpasswd}\n{users}"
        f"[zookeeper]\nhosts = {zk_hosts}\nroot = /cool\nsession_timeout = 2\n"
    )
    sim_db = tmp_path / "sim.sqlite"
    workers = [WorkerProcess(tmp_path, zk_hosts, sim_db, name=f"w{i}") for i in range(2)]
    with ApiProcess(tmp_path, config) as api:
        for worker in workers:
            worker.start()
        try:
            yield api.url
        finally:
            for worker in workers:
                worker.kill()


def _session(user: str) -> requests.Session:
    session = requests.Session()
    session.auth = (user, password(user))
    return session


def _follow(session: requests.Session, url: str, build_id: str) -> tuple[list[dict], dict]:
    """Long-poll the events until the build is finished; the events and the build."""
    events: list[dict] = []
    marker = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        params: dict[str, Any] = {"wait": 10}
        if marker is not None:
            params["marker"] = marker
        page = session.get(f"{url}/v1/builds/{build_id}/events", params=params, timeout=30)
        assert page.status_code == 200, page.text
        events.extend(page.json()["events"])
        if events:
            marker = events[-1]["id"]
        build = session.get(f"{url}/v1/builds/{build_id}", timeout=10).json()["build"]
        if build["finished"]:
            assert build["status"] in FINAL
            rest = session.get(
                f"{url}/v1/builds/{build_id}/events", params={"marker": marker}, timeout=10
            )
            events.extend(rest.json()["events"])
            return events, build
    raise AssertionError(f"build {build_id} did not finish: {events}")


def test_submit_follow_outputs_and_delete(served: str) -> None:
    alice = _session("alice")
    submitted = alice.post(
        f"{served}/v1/builds",
        json={"template": _template(wait_secs=0.2), "name": "e2e"},
        headers={"Idempotency-Key": "e2e-1"},
        timeout=10,
    )
    assert submitted.status_code == 202, submitted.text
    build_id = submitted.json()["build"]["id"]
    assert submitted.headers["Location"] == f"{served}/v1/builds/{build_id}"
    again = alice.post(
        f"{served}/v1/builds",
        json={"template": _template(wait_secs=0.2), "name": "e2e"},
        headers={"Idempotency-Key": "e2e-1"},
        timeout=10,
    )
    assert again.json()["build"]["id"] == build_id
    events, build = _follow(alice, served, build_id)
    assert build["status"] == "CREATE_COMPLETE"
    assert build["outputs"] == {"said": {"value": "one", "description": ""}}
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})  # in order, no repeats
    assert events[0]["request_id"] == submitted.headers["x-openstack-request-id"]
    assert {"first", "slow"} <= {e["resource"] for e in events}
    resources = alice.get(f"{served}/v1/builds/{build_id}/resources", timeout=10).json()
    assert {r["name"]: r["status"] for r in resources["resources"]} == {
        "first": "CREATE_COMPLETE",
        "slow": "CREATE_COMPLETE",
    }
    deleted = alice.delete(f"{served}/v1/builds/{build_id}", timeout=10)
    assert deleted.status_code == 202
    _, build = _follow(alice, served, build_id)
    assert build["status"] == "DELETE_COMPLETE"


def test_failure_note_and_rollback(served: str) -> None:
    alice = _session("alice")
    submitted = alice.post(
        f"{served}/v1/builds", json={"template": _template(fail=True)}, timeout=10
    )
    assert submitted.status_code == 202
    _, build = _follow(alice, served, submitted.json()["build"]["id"])
    assert build["status"] == "ROLLBACK_COMPLETE"
    note = build["note"]
    assert note["resource"] == "slow"
    assert note["type"] == "OS::Heat::TestResource"
    assert note["action"] == "CREATE"
    assert note["error"]


def test_cancel_a_running_build(served: str) -> None:
    alice = _session("alice")
    # A chain of slow steps: a cancel is honoured at the next step.
    template = _template(wait_secs=2)
    template["resources"]["later"] = {
        "type": "OS::Heat::TestResource",
        "properties": {"value": {"get_attr": ["slow", "output"]}, "wait_secs": 2},
    }
    submitted = alice.post(f"{served}/v1/builds", json={"template": template}, timeout=10)
    build_id = submitted.json()["build"]["id"]
    deadline = time.monotonic() + 30
    while (
        alice.get(f"{served}/v1/builds/{build_id}", timeout=10).json()["build"]["status"]
        == "CREATE_QUEUED"
    ):
        assert time.monotonic() < deadline, "no worker took the build"
        alice.get(f"{served}/v1/builds/{build_id}/events", params={"wait": 1}, timeout=10)
    cancelled = alice.post(f"{served}/v1/builds/{build_id}/cancel", timeout=10)
    assert cancelled.status_code == 202, cancelled.text
    _, build = _follow(alice, served, build_id)
    assert build["status"] == "CANCEL_COMPLETE"
    refused = alice.post(f"{served}/v1/builds/{build_id}/cancel", timeout=10)
    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "cool.build.conflict"


def test_served_metrics_healthcheck_and_versions(served: str) -> None:
    alice = _session("alice")
    for _ in range(3):
        alice.get(f"{served}/v1/builds", timeout=10)
    assert requests.get(f"{served}/healthcheck", timeout=10).status_code == 200
    versions = requests.get(f"{served}/", timeout=10).json()
    assert versions["versions"][0]["links"][0]["href"] == f"{served}/v1/"
    text = requests.get(f"{served}/metrics", timeout=10).text
    # Counted in whichever gunicorn worker answered: the scrape adds them all up.
    line = next(
        line
        for line in text.splitlines()
        if line.startswith("cool_api_requests_total")
        and 'route="/v1/builds"' in line
        and 'method="GET"' in line
        and 'status="200"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 3
    unauthenticated = requests.get(f"{served}/v1/builds", timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["errors"][0]["code"] == "cool.auth.unauthenticated"
