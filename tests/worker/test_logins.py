"""A build logs in to its cloud once, as its run starts, not inside its first steps.

The login (a trust's token in a real cloud) is the build's: made by the first
cloud steps, it sat inside each one's ``CREATE_IN_PROGRESS`` to
``CREATE_COMPLETE``, and began only after the claim's writes. It now runs
alongside the claim and the steps that call no cloud; a cloud step records its
intent once it has ended, made or failed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.session import Session
from cool.worker.service import Worker
from tests.worker.helpers import FAST, open_store, settings_for, statuses, submit, wait_terminal
from tests.zk import assert_eventually

TEMPLATE = """
heat_template_version: wallaby
resources:
  first: {type: OS::Heat::RandomString}
  net: {type: OS::Neutron::Net}
"""


class LoginSim(SimProvider):
    """A cloud whose login waits until the test lets it end (or fails, if told)."""

    def __init__(self, path: Path, *, fail: bool = False) -> None:
        super().__init__(path)
        self.fail = fail
        self.logins: list[str] = []
        self.let_in = threading.Event()
        self.logged_in = threading.Event()

    def prepare(self, trust_id: str) -> None:
        self.logins.append(trust_id)
        try:
            assert self.let_in.wait(30), "the test never let the login end"
            if self.fail:
                raise RuntimeError("Keystone is down")
        finally:
            self.logged_in.set()


@pytest.mark.parametrize("fail", [False, True], ids=["made", "failed"])
def test_a_build_logs_in_once_as_it_starts_and_its_cloud_steps_wait_for_it(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry, fail: bool
) -> None:
    session = Session.open(settings_for(zk_hosts))
    sim = LoginSim(tmp_path / "sim.db", fail=fail)
    worker = Worker(session, Providers([HeatProvider(), sim]), FAST)
    try:
        with open_store(zk_hosts) as store:
            build_id = submit(store, registry, TEMPLATE)
            worker.start()
            # The step with no cloud goes on while the login is under way; the cloud
            # step records no intent before the login has ended.
            assert_eventually(
                lambda: statuses(store, build_id).get("first") == "CREATE_COMPLETE",
                timeout_s=30,
            )
            assert sim.logins == [""]
            assert "net" not in statuses(store, build_id)
            sim.let_in.set()
            state = wait_terminal(store, build_id)
            record, _ = store.resources(build_id)["net"]
    finally:
        sim.let_in.set()
        worker.stop(graceful=False)
        session.close()
        sim.close()
    # A failed login is not the build's failure: the step's own calls decide.
    assert state.status is BuildStatus.CREATE_COMPLETE, state
    assert record.status is ResourceStatus.CREATE_COMPLETE
    assert sim.logins == [""]  # once for the build, not once a step
