"""The local Keystone: real tokens, real roles, real revocation and expiry.

All but the life-cycle tests share the session's server (``keystone``), so
every project and user is named uniquely.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from harness.keystone import venv as keystone_module
from harness.keystone.admin import SERVICE_PROJECT
from harness.keystone.errors import KeystoneNotInstalledError
from harness.keystone.server import KeystoneServer
from harness.keystone.template import REGION
from harness.keystone.venv import INSTALL_HINT, VENV_ENV_VAR, default_venv_path, ensure_venv
from tests.keystone_fixture import unique_name

PASSWORD = "correct horse battery staple"


def _user_with(keystone: KeystoneServer, *roles: str) -> tuple[str, str]:
    """A new project and a user holding ``roles`` on it: (user name, project id)."""
    project_id = keystone.create_project(unique_name("project"))
    name = unique_name("user")
    keystone.create_user(name, PASSWORD, project_id, list(roles))
    return name, project_id


def _role_names(token_body: dict[str, object]) -> set[str]:
    roles = token_body["roles"]
    assert isinstance(roles, list)
    return {role["name"] for role in roles}


def test_project_token_validates_with_user_and_project(keystone: KeystoneServer) -> None:
    name, project_id = _user_with(keystone, "member")
    body = keystone.validate(keystone.token(name, PASSWORD, project_id))
    assert body is not None
    assert body["user"]["name"] == name
    assert body["project"]["id"] == project_id
    assert body["methods"] == ["password"]


@pytest.mark.parametrize(
    ("granted", "carried"),
    [
        ("reader", {"reader"}),
        ("member", {"member", "reader"}),
        # bootstrap's rules: admin implies manager implies member implies reader
        ("admin", {"admin", "manager", "member", "reader"}),
    ],
)
def test_token_carries_implied_roles(
    keystone: KeystoneServer, granted: str, carried: set[str]
) -> None:
    name, project_id = _user_with(keystone, granted)
    body = keystone.validate(keystone.token(name, PASSWORD, project_id))
    assert body is not None
    assert _role_names(body) == carried


def test_revoked_token_no_longer_validates(keystone: KeystoneServer) -> None:
    name, project_id = _user_with(keystone, "member")
    revoked = keystone.token(name, PASSWORD, project_id)
    other = keystone.token(name, PASSWORD, project_id)
    assert keystone.validate(revoked) is not None
    keystone.revoke(revoked)
    assert keystone.validate(revoked) is None
    assert keystone.validate(revoked, allow_expired=True) is None  # revoked, not expired
    assert keystone.validate(other) is not None  # revocation is of that token only


def test_expiring_token_is_expired_not_revoked(keystone: KeystoneServer) -> None:
    name, project_id = _user_with(keystone, "member")
    token = keystone.expiring_token(name, PASSWORD, project_id)
    assert keystone.validate(token) is None
    body = keystone.validate(token, allow_expired=True)
    assert body is not None
    assert dt.datetime.fromisoformat(body["expires_at"]) <= dt.datetime.now(dt.UTC)
    assert body["project"]["id"] == project_id
    assert _role_names(body) == {"member", "reader"}


def test_service_user_validates_other_tokens(keystone: KeystoneServer) -> None:
    """What keystonemiddleware's auth_token does with its service user's token."""
    service_name = unique_name("service-user")
    keystone.create_service_user(service_name, PASSWORD)
    keystone.create_service_user(unique_name("service-user"), PASSWORD)  # the project is reused
    service_project_id = keystone.project_id(SERVICE_PROJECT)
    assert service_project_id is not None
    service_token = keystone.token(service_name, PASSWORD, service_project_id)
    service_body = keystone.validate(service_token)
    assert service_body is not None
    assert {"service", "admin"} <= _role_names(service_body)

    name, project_id = _user_with(keystone, "reader")
    user_token = keystone.token(name, PASSWORD, project_id)
    with requests.Session() as http:
        response = http.get(
            keystone.url + "/auth/tokens",
            headers={"X-Auth-Token": service_token, "X-Subject-Token": user_token},
            timeout=30,
        )
    assert response.status_code == 200, response.text
    assert response.json()["token"]["user"]["name"] == name


def test_catalog_names_this_servers_public_endpoint(keystone: KeystoneServer) -> None:
    name, project_id = _user_with(keystone, "reader")
    body = keystone.validate(keystone.token(name, PASSWORD, project_id))
    assert body is not None
    (identity,) = [service for service in body["catalog"] if service["type"] == "identity"]
    assert [(e["interface"], e["url"], e["region"]) for e in identity["endpoints"]] == [
        ("public", keystone.base_url, REGION)
    ]


def test_database_is_in_wal_mode_and_takes_concurrent_writes(keystone: KeystoneServer) -> None:
    with contextlib.closing(sqlite3.connect(keystone.db_path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    project_id = keystone.create_project(unique_name("project"))
    names = [unique_name("concurrent") for _ in range(12)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        user_ids = list(
            pool.map(lambda n: keystone.create_user(n, PASSWORD, project_id, ["member"]), names)
        )
    assert len(set(user_ids)) == len(names)


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def test_stop_leaves_no_process_behind() -> None:
    server = KeystoneServer(venv=ensure_venv())
    try:
        server.start()
        pgid = server.pid
        assert pgid is not None
        assert os.getpgid(pgid) == pgid
        assert len(_group_members(pgid)) == 2  # gunicorn's master and its one worker
        base_dir = server.base_dir
    finally:
        server.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    assert not base_dir.exists()
    with pytest.raises(requests.ConnectionError), requests.Session() as http:
        http.get(server.url, timeout=5)
    server.stop()  # twice is harmless


def test_start_without_venv_fails_loudly_and_stop_is_safe(tmp_path: Path) -> None:
    server = KeystoneServer(venv=tmp_path / "no-venv")
    with pytest.raises(KeystoneNotInstalledError, match=INSTALL_HINT):
        server.start()
    assert server.pid is None
    server.stop()
    server.stop()


def test_venv_path_is_read_from_the_environment_at_call_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(VENV_ENV_VAR, str(tmp_path / "elsewhere"))
    assert default_venv_path() == tmp_path / "elsewhere"
    assert KeystoneServer().venv == tmp_path / "elsewhere"
    monkeypatch.delenv(VENV_ENV_VAR)
    assert default_venv_path() == keystone_module.REPO / ".venv-keystone"


def test_ensure_venv_leaves_a_complete_venv_alone(
    keystone: KeystoneServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"ensure_venv ran {args}")

    monkeypatch.setattr(keystone_module.subprocess, "run", no_subprocess)
    assert ensure_venv(keystone.venv) == keystone.venv


def test_server_runs_in_its_own_process_group(keystone: KeystoneServer) -> None:
    """A signal to the tests' group (a terminal's Ctrl-C) misses it; stop() signals its own."""
    assert keystone.pid is not None
    assert os.getpgid(keystone.pid) == keystone.pid != os.getpgid(0)
