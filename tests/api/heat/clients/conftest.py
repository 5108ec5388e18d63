"""Heat's API driven by the real clients: a real cool-api (Keystone auth, in the
test Keystone's catalog as ``orchestration``), two cool-workers on the sim and a
member of a project each in two projects. Started once for the package (the
tests here run in one xdist process: tests/scheduling.py)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from kazoo.exceptions import NoNodeError, NotEmptyError

from harness.api import ApiProcess
from harness.keystone import heat as heat_catalog
from harness.keystone.server import KeystoneServer
from harness.zookeeper import ZooKeeperServer
from tests.api.heat.clients.helpers import PASSWORD, HeatService, Member
from tests.keystone_fixture import unique_name
from tests.worker.processes import WorkerProcess
from tests.zk import start_client, stop_client


@pytest.fixture(scope="package")
def heat_zk_hosts(zookeeper: ZooKeeperServer) -> Iterator[str]:
    """A chroot of the package's own on the session's ZooKeeper."""
    chroot = f"/test-heat-clients-{uuid.uuid4().hex}"
    admin = start_client(zookeeper.hosts)
    try:
        admin.retry(admin.ensure_path, chroot)
        yield zookeeper.hosts + chroot
        with contextlib.suppress(NoNodeError, NotEmptyError):
            admin.retry(admin.delete, chroot, recursive=True)
    finally:
        stop_client(admin)


def _member(keystone: KeystoneServer, prefix: str) -> Member:
    project = unique_name(f"{prefix}-project")
    project_id = keystone.create_project(project)
    user = unique_name(f"{prefix}-user")
    keystone.create_user(user, PASSWORD, project_id, ["member"])
    return Member(user, project, project_id)


@pytest.fixture(scope="package")
def heat_service(
    keystone: KeystoneServer, heat_zk_hosts: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HeatService]:
    directory = tmp_path_factory.mktemp("heat-clients")
    service_user = unique_name("cool-svc")
    keystone.create_service_user(service_user, PASSWORD)
    config = (
        "auth_strategy = keystone\nworkers = 1\nthreads = 8\n"
        f"[zookeeper]\nhosts = {heat_zk_hosts}\nroot = /cool\nsession_timeout = 2\n"
        "[keystone_authtoken]\n"
        f"www_authenticate_uri = {keystone.base_url}\nauth_url = {keystone.base_url}\n"
        f"auth_type = password\nusername = {service_user}\npassword = {PASSWORD}\n"
        "project_name = service\nuser_domain_id = default\nproject_domain_id = default\n"
        "interface = public\n"  # the test Keystone has public endpoints only
    )
    members = (_member(keystone, "heat"), _member(keystone, "heat-other"))
    sim_db = directory / "sim.sqlite"
    workers = [WorkerProcess(directory, heat_zk_hosts, sim_db, name=f"w{i}") for i in range(2)]
    with ApiProcess(directory, config) as api:
        # As the harness does for the local system: Heat's clients find cool in the catalog.
        heat_catalog.register(keystone.admin, api.url)
        for worker in workers:
            worker.start()
        try:
            yield HeatService(api.url, keystone.url, *members)
        finally:
            for worker in workers:
                worker.kill()
