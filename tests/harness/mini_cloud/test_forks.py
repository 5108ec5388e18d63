"""The mini cloud's fork hook (harness.mini_cloud.forks), in a plain interpreter: a
forked child dies with its SIGKILLed parent, as cinder-volume's workers must."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.mini_cloud import forks
from tests.zk import assert_eventually

HOOK_DIR = Path(forks.__file__).parent

# A parent that forks a child which would live for ten minutes, then prints its pid.
PARENT = textwrap.dedent(
    """
    import os, sys, time
    sys.path.insert(0, sys.argv[1])
    import forks
    forks.install()
    child = os.fork()
    if child == 0:
        time.sleep(600)
        os._exit(0)
    print(child, flush=True)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("enabled", [True, False])
def test_a_forked_child_dies_with_its_sigkilled_parent_when_asked(enabled: bool) -> None:
    env = {**os.environ, forks.ENV_VAR: "1" if enabled else "0"}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(HOOK_DIR)], env=env, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        if enabled:
            assert_eventually(lambda: not _alive(child), timeout_s=10, message="the child died")
        else:  # what cinder-volume's workers did: orphaned, alive
            assert _alive(child)
    finally:
        parent.stdout.close()
        if _alive(child):
            os.kill(child, signal.SIGKILL)
