"""The worker registry: one EPHEMERAL node per worker, of the session that registers."""

from __future__ import annotations

from kazoo.client import KazooClient

from cool.store.layout import Layout
from cool.store.workers import WorkerInfo, WorkerRegistry
from tests.zk import start_client, stop_client


def _info(load: int = 0) -> WorkerInfo:
    return WorkerInfo("w1", "host", 1, capacity=4, load=load, started_at=1.0)


def test_register_replaces_an_older_sessions_node_and_updates_its_own(
    kazoo_client: KazooClient, zk_hosts: str
) -> None:
    """A node left by a session not yet expired (the worker restarted) is replaced by
    this session's; registering again from the same session updates it in place."""
    layout = Layout("/cool")
    old = start_client(zk_hosts)
    try:
        WorkerRegistry(old, layout).register(_info(load=3))
        registry = WorkerRegistry(kazoo_client, layout)
        registry.register(_info(load=1))
        _, stat = kazoo_client.get(layout.worker("w1"))
        assert stat.ephemeralOwner == kazoo_client.client_id[0]
        registry.register(_info(load=2))
        assert [(i.worker_id, i.load) for i in registry.live()] == [("w1", 2)]
    finally:
        stop_client(old)
    assert [i.load for i in registry.live()] == [2]  # the old session's end took nothing
