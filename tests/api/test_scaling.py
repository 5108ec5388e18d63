"""OS::Heat::ScalingPolicy through cool-api: its alarm_url (a capability, no Keystone
user) and the Heat API's resource signal resize a group of a complete build; a real
worker runs each resize as an update on the real ZooKeeper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from falcon import testing

from tests.api.helpers import Caller, error_codes
from tests.worker.helpers import running_worker
from tests.zk import assert_eventually


def _policy(adjustment: int, cooldown: int = 0, kind: str = "change_in_capacity") -> Any:
    return {
        "type": "OS::Heat::ScalingPolicy",
        "properties": {
            "adjustment_type": kind,
            "auto_scaling_group_id": {"get_resource": "asg"},
            "cooldown": cooldown,
            "scaling_adjustment": adjustment,
        },
    }


SCALED = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "asg": {
            "type": "OS::Heat::AutoScalingGroup",
            "properties": {
                "min_size": 1,
                "desired_capacity": 2,
                "max_size": 3,
                "resource": {
                    "type": "OS::Heat::RandomString",
                    "properties": {"length": 8},
                },
            },
        },
        "up": _policy(1),
        "down": _policy(-1),
        "up_slowly": _policy(1, cooldown=600),
        "watcher": {
            "type": "OS::Heat::Value",
            "properties": {"value": {"get_attr": ["asg", "current_size"]}},
        },
    },
    "outputs": {
        "size": {"value": {"get_attr": ["asg", "current_size"]}},
        "values": {"value": {"get_attr": ["asg", "outputs_list", "value"]}},
        "up_url": {"value": {"get_attr": ["up", "alarm_url"]}},
    },
}


@pytest.fixture
def worker(zk_hosts: str, tmp_path: Path) -> Iterator[None]:
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        yield


def _build(alice: Caller, build_id: str) -> dict[str, Any]:
    return dict(alice.get(f"/v1/builds/{build_id}").json["build"])


def _settled(alice: Caller, build_id: str, status: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        build = _build(alice, build_id)
        return build if build["status"] == status else None

    return assert_eventually(reached, timeout_s=30, message=f"the build is {status}")


def _members(alice: Caller, build_id: str) -> list[str]:
    listed = alice.get(f"/v1/builds/{build_id}/resources?nested=true").json["resources"]
    return sorted(r["name"] for r in listed if r["parent"] == "asg")


def _alarm(alice: Caller, build_id: str, policy: str) -> tuple[str, str]:
    listed = alice.get(f"/v1/builds/{build_id}/resources").json["resources"]
    url = next(r for r in listed if r["name"] == policy)["attributes"]["alarm_url"]
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)["token"][0]


def _post(wsgi: testing.TestClient, path: str, token: str, **kwargs: Any) -> Any:
    # What an alarm sends: a POST to the URL, nothing else (no Authorization).
    return wsgi.simulate_post(
        path, query_string=f"token={token}", extras={"REMOTE_ADDR": "10.0.0.7"}, **kwargs
    )


def test_an_alarm_url_resizes_the_group_as_heat_would(
    alice: Caller, wsgi: testing.TestClient, worker: None
) -> None:
    build_id = alice.submit(SCALED, name="scaled").json["build"]["id"]
    build = _settled(alice, build_id, "CREATE_COMPLETE")
    assert build["outputs"]["size"]["value"] == 2
    assert _members(alice, build_id) == ["asg/0", "asg/1"]
    path, token = _alarm(alice, build_id, "up")
    assert path == f"/v1/signals/{build_id}/up"
    assert build["outputs"]["up_url"]["value"].endswith(f"/v1/signals/{build_id}/up?token={token}")

    # A wrong token, another policy's name, a handle's header form: all the same 404.
    assert _post(wsgi, path, token[:-1] + ("A" if token[-1] != "A" else "B")).status_code == 404
    assert _post(wsgi, f"/v1/signals/{build_id}/down", token).status_code == 404
    refused = wsgi.simulate_post(path)
    assert refused.status_code == 404
    assert error_codes(refused) == ["cool.signal.not_found"]

    # An alarm that is not in alarm (Aodh's "ok" notification) changes nothing.
    calm = _post(wsgi, path, token, json={"current": "ok", "previous": "alarm"})
    assert calm.status_code == 200, calm.text
    assert calm.json["resized"] is False
    assert "'ok'" in calm.json["reason"]

    grown = _post(wsgi, path, token)  # curl -X POST <alarm_url>
    assert grown.status_code == 200, grown.text
    assert grown.json == {
        "resized": True,
        "reason": "up: resizing asg from 2 to 3 (change_in_capacity : 1)",
        "status": "UPDATE_IN_PROGRESS",
    }
    # While it is resized, another signal does nothing (Heat: scaling in progress).
    busy = _post(wsgi, path, token)
    assert busy.json["resized"] is False
    build = _settled(alice, build_id, "UPDATE_COMPLETE")
    assert build["outputs"]["size"]["value"] == 3
    assert len(build["outputs"]["values"]["value"]) == 3
    assert _members(alice, build_id) == ["asg/0", "asg/1", "asg/2"]
    # Nothing outside the group changed: the Value that read current_size keeps what it
    # read at create (Heat re-resolves nothing outside the group on a resize).
    watcher = next(
        r
        for r in alice.get(f"/v1/builds/{build_id}/resources").json["resources"]
        if r["name"] == "watcher"
    )
    assert watcher["attributes"]["value"] == 2

    at_max = _post(wsgi, path, token)
    assert at_max.json["resized"] is False
    assert "no change in capacity" in at_max.json["reason"]

    down_path, down_token = _alarm(alice, build_id, "down")
    shrunk = _post(wsgi, down_path, down_token, json={"current": "alarm"})
    assert shrunk.json["resized"] is True, shrunk.text
    build = _settled(alice, build_id, "UPDATE_COMPLETE")
    assert build["outputs"]["size"]["value"] == 2
    assert _members(alice, build_id) == ["asg/1", "asg/2"]  # the oldest went first

    slow_path, slow_token = _alarm(alice, build_id, "up_slowly")
    assert _post(wsgi, slow_path, slow_token).json["resized"] is True
    _settled(alice, build_id, "UPDATE_COMPLETE")
    assert _members(alice, build_id) == ["asg/1", "asg/2", "asg/3"]  # a new name, never reused
    # The group is in its cooldown now: every policy's signal waits it out, as in Heat.
    cooling = _post(wsgi, down_path, down_token)
    assert cooling.json["resized"] is False
    assert "cooldown" in cooling.json["reason"]

    events = alice.get(f"/v1/builds/{build_id}/events").json["events"]
    statuses = [e["new_status"] for e in events if e["resource"] is None]
    assert statuses.count("UPDATE_COMPLETE") == 3

    deleted = alice.delete(f"/v1/builds/{build_id}")
    assert deleted.status_code == 202
    _settled(alice, build_id, "DELETE_COMPLETE")
    assert _post(wsgi, path, token).status_code == 404  # its capability went with it


def test_the_heat_api_signals_a_policy(alice: Caller, worker: None) -> None:
    build_id = alice.submit(SCALED, name="heat-scaled").json["build"]["id"]
    _settled(alice, build_id, "CREATE_COMPLETE")
    base = f"/v1/p-one/stacks/heat-scaled/{build_id}"
    sent = alice.post(f"{base}/resources/down/signal", json={})
    assert sent.status_code == 200, sent.text
    assert sent.text == "null"
    shown = alice.get(base).json["stack"]
    assert shown["stack_status"] in ("UPDATE_IN_PROGRESS", "UPDATE_COMPLETE")
    _settled(alice, build_id, "UPDATE_COMPLETE")
    shown = alice.get(base).json["stack"]
    assert shown["stack_status"] == "UPDATE_COMPLETE"
    assert shown["stack_status_reason"] == "Stack UPDATE completed successfully"
    listed = alice.get(f"{base}/resources?nested_depth=1").json["resources"]
    assert sorted(r["resource_name"] for r in listed if "/" in r["resource_name"]) == ["asg/1"]
    # The group is at its min_size: a further signal is answered, and changes nothing.
    again = alice.post(f"{base}/resources/down/signal", json={})
    assert again.status_code == 200
    assert _build(alice, build_id)["status"] == "UPDATE_COMPLETE"


def test_a_build_being_resized_is_not_cancelled(
    alice: Caller, wsgi: testing.TestClient, zk_hosts: str, tmp_path: Path
) -> None:
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        build_id = alice.submit(SCALED, name="no-cancel").json["build"]["id"]
        _settled(alice, build_id, "CREATE_COMPLETE")
        path, token = _alarm(alice, build_id, "up")
    # No worker now: the resize stays queued, UPDATE_IN_PROGRESS.
    assert _post(wsgi, path, token).json["resized"] is True
    cancelled = alice.post(f"/v1/builds/{build_id}/cancel")
    assert cancelled.status_code == 409
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        _settled(alice, build_id, "UPDATE_COMPLETE")
