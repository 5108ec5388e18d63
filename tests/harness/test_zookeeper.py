"""A real local ZooKeeper: start, stop, restart, ensembles, and the fault helpers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kazoo.client import KazooClient, KazooState

from harness.zookeeper import (
    ZooKeeperEnsemble,
    ZooKeeperMode,
    ZooKeeperNotInstalledError,
    ZooKeeperServer,
    ZooKeeperTimeoutError,
    find_zookeeper_jar,
    four_letter_word,
)
from tests.zk import (
    ConnectionProxy,
    assert_eventually,
    drop_connections,
    expire_session,
    start_client,
    stop_client,
)


def _pid_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def own_server() -> Iterator[ZooKeeperServer]:
    """A server of this test's own, for tests that stop or restart it."""
    server = ZooKeeperServer(tick_time_ms=100, force_sync=False)
    try:
        yield server
    finally:
        server.stop()


def _states(client: KazooClient) -> list[str]:
    seen: list[str] = []
    client.add_listener(seen.append)
    return seen


# -- one server


def test_server_standalone_serves_and_reports_its_mode(zookeeper: ZooKeeperServer) -> None:
    assert zookeeper.is_running
    assert zookeeper.hosts == f"127.0.0.1:{zookeeper.port}"
    assert zookeeper.mode() is ZooKeeperMode.STANDALONE
    assert four_letter_word(zookeeper.port, "ruok") == "imok"


def test_server_stop_leaves_no_process_and_no_directory(own_server: ZooKeeperServer) -> None:
    own_server.start()
    pid, base_dir = own_server.pid, own_server.base_dir
    assert pid is not None
    assert base_dir.is_dir()

    own_server.stop()

    assert not own_server.is_running
    assert _pid_is_gone(pid)
    assert not base_dir.exists()
    assert own_server.mode() is None


def test_server_restart_keeps_data_and_port(own_server: ZooKeeperServer) -> None:
    own_server.start()
    port = own_server.port
    client = start_client(own_server.hosts)
    try:
        client.create("/kept", b"before restart")
        own_server.restart()
        assert own_server.port == port
        data, _ = client.retry(client.get, "/kept")
        assert data == b"before restart"
    finally:
        stop_client(client)


def test_server_killed_and_started_again_keeps_data(own_server: ZooKeeperServer) -> None:
    own_server.start()
    client = start_client(own_server.hosts)
    try:
        client.create("/survives-a-crash", b"x")
        pid = own_server.pid
        own_server.kill()
        assert pid is not None
        assert _pid_is_gone(pid)
        own_server.start()
        assert client.retry(client.exists, "/survives-a-crash") is not None
    finally:
        stop_client(client)


def test_server_two_at_once_on_different_ports_are_separate() -> None:
    with (
        ZooKeeperServer(tick_time_ms=100, force_sync=False) as first,
        ZooKeeperServer(tick_time_ms=100, force_sync=False) as second,
    ):
        assert first.port != second.port
        assert first.mode() is second.mode() is ZooKeeperMode.STANDALONE
        one, other = start_client(first.hosts), start_client(second.hosts)
        try:
            one.create("/only-in-first")
            assert other.exists("/only-in-first") is None
        finally:
            stop_client(one)
            stop_client(other)


def test_server_wait_ready_fails_with_the_log_tail_when_the_port_is_taken() -> None:
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        server = ZooKeeperServer(port=squatter.getsockname()[1], force_sync=False)
        try:
            with pytest.raises(ZooKeeperTimeoutError, match=r"(?s)exited.*zookeeper\.log"):
                server.start(timeout_s=30)
            assert "Address already in use" in server.log_tail()
        finally:
            server.stop()


def test_server_start_moves_off_a_picked_port_taken_meanwhile(own_server: ZooKeeperServer) -> None:
    with socket.create_server(("127.0.0.1", own_server.port)) as squatter:
        own_server.start()
        assert own_server.port != squatter.getsockname()[1]
        assert own_server.mode() is ZooKeeperMode.STANDALONE


def test_find_zookeeper_jar_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(ZooKeeperNotInstalledError, match="apt-get install -y zookeeper"):
        find_zookeeper_jar(tmp_path / "zookeeper.jar")


def test_main_runs_in_the_foreground_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.zookeeper", "--dir", str(tmp_path / "zk")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        hosts = process.stdout.readline().strip()
        host, _, port = hosts.partition(":")
        assert host == "127.0.0.1", process.stderr.read() if process.stderr else ""
        assert four_letter_word(int(port), "ruok") == "imok"

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        with pytest.raises(ConnectionRefusedError):
            four_letter_word(int(port), "ruok")
        assert (tmp_path / "zk" / "data" / "version-2").is_dir()  # a given --dir is kept
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


# -- chroots and faults on the session server


