"""Processes recorded by pid and start time: found again, stopped, never confused."""

from __future__ import annotations

import dataclasses
import gc
import sys
import warnings
from pathlib import Path

from cool.local import daemons
from cool.local.daemons import Daemon, spawn

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
