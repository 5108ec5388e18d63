"""Keystone trusts for builds (DESIGN.md section 6) against a real Keystone: made at
submit with the member's token, used by workers' sessions, deleted by the GC."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from falcon import testing
from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1 import session as ks_session
from oslo_config import cfg
from prometheus_client import CollectorRegistry

from cool.api import app, server
from cool.clouds.openstack.credentials import DISCOVERY_TTL_S, CloudCredentials, Trusts
from cool.clouds.openstack.provider import OpenStackProvider
from cool.errors import ConfigurationError
from cool.gc import GarbageCollector, GcSettings
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.fence import claim
from cool.store.layout import Layout
from cool.store.session import Session
from harness.keystone.server import KeystoneServer
from harness.zookeeper import free_port
from tests.api.helpers import VALUE_TEMPLATE, ZK_ROOT, error_codes, make_conf
from tests.keystone_fixture import unique_name
from tests.worker.helpers import settings_for

PASSWORD = "secret-pass"
GRACE_S = 600.0  # [gc] unstored_trust_grace in these tests


@dataclass(frozen=True)
class Cloud:
    """A project with a member, and cool's service user (the trustee)."""

    service_user: str
    service_user_id: str
    project: str
    member: str
    member_id: str


@pytest.fixture(scope="module")
def cloud(keystone: KeystoneServer) -> Cloud:
    project = keystone.create_project(unique_name("cool-trusts"))
    service_user = unique_name("cool-svc")
    member = unique_name("member")
    return Cloud(
        service_user=service_user,
        # Only the service role (validating tokens), not admin: Keystone's default
        # policy lets a trust's trustor delete it, not its trustee, so this is what
        # shows the GC deletes trusts the way least-privilege deployments allow.
        service_user_id=keystone.create_service_user(service_user, PASSWORD, roles=["service"]),
        project=project,
        member=member,
        member_id=keystone.create_user(member, PASSWORD, project, ["member"]),
    )


def _service_user_options(
    keystone: KeystoneServer, cloud: Cloud, auth_url: str | None = None
) -> dict[str, str]:
    return {
        "auth_url": auth_url or keystone.url,
        "username": cloud.service_user,
        "password": PASSWORD,
        "user_domain_id": "default",
        "project_name": "service",
        "project_domain_id": "default",
    }


def _conf(
    zk_hosts: str,
    directory: Path,
    keystone: KeystoneServer,
    cloud: Cloud,
    *,
    provider: str = "openstack",
    strategy: str = "keystone",
    trustee_url: str | None = None,
) -> cfg.ConfigOpts:
    authtoken = _service_user_options(keystone, cloud) | {
        "www_authenticate_uri": keystone.base_url,
        "auth_type": "password",
        "interface": "public",
    }
    trustee = _service_user_options(keystone, cloud, trustee_url) | {
        "auth_type": "password",
        "timeout": "5",
    }
    return make_conf(
        zk_hosts,
        directory,
        strategy=strategy,
        keystone_authtoken=authtoken,
        worker={"provider": provider},
        openstack={"credentials": "trust"},
        trustee=trustee,
    )


def _api(conf: cfg.ConfigOpts, client: KazooClient, registry: ResourceTypeRegistry) -> Any:
    return testing.TestClient(
        app.build(conf, client, registry=registry, metrics_registry=CollectorRegistry())
    )


@pytest.fixture
def conf(zk_hosts: str, tmp_path: Path, keystone: KeystoneServer, cloud: Cloud) -> cfg.ConfigOpts:
    return _conf(zk_hosts, tmp_path, keystone, cloud)


@pytest.fixture
def api(
    conf: cfg.ConfigOpts, api_client: KazooClient, registry: ResourceTypeRegistry
) -> testing.TestClient:
    return _api(conf, api_client, registry)


@pytest.fixture
def store(api_client: KazooClient) -> BuildStore:
    store = BuildStore(api_client, Layout(ZK_ROOT))
    store.ensure_layout()  # as a worker does: claims need their container
    return store


@pytest.fixture
def gc_session(zk_hosts: str) -> Iterator[Session]:
    session = Session.open(settings_for(zk_hosts))
    yield session
    session.close()


