"""The CLI as openstackclient users drive it: a real Keystone, cool-api found in its
catalog (service type ``orchestration-cool``), credentials from ``OS_*`` variables
or from ``clouds.yaml`` with ``--os-cloud``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from cool.cli.connection import SERVICE_TYPE
from harness.api import ApiProcess
from harness.keystone.server import KeystoneServer
from tests.cli.conftest import EXAMPLES, run_cool
from tests.keystone_fixture import unique_name

pytestmark = pytest.mark.slow

PASSWORD = "secret-pw"


@pytest.fixture
def catalogued_api(
    keystone: KeystoneServer, zk_hosts: str, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """cool-api (keystone auth) in the catalog; a member's name and project name."""
    service_user = unique_name("cool-svc")
    keystone.create_service_user(service_user, PASSWORD)
    config = (
        "auth_strategy = keystone\nworkers = 1\nthreads = 4\n"
        f"[zookeeper]\nhosts = {zk_hosts}\nroot = /cool\n"
        "[keystone_authtoken]\n"
        f"www_authenticate_uri = {keystone.base_url}\nauth_url = {keystone.base_url}\n"
        f"auth_type = password\nusername = {service_user}\npassword = {PASSWORD}\n"
        "project_name = service\nuser_domain_id = default\nproject_domain_id = default\n"
        "interface = public\n"  # the local Keystone has public endpoints only
    )
    project = unique_name("cli-project")
    project_id = keystone.create_project(project)
    user = unique_name("cli-user")
    keystone.create_user(user, PASSWORD, project_id, ["member"])
    with ApiProcess(tmp_path, config) as api:
        # the session's Keystone gets this one entry of the type: only this test reads it
        keystone.admin.register_endpoint(SERVICE_TYPE, api.url)
        yield user, project


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("OS_", "COOL_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", os.devnull)


def test_os_variables_and_clouds_yaml_find_cool_in_the_catalog(
    catalogued_api: tuple[str, str],
    keystone: KeystoneServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    user, project = catalogued_api
    _clean_env(monkeypatch)
    env = {
        "OS_AUTH_URL": keystone.base_url + "/v3",
        "OS_USERNAME": user,
        "OS_PASSWORD": PASSWORD,
        "OS_PROJECT_NAME": project,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    submitted = run_cool("submit", EXAMPLES / "utility-chain.yaml", "-f", "json")
    assert submitted.rc == 0, submitted.err
    build = json.loads(submitted.out)
    assert build["status"] == "CREATE_QUEUED"  # no worker here: it waits for one
    assert build["user_id"] != user  # a Keystone user id, not the name

    for key in env:
        monkeypatch.delenv(key)
    clouds = tmp_path / "clouds.yaml"
    auth = {
        "auth_url": keystone.base_url + "/v3",
        "username": user,
        "password": PASSWORD,
        "project_name": project,
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    wrong = {**auth, "password": "wrong"}
    clouds.write_text(yaml.safe_dump({"clouds": {"mine": {"auth": auth}, "bad": {"auth": wrong}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    listed = run_cool("--os-cloud", "mine", "list", "-f", "json")
    assert listed.rc == 0, listed.err
    assert [row["ID"] for row in listed.out and json.loads(listed.out)] == [build["id"]]
    shown = run_cool("--os-cloud", "mine", "status", build["id"], "-f", "json")
    assert json.loads(shown.out)["project_id"] == build["project_id"]

    refused = run_cool("--os-cloud", "bad", "list")
    assert refused.rc == 1
    assert refused.err.startswith("cannot authenticate: The request you have made requires"), (
        refused.err
    )
    assert len(refused.err.strip().splitlines()) == 1
