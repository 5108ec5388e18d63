"""auth_strategy = noauth: development only, loopback only."""

from __future__ import annotations

import os
from pathlib import Path

from falcon import testing
from kazoo.client import KazooClient
from prometheus_client import CollectorRegistry

from cool.api import app
from cool.cmd import api as api_command
from cool.resources.registry import ResourceTypeRegistry
from tests.api.helpers import VALUE_TEMPLATE, error_codes, make_conf


def _client(
    zk_hosts: str, tmp_path: Path, client: KazooClient, registry: ResourceTypeRegistry
) -> testing.TestClient:
    conf = make_conf(zk_hosts, tmp_path, strategy="noauth")
    return testing.TestClient(
        app.build(conf, client, registry=registry, metrics_registry=CollectorRegistry())
    )


def test_noauth_acts_as_the_configured_developer(
    zk_hosts: str, tmp_path: Path, api_client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    client = _client(zk_hosts, tmp_path, api_client, registry)
    local = {"REMOTE_ADDR": "127.0.0.1"}
    result = client.simulate_post("/v1/builds", json={"template": VALUE_TEMPLATE}, extras=local)
    assert result.status_code == 202
    assert result.json["build"]["project_id"] == "development"
    other = client.simulate_get(
        "/v1/builds", headers={"X-Project-Id": "elsewhere", "X-Roles": "reader"}, extras=local
    )
    assert other.json["builds"] == []


def test_noauth_refuses_peers_off_loopback(
    zk_hosts: str, tmp_path: Path, api_client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    client = _client(zk_hosts, tmp_path, api_client, registry)
    result = client.simulate_get("/v1/builds", extras={"REMOTE_ADDR": "192.0.2.10"})
    assert result.status_code == 403
    assert error_codes(result) == ["cool.auth.forbidden"]


def test_cool_api_refuses_to_listen_off_loopback_with_noauth(tmp_path: Path, caplog) -> None:
    conf = tmp_path / "cool.conf"
    conf.write_text("[api]\nauth_strategy = noauth\nbind_host = 0.0.0.0\n")
    assert api_command.main(["--config-file", str(conf)]) == 2
    assert "refusing to listen on 0.0.0.0" in caplog.text
    # Run in this process, it leaves no multiprocess metrics setting behind for the
    # processes tests start later (a worker inheriting it failed to start).
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_cool_api_refuses_a_bad_auth_configuration_with_its_reason(
    tmp_path: Path,
    caplog,
) -> None:
    conf = tmp_path / "cool.conf"
    conf.write_text(
        "[api]\nauth_strategy = http_basic\n"
        f"[http_basic]\nhtpasswd_file = {tmp_path / 'missing'}\nuser = bob:p:member\n"
    )
    assert api_command.main(["--config-file", str(conf)]) == 1
    assert "htpasswd_file" in caplog.text