def _token(keystone: KeystoneServer, cloud: Cloud) -> dict[str, str]:
    return {"X-Auth-Token": keystone.token(cloud.member, PASSWORD, cloud.project)}


def _submit(api: testing.TestClient, headers: dict[str, str]) -> Any:
    return api.simulate_post("/v1/builds", json={"template": VALUE_TEMPLATE}, headers=headers)


def _trust(keystone: KeystoneServer, trust_id: str) -> dict[str, Any] | None:
    """The trust as Keystone's admin sees it (None: Keystone has no such trust)."""
    response = keystone.admin_session().get(
        f"{keystone.url}/OS-TRUST/trusts/{trust_id}", raise_exc=False
    )
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return dict(response.json()["trust"])


def _trusts_of(keystone: KeystoneServer, trustor_user_id: str) -> list[str]:
    response = keystone.admin_session().get(
        f"{keystone.url}/OS-TRUST/trusts", params={"trustor_user_id": trustor_user_id}
    )
    return sorted(t["id"] for t in response.json()["trusts"])


def _finish(store: BuildStore, build_id: str) -> None:
    """Finish a build as its worker would (an hour ago), so that the GC may prune it."""
    fence = claim(store.client, store.layout, build_id, "test-worker")
    assert fence is not None
    state, version = store.state(build_id)
    finished = state.but(
        status=BuildStatus.CREATE_COMPLETE, reason="done", updated_at=time.time() - 3600
    )
    fence.write(state=(finished, version), finish=True)


def _collector(
    session: Session, trusts: Trusts | None, *, clock: Callable[[], float] = time.time
) -> GarbageCollector:
    settings = GcSettings(
        retention_s=60.0,
        max_finished=1000,
        interval_s=0.1,
        batch_size=100,
        unstored_trust_grace_s=GRACE_S,
    )
    return GarbageCollector(session, settings, trusts=trusts, clock=clock)


def _held(store: BuildStore) -> list[str]:
    """Trusts made for submits whose build is not stored (yet)."""
    try:
        return sorted(store.client.get_children(store.layout.new_trusts))
    except NoNodeError:
        return []


def _dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v3"  # nothing listens there


# -- submit ---------------------------------------------------------------------------


def test_submit_makes_a_trust_from_the_member_to_cool(
    api: testing.TestClient, store: BuildStore, keystone: KeystoneServer, cloud: Cloud
) -> None:
    submitted = _submit(api, _token(keystone, cloud))
    assert submitted.status_code == 202, submitted.text
    build_id = submitted.json["build"]["id"]
    meta, _ = store.meta_and_plan(build_id)
    assert meta.trust_id
    assert meta.trust_id not in submitted.text  # of no use to the caller: not shown
    trust = _trust(keystone, meta.trust_id)
    assert trust is not None
    assert trust["trustor_user_id"] == cloud.member_id
    assert trust["trustee_user_id"] == cloud.service_user_id
    assert trust["project_id"] == cloud.project
    assert trust["impersonation"] is True
    assert trust["expires_at"] is None
    assert {role["name"] for role in trust["roles"]} == {"member", "reader"}  # implied too
    assert _held(store) == []  # recorded until the build held it: taken by its transaction


def test_submit_trust_session_acts_as_the_member_logged_in_ahead_of_the_steps(
    api: testing.TestClient,
    store: BuildStore,
    conf: cfg.ConfigOpts,
    keystone: KeystoneServer,
    cloud: Cloud,
) -> None:
    """cool.worker.logins calls the provider's ``prepare`` as a build's run starts: the
    trust's token is then in the session every step of the build shares."""
    build_id = _submit(api, _token(keystone, cloud)).json["build"]["id"]
    trust_id = store.meta_and_plan(build_id)[0].trust_id
    credentials = CloudCredentials(conf)
    OpenStackProvider(credentials.session).prepare(trust_id)

    session = credentials.session(trust_id)
    sent: list[str] = []
    session.session.hooks["response"].append(
        lambda response, *_a, **_k: sent.append(response.request.url)
    )

    access = session.auth.get_access(session)  # GET /v3/auth/tokens is 403 for trusts
    assert sent == []  # the token prepare made: no step asks again
    assert access.user_id == cloud.member_id
    assert access.project_id == cloud.project
    assert access.trust_id == trust_id
    assert "member" in access.role_names
    assert credentials.session(trust_id) is session  # one session per trust, kept


