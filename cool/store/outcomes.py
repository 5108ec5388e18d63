"""What kazoo's errors say about a request: the two tuples every store module catches.

A request that failed with one of :data:`UNKNOWN_OUTCOME` was sent (or may have
been) and got no answer: ZooKeeper may or may not have applied it, and kazoo
may still send it again after a reconnection. The session may still be alive.

:data:`UNAVAILABLE` adds ``SessionExpiredError``: the session is over, so every
ephemeral node it held is gone (a worker's claim, a GC leader's election
node), and a request in flight when it ended may or may not have been applied
as well. Code that owns something through its session (:mod:`cool.store.fence`)
tells the two apart; code that does not (submits, reads, pruning) treats
both as "ZooKeeper is unavailable, the outcome of a write unknown".

:class:`cool.store.client.NotConnectedError` is a ``ConnectionLoss`` that was
never sent: catch it first where "nothing was written" matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kazoo.exceptions import ConnectionLoss, OperationTimeoutError, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError

from cool.errors import StoreUnavailableError

UNKNOWN_OUTCOME: tuple[type[Exception], ...] = (
    ConnectionLoss,
    OperationTimeoutError,
    KazooTimeoutError,
)
UNAVAILABLE: tuple[type[Exception], ...] = (*UNKNOWN_OUTCOME, SessionExpiredError)


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """ZooKeeper trouble becomes StoreUnavailableError (the API's 503)."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise StoreUnavailableError(f"ZooKeeper is unavailable: {type(exc).__name__}") from exc
