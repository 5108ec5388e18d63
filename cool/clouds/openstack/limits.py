"""Caps on the API calls workers have in flight to one cloud.

A 500-server build must not flood Nova: every HTTP request a worker sends
to a cloud (openstacksdk's, and keystoneauth's token requests) waits for a
slot of that cloud's cap first. The cap is per worker process
(``[openstack] max_calls_per_worker``, a semaphore per cloud) and, when
``max_calls_per_cloud`` is set, across every worker too: :class:`ClusterSlots`,
given by cool-worker's wiring (:class:`cool.store.slots.CallSlots`, a
ZooKeeper semaphore per cloud, so a slot held by a worker that dies is freed
with its session). Clouds never touch ZooKeeper themselves.

A cloud is its Keystone URL (``auth_url``): every region, project and trust
of one cloud shares its cap.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import requests
from keystoneauth1 import session as ks_session

from cool.clouds.base import ProviderError

_MARK = "_cool_call_limiter"
_CLUSTER_SLOT_WAIT_S = 300.0  # then the call fails, retryable: the worker backs off


class ClusterSlots(Protocol):
    """Slots of a cap every worker shares, per cloud.

    ``hold`` enters with True once one of ``cloud``'s slots is held (until the
    block ends), or False if none was had in ``timeout_s``; a store that fails
    raises :class:`~cool.errors.StoreUnavailableError`.
    """

    max_leases: int

    def hold(self, cloud: str, timeout_s: float) -> contextlib.AbstractContextManager[bool]: ...


class CallLimiter:
    """Slots for API calls, per cloud: ``per_worker`` here, ``cluster`` (or None) across
    the workers."""

    def __init__(self, per_worker: int, *, cluster: ClusterSlots | None = None) -> None:
        self.per_worker = per_worker
        self._cluster = cluster
        self._lock = threading.Lock()
        self._local: dict[str, threading.BoundedSemaphore] = {}
        self.in_flight: dict[str, int] = {}  # for tests and metrics: calls now, per cloud
        self.most_in_flight: dict[str, int] = {}

    @contextlib.contextmanager
    def slot(self, cloud: str) -> Iterator[None]:
        with self._lock:
            local = self._local.setdefault(cloud, threading.BoundedSemaphore(self.per_worker))
        with local, self._cluster_slot(cloud):
            with self._lock:
                now = self.in_flight[cloud] = self.in_flight.get(cloud, 0) + 1
                self.most_in_flight[cloud] = max(self.most_in_flight.get(cloud, 0), now)
            try:
                yield
            finally:
                with self._lock:
                    self.in_flight[cloud] -= 1

    @contextlib.contextmanager
    def _cluster_slot(self, cloud: str) -> Iterator[None]:
        if self._cluster is None:
            yield
            return
        with self._cluster.hold(cloud, _CLUSTER_SLOT_WAIT_S) as held:
            if not held:
                raise ProviderError(
                    f"no free call slot of this cloud in {_CLUSTER_SLOT_WAIT_S:.0f} s "
                    f"([openstack] max_calls_per_cloud = {self._cluster.max_leases})",
                    retryable=True,
                )
            yield

    def limit(self, session: ks_session.Session, cloud: str) -> ks_session.Session:
        """``session`` with every request it sends taking a slot of ``cloud`` (once)."""
        if getattr(session.session, _MARK, None) is not self:
            adapter = _LimitedAdapter(self, cloud)
            session.session.mount("http://", adapter)
            session.session.mount("https://", adapter)
            setattr(session.session, _MARK, self)
        return session


class _LimitedAdapter(ks_session.TCPKeepAliveAdapter):  # keystoneauth's own, with a slot
    def __init__(self, limiter: CallLimiter, cloud: str) -> None:
        super().__init__()
        self._limiter = limiter
        self._cloud = cloud

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        with self._limiter.slot(self._cloud):
            return super().send(request, *args, **kwargs)
