"""ZooKeeper clients for tests and benchmarks: a kazoo client that gives up instead of
hanging, and a :class:`~cool.store.builds.BuildStore` on a session of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError, NotEmptyError
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


IN_FLIGHT = 512  # listings outstanding at once while a tree is read
DELETES_PER_TRANSACTION = 1000  # nodes deleted in one commit (and one fsync)
TRANSACTION_BYTES = 256 * 1024  # and their paths' bytes, far below ZooKeeper's 1 MiB


def remove_tree(client: KazooClient, path: str) -> bool:
    """Delete ``path`` and everything below it: whether it is gone.

    kazoo's ``delete(recursive=True)`` makes two round trips a node, one after
    another, and a test's chroot holds the queue's 1,024 shards and more: its
    tear-down cost more than many tests. Here nodes are deleted a thousand to a
    transaction, optimistically: only a transaction refused (a node not empty)
    has its nodes' children listed (pipelined) and removed first. A node made
    meanwhile (a client still writing there) leaves its parent in place: False,
    and the caller decides (a chroot's name is never used again).
    """
    return _remove(client, [path])


def _chunks(nodes: list[str]) -> Iterator[list[str]]:
    """At most DELETES_PER_TRANSACTION nodes, and paths of at most TRANSACTION_BYTES."""
    chunk: list[str] = []
    size = 0
    for node in nodes:
        full = len(chunk) == DELETES_PER_TRANSACTION or size + len(node) > TRANSACTION_BYTES
        if chunk and full:
            yield chunk
            chunk, size = [], 0
        chunk.append(node)
        size += len(node)
    if chunk:
        yield chunk


def _remove(client: KazooClient, nodes: list[str]) -> bool:
    for chunk in _chunks(nodes):
        if _delete_together(client, chunk):
            continue
        below: list[str] = []
        for first in range(0, len(chunk), IN_FLIGHT):
            part = chunk[first : first + IN_FLIGHT]
            listings = [client.get_children_async(node) for node in part]
            for parent, listing in zip(part, listings, strict=True):
                with suppress(NoNodeError):
                    below += [f"{parent}/{child}" for child in listing.get(timeout=60)]
        if below and not _remove(client, below):
            return False
        if _delete_together(client, chunk):
            continue
        # Something changed meanwhile: one by one, to tell gone from not empty.
        for answer in [client.delete_async(node) for node in chunk]:
            try:
                answer.get(timeout=60)
            except NoNodeError:
                pass
            except NotEmptyError:
                return False
    return True


def _delete_together(client: KazooClient, nodes: list[str]) -> bool:
    transaction = client.transaction()
    for node in nodes:
        transaction.delete(node)
    return not any(isinstance(r, Exception) for r in transaction.commit())


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
