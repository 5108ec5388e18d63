"""Shared fixtures: the resource type registry, examples, and a real ZooKeeper.

ZooKeeper fixtures start real servers from the Debian ``zookeeper`` package
(``scripts/test.sh`` installs it). One standalone server serves the whole
session and every test works under its own chroot, so tests never see each
other's nodes. Session timeouts between 0.2 s and 30 s are accepted: ask
kazoo for a short ``timeout`` where a test wants sessions to expire fast.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kazoo.client import KazooClient

from cool.resources.registry import ResourceTypeRegistry
from harness.zk_clients import remove_tree
from harness.zookeeper import ZooKeeperEnsemble, ZooKeeperServer
from tests.keystone_fixture import keystone  # noqa: F401  (the session Keystone)
from tests.zk import ConnectionProxy, start_client, stop_client

REPO = Path(__file__).resolve().parent.parent

# Short ticks make short sessions possible; tests ask for them explicitly.
ZK_TICK_TIME_MS = 100
ZK_MIN_SESSION_TIMEOUT_MS = 200
ZK_MAX_SESSION_TIMEOUT_MS = 30_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first (a stable sort): spread over processes, the long ones then run
    beside the short ones instead of ending the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` (as scripts/test.sh runs the suite): the mini cloud's tests
    in one process (:mod:`tests.scheduling`)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.scheduling import CloudTestsTogether

    return CloudTestsTogether(config, log)


@pytest.fixture(scope="session")
def registry() -> ResourceTypeRegistry:
    """Every resource type installed, loaded through the stevedore entry points."""
    return ResourceTypeRegistry.load()


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return REPO / "examples"


@pytest.fixture(scope="session")
def zookeeper() -> Iterator[ZooKeeperServer]:
    """One standalone ZooKeeper for the session (no fsync: tests need no power-cut safety)."""
    server = ZooKeeperServer(
        tick_time_ms=ZK_TICK_TIME_MS,
        min_session_timeout_ms=ZK_MIN_SESSION_TIMEOUT_MS,
        max_session_timeout_ms=ZK_MAX_SESSION_TIMEOUT_MS,
        force_sync=False,
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()  # also when start() failed half way: no JVM outlives the session


@pytest.fixture
def _zk_admin(zookeeper: ZooKeeperServer) -> Iterator[KazooClient]:
    """An unchrooted client that creates and removes the test's chroot.

    Per test, not per session: kazoo's connection thread draws from the
    global ``random`` (ping jitter), which would disturb hypothesis in tests
    that run later and need no ZooKeeper.
    """
    client = start_client(zookeeper.hosts)
    try:
        yield client
    finally:
        stop_client(client)


@pytest.fixture
def zk_chroot(request: pytest.FixtureRequest) -> str:
    """A chroot path of this test's own, e.g. ``/test-test_claim_once-3f2a...``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:60]
    return f"/test-{name}-{uuid.uuid4().hex}"


@pytest.fixture
def zk_hosts(zookeeper: ZooKeeperServer, _zk_admin: KazooClient, zk_chroot: str) -> Iterator[str]:
    """The session server's connection string with this test's chroot, created and
    removed around the test. A server an earlier test left down or paused is revived."""
    if zookeeper.is_running:
        zookeeper.resume()  # harmless, unless an earlier test left it paused
    else:
        zookeeper.start()
    _zk_admin.retry(_zk_admin.ensure_path, zk_chroot)
    yield zookeeper.hosts + zk_chroot
    # Not removed whole: a client still writing there; the chroot's name is never reused.
    _zk_admin.retry(remove_tree, _zk_admin, zk_chroot)


@pytest.fixture
def kazoo_client(zk_hosts: str) -> Iterator[KazooClient]:
    """A started kazoo client inside this test's chroot (10 s sessions, bounded retries)."""
    client = start_client(zk_hosts)
    try:
        yield client
    finally:
        stop_client(client)


@pytest.fixture
def zk_proxy(zookeeper: ZooKeeperServer) -> Iterator[ConnectionProxy]:
    """A relay to the session server whose connections a test can drop or partition."""
    with ConnectionProxy(zookeeper.port) as proxy:
        yield proxy


@pytest.fixture(scope="session")
def _zookeeper_ensemble_session() -> Iterator[ZooKeeperEnsemble]:
    ensemble = ZooKeeperEnsemble(
        3,
        tick_time_ms=ZK_TICK_TIME_MS,
        min_session_timeout_ms=ZK_MIN_SESSION_TIMEOUT_MS,
        max_session_timeout_ms=ZK_MAX_SESSION_TIMEOUT_MS,
        force_sync=False,
    )
    try:
        ensemble.start()
        yield ensemble
    finally:
        ensemble.stop()


@pytest.fixture
def zookeeper_ensemble(_zookeeper_ensemble_session: ZooKeeperEnsemble) -> ZooKeeperEnsemble:
    """A 3-node ensemble on loopback, started by the first test that asks for it;
    members an earlier test killed or paused are revived, and a leader awaited."""
    ensemble = _zookeeper_ensemble_session
    for server in ensemble.servers:
        if server.is_running:
            server.resume()
        else:
            server.start(timeout_s=None)
    ensemble.wait_ready()
    return ensemble
