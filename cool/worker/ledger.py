"""What the owner of a build knows is recorded, and every write it makes.

The ledger holds the build's state and each resource's record with their
znode versions, and writes through the claim's fence. Steps run in parallel
and so do their writes: each resource's record is its own znode, so the
ledger's lock is held around memory only, never across a round trip, and
ZooKeeper commits the writes of independent steps together (one fsync for
several). Only the build's state is one znode for all: the build's progress
(``done``) rides on a resource's write when no other write of the state is in
flight; a write that could not carry it counts its progress once it has landed,
for the next write of the state to carry (at the latest the final write). A
build's status changes wait for a state write in flight, then hold the lock
across theirs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from cool.model import BuildStatus, ResourceStatus
from cool.store.builds import BuildStore
from cool.store.fence import Fence
from cool.store.records import BuildMeta, BuildState, Event, ResourceRecord

LOG = logging.getLogger(__name__)


class Ledger:
    def __init__(
        self, store: BuildStore, fence: Fence, meta: BuildMeta, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.fence = fence
        self.meta = meta
        self.clock = clock
        self.build_id = fence.build_id
        self.worker_id = fence.worker_id
        self._lock = threading.Lock()
        self._state_free = threading.Condition(self._lock)
        self._state_busy = False  # a write of the state is in flight
        self._unwritten = 0  # progress counted and not written to the state yet
        self.state = BuildState(BuildStatus.CREATE_QUEUED)
        self._state_version = 0
        self.records: dict[str, tuple[ResourceRecord, int]] = {}
        self.finished = False  # the terminal state is written: nothing more to do
        # The control node's version that the runner last read (None: never read):
        # the final write checks it, so a request that came since is not lost.
        self.control_version: int | None = None
        # An update's retiring resources (Plan.retiring): not counted as progress.
        self.retiring: frozenset[str] = frozenset()

    def load(self) -> None:
        """Read back everything recorded (at the start, or after an uncertain write)."""
        with self._state_free:
            self._state_free.wait_for(lambda: not self._state_busy)
            self.state, self._state_version = self.store.state(self.build_id)
            self.records = self.store.resources(self.build_id)
            # Progress a worker counted and did not write (it died, or its write's
            # outcome is unknown): what the records say is done.
            complete = sum(
                1
                for name, (r, _) in self.records.items()
                if r.status is ResourceStatus.CREATE_COMPLETE and name not in self.retiring
            )
            self._unwritten = max(0, complete - self.state.done)

    def record(self, name: str) -> ResourceRecord | None:
        entry = self.records.get(name)
        return entry[0] if entry else None

    def status(self, name: str) -> ResourceStatus:
        record = self.record(name)
        return record.status if record else ResourceStatus.PENDING

    def event(self, resource: str | None, old: str | None, new: str, reason: str) -> Event:
        return Event(
            at=self.clock(),
            resource=resource,
            old=old,
            new=new,
            reason=reason,
            worker=self.worker_id,
            request_id=self.meta.request_id,
        )

    def _next_state(self, **changes: Any) -> BuildState:
        """The state with ``changes`` and every progress counted (lock held, no state
        write in flight)."""
        done = self.state.done + self._unwritten
        return self.state.but(done=done, updated_at=self.clock(), **changes)

    def transition(self, status: BuildStatus, reason: str, **changes: Any) -> None:
        """A new build status, recorded with its event."""
        with self._state_free:
            self._state_free.wait_for(lambda: not self._state_busy)
            old = self.state.status
            state = self._next_state(status=status, reason=reason, **changes)
            written = self.fence.write(
                state=(state, self._state_version),
                events=[self.event(None, str(old), str(status), reason)],
            )
            self.state, self._state_version = state, written.state or 0
            self._unwritten = 0
        LOG.info("build %s: %s -> %s (%s)", self.build_id, old, status, reason)

    def finish(self, status: BuildStatus, reason: str, **changes: Any) -> BuildStatus:
        """Terminal state, note, outputs, out of pending, claim released: one transaction,
        refused if a cancel or delete request came after :attr:`control_version`."""
        with self._state_free:
            self._state_free.wait_for(lambda: not self._state_busy)
            old = self.state.status
            state = self._next_state(status=status, reason=reason, **changes)
            self.fence.write(
                state=(state, self._state_version),
                events=[self.event(None, str(old), str(status), reason)],
                finish=True,
                control_version=self.control_version,
                # Heat's rule: a name is free again once its build is DELETE_COMPLETE.
                free_name=(self.meta.project_id, self.meta.name)
                if status is BuildStatus.DELETE_COMPLETE
                else None,
            )
            self.state = state
            self._unwritten = 0
            self.finished = True
        LOG.info("build %s: %s (%s)", self.build_id, status, reason)
        return status

    def release(self) -> None:
        """Hand the build over (a graceful stop): the claim goes, the build stays pending."""
        self.fence.write(release=True)
        LOG.info("build %s: released for another worker to continue", self.build_id)

    def write_resource(
        self, record: ResourceRecord, reason: str, *, progress: int = 0
    ) -> ResourceRecord:
        """A resource's new record, its event when the status changes, and progress."""
        self.write_resources([record], reason, progress=progress)
        return record

    def write_resources(
        self, records: list[ResourceRecord], reason: str, *, progress: int = 0
    ) -> None:
        """Resources' new records, each with its event when its status changes, and
        progress: one transaction.

        The write itself is made outside the lock: writes of other resources go to
        ZooKeeper at the same time. One step writes one resource at a time, so the
        version read here is still the record's when the write lands.
        """
        taken = 0
        with self._lock:
            previous = {r.name: self.records.get(r.name) for r in records}
            state = None
            if (self._unwritten or progress) and not self._state_busy:
                # This write carries the state: the progress of writes that landed
                # before, and its own (atomic with its records).
                self._state_busy = True
                taken, self._unwritten = self._unwritten, 0
                done = self.state.done + taken + progress
                state = (self.state.but(done=done, updated_at=self.clock()), self._state_version)
        events = []
        for record in records:
            before = previous[record.name]
            old = str(before[0].status) if before else str(ResourceStatus.PENDING)
            if old != str(record.status):
                events.append(self.event(record.name, old, str(record.status), reason))
        try:
            written = self.fence.write(
                resources=[
                    (record, before[1] if (before := previous[record.name]) else None)
                    for record in records
                ],
                state=state,
                events=events,
            )
        except BaseException:
            if state is not None:
                with self._state_free:
                    self._unwritten += taken  # landed before: the next write carries it
                    self._state_busy = False
                    self._state_free.notify_all()
            # This write's own progress is counted only once it has landed (an unknown
            # outcome: load() counts the records again).
            raise
        with self._state_free:
            for record in records:
                self.records[record.name] = (record, written.resources[record.name])
            if state is not None:
                self.state, self._state_version = state[0], written.state or 0
                self._state_busy = False
                self._state_free.notify_all()
            else:
                self._unwritten += progress  # landed: the next state write carries it

    def remark(self, name: str, reason: str) -> None:
        """An event about a resource whose record does not change (its status stays)."""
        status = str(self.status(name))
        self.fence.write(events=[self.event(name, status, status, reason)])
