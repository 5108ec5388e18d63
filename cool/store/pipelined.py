"""Reading many znodes at once: pipelined, with a node that is not there read as None.

Listing thousands of builds one round trip at a time is what makes a store
slow; kazoo's ``*_async`` calls let a few hundred reads be in flight at once.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from cool.store.outcomes import unavailable_as_error

IN_FLIGHT = 256  # pipelined reads outstanding at once


def many(client: KazooClient, method: str, paths: Sequence[str]) -> list[Any]:
    """``client.<method>_async`` over many paths, pipelined; None where there is no node.

    ZooKeeper trouble becomes StoreUnavailableError.
    """
    return mixed(client, [(method, path) for path in paths])


def mixed(client: KazooClient, calls: Sequence[tuple[str, str]]) -> list[Any]:
    """Reads of several kinds, ``(method, path)`` each, in one pipeline, answers in
    order; None where there is no node. Up to :data:`IN_FLIGHT` are outstanding, a new
    one sent as each answer is taken, so the connection never waits on a slow batch
    (and reads that do not depend on each other cost one round trip, not one each).

    ZooKeeper trouble becomes StoreUnavailableError.
    """
    out: list[Any] = []
    pending: deque[Any] = deque()
    queued = iter(calls)
    with unavailable_as_error():
        for method, path in itertools.islice(queued, IN_FLIGHT):
            pending.append(getattr(client, f"{method}_async")(path))
        while pending:
            async_result = pending.popleft()
            for method, path in itertools.islice(queued, 1):
                pending.append(getattr(client, f"{method}_async")(path))
            try:
                out.append(async_result.get())
            except NoNodeError:
                out.append(None)
    return out


def children(client: KazooClient, path: str) -> list[str]:
    """A node's children; none when the node is not there (yet).

    ZooKeeper trouble becomes StoreUnavailableError, as in :func:`many`.
    """
    with unavailable_as_error():
        try:
            return client.get_children(path)
        except NoNodeError:
            return []
