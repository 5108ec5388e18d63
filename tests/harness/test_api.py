"""harness.api: a real cool-api that comes up, answers, and leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from harness.api import ApiProcess, ApiStartError
from tests.zk import assert_eventually


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def test_api_process_serves_and_stop_leaves_no_process(zk_hosts: str, tmp_path: Path) -> None:
    config = f"auth_strategy = noauth\nworkers = 2\n[zookeeper]\nhosts = {zk_hosts}\n"
    api = ApiProcess(tmp_path, config).start()
    try:
        assert requests.get(f"{api.url}/healthcheck", timeout=10).text == "OK"
        assert requests.get(f"{api.url}/v1/builds", timeout=10).json()["builds"] == []
    finally:
        api.stop()
    assert api.process is not None
    assert_eventually(lambda: _group_gone(api.process.pid), message="no cool-api process left")


def test_api_process_that_cannot_start_says_why(tmp_path: Path) -> None:
    # noauth off loopback is refused by cool-api itself.
    api = ApiProcess(tmp_path, "auth_strategy = noauth\n")
    api.config.write_text(api.config.read_text().replace("127.0.0.1", "0.0.0.0"))
    with pytest.raises(ApiStartError, match=r"refusing to listen on 0\.0\.0\.0"):
        api.start(timeout_s=30)


def test_api_process_started_again_waits_for_the_new_server(zk_hosts: str, tmp_path: Path) -> None:
    """A second start() waited for nothing: "listening" was still set by the first run,
    so it returned before the new server listened (the chaos run restarts cool-api)."""
    config = f"auth_strategy = noauth\nworkers = 1\n[zookeeper]\nhosts = {zk_hosts}\n"
    api = ApiProcess(tmp_path, config).start()
    try:
        api.stop()
        api.start()
        # No wait here: start() returned, so the new server answers now.
        assert requests.get(f"{api.url}/healthcheck", timeout=10).text == "OK"
        assert len(api.listening_on) == 1
    finally:
        api.stop()
