"""Signals through cool-api: the handle's capability URL (no Keystone user: its token)
and the Heat API's resource signal (a Keystone user, cool:build:signal), with a real
worker waiting on the real ZooKeeper."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from falcon import testing

from cool.store.signals import MAX_SIGNAL_BYTES
from tests.api.heat.helpers import fault
from tests.api.helpers import Caller, error_codes
from tests.worker.helpers import running_worker
from tests.zk import assert_eventually

WAIT = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle"},
        "wait": {
            "type": "OS::Heat::WaitCondition",
            "properties": {"handle": {"get_resource": "handle"}, "count": 2, "timeout": 120},
        },
    },
    "outputs": {"data": {"value": {"get_attr": ["wait", "data"]}}},
}


@pytest.fixture
def worker(zk_hosts: str, tmp_path: Path) -> Iterator[None]:
    with running_worker(zk_hosts, tmp_path / "sim.sqlite"):
        yield


def _handle(alice: Caller, build_id: str) -> dict[str, Any]:
    def created() -> dict[str, Any] | None:
        listed = alice.get(f"/v1/builds/{build_id}/resources").json["resources"]
        handle = next(r for r in listed if r["name"] == "handle")
        return handle["attributes"] if handle["status"] == "CREATE_COMPLETE" else None

    return assert_eventually(created, timeout_s=30, message="the handle is created")


def _signal(wsgi: testing.TestClient, path: str, token: str | None, **kwargs: Any) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Auth-Token"] = token
    # A server, not a user: no Authorization, from anywhere.
    return wsgi.simulate_post(path, headers=headers, extras={"REMOTE_ADDR": "10.0.0.5"}, **kwargs)


def _status(alice: Caller, build_id: str) -> str:
    return str(alice.get(f"/v1/builds/{build_id}").json["build"]["status"])


def test_a_server_signals_its_handle_with_the_token_alone(
    alice: Caller, wsgi: testing.TestClient, worker: None
) -> None:
    build_id = alice.submit(WAIT, name="waits").json["build"]["id"]
    attributes = _handle(alice, build_id)
    token, path = attributes["token"], urlsplit(attributes["endpoint"]).path
    assert path == f"/v1/signals/{build_id}/handle"

    refused = _signal(wsgi, path, None, json={})
    assert refused.status_code == 404
    assert error_codes(refused) == ["cool.signal.not_found"]
    assert _signal(wsgi, path, token + "x", json={}).status_code == 404
    assert _signal(wsgi, f"/v1/signals/{build_id}/wait", token, json={}).status_code == 404
    assert _signal(wsgi, f"/v1/signals/{build_id}/..", token, json={}).status_code == 404
    assert _signal(wsgi, "/v1/signals/nope/handle", token, json={}).status_code == 404
    got = wsgi.simulate_get(path, headers={"X-Auth-Token": token})
    assert got.status_code == 405
    # Only that route goes around Keystone: another path under /v1/signals/ is a Heat
    # path of a project "signals", which needs authentication like any other.
    for other in ("/v1/signals/stacks", f"/v1/signals/stacks/waits/{build_id}/resources"):
        assert _signal(wsgi, other, token, json={}).status_code == 401

    bad = _signal(wsgi, path, token, json={"status": "MAYBE", "colour": "red"})
    assert bad.status_code == 400
    assert [e["source"]["pointer"] for e in bad.json["errors"]] == ["/colour", "/status"]
    assert _signal(wsgi, path, token, body="{").status_code == 400
    huge = _signal(wsgi, path, token, json={"data": "x" * (2 * MAX_SIGNAL_BYTES)})
    assert huge.status_code == 413
    too_large_once_stored = _signal(wsgi, path, token, json={"data": "x" * MAX_SIGNAL_BYTES})
    assert too_large_once_stored.status_code == 413
    assert _status(alice, build_id) == "CREATE_IN_PROGRESS"  # nothing counted yet

    sent = _signal(wsgi, path, token, json={"status": "SUCCESS", "id": "web1", "data": "ok"})
    assert sent.status_code == 200, sent.text
    assert sent.json == {
        "signal": {"id": "web1", "status": "SUCCESS", "reason": "Signal 1 received"}
    }
    # An empty body is a SUCCESS (curl -X POST with no data), as Heat takes it; so is a
    # body of another type than JSON or text/plain (curl -d's form type), whose body
    # Heat does not read either.
    form = {"X-Auth-Token": token, "Content-Type": "application/x-www-form-urlencoded"}
    sent = wsgi.simulate_post(path, headers=form, body='{"status": "FAILURE"}')
    assert sent.status_code == 200, sent.text
    assert sent.json["signal"]["status"] == "SUCCESS"

    assert_eventually(
        lambda: _status(alice, build_id) == "CREATE_COMPLETE", timeout_s=30, message="done"
    )
    outputs = alice.get(f"/v1/builds/{build_id}").json["build"]["outputs"]
    assert outputs["data"]["value"] == '{"web1": "ok", "2": null}'
    # The build is finished: the token is worthless.
    assert _signal(wsgi, path, token, json={}).status_code == 404


def test_the_heat_api_signals_a_handle_for_a_member_of_the_project(
    alice: Caller, bob: Caller, worker: None
) -> None:
    build_id = alice.submit(WAIT, name="heat-waits").json["build"]["id"]
    _handle(alice, build_id)
    base = f"/v1/p-one/stacks/heat-waits/{build_id}/resources"
    other = bob.post(f"/v1/p-two/stacks/heat-waits/{build_id}/resources/handle/signal", json={})
    assert other.status_code == 404  # not bob's project's stack
    not_a_handle = alice.post(f"{base}/wait/signal", json={})
    assert not_a_handle.status_code == 400
    assert fault(not_a_handle)["type"] == "NotSupported"
    invalid = alice.post(f"{base}/handle/signal", json={"status": "DONE"})
    assert invalid.status_code == 400
    for reason in ("one", "two"):
        sent = alice.post(f"{base}/handle/signal", json={"reason": reason, "id": reason})
        assert sent.status_code == 200, sent.text
        assert sent.text == "null"
    assert_eventually(
        lambda: _status(alice, build_id) == "CREATE_COMPLETE", timeout_s=30, message="done"
    )


CFN = {
    "heat_template_version": "2013-05-23",
    "resources": {
        "handle": {"type": "AWS::CloudFormation::WaitConditionHandle"},
        "server": {
            "type": "OS::Heat::TestResource",
            "properties": {"value": {"get_resource": "handle"}},
        },
        "wait": {
            "type": "AWS::CloudFormation::WaitCondition",
            "depends_on": "server",
            "properties": {"Handle": {"get_resource": "handle"}, "Timeout": 120, "Count": 2},
        },
    },
    "outputs": {"data": {"value": {"get_attr": ["wait", "Data"]}}},
}


def test_an_aws_handle_is_its_url_and_takes_cfn_signals(
    alice: Caller, wsgi: testing.TestClient, worker: None
) -> None:
    """AWS::CloudFormation::WaitConditionHandle's reference is a URL with its token in the
    query (Heat's is pre-signed): a server PUTs Status, Reason, UniqueId and Data to it."""
    build_id = alice.submit(CFN, name="cfn-waits").json["build"]["id"]

    def url_given() -> str | None:
        listed = alice.get(f"/v1/builds/{build_id}/resources").json["resources"]
        server = next(r for r in listed if r["name"] == "server")
        return server["attributes"].get("output") if server["status"] == "CREATE_COMPLETE" else None

    url = urlsplit(assert_eventually(url_given, timeout_s=30, message="the server has the URL"))
    assert url.path == f"/v1/signals/{build_id}/handle"
    token = parse_qs(url.query)["token"][0]

    def put(body: Any, query: str = url.query) -> Any:
        return wsgi.simulate_put(
            url.path, query_string=query, json=body, extras={"REMOTE_ADDR": "10.0.0.5"}
        )

    one = {"Status": "SUCCESS", "Reason": "up", "UniqueId": "1", "Data": "d1"}
    assert put(one, "token=" + "A" * 43).status_code == 404
    assert put({**one, "UniqueId": {"a": 1}}).status_code == 400  # checked as a handle's
    # curl -X PUT without a JSON type: the body is not read (Heat's rule), and the
    # refusal says how to send it.
    form = wsgi.simulate_put(
        url.path,
        query_string=url.query,
        body=json.dumps(one),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 400
    assert "Content-Type" in form.json["errors"][0]["detail"]
    assert put({"Status": "SUCCESS"}).status_code == 400  # Heat: Metadata format invalid
    assert put({**one, "Status": "DONE"}).status_code == 400
    # The handle form (X-Auth-Token) does not open an AWS handle, nor the reverse.
    assert _signal(wsgi, url.path, token, json={}).status_code == 404
    assert put(one).status_code == 200
    # The second through Heat's API, as `openstack stack resource signal` sends it.
    base = f"/v1/p-one/stacks/cfn-waits/{build_id}/resources"
    posted = alice.post(f"{base}/handle/signal", json={**one, "UniqueId": 2, "Data": "d2"})
    assert posted.status_code == 200, posted.text
    assert_eventually(
        lambda: _status(alice, build_id) == "CREATE_COMPLETE", timeout_s=30, message="done"
    )
    outputs = alice.get(f"/v1/builds/{build_id}").json["build"]["outputs"]
    assert json.loads(outputs["data"]["value"]) == {"1": "d1", "2": "d2"}
    assert put(one).status_code == 404  # the build is finished: the URL opens nothing
