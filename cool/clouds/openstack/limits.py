"""Caps on the API calls workers have in flight to one cloud.

A 500-server build must not flood Nova: every HTTP request a worker sends
to a cloud (openstacksdk's, and keystoneauth's token requests) waits for a
slot of that cloud's cap first. The cap is per worker process
(``[openstack] max_calls_per_worker``, a semaphore per cloud) and, when
``max_calls_per_cloud`` is set, across every worker too (a kazoo
:class:`~kazoo.recipe.lock.Semaphore` per cloud in ZooKeeper, so a slot held
by a worker that dies is freed with its session).

A cloud is its Keystone URL (``auth_url``): every region, project and trust
of one cloud shares its cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import requests
from keystoneauth1 import session as ks_session

from cool.clouds.base import ProviderError

_MARK = "_cool_call_limiter"
_CLUSTER_SLOT_WAIT_S = 300.0  # then the call fails, retryable: the worker backs off

Slot = Callable[[], contextlib.AbstractContextManager[Any]]


class CallLimiter:
    """Slots for API calls, per cloud: ``per_worker`` here, ``cluster`` (a factory of
    ZooKeeper semaphore slots, or None) across the workers."""

    def __init__(self, per_worker: int, *, cluster: Callable[[str], Slot] | None = None) -> None:
        self.per_worker = per_worker
        self._cluster = cluster
        self._lock = threading.Lock()
        self._local: dict[str, threading.BoundedSemaphore] = {}
        self._remote: dict[str, Slot] = {}
        self.in_flight: dict[str, int] = {}  # for tests and metrics: calls now, per cloud
        self.most_in_flight: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, cloud: str) -> Iterator[None]:
        with self._lock:
            local = self._local.setdefault(cloud, threading.BoundedSemaphore(self.per_worker))
            remote = self._remote.get(cloud)
            if remote is None and self._cluster is not None:
                remote = self._remote[cloud] = self._cluster(cloud)
        with local, remote() if remote is not None else contextlib.nullcontext():
            with self._lock:
                now = self.in_flight[cloud] = self.in_flight.get(cloud, 0) + 1
                self.most_in_flight[cloud] = max(self.most_in_flight.get(cloud, 0), now)
            try:
                yield
            finally:
                with self._lock:
                    self.in_flight[cloud] -= 1

    def limit(self, session: ks_session.Session, cloud: str) -> ks_session.Session:
        """``session`` with every request it sends taking a slot of ``cloud`` (once)."""
        if getattr(session.session, _MARK, None) is not self:
            adapter = _LimitedAdapter(self, cloud)
            session.session.mount("http://", adapter)
            session.session.mount("https://", adapter)
            setattr(session.session, _MARK, self)
        return session


def cloud_key(auth_url: str) -> str:
    """A cloud's name in ZooKeeper paths: a digest of its Keystone URL."""
    return hashlib.sha256(auth_url.rstrip("/").encode()).hexdigest()[:24]


class _LimitedAdapter(ks_session.TCPKeepAliveAdapter):  # keystoneauth's own, with a slot
    def __init__(self, limiter: CallLimiter, cloud: str) -> None:
        super().__init__()
        self._limiter = limiter
        self._cloud = cloud

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        with self._limiter.slot(self._cloud):
            return super().send(request, *args, **kwargs)


def zookeeper_slots(
    client: Any, root: str, *, max_leases: int, identifier: str
) -> Callable[[str], Slot]:
    """Per cloud, a factory of slots of a kazoo Semaphore under ``<root>/clouds/<key>/calls``.

    A Semaphore object holds one lease, so each call makes its own; the lease is
    an ephemeral node, freed when the call ends or the worker's session does.
    """

    def for_cloud(auth_url: str) -> Slot:
        path = f"{root}/clouds/{cloud_key(auth_url)}/calls"

        @contextlib.contextmanager
        def slot() -> Iterator[None]:
            semaphore = client.Semaphore(path, identifier=identifier, max_leases=max_leases)
            if not semaphore.acquire(timeout=_CLUSTER_SLOT_WAIT_S):
                raise ProviderError(
                    f"no free call slot of this cloud in {_CLUSTER_SLOT_WAIT_S:.0f} s "
                    f"([openstack] max_calls_per_cloud = {max_leases})",
                    retryable=True,
                )
            try:
                yield
            finally:
                semaphore.release()

        return slot

    return for_cloud
