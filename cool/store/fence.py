"""Claims and fencing: how a worker owns a build, and why a stale one cannot write.

Claiming is one transaction: create the EPHEMERAL ``claims/<id>`` node and
bump ``lease`` with a versioned set. The lease's new version is the
worker's *epoch*. From then on every write the worker makes for that build
is a multi-op transaction that begins with ``check(lease, epoch)``: a worker
that was presumed dead (paused, partitioned, its session expired) and comes
back can never overwrite the progress of the owner that claimed after it.

The ephemeral claim is liveness (it vanishes with the session, which hands
the build to another worker); the lease version is the fence. A claim whose
reply was lost is found again by the nonce of its attempt in the lease.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import (
    BadVersionError,
    NodeExistsError,
    NoNodeError,
    RolledBackError,
    RuntimeInconsistency,
    SessionExpiredError,
)
from kazoo.protocol.states import ZnodeStat

from cool.errors import ClaimLostError, CommitUnknownError, RecordTooLargeError
from cool.store import codec, names, sizes
from cool.store.layout import Layout
from cool.store.outcomes import UNAVAILABLE, UNKNOWN_OUTCOME
from cool.store.records import BuildState, Event, Lease, ResourceRecord

LOG = logging.getLogger(__name__)


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

    max_write_bytes: int = sizes.MAX_WRITE_BYTES  # no write bigger is ever sent

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
        """Call before each cloud call, reads included: our session is alive and the
        lease still ours.

        While the connection is SUSPENDED no cloud call starts, not even a read (a
        poll, a find): DESIGN.md says a worker stops issuing cloud calls, and a read
        would gain nothing, since what it learns cannot be recorded before the
        connection is back (every record is a fenced ZooKeeper write). So wait for the
        connection, and check again. A call whose guard passed just before the
        connection dropped runs to its end (it cannot be called back); the fence
        refuses any record of it if the claim moved meanwhile.

        Only LOST, a new session, a moved lease, or a connection gone (or a check
        unanswered) for longer than ``wait_s`` (the session timeout: by then the
        server has expired the session) count as losing the claim.
        """
        deadline = time.monotonic() + wait_s
        held = False
        while True:
            self._check_lost()
            state = self.client.state
            if state == KazooState.LOST:
                self.lose("the ZooKeeper session expired")
            elif state == KazooState.CONNECTED and (
                self.client.client_id is None or self.client.client_id[0] != self._session_id
            ):
                self.lose("the ZooKeeper session changed")  # (its id is unsure while away)
            elif state == KazooState.CONNECTED and self._claim_checked(wait_s):
                return
            elif time.monotonic() > deadline:
                self.lose(f"disconnected for more than {wait_s:g} s: the session is expired")
            elif not held and state != KazooState.CONNECTED:
                held = True
                LOG.info(
                    "build %s: ZooKeeper connection suspended: holding a cloud call until "
                    "it is back (at most %g s)",
                    self.build_id,
                    wait_s,
                )
            self._check_lost()
            self.lost.wait(0.05)

    def _claim_checked(self, timeout_s: float) -> bool:
        """Ask :meth:`_why_not_ours` once and lose the claim if it moved on; False if
        the connection dropped first (``guard``'s loop waits for it and asks again)."""
        try:
            why = self._why_not_ours(timeout_s)
        except SessionExpiredError:
            self.lose("the ZooKeeper session expired")
            self._check_lost()
            raise
        except UNKNOWN_OUTCOME:
            return False  # the connection dropped while checking: wait for it, check again
        if why is not None:
            self.lose(why)
        self._check_lost()
        return True

    def still_ours(self, timeout_s: float = 10.0) -> bool:
        """After giving the build up: does this session still hold its claim? (Then the
        claim must be released, or nobody would ever continue the build.)

        The same test as ``guard``'s (:meth:`_why_not_ours`), but a question only: the
        claim is usually marked lost already, and the answer loses nothing. A
        connection that drops meanwhile is waited for, and the reads sent again, for
        at most ``timeout_s`` (the session timeout: a session unreachable longer than
        that is gone, and its claim with it): then False."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                return self._why_not_ours(max(deadline - time.monotonic(), 0.0)) is None
            except SessionExpiredError:
                return False
            except UNKNOWN_OUTCOME:
                if time.monotonic() >= deadline:
                    return False
                threading.Event().wait(0.05)  # the connection dropped: it may come back

    def _why_not_ours(self, timeout_s: float) -> str | None:
        """Is the claim still ours? None if so, else why not: the lease moved past our
        epoch, or the claim node is not our session's. Both read at once (one round
        trip); a dropped connection or an expired session raises."""
        lease_read = self.client.exists_async(self.layout.lease(self.build_id))
        claim_read = self.client.exists_async(self.layout.claim(self.build_id))
        lease = lease_read.get(timeout=timeout_s)
        claim = claim_read.get(timeout=timeout_s)
        if lease is None or lease.version != self.epoch:
            return "the lease moved on"
        if claim is None or claim.ephemeralOwner != self._session_id:
            return "the claim node is not ours"
        return None

    def release_claim(self, timeout_s: float = 10.0) -> None:
        """Drop the claim of a build this worker gave up while its session lives on
        (waiting at most ``timeout_s``: unanswered, it goes with the session)."""
        transaction = self.client.transaction()
        transaction.check(self.layout.lease(self.build_id), self.epoch)
        transaction.delete(self.layout.claim(self.build_id))
        try:
            results = transaction.commit_async().get(timeout=timeout_s)
        except (*UNKNOWN_OUTCOME, SessionExpiredError):
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
        free_name: tuple[str, str] | None = None,
    ) -> Written:
        """One fenced transaction: ``check(lease, epoch)`` and then every change.

        A resource with version None is created, else set at that version;
        ``finish`` also removes the build from ``pending`` and drops the
        claim; ``release`` only drops the claim (a graceful handover).
        ``control_version``: the version of the build's ``control`` this write was
        decided on; a request that came since refuses it (CommitUnknownError: the
        caller reads again), so a finish never buries a delete request.
        A write over :attr:`max_write_bytes` is not sent: RecordTooLargeError names
        its largest record (:mod:`cool.store.sizes`).
        ``free_name`` (project id, name): the build's name node goes in the same
        transaction (DELETE_COMPLETE frees the name), if it still names this build.
        """
        self._check_lost()
        layout, build_id = self.layout, self.build_id
        name_node = self._name_node(*free_name) if free_name is not None else None
        labels: dict[str, str] = {}  # what each written path holds, for an error
        transaction = self.client.transaction()
        transaction.check(layout.lease(build_id), self.epoch)
        if control_version is not None:
            transaction.check(layout.control(build_id), control_version)
        for record, version in resources:
            path = layout.resource(build_id, record.name)
            data = codec.dumps(record.to_dict())
            labels[path] = f"the record of resource {record.name}"
            if version is None:
                transaction.create(path, data)
            else:
                transaction.set_data(path, data, version=version)
        if state is not None:
            labels[layout.state(build_id)] = "the build's state"
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
        if name_node is not None:
            transaction.delete(name_node[0], version=name_node[1])
        size = sizes.transaction_size(transaction.operations)
        if size > self.max_write_bytes:
            largest = max(transaction.operations, key=sizes.op_size)
            path = str(largest.path)
            label = next((v for k, v in labels.items() if path.endswith(k)), "an event")
            LOG.warning("build %s: not written: %s is %d bytes", build_id, label, size)
            raise RecordTooLargeError(label, size, self.max_write_bytes)
        try:
            results = transaction.commit()
        except UNKNOWN_OUTCOME as exc:
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

    def _name_node(self, project_id: str, name: str) -> tuple[str, int] | None:
        """The build's name node and its version, if it names this build (read now)."""
        path = names.path_of(self.layout, project_id, name)
        if path is None:
            return None
        try:
            got = self.client.get(path)
        except NoNodeError:
            return None
        except UNKNOWN_OUTCOME as exc:
            raise CommitUnknownError(f"build {self.build_id}: name not read") from exc
        except SessionExpiredError as exc:
            self.lose("session expired")
            raise ClaimLostError(f"build {self.build_id}: session expired") from exc
        if not names.names_build(got, self.build_id, name):
            return None
        return path, got[1].version


