"""cool on the mini cloud, as an operator deploys it: cool-api with Keystone auth
(keystonemiddleware) making trusts to cool's service user, and cool-worker processes
with the openstack provider acting through them. For the end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from cool.model import BuildStatus
from harness.api import ApiProcess
from harness.keystone.admin import DEFAULT_DOMAIN
from harness.mini_cloud.cloud import MiniCloud
from tests.openstack.helpers import PASSWORD, Project, unique
from tests.worker.processes import WorkerProcess

FINISHED = frozenset(str(status) for status in BuildStatus if status.is_terminal)
SERVICE_PASSWORD = "cool-service-secret"


def _service_options(cloud: MiniCloud, user: str) -> str:
    return (
        f"auth_url = {cloud.auth_url}\nusername = {user}\npassword = {SERVICE_PASSWORD}\n"
        f"user_domain_id = {DEFAULT_DOMAIN}\nproject_name = service\n"
        f"project_domain_id = {DEFAULT_DOMAIN}\nauth_type = password\n"
    )


@dataclass
class CoolOnCloud:
    """cool-api and workers against the mini cloud, in one ZooKeeper chroot."""

    cloud: MiniCloud
    directory: Path
    zk_hosts: str
    service_user: str = field(default_factory=lambda: unique("cool"))
    api: ApiProcess | None = None
    workers: list[WorkerProcess] = field(default_factory=list)
    _names: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    def common_config(self) -> str:
        # max_calls_per_cloud: every cloud call of the workers takes a slot of the
        # store's semaphore (cool.store.slots, wired by cool-worker), never a tight one.
        return (
            f"[worker]\nprovider = openstack\n"
            f"[openstack]\ncredentials = trust\nregion_name = {self.cloud.region_name}\n"
            "max_calls_per_cloud = 64\n"
            f"[trustee]\n{_service_options(self.cloud, self.service_user)}timeout = 60\n"
        )

    def start_api(self) -> ApiProcess:
        # The least a deployment gives it: validating tokens; no admin anywhere.
        self.cloud.admin().create_service_user(
            self.service_user, SERVICE_PASSWORD, roles=["service"]
        )
        config = (
            "auth_strategy = keystone\nworkers = 2\nthreads = 8\nmax_event_wait = 20\n"
            f"[zookeeper]\nhosts = {self.zk_hosts}\nroot = /cool\nsession_timeout = 2\n"
            f"[keystone_authtoken]\n{_service_options(self.cloud, self.service_user)}"
            f"www_authenticate_uri = {self.cloud.auth_url}\ninterface = public\n"
            f"region_name = {self.cloud.region_name}\n" + self.common_config()
        )
        self.api = ApiProcess(self.directory, config).start()
        return self.api

    def worker(self, *, session_timeout_s: float = 1.0, extra: str = "") -> WorkerProcess:
        """A cool-worker on the openstack provider (not started)."""
        worker = WorkerProcess(
            self.directory,
            self.zk_hosts,
            self.directory / "unused-sim.sqlite",
            name=f"w{next(self._names)}",
            session_timeout_s=session_timeout_s,
            extra=self.common_config()
            + "[worker]\npoll_interval = 0.2\npoll_interval_max = 1\n"
            + "[build]\nmax_claims = 1000\n[gc]\nenabled = false\n"
            + extra,
            # Servers (a test playing one) signal wait condition handles at cool-api.
            signal_endpoint=self.api.url if self.api is not None else "",
        )
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill()
        if self.api is not None:
            self.api.stop()


@contextmanager
def cool_on(cloud: MiniCloud, directory: Path, zk_hosts: str) -> Iterator[CoolOnCloud]:
    cool = CoolOnCloud(cloud, directory, zk_hosts)
    try:
        cool.start_api()
        yield cool
    finally:
        cool.stop()


@dataclass
class Client:
    """A project member talking to cool-api with their Keystone token."""

    url: str
    project: Project
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def of(cls, cool: CoolOnCloud, project: Project) -> Client:
        assert cool.api is not None
        token = cool.cloud.admin().token(project.user_name, PASSWORD, project.project_id)
        client = cls(cool.api.url, project)
        client.http.headers["X-Auth-Token"] = token
        return client

    def submit(
        self, template: str, *, parameters: Mapping[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        body = {"template": template, "parameters": dict(parameters or {}), **fields}
        answer = self.http.post(f"{self.url}/v1/builds", json=body, timeout=60)
        assert answer.status_code == 202, answer.text
        return answer.json()["build"]

    def build(self, build_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.url}/v1/builds/{build_id}", timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()["build"]

    def resources(self, build_id: str) -> dict[str, dict[str, Any]]:
        answer = self.http.get(f"{self.url}/v1/builds/{build_id}/resources", timeout=30)
        assert answer.status_code == 200, answer.text
        return {r["name"]: r for r in answer.json()["resources"]}

    def delete(self, build_id: str) -> None:
        answer = self.http.delete(f"{self.url}/v1/builds/{build_id}", timeout=30)
        assert answer.status_code == 202, answer.text

    def wait_finished(
        self, build_id: str, *, timeout_s: float = 240, statuses: frozenset[str] = FINISHED
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            build = self.build(build_id)
            if build["status"] in statuses:
                return build
            assert time.monotonic() < deadline, f"build still {build['status']}: {build}"
            time.sleep(0.5)  # polling the API for a condition, not waiting out a race
