"""Long error texts are cut before they are written (issue 15 review, A).

A valid 484 KB template whose run-time error listed 44,000 CJK keys: 616 KB once
escaped, written twice (record and event), over the write limit. RecordTooLargeError
escaped the runner, the worker released the build as a graceful handover, and the
build went from worker to worker forever, CREATE_IN_PROGRESS, with no note.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from cool.clouds.base import StepContext
from cool.clouds.heat import HeatProvider
from cool.clouds.registry import Providers
from cool.clouds.sim.provider import SimProvider
from cool.model import BuildStatus, ResourceStatus
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec, records
from cool.store.records import MAX_TEXT, BuildState, Event, Note, ResourceRecord
from cool.store.session import Session
from cool.template.functions import PathError, follow
from cool.worker.service import Worker, WorkerSettings
from tests.worker.helpers import FAST, open_store, settings_for, submit, wait_terminal

pytestmark = pytest.mark.slow

KEYS = [chr(0x4E00 + i // 200) + chr(0x4E00 + i % 200) for i in range(44_000)]
WIDE_KEYS = (
    "heat_template_version: wallaby\nresources:\n"
    "  v:\n    type: OS::Heat::Value\n    properties:\n      type: json\n      value: {"
    + ", ".join(f"{key}: 1" for key in KEYS)
    + "}\n"
    "  w: {type: OS::Heat::Value, properties: {value: {get_attr: [v, value, nope]}}}\n"
)


def test_an_error_listing_44000_keys_fails_the_build_with_a_short_note(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    assert 480_000 < len(WIDE_KEYS.encode()) < 490_000
    with open_store(zk_hosts) as store, running(zk_hosts, tmp_path / "sim.db"):
        build_id = submit(store, registry, WIDE_KEYS)
        state = wait_terminal(store, build_id, timeout_s=45)
        lease, _ = store.lease_data(build_id)
        events = [event for _, event in store.events(build_id)]
        records = {name: record for name, (record, _) in store.resources(build_id).items()}
    assert state.status is BuildStatus.ROLLBACK_COMPLETE, state.reason
    assert lease["claims"] == 1
    assert state.note is not None
    assert state.note["resource"] == "w"
    error = str(state.note["error"])
    assert error.startswith("its properties could not be resolved: key 'nope' not found (keys: ")
    assert "and 43,980 more" in error
    assert len(error) < 2_000
    assert len(records["w"].error or "") < 2_000
    assert all(len(event.reason) < 5_000 for event in events)


class CrashingSim(SimProvider):
    """A provider with a bug: its create raises something that is no ProviderError."""

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        raise RuntimeError("a bug in the provider")


def running(hosts: str, db: Path, *, provider: type[SimProvider] = SimProvider) -> Any:
    return _Running(hosts, db, provider, FAST)


class _Running:
    def __init__(self, hosts: str, db: Path, provider: type[SimProvider], s: WorkerSettings):
        self.args = (hosts, db, provider, s)

    def __enter__(self) -> Worker:
        hosts, db, provider, settings = self.args
        self.session = Session.open(settings_for(hosts))
        self.sim = provider(db)
        self.worker = Worker(self.session, Providers([HeatProvider(), self.sim]), settings)
        self.worker.start()
        return self.worker

    def __exit__(self, *exc_info: object) -> None:
        self.worker.stop(graceful=False)
        self.session.close()
        self.sim.close()


def test_a_build_that_keeps_crashing_its_runner_becomes_poison(
    zk_hosts: str, tmp_path: Path, registry: ResourceTypeRegistry
) -> None:
    """A release after an unexpected exception is no graceful handover: the claims it
    ends count towards max_claims (before: releases + 1 each time, never poison)."""
    template = "heat_template_version: wallaby\nresources:\n  n: {type: OS::Neutron::Net}\n"
    with (
        open_store(zk_hosts) as store,
        running(zk_hosts, tmp_path / "sim.db", provider=CrashingSim),
    ):
        build_id = submit(store, registry, template)
        state = wait_terminal(store, build_id, timeout_s=45)
        lease, _ = store.lease_data(build_id)
    assert state.status is BuildStatus.CREATE_FAILED, state.reason
    assert "poison" in state.reason
    assert lease["releases"] == 0
    assert lease["claims"] == FAST.max_claims + 1


def test_a_path_error_names_twenty_keys_and_counts_the_rest() -> None:
    with pytest.raises(PathError) as caught:
        follow({f"k{i:05d}": i for i in range(44_000)}, ["nope"])
    message = str(caught.value)
    assert message.startswith("key 'nope' not found (keys: k00000, k00001, ")
    assert message.endswith("k00019, and 43,980 more)")


def test_records_notes_and_events_cut_long_texts_and_say_how_long() -> None:
    text = "漢" * 100_000
    cut_text = Note("r", "T", "CREATE", text, "w", 0.0).error
    assert cut_text.startswith("漢" * MAX_TEXT + "…")
    assert cut_text.endswith("(cut: 100,000 characters in all)")
    assert ResourceRecord("r", "T", ResourceStatus.CREATE_FAILED, error=text).error == cut_text
    assert Event(0.0, "r", None, "CREATE_FAILED", reason=text).reason == cut_text
    state = BuildState(BuildStatus.CREATE_FAILED, reason=text, note={"error": text, "x": 1})
    assert state.reason == cut_text
    assert state.note == {"error": cut_text, "x": 1}
    assert len(codec.dumps(state.to_dict())) < 25_000
    assert Note("r", "T", "CREATE", "short", "w", 0.0).error == "short"


def test_a_failure_too_large_to_record_fails_the_build_with_a_small_note(
    zk_hosts: str,
    tmp_path: Path,
    registry: ResourceTypeRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Texts uncut (MAX_TEXT out of the way): a 400 KB cloud error fits the resource's
    record, but not the build's CREATE_FAILED (reason, note and event: 1.2 MB). The
    runner fails the build with a note that fits, on its first claim."""
    monkeypatch.setattr(records, "MAX_TEXT", 10**9)
    template = "heat_template_version: wallaby\nresources:\n  n: {type: OS::Neutron::Net}\n"
    db = tmp_path / "sim.db"
    with SimProvider(db) as sim, open_store(zk_hosts) as store, running(zk_hosts, db):
        sim.arm("n", "create", message="x" * 400_000)
        build_id = submit(store, registry, template, rollback=False)
        state = wait_terminal(store, build_id, timeout_s=45)
        lease, _ = store.lease_data(build_id)
    assert state.status is BuildStatus.CREATE_FAILED, state.reason[:200]
    assert lease["claims"] == 1
    assert state.note is not None
    assert str(state.note["error"]).startswith("the build's state would be ")
    assert len(state.reason) < 300