def test_trust_sessions_share_what_version_discovery_found(
    api: testing.TestClient,
    store: BuildStore,
    conf: cfg.ConfigOpts,
    keystone: KeystoneServer,
    cloud: Cloud,
) -> None:
    """Every build has its own trust, so its own session: the first asks Keystone for
    its versions, the next builds' do not (until the shared cache's time is up)."""
    headers = _token(keystone, cloud)
    trusts = [
        store.meta_and_plan(_submit(api, headers).json["build"]["id"])[0].trust_id for _ in range(3)
    ]
    now = [0.0]
    credentials = CloudCredentials(conf, clock=lambda: now[0])

    def requests_of(trust_id: str) -> list[str]:
        session = credentials.session(trust_id)
        sent: list[str] = []
        session.session.hooks["response"].append(
            lambda response, *_a, **_k: sent.append(
                f"{response.request.method} {urlparse(response.request.url).path}"
            )
        )
        url = session.get_endpoint(service_type="identity", interface="public", min_version="3")
        assert url
        return sent

    first, second = requests_of(trusts[0]), requests_of(trusts[1])
    assert "POST /v3/auth/tokens" in first
    assert "POST /v3/auth/tokens" in second  # its own token: a trust-scoped one
    discovery = [r for r in first if r.startswith("GET ")]
    assert discovery  # what Keystone offers, asked once
    assert [r for r in second if r.startswith("GET ")] == []
    now[0] += DISCOVERY_TTL_S + 1
    assert [r for r in requests_of(trusts[2]) if r.startswith("GET ")] == discovery


