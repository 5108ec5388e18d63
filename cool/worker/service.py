"""The worker process's core: watch, claim up to capacity, hand each build to a runner.

No polling: watches on the queue's shards (:mod:`cool.store.pending`) and on
``claims`` wake the dispatcher. No thundering herd: for each claimable build the
live workers are ranked by rendezvous hashing; the first-ranked worker claims at
once and the k-th only after k grace periods, if the build is still unclaimed by
then (so a busy or dead first choice costs one grace period, not a stampede).

A backlog costs nothing: a worker reads the queue only when it has room for a
build, and then only shards (the backlog over 1,024), in turn from a place of its
own, until it has found what it can take. What it has read and not taken waits in
a bounded window. A change to a shard it is not reading costs it a flag.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cool.clouds.registry import Providers
from cool.errors import ClaimLostError, CoolError, StoreUnavailableError
from cool.store.builds import BuildStore
from cool.store.fence import Fence, UnknownClaim, claim, settle_claim
from cool.store.outcomes import UNAVAILABLE
from cool.store.pending import SHARDS, ShardReader, flat_entries, listing_bytes, move_flat
from cool.store.session import Connection, Session
from cool.store.workers import WorkerInfo, WorkerRegistry
from cool.worker.runner import BuildRunner, RunnerSettings

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    capacity: int = 8  # builds at once
    step_threads: int = 16  # the pool every build's steps share
    claim_grace_s: float = 0.5  # per rank, before a lower-ranked worker claims
    stop_timeout_s: float = 30.0  # graceful stop: how long runners get to checkpoint
    leave_timeout_s: float = 5.0  # each later step of leaving (steps, unregister, close)
    max_claims: int = 5  # claims ended by a dead worker before a build is poison
    # How long a claim whose reply was lost is looked for at once (None: the runner's
    # guard_wait_s); still unknown then, each dispatch looks again (``_settle``).
    claim_recover_s: float | None = None
    runner: RunnerSettings = field(default_factory=RunnerSettings)


def new_worker_id() -> str:
    host = "".join(c if c.isalnum() or c in "-_." else "-" for c in socket.gethostname())
    return f"{host[:40] or 'host'}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def rank(worker_id: str, build_id: str, workers: list[str]) -> int:
    """This worker's place (0 first) in the build's rendezvous ordering of live workers."""

    def score(candidate: str) -> bytes:
        return hashlib.sha256(f"{candidate}/{build_id}".encode()).digest()

    ordered = sorted(set(workers) | {worker_id}, key=score, reverse=True)
    return ordered.index(worker_id)


_UNKNOWN_RETRY_S = 0.5  # between two looks at a claim whose outcome is unknown
_READ_BATCH = 64  # shards read at once (pipelined) while looking for builds to take
_MAX_READS = 256  # shards read by one dispatch; more in the next, at once


class Worker:
    def __init__(
        self,
        session: Session,
        providers: Providers,
        settings: WorkerSettings,
        *,
        worker_id: str | None = None,
        clock: Callable[[], float] = time.time,
        count_write: Callable[[], None] = lambda: None,
        count_call: Callable[[], None] = lambda: None,
    ) -> None:
        self.session = session
        self.store = BuildStore(session.client, session.layout, clock=clock)
        self.registry = WorkerRegistry(session.client, session.layout)
        self.providers = providers
        self.settings = settings
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock
        self.count_write = count_write
        self.count_call = count_call
        self.stopping = threading.Event()
        self.draining = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._flat: list[str] = []  # entries of the unsharded queue, to move
        self._workers: list[str] = []
        # Builds read from the queue and not taken yet, with when they were first seen
        # (a lower-ranked worker's grace runs from then); bounded by ``_window_size``.
        self._window: dict[str, float] = {}
        self._window_size = max(64, 8 * settings.capacity)
        # Shards whose whole listing is in the window: unchanged, not worth a read.
        self._complete: set[str] = set()
        self._cursor = random.randrange(len(SHARDS))  # where this worker reads from next
        self._listing_bytes = 0
        self._shards = ShardReader(session.client, session.layout, self._wake.set)
        self._active: dict[str, tuple[Fence, threading.Thread]] = {}
        # Claims whose outcome stayed unknown: each may be a claim node of our session
        # that nobody runs (and nobody else may claim) while the session lives.
        self._unknown: dict[str, UnknownClaim] = {}
        self._needs_registering = True
        self._started_at = clock()
        self._executor = ThreadPoolExecutor(
            max_workers=settings.step_threads, thread_name_prefix="cool-step"
        )
        self._dispatcher = threading.Thread(
            target=self._dispatch_forever, name="cool-dispatcher", daemon=True
        )

    # -- life cycle -------------------------------------------------------------

    def start(self) -> None:
        self.store.ensure_layout()
        self._register()
        self.session.on_connection(self._on_connection)
        layout = self.session.layout
        self.session.watch_children(layout.pending, self._set_top)
        self.session.watch_children(layout.claims, self._set_claimed)
        self.session.watch_children(layout.workers, self._set_workers)
        self._dispatcher.start()
        LOG.info("worker %s started (capacity %d)", self.worker_id, self.settings.capacity)

    def stop(self, *, graceful: bool = True) -> None:
        """Stop claiming; runners checkpoint and release their builds; leave.

        Every wait has a bound, also while ZooKeeper is unreachable: the runners get
        ``stop_timeout_s`` (graceful) and each later step ``leave_timeout_s``. A thread
        still waiting on ZooKeeper then is a daemon that closing the session (the
        caller's next step, see :meth:`Session.close`) wakes; what it held (claims,
        this worker's node) is ephemeral and ends with the session.
        """
        self.stopping.set()
        self._wake.set()
        leave_s = self.settings.leave_timeout_s
        deadline = time.monotonic() + (self.settings.stop_timeout_s if graceful else 0)
        with self._lock:
            active = list(self._active.values())
        for _fence, thread in active:
            thread.join(max(deadline - time.monotonic(), 0))
        self._dispatcher.join(leave_s)
        # shutdown(wait=True) has no bound of its own: wait for it in a thread.
        steps = threading.Thread(
            target=self._executor.shutdown,
            kwargs={"wait": graceful, "cancel_futures": True},
            name="cool-step-shutdown",
            daemon=True,
        )
        steps.start()
        steps.join(leave_s)
        if steps.is_alive():
            LOG.warning("worker %s: steps still running after %g s", self.worker_id, leave_s)
        try:
            self.registry.unregister(self.worker_id, timeout_s=leave_s)
        except CoolError as exc:
            LOG.warning("worker %s: could not unregister: %s", self.worker_id, exc)
        LOG.info("worker %s stopped", self.worker_id)

    def drain(self) -> None:
        """Claim nothing more; builds already claimed run on (before a planned stop)."""
        LOG.info("worker %s: draining: no new claims", self.worker_id)
        self.draining.set()

    @property
    def active_builds(self) -> list[str]:
        with self._lock:
            return sorted(self._active)

    def _info(self) -> WorkerInfo:
        return WorkerInfo(
            worker_id=self.worker_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            capacity=self.settings.capacity,
            load=len(self._active),
            started_at=self._started_at,
        )

    def _register(self) -> None:
        self.registry.register(self._info())
        self._needs_registering = False

    # -- events (kazoo's thread: record and wake, nothing more) -----------------

    @property
    def largest_listing_bytes(self) -> int:
        """The largest getChildren reply this worker has had (about, in bytes): what a
        backlog would make grow, were dispatch to list it."""
        return max(self._listing_bytes, self._shards.largest_listing_bytes)

    @property
    def shard_reads(self) -> int:
        """Shards of the queue this worker has read (for tests and benchmarks)."""
        return self._shards.reads

    def _listed(self, children: list[str]) -> None:
        self._listing_bytes = max(self._listing_bytes, listing_bytes(children))

    def _set_top(self, children: list[str]) -> None:
        """``pending``'s children: its shards, and entries of the unsharded queue."""
        self._listed(children)
        flat = flat_entries(children)
        with self._lock:
            self._flat = flat
        if flat:
            self._wake.set()

    def _set_claimed(self, children: list[str]) -> None:
        """Claims: a build claimed leaves the window; a claim gone (a worker died or
        handed its build over, or the build finished) makes its shard worth a read."""
        self._listed(children)
        claimed = set(children)
        with self._lock:
            gone = [b for b in self._claimed - claimed if b not in self._active]
            self._claimed = claimed
            for build_id in claimed:
                self._window.pop(build_id, None)
        for build_id in gone:
            self._shards.touch(self.session.layout.shard(build_id))
        self._wake.set()

    def _set_workers(self, children: list[str]) -> None:
        self._listed(children)
        with self._lock:
            self._workers = list(children)
        self._wake.set()

    def _on_connection(self, state: Connection) -> None:
        if state is Connection.LOST:
            # Our ephemerals are gone, so are our claims: abandon at once, write nothing.
            with self._lock:
                fences = [fence for fence, _ in self._active.values()]
                self._needs_registering = True
            for fence in fences:
                fence.lose("ZooKeeper session lost")
            self._shards.forget_watches()  # they went with the session
        self._wake.set()

    # -- dispatching ------------------------------------------------------------

    def _dispatch_forever(self) -> None:
        while not self.stopping.is_set():
            self._wake.clear()  # before looking: a change from now on wakes the next wait
            timeout = None
            try:
                timeout = self._dispatch_once()
            except (CoolError, *UNAVAILABLE) as exc:  # ZooKeeper trouble: retried
                LOG.warning("worker %s: dispatch failed (%r); will retry", self.worker_id, exc)
                timeout = 1.0
            except Exception:
                LOG.exception("worker %s: dispatch failed; will retry", self.worker_id)
                timeout = 1.0
            self._wake.wait(timeout)

    def _dispatch_once(self) -> float | None:
        """Claim what is due; the seconds until the next build falls due, if any."""
        if self.session.connection is not Connection.CONNECTED:
            return None  # the connection listener wakes us
        if self._needs_registering:
            self._register()
        retry = self._settle_unknown()
        with self._lock:
            flat, self._flat = self._flat, []
        if flat:
            try:
                move_flat(self.session.client, self.session.layout, flat)
            except BaseException:
                with self._lock:  # tried again at the next dispatch (the watch may not fire)
                    self._flat = sorted({*flat, *self._flat})
                raise
        with self._lock:
            free = self.settings.capacity - len(self._active)
            workers = list(self._workers)
        if free <= 0 or self.draining.is_set():
            return retry  # nothing is read: a full worker pays nothing for a backlog
        now = time.monotonic()
        due, next_due = self._due(now, workers)
        more = False
        if len(due) < free:
            more = self._look(now, free - len(due), workers)
            due, next_due = self._due(now, workers)
        for build_id in due[:free]:
            if self.draining.is_set() or self.stopping.is_set():
                break  # told meanwhile (a look at the queue takes a while): nothing more
            with self._lock:
                self._window.pop(build_id, None)
            if not self._claim(build_id):
                # Someone else's now, finished, or ZooKeeper did not answer: a read of
                # its shard tells which (the claims watch covers only the first).
                self._shards.touch(self.session.layout.shard(build_id))
        if self._unknown:
            retry = _UNKNOWN_RETRY_S
        if more:
            retry = 0.0  # the queue has more shards to read: at once, after these claims
        due_in = None if next_due is None else max(next_due - now, 0.01)
        return min((t for t in (retry, due_in) if t is not None), default=None)

    def _due(self, now: float, workers: list[str]) -> tuple[list[str], float | None]:
        """The window's builds this worker may claim now (oldest first), and when the
        next of the others falls due."""
        due: list[str] = []
        next_due: float | None = None
        with self._lock:
            window = [
                (b, seen)
                for b, seen in self._window.items()
                if b not in self._claimed and b not in self._active
            ]
        for build_id, first_seen in sorted(window):
            place = rank(self.worker_id, build_id, workers)
            when = first_seen + place * self.settings.claim_grace_s
            if when <= now:
                due.append(build_id)
            else:
                next_due = when if next_due is None else min(next_due, when)
        return due, next_due

    def _look(self, now: float, wanted: int, workers: list[str]) -> bool:
        """Read shards, in turn from this worker's place, into the window, until it
        holds ``wanted`` due builds, every shard worth it has been read once, or this
        dispatch has read its share; whether shards worth a read are left."""
        dirty, nonempty = self._shards.worth_reading()
        order = SHARDS[self._cursor :] + SHARDS[: self._cursor]
        todo = [s for s in order if s in dirty or (s in nonempty and s not in self._complete)]
        reads = 0
        while todo and reads < _MAX_READS:
            if len(self._window) >= self._window_size:
                return False  # nothing read now could be kept: wait for what is due
            batch, todo = todo[:_READ_BATCH], todo[_READ_BATCH:]
            listings = self._shards.read(batch)
            reads += len(batch)
            self._cursor = (SHARDS.index(batch[-1]) + 1) % len(SHARDS)
            self._take_in(listings, now)
            if len(self._due(now, workers)[0]) >= wanted:
                return False
        return bool(todo)

    def _take_in(self, listings: dict[str, list[str]], now: float) -> None:
        """Shards just read: their builds replace what the window held of them."""
        layout = self.session.layout
        with self._lock:
            gone = [b for b in self._window if layout.shard(b) in listings]
            for build_id in gone:
                if build_id not in listings[layout.shard(build_id)]:
                    del self._window[build_id]  # finished, or taken
            for shard, build_ids in listings.items():
                complete = True
                for build_id in sorted(build_ids):  # oldest first into a window with room
                    if build_id in self._window or build_id in self._claimed:
                        continue
                    if build_id in self._active:
                        continue
                    if len(self._window) >= self._window_size:
                        complete = False
                        break
                    self._window[build_id] = now
                if complete:
                    self._complete.add(shard)
                else:
                    self._complete.discard(shard)

    def _settle_unknown(self) -> float | None:
        """Look again at the claims whose outcome stayed unknown (a few reads each, for
        those only: the cost does not grow with the backlog); adopt those that are ours.
        The seconds until the next look, while some are still unknown."""
        with self._lock:
            unknown = [u for b, u in self._unknown.items() if b not in self._active]
        for entry in unknown:
            settled, fence = settle_claim(
                self.session.client,
                self.session.layout,
                entry,
                count_write=self.count_write,
                timeout_s=self.settings.leave_timeout_s,
            )
            if settled:
                with self._lock:
                    self._unknown.pop(entry.build_id, None)
            if fence is not None:
                self._start(fence)
        return _UNKNOWN_RETRY_S if self._unknown else None

    def _remember_unknown(self, unknown: UnknownClaim) -> None:
        with self._lock:
            self._unknown[unknown.build_id] = unknown

    def _claim(self, build_id: str) -> bool:
        """Whether the build is now this worker's."""
        recover_s = self.settings.claim_recover_s
        fence = claim(
            self.session.client,
            self.session.layout,
            build_id,
            self.worker_id,
            clock=self.clock,
            count_write=self.count_write,
            recover_s=self.settings.runner.guard_wait_s if recover_s is None else recover_s,
            on_unknown=self._remember_unknown,
        )
        if fence is None:
            return False
        self._start(fence)
        return True

    def _start(self, fence: Fence) -> None:
        build_id = fence.build_id
        LOG.info(
            "worker %s: claimed build %s (epoch %d, claim %d)",
            self.worker_id,
            build_id,
            fence.epoch,
            fence.lease.claims,
        )
        thread = threading.Thread(
            target=self._run, args=(fence,), name=f"cool-build-{build_id}", daemon=True
        )
        with self._lock:  # started under the lock: stop() never sees it unstarted
            self._active[build_id] = (fence, thread)
            thread.start()
        self._publish_load()

    def _run(self, fence: Fence) -> None:
        build_id = fence.build_id
        try:
            self._run_build(fence)
        except (ClaimLostError, StoreUnavailableError) as exc:
            # Lost, or ZooKeeper out of reach mid-run (a dropped connection): expected,
            # not a crash. Nothing unrecorded was done: whoever claims it next goes on.
            LOG.warning("worker %s: abandoned build %s: %s", self.worker_id, build_id, exc)
            # The session outlives its connection for its timeout: wait that long for an
            # answer (a step may have given up sooner, after ``guard_wait_s``).
            wait_s = max(self.settings.runner.guard_wait_s, self.session.timeout_s)
            if fence.still_ours(wait_s):
                # Given up on a connection blip while our session lived on: the claim
                # would keep every worker away from the build forever. Let it go.
                fence.release_claim(wait_s)
        except Exception:
            LOG.exception(
                "worker %s: build %s failed unexpectedly; releasing it", self.worker_id, build_id
            )
            # Not a graceful handover (no ``releases + 1``): this claim counts towards
            # ``max_claims``, so a build that crashes every runner ends as poison.
            if not fence.lost.is_set():
                try:
                    fence.release_claim(self.settings.leave_timeout_s)
                except Exception as exc:  # (it goes with the session then)
                    LOG.warning("build %s: could not release: %s", build_id, exc)
                fence.lose("released after an unexpected error")
        finally:
            self.store.forget(build_id)
            with self._lock:
                self._active.pop(build_id, None)
            # Released or abandoned, the build is still queued: its shard is worth a
            # read (the claims watch may have seen the claim go while it was ours).
            self._shards.touch(self.session.layout.shard(build_id))
            self._publish_load()
            self._wake.set()

    def _run_build(self, fence: Fence) -> None:
        # A frame of its own: the runner (and the plan it holds) is unreachable once
        # this returns, before the build leaves `_active`, not when the thread ends.
        BuildRunner(
            self.store,
            fence,
            self.providers,
            self.settings.runner,
            executor=self._executor,
            stopping=self.stopping,
            clock=self.clock,
            count_call=self.count_call,
            watch_control=self._watch_control,
            max_claims=self.settings.max_claims,
        ).run()

    def _watch_control(
        self, build_id: str, callback: Callable[[dict[str, Any]], None]
    ) -> Callable[[], None]:
        return self.session.watch_data(self.session.layout.control(build_id), callback)

    def _publish_load(self) -> None:
        if self.stopping.is_set() or self.session.connection is not Connection.CONNECTED:
            return
        try:
            self.registry.update(self._info())
        except CoolError as exc:
            LOG.debug("worker %s: could not publish load: %s", self.worker_id, exc)