@dataclass(frozen=True, slots=True)
class UnknownClaim:
    """A claim whose outcome stayed unknown: what tells it apart from any other
    (:func:`settle_claim` looks at it again)."""

    build_id: str
    session_id: int | None
    lease: Lease
    attempt: str


def claim(
    client: KazooClient,
    layout: Layout,
    build_id: str,
    worker_id: str,
    *,
    clock: Callable[[], float] = time.time,
    count_write: Callable[[], None] = lambda: None,
    recover_s: float = 10.0,
    on_unknown: Callable[[UnknownClaim], None] = lambda unknown: None,
) -> Fence | None:
    """Claim a pending, unclaimed build in one transaction; None if someone else did.

    A claim whose reply is lost may have committed: then the build is claimed (its
    claim node exists) by us, and nobody else will run it while our session lives.
    So it is looked for again, as kazoo's lock recipe finds its node after a
    connection loss: the lease carries a nonce of this attempt (see
    :func:`_find_own_claim`, which waits at most ``recover_s`` for an answer).
    Still unknown then (the session may outlive that: the server negotiates its
    timeout), ``on_unknown`` is told, for the caller to :func:`settle_claim` later.
    """
    lease_path = layout.lease(build_id)
    try:
        data, stat = client.get(lease_path)
    except NoNodeError:
        return None  # pruned, or never complete
    except UNAVAILABLE as exc:
        # Only a read: nothing was written, so there is no claim; the next dispatch
        # tries again once the connection is back.
        LOG.info("build %s: not claimed now: ZooKeeper did not answer (%r)", build_id, exc)
        return None
    previous = codec.loads(data)
    claims = int(previous.get("claims", 0)) + 1
    releases = int(previous.get("releases", 0))
    now = clock()
    attempt = uuid.uuid4().hex
    lease_data = {
        "worker_id": worker_id,
        "claims": claims,
        "releases": releases,
        "claimed_at": now,
        "attempt": attempt,
    }
    lease = Lease(
        worker_id=worker_id,
        claims=claims,
        claimed_at=now,
        epoch=stat.version + 1,  # what the versioned set below makes it
        releases=releases,
    )
    session_id = client.client_id[0] if client.client_id else None
    transaction = client.transaction()
    transaction.check(layout.pending_build(build_id), -1)
    transaction.create(layout.claim(build_id), worker_id.encode(), ephemeral=True)
    transaction.set_data(lease_path, codec.dumps(lease_data), version=stat.version)
    try:
        results = transaction.commit()
    except SessionExpiredError:
        return None  # a claim node it made, if any, went with the session
    except UNKNOWN_OUTCOME:
        found = _find_own_claim(
            client,
            layout,
            build_id,
            session_id=session_id,
            lease=lease,
            attempt=attempt,
            recover_s=recover_s,
        )
        if found:
            count_write()
            LOG.info("build %s: the claim's reply was lost, but the claim is ours", build_id)
            return Fence(client, layout, build_id, lease, count_write=count_write)
        if found is None:
            on_unknown(UnknownClaim(build_id, session_id, lease, attempt))
        return None
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
    return Fence(client, layout, build_id, lease, count_write=count_write)


