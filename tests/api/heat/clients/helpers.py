"""The people of the client tests, and the ``openstack`` CLI run as a user types it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

PASSWORD = "heat-secret"
TEMPLATES = Path(__file__).resolve().parent / "templates"
EXAMPLES = Path(__file__).resolve().parents[4] / "examples"
OPENSTACK = Path(sys.executable).with_name("openstack")
CLI_TIMEOUT_S = 120.0  # one command, --wait included; stacks here build in seconds


@dataclass(frozen=True)
class Member:
    """A user holding ``member`` on a project of its own."""

    user: str
    project: str
    project_id: str


@dataclass(frozen=True)
class HeatService:
    """cool-api (its root URL), Keystone's v3 URL, and members of two projects."""

    url: str
    auth_url: str
    member: Member
    outsider: Member

    def env(self, who: Member) -> dict[str, str]:
        """The OS_* variables an openrc file sets for ``who`` (and nothing else)."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": who.user,
            "OS_PASSWORD": PASSWORD,
            "OS_PROJECT_NAME": who.project,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
        }

    def auth(self, who: Member) -> dict[str, str]:
        """openstacksdk's ``auth`` for ``who``."""
        return {
            "auth_url": self.auth_url,
            "username": who.user,
            "password": PASSWORD,
            "project_name": who.project,
            "user_domain_name": "Default",
            "project_domain_name": "Default",
        }

    def token_and_endpoint(self, who: Member) -> tuple[str, str]:
        """A token for ``who`` and the ``orchestration`` endpoint its catalog gives, as
        gophercloud gets both (POST /v3/auth/tokens, then the catalog's public URL)."""
        user = {"name": who.user, "domain": {"name": "Default"}, "password": PASSWORD}
        body = {
            "auth": {
                "identity": {"methods": ["password"], "password": {"user": user}},
                "scope": {"project": {"id": who.project_id}},
            }
        }
        answer = requests.post(f"{self.auth_url}/auth/tokens", json=body, timeout=30)
        assert answer.status_code == 201, answer.text
        (service,) = [s for s in answer.json()["token"]["catalog"] if s["type"] == "orchestration"]
        (endpoint,) = [e for e in service["endpoints"] if e["interface"] == "public"]
        return answer.headers["X-Subject-Token"], str(endpoint["url"])


@dataclass(frozen=True)
class Run:
    rc: int
    out: str
    err: str

    def json(self) -> Any:
        """The ``-f json`` document, after whatever ``--wait`` printed before it."""
        start = re.search(r"^[\[{]", self.out, re.MULTILINE)
        assert start is not None, (self.out, self.err)
        return json.loads(self.out[start.start() :])


def openstack(service: HeatService, who: Member, *args: str | Path, cwd: Path | None = None) -> Run:
    """``openstack <args>`` in a shell where ``who``'s openrc was sourced; no clouds.yaml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "COOL_"))}
    env.update(service.env(who), OS_CLIENT_CONFIG_FILE=os.devnull, PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [str(OPENSTACK), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def unique(prefix: str) -> str:
    """A stack name no other test uses (names are unique among a project's stacks)."""
    return f"{prefix}-{os.urandom(4).hex()}"
