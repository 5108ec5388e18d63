"""auth_strategy = keystone against a real Keystone: tokens validated by
keystonemiddleware's auth_token, authorized by oslo.policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from falcon import testing
from kazoo.client import KazooClient
from prometheus_client import CollectorRegistry

from cool.api import app
from cool.resources.registry import ResourceTypeRegistry
from harness.keystone.server import KeystoneServer
from tests.api.helpers import VALUE_TEMPLATE, error_codes, make_conf
from tests.keystone_fixture import unique_name

PASSWORD = "secret-pass"


@dataclass(frozen=True)
class People:
    service_user: str
    project: str
    other_project: str
    member: str
    reader: str
    outsider: str
    admin_project: str
    admin: str


@pytest.fixture(scope="module")
def people(keystone: KeystoneServer) -> People:
    project = keystone.create_project(unique_name("cool-p"))
    other = keystone.create_project(unique_name("cool-q"))
    admin_project = keystone.create_project(unique_name("cool-admin"))
    names = People(
        service_user=unique_name("cool-svc"),
        project=project,
        other_project=other,
        member=unique_name("member"),
        reader=unique_name("reader"),
        outsider=unique_name("outsider"),
        admin_project=admin_project,
        admin=unique_name("admin"),
    )
    keystone.create_service_user(names.service_user, PASSWORD)
    keystone.create_user(names.member, PASSWORD, project, ["member"])
    keystone.create_user(names.reader, PASSWORD, project, ["reader"])
    keystone.create_user(names.outsider, PASSWORD, other, ["member"])
    keystone.create_user(names.admin, PASSWORD, admin_project, ["admin"])
    return names


def _authtoken(keystone: KeystoneServer, people: People) -> dict[str, str]:
    return {
        "www_authenticate_uri": keystone.base_url,
        "auth_url": keystone.base_url,
        "auth_type": "password",
        "username": people.service_user,
        "password": PASSWORD,
        "project_name": "service",
        "user_domain_id": "default",
        "project_domain_id": "default",
        "interface": "public",
    }


def _client(
    zk_hosts: str,
    directory: Path,
    client: KazooClient,
    registry: ResourceTypeRegistry,
    keystone: KeystoneServer,
    people: People,
    **groups: dict[str, str],
) -> testing.TestClient:
    conf = make_conf(
        zk_hosts,
        directory,
        strategy="keystone",
        keystone_authtoken=_authtoken(keystone, people),
        **groups,
    )
    return testing.TestClient(
        app.build(conf, client, registry=registry, metrics_registry=CollectorRegistry())
    )


@pytest.fixture
def api(
    zk_hosts: str,
    tmp_path: Path,
    api_client: KazooClient,
    registry: ResourceTypeRegistry,
    keystone: KeystoneServer,
    people: People,
) -> testing.TestClient:
    return _client(zk_hosts, tmp_path, api_client, registry, keystone, people)


def _as(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}


def _token(keystone: KeystoneServer, people: People, user: str, project: str | None = None) -> str:
    return keystone.token(user, PASSWORD, project or people.project)


def test_keystone_valid_token_submits_and_reads(
    api: testing.TestClient, keystone: KeystoneServer, people: People
) -> None:
    token = _token(keystone, people, people.member)
    submitted = api.simulate_post(
        "/v1/builds", json={"template": VALUE_TEMPLATE}, headers=_as(token)
    )
    assert submitted.status_code == 202, submitted.text
    build = submitted.json["build"]
    assert build["project_id"] == people.project
    listed = api.simulate_get("/v1/builds", headers=_as(token))
    assert [b["id"] for b in listed.json["builds"]] == [build["id"]]


@pytest.mark.parametrize("token", [None, "", "garbage", "gAAAAABnot-a-fernet-token"])
def test_keystone_missing_or_garbage_token_is_a_401(
    api: testing.TestClient, token: str | None
) -> None:
    headers = {} if token is None else _as(token)
    result = api.simulate_get("/v1/builds", headers=headers)
    assert result.status_code == 401
    assert error_codes(result) == ["cool.auth.unauthenticated"]
    assert result.headers["www-authenticate"].startswith("Keystone uri=")


def test_keystone_expired_token_is_a_401(
    api: testing.TestClient, keystone: KeystoneServer, people: People
) -> None:
    token = keystone.expiring_token(people.member, PASSWORD, people.project)
    result = api.simulate_get("/v1/builds", headers=_as(token))
    assert result.status_code == 401
    assert error_codes(result) == ["cool.auth.unauthenticated"]


def test_keystone_revoked_token_is_a_401(
    api: testing.TestClient, keystone: KeystoneServer, people: People
) -> None:
    token = _token(keystone, people, people.member)
    keystone.revoke(token)
    result = api.simulate_get("/v1/builds", headers=_as(token))
    assert result.status_code == 401


def test_keystone_reader_reads_but_may_not_submit(
    api: testing.TestClient, keystone: KeystoneServer, people: People
) -> None:
    member = _token(keystone, people, people.member)
    reader = _token(keystone, people, people.reader)
    build_id = api.simulate_post(
        "/v1/builds", json={"template": VALUE_TEMPLATE}, headers=_as(member)
    ).json["build"]["id"]
    assert api.simulate_get(f"/v1/builds/{build_id}", headers=_as(reader)).status_code == 200
    refused = api.simulate_post(
        "/v1/builds", json={"template": VALUE_TEMPLATE}, headers=_as(reader)
    )
    assert refused.status_code == 403
    assert error_codes(refused) == ["cool.auth.forbidden"]
    cancel = api.simulate_post(f"/v1/builds/{build_id}/cancel", headers=_as(reader))
    assert cancel.status_code == 403


def test_keystone_member_of_another_project_gets_a_404(
    api: testing.TestClient, keystone: KeystoneServer, people: People
) -> None:
    member = _token(keystone, people, people.member)
    outsider = _token(keystone, people, people.outsider, people.other_project)
    build_id = api.simulate_post(
        "/v1/builds", json={"template": VALUE_TEMPLATE}, headers=_as(member)
    ).json["build"]["id"]
    for method in ("GET", "DELETE"):
        result = api.simulate_request(method, f"/v1/builds/{build_id}", headers=_as(outsider))
        assert result.status_code == 404
        assert error_codes(result) == ["cool.build.not_found"]
    assert api.simulate_get("/v1/builds", headers=_as(outsider)).json["builds"] == []


def test_keystone_admin_lists_every_project(
    api: testing.TestClient, keystone: KeystoneServer, people: People
) -> None:
    member = _token(keystone, people, people.member)
    outsider = _token(keystone, people, people.outsider, people.other_project)
    admin = _token(keystone, people, people.admin, people.admin_project)
    ids = {
        api.simulate_post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=_as(t)).json[
            "build"
        ]["id"]
        for t in (member, outsider)
    }
    listed = api.simulate_get("/v1/builds", params={"all_projects": "1"}, headers=_as(admin))
    assert listed.status_code == 200
    assert {b["id"] for b in listed.json["builds"]} >= ids
    refused = api.simulate_get("/v1/builds", params={"all_projects": "1"}, headers=_as(member))
    assert refused.status_code == 403
    assert api.simulate_get("/v1/workers", headers=_as(admin)).status_code == 200


def test_keystone_policy_file_overrides_a_default(
    zk_hosts: str,
    tmp_path: Path,
    api_client: KazooClient,
    registry: ResourceTypeRegistry,
    keystone: KeystoneServer,
    people: People,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text('"cool:build:create": "rule:project_reader"\n"cool:build:list": "!"\n')
    api = _client(
        zk_hosts,
        tmp_path,
        api_client,
        registry,
        keystone,
        people,
        oslo_policy={"policy_file": str(policy)},
    )
    reader = _token(keystone, people, people.reader)
    member = _token(keystone, people, people.member)
    submitted = api.simulate_post(
        "/v1/builds", json={"template": VALUE_TEMPLATE}, headers=_as(reader)
    )
    assert submitted.status_code == 202, submitted.text
    assert api.simulate_get("/v1/builds", headers=_as(member)).status_code == 403
