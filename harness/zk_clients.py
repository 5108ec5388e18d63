"""ZooKeeper clients for tests and benchmarks: a kazoo client that gives up instead of
hanging, and a :class:`~cool.store.builds.BuildStore` on a session of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from cool.store.builds import BuildStore
from cool.store.client import ZooKeeperSettings
from cool.store.session import Session


def start_client(hosts: str, *, timeout_s: float = 10.0, **kwargs: Any) -> KazooClient:
    """A started kazoo client whose retries give up, so a test fails (and a benchmark
    stops) instead of hanging.

    kazoo's defaults retry a command forever, up to an hour apart; here
    reconnections come at most ~1 s apart (tests that restart a server stay
    short) and a retried command gives up after 30 s. ``timeout_s`` is the
    session timeout asked for (the server clamps it to its limits).
    """
    kwargs.setdefault("connection_retry", KazooRetry(max_tries=-1, delay=0.05, max_delay=1.0))
    kwargs.setdefault(
        "command_retry", KazooRetry(max_tries=-1, delay=0.05, max_delay=1.0, deadline=30.0)
    )
    client = KazooClient(hosts=hosts, timeout=timeout_s, **kwargs)
    try:
        client.start(timeout=30)
    except BaseException:
        client.close()
        raise
    return client


def stop_client(client: KazooClient) -> None:
    """Close the session and release the client's resources."""
    try:
        client.stop()
    finally:
        client.close()


@contextmanager
def open_store(
    hosts: str, *, root: str = "/cool", session_timeout_s: float = 4.0
) -> Iterator[BuildStore]:
    """A store under ``root`` with its layout made, on a session closed on exit."""
    session = Session.open(
        ZooKeeperSettings(hosts=hosts, root=root, session_timeout_s=session_timeout_s)
    )
    store = BuildStore(session.client, session.layout)
    store.ensure_layout()
    try:
        yield store
    finally:
        session.close()
