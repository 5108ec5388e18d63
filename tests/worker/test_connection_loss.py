"""ZooKeeper unreachable while a runner reads its build is no crash (chaos run, 2026-12-07).

A connection dropped while the runner loaded its build's records raised
StoreUnavailableError out of the runner; the worker logged it at ERROR with a traceback
as "failed unexpectedly" (which the chaos run counts as a violation) and let the claim
count towards the poison limit. ZooKeeper going away is expected: a warning, the claim
handed back, the build finished by whoever claims it next.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from cool.errors import StoreUnavailableError
from cool.model import BuildStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store.reads import BuildReads
from tests.worker.helpers import open_store, running_worker, submit, wait_terminal

TEMPLATE = "heat_template_version: wallaby\nresources:\n  n: {type: OS::Neutron::Net}\n"


def test_zookeeper_lost_while_loading_a_build_is_a_warning_and_a_handover(
    zk_hosts: str,
    tmp_path: Path,
    registry: ResourceTypeRegistry,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = BuildReads.resources
    failures = [1]

    def resources(self: BuildReads, build_id: str) -> Any:
        if failures:  # the first load, as a dropped connection makes it fail
            failures.pop()
            raise StoreUnavailableError("ZooKeeper is unavailable (connection lost)")
        return real(self, build_id)

    monkeypatch.setattr(BuildReads, "resources", resources)
    caplog.set_level(logging.WARNING, logger="cool")
    with open_store(zk_hosts) as store, running_worker(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, TEMPLATE)
        state = wait_terminal(store, build_id)
    assert not failures
    assert state.status is BuildStatus.CREATE_COMPLETE, state.reason
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert any("unavailable" in r.getMessage() for r in caplog.records)
