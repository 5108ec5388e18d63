"""Call slots: a cap, shared by every worker, on the API calls in flight to one cloud.

One kazoo :class:`~kazoo.recipe.lock.Semaphore` per cloud, at
:meth:`Layout.call_slots <cool.store.layout.Layout.call_slots>`; each lease is an
ephemeral node, so a slot held by a worker that dies is freed with its session.
The openstack provider is given them (its ``ClusterSlots`` protocol,
:mod:`cool.clouds.openstack.limits`): clouds never touch ZooKeeper, and kazoo's
errors become cool's here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, LockTimeout

from cool.errors import StoreUnavailableError
from cool.store.layout import Layout, cloud_key


class CallSlots:
    """``max_leases`` slots per cloud, across the workers; ``identifier`` names this one
    in its leases (its worker id)."""

    def __init__(
        self, client: KazooClient, layout: Layout, *, max_leases: int, identifier: str
    ) -> None:
        self.max_leases = max_leases
        self._client = client
        self._layout = layout
        self._identifier = identifier

    @contextlib.contextmanager
    def hold(self, cloud: str, timeout_s: float) -> Iterator[bool]:
        """One slot of ``cloud`` (its Keystone URL) for the block: entered with True once
        held, or False if kazoo gave up without one in ``timeout_s``.

        A Semaphore object holds one lease, so each call makes its own. kazoo's other
        errors raise StoreUnavailableError.
        """
        path = self._layout.call_slots(cloud_key(cloud))
        semaphore = self._client.Semaphore(
            path, identifier=self._identifier, max_leases=self.max_leases
        )
        try:
            held = semaphore.acquire(timeout=timeout_s)
        except LockTimeout:
            held = False  # kazoo's way to say every slot stayed taken for timeout_s
        except KazooException as exc:
            raise StoreUnavailableError(f"ZooKeeper: {exc!r}") from exc
        if not held:
            yield False
            return
        try:
            yield True
        finally:
            with _translated():
                semaphore.release()


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except KazooException as exc:
        raise StoreUnavailableError(f"ZooKeeper: {exc!r}") from exc