def test_chroots_are_isolated(zookeeper: ZooKeeperServer, kazoo_client: KazooClient) -> None:
    other_chroot = f"/test-other-{uuid.uuid4().hex}"
    root = start_client(zookeeper.hosts)
    root.create(other_chroot)
    other = start_client(zookeeper.hosts + other_chroot)
    try:
        kazoo_client.create("/same-name", b"mine")
        assert other.exists("/same-name") is None
        other.create("/same-name", b"theirs")
        assert kazoo_client.get("/same-name")[0] == b"mine"
        assert other.get_children("/") == ["same-name"]
    finally:
        stop_client(other)
        root.delete(other_chroot, recursive=True)
        stop_client(root)


def test_expire_session_ends_the_session_for_real(kazoo_client: KazooClient) -> None:
    states = _states(kazoo_client)
    kazoo_client.create("/mine", ephemeral=True)
    old_session_id = kazoo_client.client_id[0]

    expire_session(kazoo_client)

    assert KazooState.LOST in states
    assert kazoo_client.connected
    assert kazoo_client.client_id[0] != old_session_id
    assert kazoo_client.exists("/mine") is None


def test_proxy_drop_keeps_the_session(
    zk_proxy: ConnectionProxy, zk_chroot: str, zk_hosts: str
) -> None:
    client = start_client(zk_proxy.hosts + zk_chroot)
    try:
        states = _states(client)
        client.create("/mine", ephemeral=True)
        session_id = client.client_id[0]

        zk_proxy.drop()

        assert_eventually(lambda: KazooState.SUSPENDED in states and client.connected)
        assert client.client_id[0] == session_id
        assert client.exists("/mine") is not None
        assert KazooState.LOST not in states
    finally:
        stop_client(client)


def test_proxy_partition_past_the_session_timeout_expires_the_session(
    zk_proxy: ConnectionProxy, zk_chroot: str, kazoo_client: KazooClient
) -> None:
    client = start_client(zk_proxy.hosts + zk_chroot, timeout_s=0.6)
    try:
        states = _states(client)
        client.create("/partitioned", ephemeral=True)

        zk_proxy.partition()
        assert_eventually(lambda: kazoo_client.exists("/partitioned") is None)  # expired
        zk_proxy.heal()

        assert_eventually(lambda: KazooState.LOST in states and client.connected)
    finally:
        zk_proxy.heal()
        stop_client(client)


def test_drop_connections_restarts_the_server_and_sessions_survive(
    zookeeper: ZooKeeperServer, kazoo_client: KazooClient
) -> None:
    states = _states(kazoo_client)
    kazoo_client.create("/mine", ephemeral=True)
    session_id = kazoo_client.client_id[0]

    drop_connections(zookeeper)

    assert_eventually(lambda: KazooState.SUSPENDED in states and kazoo_client.connected)
    assert kazoo_client.client_id[0] == session_id
    assert kazoo_client.exists("/mine") is not None


def test_server_paused_briefly_keeps_sessions(zookeeper: ZooKeeperServer, zk_hosts: str) -> None:
    client = start_client(zk_hosts, timeout_s=3.0)
    try:
        states = _states(client)
        session_id = client.client_id[0]

        zookeeper.pause()
        try:
            assert_eventually(lambda: KazooState.SUSPENDED in states)  # after 2/3 of 3 s
        finally:
            zookeeper.resume()

        assert_eventually(lambda: client.connected)
        assert client.client_id[0] == session_id
        assert KazooState.LOST not in states
    finally:
        stop_client(client)


def test_assert_eventually_names_the_condition_it_waited_for() -> None:
    with pytest.raises(AssertionError, match="never true"):
        assert_eventually(lambda: False, timeout_s=0.1, message="never true")
    assert assert_eventually(lambda: 42, timeout_s=0.1) == 42


# -- the ensemble


@pytest.mark.slow
def test_ensemble_elects_exactly_one_leader(zookeeper_ensemble: ZooKeeperEnsemble) -> None:
    leader = zookeeper_ensemble.leader()
    modes = sorted(str(server.mode()) for server in zookeeper_ensemble.servers)
    assert modes == ["follower", "follower", "leader"]
    assert leader.mode() is ZooKeeperMode.LEADER
    assert len(zookeeper_ensemble.hosts.split(",")) == 3


@pytest.mark.slow
def test_ensemble_killing_the_leader_elects_another_and_clients_go_on(
    zookeeper_ensemble: ZooKeeperEnsemble,
) -> None:
    path = f"/failover-{uuid.uuid4().hex}"
    client = start_client(zookeeper_ensemble.hosts)
    try:
        client.create(path, b"before")
        old_leader = zookeeper_ensemble.leader()

        old_leader.kill()

        new_leader = zookeeper_ensemble.leader()
        assert new_leader is not old_leader
        client.retry(client.set, path, b"after")
        assert client.retry(client.get, path)[0] == b"after"

        old_leader.start(timeout_s=None)
        zookeeper_ensemble.wait_ready()
        assert old_leader.mode() is ZooKeeperMode.FOLLOWER
    finally:
        client.retry(client.delete, path)
        stop_client(client)


def test_ensemble_of_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        ZooKeeperEnsemble(1)
