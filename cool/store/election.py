"""The garbage collector's election: one pruner at a time among the workers."""

from __future__ import annotations

import logging

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import CancelledError, KazooException

from cool.errors import StoreUnavailableError
from cool.store.layout import Layout
from cool.store.outcomes import unavailable_as_error

LOG = logging.getLogger(__name__)


class Leadership:
    """The GC election: kazoo's ``Lock`` recipe on ``Layout.gc_election``.

    Contenders queue as EPHEMERAL sequential nodes; the first is the leader.
    A leader that stops resigns (its node is deleted and the next takes
    over at once); one whose process dies loses its node with its session.
    While the connection is SUSPENDED the leader still holds its node (and
    prunes nothing); once the session is LOST, it holds nothing.
    """

    def __init__(self, client: KazooClient, layout: Layout, identifier: str) -> None:
        self.client = client
        self.identifier = identifier
        self._lock = client.Lock(layout.gc_election, identifier)
        self._elected = False
        self._expired = False
        client.add_listener(self._on_state)

    def _on_state(self, state: KazooState) -> None:
        if state == KazooState.LOST:
            self._expired = True  # kazoo's thread: a flag, nothing more

    def campaign(self) -> bool:
        """Wait until elected (True), or until :meth:`withdraw` (False)."""
        self._expired = False  # before acquiring: a loss from now on counts
        try:
            self._elected = self._lock.acquire(blocking=True)
        except CancelledError:
            return False
        except KazooException as exc:
            raise StoreUnavailableError(f"cannot take part in the GC election: {exc!r}") from exc
        return self._elected

    def withdraw(self) -> None:
        """Stop waiting to be elected (from another thread)."""
        self._lock.cancel()

    def resign(self) -> None:
        """Leave the election: delete our node (it is gone already if the session is)."""
        self._elected = False
        try:
            self._lock.release()
        except KazooException as exc:
            LOG.warning("could not delete the GC election node: %r", exc)
            # Our node dies with our session; if the session lives on, the next
            # campaign finds the node again by its uuid prefix (the recipe's own
            # trick for retried creates) and carries on with it.
            self._lock.is_acquired = False

    @property
    def is_held(self) -> bool:
        return self._elected and self._lock.is_acquired and not self._expired

    @property
    def node_path(self) -> str | None:
        node = self._lock.node
        return f"{self._lock.path}/{node}" if self.is_held and node else None

    def contenders(self) -> list[str]:
        """Identifiers of the contenders, the leader first."""
        with unavailable_as_error():
            return list(self._lock.contenders())
