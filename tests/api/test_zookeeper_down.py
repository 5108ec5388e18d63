"""ZooKeeper stopped during requests: 503 with Retry-After at once, nothing half-written."""

from __future__ import annotations

import time

from kazoo.client import KazooClient

from cool.local.zookeeper import ZooKeeperServer
from tests.api.helpers import VALUE_TEMPLATE, ZK_ROOT, Caller, error_codes
from tests.zk import assert_eventually


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
    pending = api_client.get_children(f"{ZK_ROOT}/pending")
    assert pending == [before.json["build"]["id"]]
    after = alice.submit(VALUE_TEMPLATE)
    assert after.status_code == 202
    assert alice.get("/healthcheck").status_code == 200
    build_id = before.json["build"]["id"]
    shown = alice.get(f"/v1/builds/{build_id}")
    assert shown.status_code == 200
    assert shown.json["build"]["status"] == "CREATE_QUEUED"
