"""Reading many znodes at once: pipelined, with a node that is not there read as None.

Listing thousands of builds one round trip at a time is what makes a store
slow; kazoo's ``*_async`` calls let a few hundred reads be in flight at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError

from cool.store.outcomes import unavailable_as_error

IN_FLIGHT = 256  # pipelined reads outstanding at once


def many(client: KazooClient, method: str, paths: Sequence[str]) -> list[Any]:
    """``client.<method>_async`` over many paths, pipelined; None where there is no node.

    ZooKeeper trouble becomes StoreUnavailableError.
    """
    call: Callable[[str], Any] = getattr(client, f"{method}_async")
    out: list[Any] = []
    with unavailable_as_error():
        for start in range(0, len(paths), IN_FLIGHT):
            pending = [call(path) for path in paths[start : start + IN_FLIGHT]]
            for async_result in pending:
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