def _find_own_claim(
    client: KazooClient,
    layout: Layout,
    build_id: str,
    *,
    session_id: int | None,
    lease: Lease,
    attempt: str,
    recover_s: float,
) -> bool | None:
    """Did the claim whose reply was lost commit? Ours if the claim node belongs to
    our session and the lease carries this attempt's nonce at the version the claim
    would have given it. Reads are retried (the connection comes back, same session)
    for at most ``recover_s``; still unanswered by then: None (unknown; the claim node,
    if there is one, lives as long as the session)."""
    deadline = time.monotonic() + recover_s
    delay = 0.05
    while True:
        remaining = deadline - time.monotonic()
        if session_id is None or client.state == KazooState.LOST:
            return False  # no session of ours: no claim node of ours either
        if remaining <= 0:
            LOG.warning("build %s: a claim's outcome is still unknown; looked at later", build_id)
            return None
        try:
            claim_stat, data, stat = _read_claim(client, layout, build_id, remaining)
        except NoNodeError:
            return False  # the build is gone
        except SessionExpiredError:
            return False  # and our claim node with the session, if it was ever made
        except UNKNOWN_OUTCOME:
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 1.0)
            continue
        return _claimed_by(claim_stat, session_id) and _leased_by(data, stat, lease, attempt)


