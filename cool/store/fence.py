"""Claims and fencing: how a worker owns a build, and why a stale one cannot write.

Claiming is one transaction: create the EPHEMERAL ``claims/<id>`` node and
bump ``lease`` with a versioned set. The lease's new version is the
worker's *epoch*. From then on every write the worker makes for that build
is a multi-op transaction that begins with ``check(lease, epoch)``: a worker
that was presumed dead (paused, partitioned, its session expired) and comes
back can never overwrite the progress of the owner that claimed after it.

The ephemeral claim is liveness (it vanishes with the session, which hands
the build to another worker); the lease version is the fence.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    ConnectionLoss,
    NodeExistsError,
    NoNodeError,
    OperationTimeoutError,
    RolledBackError,
    RuntimeInconsistency,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import ZnodeStat

from cool.errors import ClaimLostError, CommitUnknownError
from cool.store import codec
from cool.store.layout import Layout
from cool.store.records import BuildState, Event, Lease, ResourceRecord

LOG = logging.getLogger(__name__)

_UNKNOWN_OUTCOME = (ConnectionLoss, OperationTimeoutError, KazooTimeoutError)


@dataclass(frozen=True, slots=True)
class Written:
    """New znode versions after a fenced write."""

    resources: dict[str, int] = field(default_factory=dict)
    state: int | None = None


class Fence:
    """One worker's hold on one build. Every write for the build goes through it.

    ``lost`` is set, once and for good, when the claim is known to be gone
    (session expired, lease moved on, build released): from then on nothing
    is written and no cloud call is started.
    """

    def __init__(
        self,
        client: KazooClient,
        layout: Layout,
        build_id: str,
        lease: Lease,
        *,
        count_write: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.layout = layout
        self.build_id = build_id
        self.lease = lease
        self.lost = threading.Event()
        self._count_write = count_write
        self._session_id = client.client_id[0] if client.client_id else None

    @property
    def epoch(self) -> int:
        return self.lease.epoch

    @property
    def worker_id(self) -> str:
        return self.lease.worker_id

    def lose(self, why: str) -> None:
        if not self.lost.is_set():
            LOG.warning("build %s: claim lost (%s); stopping work on it", self.build_id, why)
            self.lost.set()

    # -- before a side effect ----------------------------------------------

    def guard(self, wait_s: float) -> None:
        """Call before each cloud call: our session is alive and the lease still ours.

        While the connection is SUSPENDED no new side effect may start: wait
        for it to come back, and check again (a connection that drops during
        the check is waited for too). Only LOST, a new session, a moved lease,
        or a connection gone for longer than ``wait_s`` (the session timeout:
        by then the server has expired the session) count as losing the claim.
        """
        deadline = time.monotonic() + wait_s
        while True:
            self._check_lost()
            state = self.client.state
            if state == KazooState.LOST:
                self.lose("the ZooKeeper session expired")
            elif state == KazooState.CONNECTED and (
                self.client.client_id is None or self.client.client_id[0] != self._session_id
            ):
                self.lose("the ZooKeeper session changed")  # (its id is unsure while away)
            elif state == KazooState.CONNECTED:
                try:
                    # Both reads in flight at once: one round trip before each cloud call.
                    lease_read = self.client.exists_async(self.layout.lease(self.build_id))
                    claim_read = self.client.exists_async(self.layout.claim(self.build_id))
                    stat, claim = lease_read.get(), claim_read.get()
                except SessionExpiredError:
                    self.lose("the ZooKeeper session expired")
                except _UNKNOWN_OUTCOME:
                    pass  # the connection dropped while checking: wait for it, check again
                else:
                    if stat is None or stat.version != self.epoch:
                        self.lose("the lease moved on")
                    elif claim is None or claim.ephemeralOwner != self._session_id:
                        self.lose("the claim node is not ours")
                    self._check_lost()
                    return
            elif time.monotonic() > deadline:
                self.lose(f"disconnected for more than {wait_s:g} s: the session is expired")
            self._check_lost()
            self.lost.wait(0.05)

    def still_ours(self) -> bool:
        """After giving the build up: does this session still hold its claim? (Then the
        claim must be released, or nobody would ever continue the build.)"""
        try:
            claim = self.client.exists(self.layout.claim(self.build_id))
            lease = self.client.exists(self.layout.lease(self.build_id))
        except (*_UNKNOWN_OUTCOME, SessionExpiredError):
            return False
        return (
            claim is not None
            and claim.ephemeralOwner == self._session_id
            and lease is not None
            and lease.version == self.epoch
        )

    def release_claim(self) -> None:
        """Drop the claim of a build this worker gave up while its session lives on."""
        transaction = self.client.transaction()
        transaction.check(self.layout.lease(self.build_id), self.epoch)
        transaction.delete(self.layout.claim(self.build_id))
        try:
            results = transaction.commit()
        except (*_UNKNOWN_OUTCOME, SessionExpiredError):
            return
        if not any(isinstance(r, Exception) for r in results):
            LOG.info("build %s: claim released for another worker", self.build_id)

    def _check_lost(self) -> None:
        if self.lost.is_set():
            raise ClaimLostError(f"build {self.build_id}: this worker no longer owns it")

    # -- writes ------------------------------------------------------------

    def write(
        self,
        *,
        resources: Sequence[tuple[ResourceRecord, int | None]] = (),
        state: tuple[BuildState, int] | None = None,
        events: Sequence[Event] = (),
        finish: bool = False,
        release: bool = False,
        control_version: int | None = None,
    ) -> Written:
        """One fenced transaction: ``check(lease, epoch)`` and then every change.

        A resource with version None is created, else set at that version;
        ``finish`` also removes the build from ``pending`` and drops the
        claim; ``release`` only drops the claim (a graceful handover).
        ``control_version``: the version of the build's ``control`` this write was
        decided on; a request that came since refuses it (CommitUnknownError: the
        caller reads again), so a finish never buries a delete request.
        """
        self._check_lost()
        layout, build_id = self.layout, self.build_id
        transaction = self.client.transaction()
        transaction.check(layout.lease(build_id), self.epoch)
        if control_version is not None:
            transaction.check(layout.control(build_id), control_version)
        for record, version in resources:
            path = layout.resource(build_id, record.name)
            data = codec.dumps(record.to_dict())
            if version is None:
                transaction.create(path, data)
            else:
                transaction.set_data(path, data, version=version)
        if state is not None:
            transaction.set_data(
                layout.state(build_id), codec.dumps(state[0].to_dict()), version=state[1]
            )
        for event in events:
            transaction.create(
                layout.event_prefix(build_id), codec.dumps(event.to_dict()), sequence=True
            )
        if finish:
            transaction.delete(layout.pending_build(build_id))
        if release:  # counted, so that handovers never make a build look like poison
            lease = self.lease
            handed_over = {
                "worker_id": lease.worker_id,
                "claims": lease.claims,
                "releases": lease.releases + 1,
                "claimed_at": lease.claimed_at,
            }
            transaction.set_data(
                layout.lease(build_id), codec.dumps(handed_over), version=self.epoch
            )
        if finish or release:
            transaction.delete(layout.claim(build_id))
        try:
            results = transaction.commit()
        except _UNKNOWN_OUTCOME as exc:
            raise CommitUnknownError(f"build {build_id}: write outcome unknown") from exc
        except SessionExpiredError as exc:
            self.lose("session expired")
            raise ClaimLostError(f"build {build_id}: session expired") from exc
        self._count_write()
        if isinstance(results[0], Exception) and not isinstance(results[0], RolledBackError):
            self.lose(f"fenced write refused ({type(results[0]).__name__})")
            raise ClaimLostError(f"build {build_id}: the lease moved on; write refused")
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            cause = next((f for f in failures if not isinstance(f, RolledBackError)), failures[0])
            # Our own bookkeeping disagrees with ZooKeeper: re-read and carry on.
            raise CommitUnknownError(f"build {build_id}: write refused: {cause!r}")
        written = Written()
        position = 1 if control_version is None else 2
        for record, _ in resources:
            result = results[position]
            written.resources[record.name] = result.version if isinstance(result, ZnodeStat) else 0
            position += 1
        if state is not None:
            result = results[position]
            written = Written(written.resources, result.version)
        if finish or release:
            # Done with the build, not robbed of it: nothing more may be written.
            LOG.debug("build %s: %s", build_id, "released" if release else "finished")
            self.lost.set()
        return written


def claim(
    client: KazooClient,
    layout: Layout,
    build_id: str,
    worker_id: str,
    *,
    clock: Callable[[], float] = time.time,
    count_write: Callable[[], None] = lambda: None,
) -> Fence | None:
    """Claim a pending, unclaimed build in one transaction; None if someone else did."""
    lease_path = layout.lease(build_id)
    try:
        data, stat = client.get(lease_path)
    except NoNodeError:
        return None  # pruned, or never complete
    previous = codec.loads(data)
    claims = int(previous.get("claims", 0)) + 1
    releases = int(previous.get("releases", 0))
    now = clock()
    lease_data = {"worker_id": worker_id, "claims": claims, "releases": releases, "claimed_at": now}
    transaction = client.transaction()
    transaction.check(layout.pending_build(build_id), -1)
    transaction.create(layout.claim(build_id), worker_id.encode(), ephemeral=True)
    transaction.set_data(lease_path, codec.dumps(lease_data), version=stat.version)
    try:
        results = transaction.commit()
    except _UNKNOWN_OUTCOME:
        return None  # the next watch event tells whether it went through
    count_write()
    if any(isinstance(r, Exception) for r in results):
        # Someone else claimed it, or it finished meanwhile (the pending check
        # fails, which ZooKeeper may report as RuntimeInconsistency).
        expected = (
            NodeExistsError,
            BadVersionError,
            NoNodeError,
            RolledBackError,
            RuntimeInconsistency,
        )
        unexpected = [
            r for r in results if isinstance(r, Exception) and not isinstance(r, expected)
        ]
        if unexpected:
            LOG.warning("build %s: claim failed: %r", build_id, unexpected[0])
        return None
    epoch = results[2].version
    lease = Lease(
        worker_id=worker_id, claims=claims, claimed_at=now, epoch=epoch, releases=releases
    )
    return Fence(client, layout, build_id, lease, count_write=count_write)
