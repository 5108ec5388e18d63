"""The short chaos run (bench/chaos/run.py) on a seed (more by COOL_CHAOS_SEEDS): any
violation fails the test.

Each run starts its own 3-node ensemble, cool-api and 4 workers, submits about
30 builds through the API over 75 s while every kind of fault is injected once
(and two more SIGKILLs), waits at most 60 s for the builds to settle and
checks everything; about two minutes a seed. The run directory (every
process's log) and the JSON report are kept under pytest's tmp_path. The checks
themselves are tested on made-up findings below (a leak, a duplicate, an ERROR
line, a slow drain), so that a run that passes is seen to be able to fail.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.chaos import run as chaos
from bench.chaos.builds import Build
from bench.chaos.report import Report, judge_logs, judge_sim, judge_takeovers
from cool.clouds.base import StepContext
from cool.clouds.sim.provider import SimProvider

SHORT_RUN = [
    "--duration", "90", "--builds", "40", "--settle", "60", "--extra-kills", "2",
    "--session-timeout", "4", "--latency", "0.2",
]  # fmt: skip


# One seed in CI (the suite's 20 minutes); more with COOL_CHAOS_SEEDS="2 3 ...": each
# seed draws other builds and puts every fault at other moments.
SEEDS = [int(seed) for seed in os.environ.get("COOL_CHAOS_SEEDS", "2").split()]


@pytest.mark.slow
@pytest.mark.timeout(330)
@pytest.mark.parametrize("seed", SEEDS)
def test_short_chaos_run_has_no_violation(tmp_path: Path, seed: int) -> None:
    args = chaos.parse([*SHORT_RUN, "--seed", str(seed), "--dir", str(tmp_path / "run")])
    report = chaos.run(args)
    (tmp_path / "report.json").write_text(json.dumps(report.to_dict(), indent=2))
    assert report.violations() == {}, f"see {tmp_path}: " + json.dumps(
        report.violations(), indent=1
    )
    # The run did what it is for: builds of every kind ended, and every fault ran.
    assert report.submitted >= 40
    assert report.terminal == report.submitted
    assert set(report.by_kind) == {"normal", "fail", "cancel", "delete"}
    assert {fault["kind"] for fault in report.faults} >= {
        "kill", "pause", "drain", "leader", "follower", "api", "zombie",
    }  # fmt: skip
    assert report.seconds["total"] < 300


# -- the checks themselves, on made-up findings: each can fail ---------------------------


def _build(kind: str, status: str, build_id: str = "B1") -> Build:
    build = Build(
        seq=1, kind=kind, shape="small", template="", rollback=True, submit_at_s=0.0,
        cancel_after_s=0.0, build_id=build_id,
    )  # fmt: skip
    build.final = {"status": status}
    return build


def _context(build_id: str, name: str) -> StepContext:
    return StepContext(build_id, name, "OS::Cinder::Volume", "p")


def test_a_live_resource_of_a_deleted_build_is_a_leak_unless_retained(tmp_path: Path) -> None:
    with SimProvider(tmp_path / "sim.sqlite") as sim:
        kept = sim.create(_context("B1", "kept"), {"size": 1})
        left = sim.create(_context("B1", "left"), {"size": 1})
        sim.create(_context("B9", "orphan"), {"size": 1})
    ledgers = {
        "B1": {
            "kept": {"physical_id": kept, "status": "RETAINED"},
            "left": {"physical_id": left, "status": "DELETE_COMPLETE"},
        }
    }
    report = Report({"session_timeout_s": 4.0})
    judge_sim(report, tmp_path / "sim.sqlite", [_build("delete", "DELETE_COMPLETE")], ledgers)
    assert report.live_resources == 3
    assert len(report.leaks) == 2
    assert any(left in leak and "the record says DELETE_COMPLETE" in leak for leak in report.leaks)
    assert any("B9" in leak and "no ledger owns it" in leak for leak in report.leaks)
    assert report.duplicates == []


def test_two_live_resources_of_one_step_are_a_duplicate_and_a_leak(tmp_path: Path) -> None:
    with SimProvider(tmp_path / "sim.sqlite") as sim:
        first = sim.create(_context("B1", "volume"), {"size": 1})
        sim.create(_context("B1", "volume"), {"size": 1})
    ledgers = {"B1": {"volume": {"physical_id": first, "status": "CREATE_COMPLETE"}}}
    report = Report({"session_timeout_s": 4.0})
    judge_sim(report, tmp_path / "sim.sqlite", [_build("normal", "CREATE_COMPLETE")], ledgers)
    assert len(report.duplicates) == 1
    assert len(report.leaks) == 1
    assert set(report.violations()) == {"sim duplicates", "sim leaks"}


def test_error_lines_and_tracebacks_are_found_but_not_the_word_in_a_message(
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker-1.1.log"
    log.write_text(
        "2026-12-06 18:10:22,691 940 INFO cool.worker.ledger build B: the volume went to ERROR\n"
        "2026-12-06 18:10:23,000 940 ERROR cool.worker.service dispatch failed\n"
        "Traceback (most recent call last):\n"
        "[2026-12-06 18:00:25 +0000] [10221] [ERROR] Worker (pid:12) was sent SIGKILL\n"
        "2026-12-06 18:10:24,000 940 WARNING cool.store.fence build B: claim lost "
        "(fenced write refused (BadVersionError)); stopping work on it\n"
    )
    report = Report({"session_timeout_s": 4.0})
    judge_logs(report, [log])
    assert [line.split(":")[1] for line in report.log_problems] == ["2", "3", "4"]
    assert report.fenced_refusals == {"zookeeper": 1, "cloud": 0}


def test_takeovers_are_measured_from_the_fault_and_a_slow_drain_is_a_violation() -> None:
    def event(at: float, worker: str, reason: str) -> dict[str, object]:
        stamp = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
        return {"at": stamp.replace("+00:00", "Z"), "worker": worker, "reason": reason}

    events = {
        "B1": [event(100.0, "w1", "claimed by w1"), event(104.5, "w2", "resumed by w2 (claim 2)")],
        "B2": [event(100.0, "w3", "claimed by w3"), event(106.0, "w4", "resumed by w4 (claim 2)")],
    }
    deaths = {"w1": [(100.5, "kill")], "w3": [(101.0, "drain")]}
    report = Report({"session_timeout_s": 4.0})
    judge_takeovers(report, events, deaths)
    assert report.takeovers == {"kill": [pytest.approx(4.0)], "drain": [pytest.approx(5.0)]}
    assert len(report.slow_drains) == 1
    assert "B2" in report.slow_drains[0]
