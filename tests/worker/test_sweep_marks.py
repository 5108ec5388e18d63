"""The re-check before a terminal status sweeps only types found by the step's marks
(issue 15 review, C).

OpenStack finds a router interface, a floating IP association or a volume attachment
by its endpoints: build A's sweep (after a teardown it keeps nothing) found build B's
identical link to the same external server and volume, and deleted it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cool.clouds.base import ENDPOINT_FOUND_TYPES, Found, StepContext, finds_by_mark
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.clouds.sim.store import LIVE
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.control import Requests
from cool.store.session import Session
from cool.worker.service import Worker
from tests.worker.helpers import FAST, open_store, settings_for, submit, wait_terminal

pytestmark = pytest.mark.slow

LINK = "OS::Neutron::Net"  # stands for a link type: what matters is how it is found
TEMPLATE = f"""
heat_template_version: wallaby
resources:
  link: {{type: {LINK}}}
"""


class EndpointSim(SimProvider):
    """A cloud without fencing tokens whose find for LINK matches endpoints, as
    OpenStack's does for links: every live one of the project, whoever made it."""

    def finds_by_mark(self, resource_type: str) -> bool:
        return resource_type != LINK

    def find(self, ctx: StepContext) -> list[Found]:
        if ctx.resource_type != LINK:
            return super().find(ctx)

        def body(conn: sqlite3.Connection, now: float, _fault: object) -> list[Found]:
            rows = conn.execute(
                f"SELECT physical_id, created_at FROM resources WHERE type = ? AND {LIVE} "
                "ORDER BY created_at, rowid",
                (LINK, now),
            ).fetchall()
            return [Found(row["physical_id"], row["created_at"]) for row in rows]

        return self._call("find", ctx, None, body)


def test_default_declarations() -> None:
    assert all(not finds_by_mark(object(), t) for t in ENDPOINT_FOUND_TYPES)
    assert finds_by_mark(object(), "OS::Nova::Server")
    sim = SimProvider.__new__(SimProvider)  # (no file: the declaration needs none)
    assert all(finds_by_mark(sim, t) for t in ENDPOINT_FOUND_TYPES)


def test_a_teardown_does_not_sweep_another_builds_link_found_by_endpoints(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    db = tmp_path / "sim.db"
    session = Session.open(settings_for(zk_hosts))
    sim = EndpointSim(db, caller="w", fencing=False)
    worker = Worker(session, Providers([HeatProvider(), sim]), FAST, worker_id="w")
    worker.start()
    try:
        with open_store(zk_hosts) as store:
            a = submit(store, registry, TEMPLATE)
            assert wait_terminal(store, a).status is BuildStatus.CREATE_COMPLETE
            b = submit(store, registry, TEMPLATE)
            assert wait_terminal(store, b).status is BuildStatus.CREATE_COMPLETE
            assert len(sim.live_resources(a)) == 1  # A's create re-check spared B's too
            Requests(store).delete(a)
            state = wait_terminal(store, a)
            assert state.status is BuildStatus.DELETE_COMPLETE, state.reason
            assert sim.live_resources(a) == []
            assert len(sim.live_resources(b)) == 1  # B's link is not A's to delete
    finally:
        worker.stop(graceful=False)
        session.close()
        sim.close()