def _read_claim(
    client: KazooClient, layout: Layout, build_id: str, timeout_s: float
) -> tuple[ZnodeStat | None, bytes, ZnodeStat]:
    """The claim node's stat and the lease, both reads in flight at once."""
    claim_read = client.exists_async(layout.claim(build_id))
    lease_read = client.get_async(layout.lease(build_id))
    claim_stat = claim_read.get(timeout=timeout_s)
    data, stat = lease_read.get(timeout=timeout_s)
    return claim_stat, data, stat


def _claimed_by(claim_stat: ZnodeStat | None, session_id: int | None) -> bool:
    return claim_stat is not None and claim_stat.ephemeralOwner == session_id


def _leased_by(data: bytes, stat: ZnodeStat, lease: Lease, attempt: str) -> bool:
    """The lease is as this claim attempt set it: at its epoch, with its nonce."""
    return stat.version == lease.epoch and codec.loads(data).get("attempt") == attempt


def settle_claim(
    client: KazooClient,
    layout: Layout,
    unknown: UnknownClaim,
    *,
    count_write: Callable[[], None] = lambda: None,
    timeout_s: float = 5.0,
) -> tuple[bool, Fence | None]:
    """Look again at a claim whose outcome stayed unknown: (settled, the Fence to run
    the build with, if the claim is ours). A claim node of our session is ours: adopted
    when the lease names our attempt at the version our claim set, else released (a
    delete checked against the lease's version), since nobody else may claim the build
    while it stands. Not settled (False) while the connection is down: ask again."""
    path, lease_path = layout.claim(unknown.build_id), layout.lease(unknown.build_id)
    if unknown.session_id is None or client.state == KazooState.LOST:
        return True, None  # no session of ours: no claim node of ours either
    if client.state != KazooState.CONNECTED or client.client_id is None:
        return False, None  # (the session's id is unsure while away)
    if client.client_id[0] != unknown.session_id:
        return True, None  # that session ended, and any claim node of it with it
    session_id = unknown.session_id
    try:
        claim_stat, data, stat = _read_claim(client, layout, unknown.build_id, timeout_s)
    except (NoNodeError, SessionExpiredError):
        return True, None
    except UNKNOWN_OUTCOME:
        return False, None
    if not _claimed_by(claim_stat, session_id):
        return True, None  # it never committed, or the claim is someone else's
    assert claim_stat is not None
    if _leased_by(data, stat, unknown.lease, unknown.attempt):
        count_write()
        LOG.info("build %s: a claim whose outcome was unknown is ours: resumed", unknown.build_id)
        return True, Fence(client, layout, unknown.build_id, unknown.lease, count_write=count_write)
    transaction = client.transaction()
    transaction.check(lease_path, stat.version)
    transaction.delete(path, version=claim_stat.version)
    try:
        results = transaction.commit_async().get(timeout=timeout_s)
    except UNKNOWN_OUTCOME:
        return False, None
    except SessionExpiredError:
        return True, None
    if any(isinstance(r, Exception) for r in results):
        return False, None  # the lease moved meanwhile: look again
    LOG.info("build %s: a claim node of ours, not at our lease: released", unknown.build_id)
    return True, None
