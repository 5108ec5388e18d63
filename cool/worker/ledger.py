"""What the owner of a build knows is recorded, and every write it makes.

The ledger holds the build's state and each resource's record with their
znode versions, and writes through the claim's fence, one transaction at a
time (steps run in parallel; their writes do not need to).
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
        self.state = BuildState(BuildStatus.CREATE_QUEUED)
        self._state_version = 0
        self.records: dict[str, tuple[ResourceRecord, int]] = {}
        self.finished = False  # the terminal state is written: nothing more to do
        # The control node's version that the runner last read (None: never read):
        # the final write checks it, so a request that came since is not lost.
        self.control_version: int | None = None

    def load(self) -> None:
        """Read back everything recorded (at the start, or after an uncertain write)."""
        with self._lock:
            self.state, self._state_version = self.store.state(self.build_id)
            self.records = self.store.resources(self.build_id)

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

    def transition(self, status: BuildStatus, reason: str, **changes: Any) -> None:
        """A new build status, recorded with its event."""
        with self._lock:
            old = self.state.status
            state = self.state.but(status=status, reason=reason, updated_at=self.clock(), **changes)
            written = self.fence.write(
                state=(state, self._state_version),
                events=[self.event(None, str(old), str(status), reason)],
            )
            self.state, self._state_version = state, written.state or 0
        LOG.info("build %s: %s -> %s (%s)", self.build_id, old, status, reason)

    def finish(self, status: BuildStatus, reason: str, **changes: Any) -> BuildStatus:
        """Terminal state, note, outputs, out of pending, claim released: one transaction,
        refused if a cancel or delete request came after :attr:`control_version`."""
        with self._lock:
            old = self.state.status
            state = self.state.but(status=status, reason=reason, updated_at=self.clock(), **changes)
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
        with self._lock:
            previous = self.records.get(record.name)
            old = str(previous[0].status) if previous else str(ResourceStatus.PENDING)
            state = None
            if progress:
                new_state = self.state.but(done=self.state.done + progress, updated_at=self.clock())
                state = (new_state, self._state_version)
            changed = old != str(record.status)
            written = self.fence.write(
                resources=[(record, previous[1] if previous else None)],
                state=state,
                events=[self.event(record.name, old, str(record.status), reason)]
                if changed
                else [],
            )
            self.records[record.name] = (record, written.resources[record.name])
            if state is not None:
                self.state, self._state_version = state[0], written.state or 0
        return record

    def remark(self, name: str, reason: str) -> None:
        """An event about a resource whose record does not change (its status stays)."""
        with self._lock:
            status = str(self.status(name))
            self.fence.write(events=[self.event(name, status, status, reason)])
