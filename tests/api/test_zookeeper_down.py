"""ZooKeeper stopped during requests: 503 with Retry-After at once, nothing half-written."""

from __future__ import annotations

import time

from kazoo.client import KazooClient
from oslo_config import cfg

from cool.api import wsgi
from harness.zookeeper import ZooKeeperServer, free_port
from tests.api.helpers import VALUE_TEMPLATE, ZK_ROOT, Caller, error_codes, queued
from tests.zk import assert_eventually, pause_server


def test_zookeeper_stopped_answers_503_with_retry_after_and_loses_nothing(
    alice: Caller, zookeeper: ZooKeeperServer, api_client: KazooClient, zk_hosts: str
) -> None:
    before = alice.submit(VALUE_TEMPLATE)
    assert before.status_code == 202
    zookeeper.kill()  # as a crash would: its data and port are kept for the restart
    try:
        assert_eventually(lambda: not api_client.connected, message="the API sees ZooKeeper gone")
        for method, path, kwargs in [
            ("POST", "/v1/builds", {"json": {"template": VALUE_TEMPLATE}}),
            ("GET", "/v1/builds", {}),
            ("GET", f"/v1/builds/{before.json['build']['id']}", {}),
            ("GET", f"/v1/builds/{before.json['build']['id']}/events", {"params": {"wait": "5"}}),
            ("POST", f"/v1/builds/{before.json['build']['id']}/cancel", {}),
        ]:
            started = time.monotonic()
            result = alice.request(method, path, **kwargs)
            assert result.status_code == 503, (method, path, result.text)
            assert error_codes(result) == ["cool.store.unavailable"]
            assert result.headers["retry-after"] == "3"
            assert time.monotonic() - started < 5  # at once, not after ZooKeeper returns
        health = alice.get("/healthcheck")
        assert health.status_code == 503
        # Bad input is still refused for what it is.
        assert alice.get("/v1/builds/..").status_code == 404
        assert (
            alice.post(
                "/v1/builds", body="{", headers={"Content-Type": "application/json"}
            ).status_code
            == 400
        )
    finally:
        zookeeper.start()
    assert_eventually(lambda: api_client.connected, timeout_s=30, message="reconnected")
    # Only the build accepted before the outage exists, and it is whole.
    assert queued(api_client) == [before.json["build"]["id"]]
    after = alice.submit(VALUE_TEMPLATE)
    assert after.status_code == 202
    assert alice.get("/healthcheck").status_code == 200
    build_id = before.json["build"]["id"]
    shown = alice.get(f"/v1/builds/{build_id}")
    assert shown.status_code == 200
    assert shown.json["build"]["status"] == "CREATE_QUEUED"


def test_zookeeper_hung_mid_submit_says_the_outcome_is_unknown_and_where_to_look(
    alice: Caller, zookeeper: ZooKeeperServer, api_client: KazooClient
) -> None:
    """A submit sent to a ZooKeeper that then answers nothing (SIGSTOPped) may still be
    applied: the 503 says so, with the build's id and Location, and the build is then
    whole or absent."""
    warm = alice.submit(VALUE_TEMPLATE)  # its parents exist: the next submit is one round trip
    assert warm.status_code == 202
    pause_server(zookeeper)  # stopped for sure before the request is sent
    try:
        unknown = alice.submit(VALUE_TEMPLATE)
    finally:
        zookeeper.resume()
    assert unknown.status_code == 503, unknown.text
    assert error_codes(unknown) == ["cool.store.commit_unknown"]
    assert unknown.headers["retry-after"] == "3"
    build_id = unknown.headers["location"].rsplit("/", 1)[-1]
    assert build_id in unknown.json["errors"][0]["detail"]
    assert_eventually(lambda: api_client.connected, timeout_s=30, message="reconnected")
    # Once the client is back, the outcome is settled one way, whole: the build with
    # its first event, or nothing at all (never a half-written directory).
    shown = alice.get(f"/v1/builds/{build_id}")
    assert shown.status_code in {200, 404}, shown.text
    pending = queued(api_client)
    if shown.status_code == 200:
        assert build_id in pending
        events = alice.get(f"/v1/builds/{build_id}/events").json["events"]
        assert events[0]["reason"] == "submitted"
    else:
        assert build_id not in pending
        assert not api_client.exists(f"{ZK_ROOT}/builds/{build_id[-2:]}/{build_id}")


def test_zookeeper_hung_before_an_idempotent_submit_is_sent_is_plainly_unavailable(
    alice: Caller, zookeeper: ZooKeeperServer, api_client: KazooClient
) -> None:
    """With a key, the key's entry is read first: that read gets no answer, nothing is
    sent, and the retry with the key after makes exactly one build."""
    headers = {"Idempotency-Key": "hung-1"}
    assert alice.submit(VALUE_TEMPLATE).status_code == 202
    pause_server(zookeeper)  # stopped for sure before the request is sent
    try:
        refused = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    finally:
        zookeeper.resume()
    assert refused.status_code == 503
    assert error_codes(refused) == ["cool.store.unavailable"]
    assert_eventually(lambda: api_client.connected, timeout_s=30, message="reconnected")
    first = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    again = alice.post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json["build"]["id"] == again.json["build"]["id"]
    assert len(queued(api_client)) == 2


def _api_conf(hosts: str, connect_timeout: float) -> cfg.ConfigOpts:
    conf = wsgi.load_config()
    conf.set_override("hosts", hosts, group="zookeeper")
    conf.set_override("connect_timeout", connect_timeout, group="zookeeper")
    return conf


def test_a_started_api_is_connected_before_it_serves_when_zookeeper_is_there(
    zk_hosts: str,
) -> None:
    """It answered 503 to its first request after a restart (it connected later)."""
    client = wsgi.connect_lazily(_api_conf(zk_hosts, 15))
    try:
        assert client.connected
    finally:
        client.stop()
        client.close()


def test_a_started_api_waits_a_bounded_time_when_zookeeper_is_away() -> None:
    started = time.monotonic()
    client = wsgi.connect_lazily(_api_conf(f"127.0.0.1:{free_port()}", 1))
    try:
        assert not client.connected  # it serves (503) rather than failing to start
        assert time.monotonic() - started < 10
    finally:
        client.stop()
        client.close()
