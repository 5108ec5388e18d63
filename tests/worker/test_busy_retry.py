"""A cloud call waiting out a busy resource still honours the worker stopping.

Octavia answers 409 while a load balancer is PENDING_*; cool retries such a call for up
to ``busy_deadline_s`` (10 minutes by default). The waits between those attempts slept
without looking at the worker: a graceful stop waited for its whole ``stop_timeout_s``,
then left without handing the build over (found in the review of issue 19).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.base import ResourceBusyError, StepContext
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.session import Session
from cool.worker.retry import RetryPolicy
from cool.worker.service import Worker
from tests.worker.helpers import FAST, open_store, settings_for, submit
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow

TEMPLATE = "heat_template_version: wallaby\nresources:\n  n: {type: OS::Neutron::Net}\n"
# Waits of 1-2 s between attempts, for up to 10 minutes: a stop must not wait for them.
PATIENT = RetryPolicy(initial_s=1.0, max_s=2.0, busy_deadline_s=600.0)


class BusySim(SimProvider):
    """A cloud whose network stays busy (as a PENDING_UPDATE load balancer does)."""

    calls = 0

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        type(self).calls += 1
        raise ResourceBusyError("network is PENDING_UPDATE: immutable while busy (409)")


def test_a_graceful_stop_hands_over_a_build_waiting_for_a_busy_resource(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    settings = dataclasses.replace(
        FAST,
        stop_timeout_s=20.0,
        runner=dataclasses.replace(FAST.runner, retry=PATIENT),
    )
    session = Session.open(settings_for(zk_hosts))
    sim = BusySim(tmp_path / "sim.db")
    worker = Worker(session, Providers([HeatProvider(), sim]), settings)
    try:
        with open_store(zk_hosts) as store:
            build_id = submit(store, registry, TEMPLATE)
            worker.start()
            assert_eventually(lambda: BusySim.calls >= 2, timeout_s=30)
            started = time.monotonic()
            stopper = threading.Thread(target=worker.stop, name="stopper", daemon=True)
            stopper.start()
            stopper.join(settings.stop_timeout_s + 10)
            took = time.monotonic() - started
            lease, _ = store.lease_data(build_id)
            state, _ = store.state(build_id)
            record, _ = store.resources(build_id)["n"]
    finally:
        worker.stop(graceful=False)
        session.close()
        sim.close()
    assert not stopper.is_alive()
    # Handed over (a release, not a claim that ended with the session), well within the
    # stop's bound: the retry's wait looked at the worker stopping.
    assert lease["releases"] == 1, lease
    assert took < settings.stop_timeout_s / 2, took
    assert state.status is BuildStatus.CREATE_IN_PROGRESS
    assert record.status is ResourceStatus.CREATE_IN_PROGRESS