def test_submit_replayed_with_its_idempotency_key_makes_no_second_trust(
    api: testing.TestClient, store: BuildStore, keystone: KeystoneServer, cloud: Cloud
) -> None:
    headers = _token(keystone, cloud) | {"Idempotency-Key": uuid.uuid4().hex}
    first = _submit(api, headers)
    before = _trusts_of(keystone, cloud.member_id)
    again = _submit(api, headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json["build"]["id"] == first.json["build"]["id"]
    assert _trusts_of(keystone, cloud.member_id) == before
    assert store.meta_and_plan(first.json["build"]["id"])[0].trust_id in before
    assert _held(store) == []


def test_submit_the_store_refuses_deletes_its_new_trust(
    api: testing.TestClient, store: BuildStore, keystone: KeystoneServer, cloud: Cloud
) -> None:
    """The store checks timeout_mins against the deployment's maximum after the trust
    is made: the refused build leaves no trust behind."""
    headers = _token(keystone, cloud)
    before = _trusts_of(keystone, cloud.member_id)
    refused = api.simulate_post(
        "/v1/builds", json={"template": VALUE_TEMPLATE, "timeout_mins": 10**6}, headers=headers
    )
    assert refused.status_code == 400, refused.text
    assert error_codes(refused) == ["cool.build.invalid"]
    assert _trusts_of(keystone, cloud.member_id) == before
    assert _held(store) == []  # deleted in Keystone, then forgotten


def test_submit_while_keystone_is_unreachable_is_a_503_and_stores_nothing(
    zk_hosts: str,
    tmp_path: Path,
    api_client: KazooClient,
    registry: ResourceTypeRegistry,
    keystone: KeystoneServer,
    cloud: Cloud,
) -> None:
    # keystonemiddleware validates the token at the real Keystone; trusts go to none.
    conf = _conf(zk_hosts, tmp_path, keystone, cloud, trustee_url=_dead_url())
    api = _api(conf, api_client, registry)
    headers = _token(keystone, cloud)

    refused = _submit(api, headers)

    assert refused.status_code == 503, refused.text
    assert error_codes(refused) == ["cool.keystone.unavailable"]
    assert refused.headers["retry-after"] == "3"
    assert "Keystone cannot be reached" in refused.json["errors"][0]["detail"]
    assert api.simulate_get("/v1/builds", headers=headers).json["builds"] == []


def test_submit_with_a_token_keystone_will_not_delegate_from_is_a_403(
    api: testing.TestClient, keystone: KeystoneServer, cloud: Cloud
) -> None:
    """An application credential's token may not make trusts (Keystone's rule)."""
    plain = ks_session.Session()
    member = _token(keystone, cloud)
    credential = plain.post(
        f"{keystone.url}/users/{cloud.member_id}/application_credentials",
        headers=member,
        json={"application_credential": {"name": unique_name("cred")}},
    ).json()["application_credential"]
    identity = {
        "methods": ["application_credential"],
        "application_credential": {"id": credential["id"], "secret": credential["secret"]},
    }
    issued = plain.post(f"{keystone.url}/auth/tokens", json={"auth": {"identity": identity}})
    headers = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
    before = _trusts_of(keystone, cloud.member_id)

    refused = _submit(api, headers)

    assert refused.status_code == 403, refused.text
    assert error_codes(refused) == ["cool.auth.delegation_refused"]
    assert "Keystone refused to delegate" in refused.json["errors"][0]["detail"]
    assert api.simulate_get("/v1/builds", headers=member).json["builds"] == []
    assert _trusts_of(keystone, cloud.member_id) == before


def test_submit_with_the_sim_provider_makes_no_trust(
    zk_hosts: str,
    tmp_path: Path,
    api_client: KazooClient,
    registry: ResourceTypeRegistry,
    store: BuildStore,
    keystone: KeystoneServer,
    cloud: Cloud,
) -> None:
    api = _api(_conf(zk_hosts, tmp_path, keystone, cloud, provider="sim"), api_client, registry)
    before = _trusts_of(keystone, cloud.member_id)
    submitted = _submit(api, _token(keystone, cloud))
    assert submitted.status_code == 202
    assert store.meta_and_plan(submitted.json["build"]["id"])[0].trust_id == ""
    assert _trusts_of(keystone, cloud.member_id) == before


@pytest.mark.parametrize("strategy", ["http_basic", "noauth"])
def test_trusts_without_keystone_auth_are_refused_at_start_up(
    zk_hosts: str,
    tmp_path: Path,
    api_client: KazooClient,
    registry: ResourceTypeRegistry,
    keystone: KeystoneServer,
    cloud: Cloud,
    strategy: str,
) -> None:
    conf = _conf(zk_hosts, tmp_path, keystone, cloud, strategy=strategy)
    with pytest.raises(ConfigurationError, match="needs \\[api\\] auth_strategy = keystone"):
        server.check(conf)
    with pytest.raises(ConfigurationError, match="auth_strategy = keystone"):
        app.build(conf, api_client, registry=registry, metrics_registry=CollectorRegistry())


# -- the GC ---------------------------------------------------------------------------


def test_gc_prune_deletes_the_builds_trust(
    api: testing.TestClient,
    store: BuildStore,
    conf: cfg.ConfigOpts,
    gc_session: Session,
    keystone: KeystoneServer,
    cloud: Cloud,
) -> None:
    build_id = _submit(api, _token(keystone, cloud)).json["build"]["id"]
    trust_id = store.meta_and_plan(build_id)[0].trust_id
    CloudCredentials(conf).session(trust_id).get_token()  # works while the build exists
    _finish(store, build_id)
    gc = _collector(gc_session, Trusts(conf))

    report = gc.run_once()

    assert report.pruned == (build_id,)
    assert (report.trusts_deleted, report.trusts_waiting) == (1, 0)
    assert _trust(keystone, trust_id) is None
    with pytest.raises(ks_exceptions.Unauthorized) as refused:
        CloudCredentials(conf).session(trust_id).get_token()
    assert refused.value.http_status == 401
    assert store.client.get_children(store.layout.trusts) == []
    assert gc.metrics.registry.get_sample_value("cool_gc_trusts_deleted_total") == 1


def test_gc_retries_a_trust_keystone_did_not_delete(
    api: testing.TestClient,
    store: BuildStore,
    conf: cfg.ConfigOpts,
    zk_hosts: str,
    tmp_path: Path,
    gc_session: Session,
    keystone: KeystoneServer,
    cloud: Cloud,
) -> None:
    """Keystone unreachable: the build is pruned anyway, its trust waits for a later pass."""
    build_id = _submit(api, _token(keystone, cloud)).json["build"]["id"]
    trust_id = store.meta_and_plan(build_id)[0].trust_id
    _finish(store, build_id)
    (tmp_path / "dead").mkdir()
    dead = _conf(zk_hosts, tmp_path / "dead", keystone, cloud, trustee_url=_dead_url())
    unreachable = _collector(gc_session, Trusts(dead))

    first = unreachable.run_once()

    assert first.pruned == (build_id,)
    assert (first.trusts_deleted, first.trusts_waiting) == (0, 1)
    assert _trust(keystone, trust_id) is not None
    assert store.client.get_children(store.layout.trusts) == [trust_id]
    assert unreachable.metrics.registry.get_sample_value("cool_gc_trusts_waiting") == 1

    later = _collector(gc_session, Trusts(conf)).run_once()

    assert later.pruned == ()
    assert (later.trusts_deleted, later.trusts_waiting) == (1, 0)
    assert _trust(keystone, trust_id) is None


class _Died(BaseException):
    """cool-api's process dying (SIGKILL, OOM): no ``except Exception`` of the submit
    gets to clean up after it."""


def test_a_trust_whose_submit_died_before_storing_its_build_is_deleted_by_the_gc(
    api: testing.TestClient,
    store: BuildStore,
    conf: cfg.ConfigOpts,
    gc_session: Session,
    keystone: KeystoneServer,
    cloud: Cloud,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _trusts_of(keystone, cloud.member_id)

    def dies(*args: object, **kwargs: object) -> None:
        raise _Died

    monkeypatch.setattr(BuildStore, "submit_once", dies)
    with pytest.raises(_Died):
        _submit(api, _token(keystone, cloud))
    monkeypatch.undo()
    (made,) = set(_trusts_of(keystone, cloud.member_id)) - set(before)
    assert _held(store) == [made]  # recorded before the build was to be stored
    assert api.simulate_get("/v1/builds", headers=_token(keystone, cloud)).json["builds"] == []

    # A pass within the grace leaves it: a submit may still be storing its build.
    soon = _collector(gc_session, Trusts(conf)).run_once()
    assert (soon.trusts_deleted, soon.trusts_waiting) == (0, 0)
    assert _trust(keystone, made) is not None
    assert _held(store) == [made]

    later = _collector(gc_session, Trusts(conf), clock=lambda: time.time() + GRACE_S + 1)
    report = later.run_once()

    assert (report.trusts_deleted, report.trusts_waiting) == (1, 0)
    assert _trust(keystone, made) is None
    assert _held(store) == []
    assert store.client.get_children(store.layout.trusts) == []


# -- credentials = cloud --------------------------------------------------------------


def test_cloud_credentials_act_as_the_clouds_yaml_cloud(
    zk_hosts: str,
    tmp_path: Path,
    keystone: KeystoneServer,
    cloud: Cloud,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clouds_yaml = tmp_path / "clouds.yaml"
    clouds_yaml.write_text(
        "clouds:\n"
        "  test-cloud:\n"
        "    auth:\n"
        f"      auth_url: {keystone.url}\n"
        f"      username: {cloud.member}\n"
        f"      password: {PASSWORD}\n"
        f"      project_id: {cloud.project}\n"
        "      user_domain_id: default\n"
        "    identity_api_version: 3\n"
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds_yaml))
    conf = make_conf(
        zk_hosts,
        tmp_path,
        worker={"provider": "openstack"},
        openstack={"credentials": "cloud", "cloud": "test-cloud"},
    )
    credentials = CloudCredentials(conf)

    session = credentials.session("")  # no trust: the cloud's own credentials

    access = session.auth.get_access(session)
    assert (access.user_id, access.project_id) == (cloud.member_id, cloud.project)
    assert credentials.session("a-trust-id-it-ignores") is session
