"""Processes recorded by pid and start time: found again, stopped, never confused."""

from __future__ import annotations

import dataclasses
import gc
import re
import sys
import warnings
from pathlib import Path

import pytest

from harness import daemons
from harness.daemons import Daemon, spawn
from harness.system.local import LocalSystem

# A child with threads, as cool's workers and gunicorn are.
_THREADED = (
    "import threading, time\n"
    "for _ in range(8): threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    "print('up', flush=True)\n"
    "time.sleep(600)\n"
)


def _start(tmp_path: Path, name: str = "child") -> Daemon:
    daemon = spawn(name, [sys.executable, "-c", _THREADED], tmp_path / f"{name}.log")
    assert daemons.wait_until(lambda: "up" in daemon.log_tail(), 30)
    return daemon


def test_a_killed_child_is_reaped_and_leaves_no_warning(tmp_path: Path) -> None:
    daemon = _start(tmp_path)
    assert daemon.alive
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        daemon.kill()
        gc.collect()
    assert not daemon.alive
    assert daemon.pid not in daemons._CHILDREN
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_stop_signals_the_group_and_says_whether_it_ran(tmp_path: Path) -> None:
    daemon = _start(tmp_path)
    assert daemon.stop(timeout_s=10) is True
    assert not daemon.alive
    assert daemon.stop(timeout_s=10) is False  # nothing left to stop


def test_a_record_whose_start_time_differs_is_never_signalled(tmp_path: Path) -> None:
    """A pid the kernel gave to another process since: not ours to stop."""
    daemon = _start(tmp_path)
    try:
        impostor = dataclasses.replace(daemon, started=daemon.started + 1)
        assert not impostor.alive
        assert impostor.stop(timeout_s=1) is False
        impostor.kill()
        assert daemon.alive
    finally:
        daemon.stop(timeout_s=10)


def test_a_record_survives_a_round_trip_through_json(tmp_path: Path) -> None:
    daemon = _start(tmp_path)
    try:
        assert Daemon.from_dict(daemon.to_dict()) == daemon
        assert Daemon.from_dict(daemon.to_dict()).alive
    finally:
        daemon.stop(timeout_s=10)


def _run_once(tmp_path: Path, text: str, **limits: int) -> Daemon:
    """A child that prints ``text`` and exits, logging to ``child.log``."""
    command = [sys.executable, "-c", f"print({text!r}, flush=True)"]
    daemon = spawn("child", command, tmp_path / "child.log", **limits)
    assert daemons.wait_until(lambda: not daemon.alive, 30)
    return daemon


def test_a_restarted_process_appends_to_its_log_and_its_tail_is_this_runs(
    tmp_path: Path,
) -> None:
    """The log of the process that died (what an operator needs) stays; what a starter
    waits for in the tail ("ready") is this run's, not the dead one's."""
    _run_once(tmp_path, "the first run's last words")
    second = _run_once(tmp_path, "the second run")
    text = (tmp_path / "child.log").read_text()
    assert text.index("the first run's last words") < text.index("the second run")
    assert "the second run" in second.log_tail()
    assert "the first run" not in second.log_tail()


def test_a_log_past_its_size_is_rotated_at_a_start_keeping_a_few(tmp_path: Path) -> None:
    for run in range(5):
        _run_once(tmp_path, f"run {run} " + "x" * 200, max_log_bytes=100, keep_logs=2)
    logs = sorted(p.name for p in tmp_path.iterdir())
    assert logs == ["child.log", "child.log.1", "child.log.2"]
    assert "run 4 " in (tmp_path / "child.log").read_text()
    assert "run 3 " in (tmp_path / "child.log.1").read_text()
    assert "run 2 " in (tmp_path / "child.log.2").read_text()


@pytest.mark.slow
def test_a_restarted_worker_keeps_the_log_of_the_one_that_died(tmp_path: Path) -> None:
    """The local system (scripts/run.sh) restarts a worker that died: its log is appended
    to, not replaced, and the new one is still awaited on its own "ready" line."""
    system = LocalSystem(tmp_path / "system", workers=1, api_workers=1, sim_latency_s=0.1)
    try:
        system.up()
        first = system.daemons()["worker-1"]
        first.kill()
        assert system.up() == ["worker-1"]
        second = system.daemons()["worker-1"]
        assert second.pid != first.pid
        ready = re.findall(r"^cool-worker (\S+) ready$", Path(second.log).read_text(), re.M)
        assert len(ready) == 2
        assert ready[0] != ready[1]
    finally:
        system.down()
