"""The real cloud of a local system on the ``openstack`` provider (``run.sh --openstack``).

The mini cloud's dev command (:mod:`harness.mini_cloud.cloud`) runs as one of
the system's daemons, and cool is set up in its Keystone as an operator sets
it up in production (docs/openstack.md): a service user holding only the
``service`` role on project ``service`` (it validates tokens and receives the
builds' trusts), cool-api in the catalog as ``orchestration-cool`` (the CLI
finds it there) and as ``orchestration`` (Heat's API: ``openstack stack``
finds it), and a project with a member who builds. Every step may be redone:
a second ``up`` on a cloud that still runs changes nothing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keystoneauth1 import exceptions as ks_exceptions

from cool.cli.connection import SERVICE_TYPE
from cool.errors import CoolError
from harness.daemons import Daemon, spawn, wait_until
from harness.keystone import heat as heat_catalog
from harness.keystone.admin import DEFAULT_DOMAIN, SERVICE_PROJECT, KeystoneAdmin
from harness.keystone.errors import KeystoneError
from harness.mini_cloud.cloud import clouds_yaml_entry, ready_access
from harness.mini_cloud.seed import IMAGE_NAME

NAME = "cloud"
SERVICE_USER = "cool"
# From its template databases it serves in about 40 s; a loaded machine, or the
# first start after the install, takes longer.
START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0  # it stops its 25 processes in 5-7 s
# What the examples need from this cloud that their defaults do not name.
PARAMETERS = {"image": IMAGE_NAME}


class LocalCloudError(CoolError):
    code = "harness.cloud"


@dataclass(frozen=True)
class CloudAccess:
    auth_url: str  # Keystone's v3 API
    region_name: str
    admin_password: str

    def service_options(self, password: str) -> str:
        """keystoneauth's password options for cool's service user, as
        ``[keystone_authtoken]`` and ``[trustee]`` take them."""
        return (
            f"auth_type = password\nauth_url = {self.auth_url}\nusername = {SERVICE_USER}\n"
            f"password = {password}\nuser_domain_id = {DEFAULT_DOMAIN}\n"
            f"project_name = {SERVICE_PROJECT}\nproject_domain_id = {DEFAULT_DOMAIN}\n"
        )

    def config(self, service_password: str) -> str:
        """The sections of cool.conf for Keystone auth, trusts and this cloud."""
        service = self.service_options(service_password)
        return (
            f"[openstack]\ncredentials = trust\nregion_name = {self.region_name}\n\n"
            f"[keystone_authtoken]\n{service}www_authenticate_uri = {self.auth_url}\n"
            f"interface = public\nregion_name = {self.region_name}\n\n"
            f"[trustee]\n{service}"
        )

    def clouds_yaml_entry(self, user: str, password: str, project: str) -> dict[str, Any]:
        return clouds_yaml_entry(self.auth_url, self.region_name, user, password, project)


def start(directory: Path, log: Path) -> Daemon:
    """The mini cloud's ``up`` command serving from ``directory``, as a daemon."""
    log.unlink(missing_ok=True)  # its tail, shown when it fails, must be this run's
    command = [sys.executable, "-m", "harness.mini_cloud", "up", "--dir", str(directory)]
    command += ["--timeout", f"{START_TIMEOUT_S:g}"]
    return spawn(NAME, command, log)


def access(daemon: Daemon, directory: Path, *, timeout_s: float = START_TIMEOUT_S) -> CloudAccess:
    """How to reach the cloud ``daemon`` serves from ``directory``, once it does."""

    def ready() -> bool:
        found = ready_access(directory)
        return (found is not None and found.get("pid") == daemon.pid) or not daemon.alive

    if not wait_until(ready, timeout_s):
        daemon.stop(timeout_s=STOP_TIMEOUT_S)
        raise LocalCloudError(
            f"the mini cloud did not start in {timeout_s:.0f} s:\n{daemon.log_tail()}"
        )
    found = ready_access(directory)
    if not daemon.alive or found is None:
        raise LocalCloudError(f"the mini cloud exited:\n{daemon.log_tail()}")
    return CloudAccess(
        auth_url=str(found["auth_url"]),
        region_name=str(found["region_name"]),
        admin_password=str(found["admin_password"]),
    )


def prepare(
    cloud: CloudAccess,
    *,
    service_password: str,
    user: str,
    project: str,
    password: str,
    api_url: str,
) -> None:
    """cool's service user, the member who builds, and cool-api in the catalog."""
    admin = KeystoneAdmin(cloud.auth_url, cloud.admin_password)
    try:
        service_project = admin.ensure_project(SERVICE_PROJECT)
        admin.ensure_user(SERVICE_USER, service_password, service_project, ["service"])
        admin.ensure_user(user, password, admin.ensure_project(project), ["member"])
        admin.ensure_endpoint(SERVICE_TYPE, api_url, name="cool")
        heat_catalog.register(admin, api_url)  # Heat's API: `openstack stack ...` finds it
    except (KeystoneError, ks_exceptions.ClientException) as exc:
        raise LocalCloudError(f"cannot set cool up in the mini cloud's Keystone: {exc}") from None
    finally:
        admin.close()
