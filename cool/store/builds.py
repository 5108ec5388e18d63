"""Builds in ZooKeeper: submitted in one transaction, read back, listed.

Writes made while a worker owns a build go through :mod:`cool.store.fence`;
this module makes the writes nobody owns (submit, control requests) and
every read.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import (
    ConnectionLoss,
    NodeExistsError,
    NoNodeError,
    OperationTimeoutError,
    RolledBackError,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError

from cool.errors import (
    BuildConflictError,
    BuildNotFoundError,
    BuildRequestInvalidError,
    StoreUnavailableError,
)
from cool.model import BuildStatus, Plan
from cool.store import codec
from cool.store.layout import EVENT_PREFIX, Layout, is_build_id, new_build_id
from cool.store.records import Build, BuildMeta, BuildState, Event, ResourceRecord

_UNAVAILABLE = (
    ConnectionLoss,
    OperationTimeoutError,
    SessionExpiredError,
    KazooTimeoutError,
)
_PLAN_CACHE = 256  # plans never change: keep the most recently read ones


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """ZooKeeper trouble becomes StoreUnavailableError (the API's 503)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StoreUnavailableError(f"ZooKeeper is unavailable: {type(exc).__name__}") from exc


class BuildStore:
    def __init__(
        self,
        client: KazooClient,
        layout: Layout,
        *,
        clock: Callable[[], float] = time.time,
        default_timeout_mins: int = 60,
        max_timeout_mins: int = 24 * 60,
    ) -> None:
        self.client = client
        self.layout = layout
        self.clock = clock
        self.default_timeout_mins = default_timeout_mins
        self.max_timeout_mins = max_timeout_mins
        self._plans: OrderedDict[str, tuple[BuildMeta, Plan]] = OrderedDict()
        self._plans_lock = threading.Lock()

    def ensure_layout(self) -> None:
        """Create the deployment's top-level containers (idempotent)."""
        with unavailable_as_error():
            for path in self.layout.top_level():
                self.client.ensure_path(path)

    # -- submit ------------------------------------------------------------

    def submit(
        self,
        plan: Plan,
        *,
        project_id: str,
        user_id: str,
        name: str = "",
        timeout_mins: int | None = None,
        rollback: bool = True,
        request_id: str = "",
        build_id: str | None = None,
    ) -> BuildMeta:
        """Store a new build in one transaction: it exists completely or not at all.

        Every build has a deadline: ``timeout_mins`` (the deployment's default
        when None), at most the deployment's maximum.
        """
        if timeout_mins is None:
            timeout_mins = self.default_timeout_mins
        if isinstance(timeout_mins, bool) or not 1 <= timeout_mins <= self.max_timeout_mins:
            raise BuildRequestInvalidError(
                f"timeout_mins must be a whole number of minutes from 1 to "
                f"{self.max_timeout_mins}, not {timeout_mins!r}"
            )
        build_id = build_id or new_build_id()
        now = self.clock()
        meta = BuildMeta(
            build_id=build_id,
            project_id=project_id,
            user_id=user_id,
            name=name or build_id,
            created_at=now,
            deadline=now + timeout_mins * 60,
            timeout_mins=timeout_mins,
            rollback=rollback,
            request_id=request_id,
        )
        layout = self.layout
        record = codec.dumps_compressed({"meta": meta.to_dict(), "plan": plan.to_dict()})
        state = BuildState(
            BuildStatus.CREATE_QUEUED,
            reason="submitted",
            total=len(plan.resources),
            updated_at=now,
        )
        event = Event(
            at=now,
            resource=None,
            old=None,
            new=str(BuildStatus.CREATE_QUEUED),
            reason="submitted",
            request_id=request_id,
        )
        with unavailable_as_error():
            # Empty parents are harmless if the transaction then fails.
            self.client.ensure_path(layout.shard_path(build_id))
            self.client.ensure_path(layout.project(project_id))
            self.client.ensure_path(layout.pending)
            transaction = self.client.transaction()
            transaction.create(layout.build(build_id), record)
            transaction.create(layout.state(build_id), codec.dumps(state.to_dict()))
            transaction.create(layout.lease(build_id), b"")
            transaction.create(layout.control(build_id), b"")
            transaction.create(layout.resources(build_id), b"")
            transaction.create(layout.events(build_id), b"")
            transaction.create(
                layout.event_prefix(build_id), codec.dumps(event.to_dict()), sequence=True
            )
            transaction.create(layout.pending_build(build_id), b"")
            transaction.create(layout.project_build(project_id, build_id), b"")
            results = transaction.commit()
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            raise _first_cause(failures)
        with self._plans_lock:
            self._remember(build_id, meta, plan)
        return meta

    # -- reads -------------------------------------------------------------

    def _remember(self, build_id: str, meta: BuildMeta, plan: Plan) -> None:
        self._plans[build_id] = (meta, plan)
        self._plans.move_to_end(build_id)
        while len(self._plans) > _PLAN_CACHE:
            self._plans.popitem(last=False)

    def meta_and_plan(self, build_id: str) -> tuple[BuildMeta, Plan]:
        """The write-once part of a build (cached: it never changes)."""
        if not is_build_id(build_id):
            raise BuildNotFoundError(f"no build {build_id!r}")
        with self._plans_lock:
            cached = self._plans.get(build_id)
        if cached is not None:
            return cached
        with unavailable_as_error():
            try:
                data, _ = self.client.get(self.layout.build(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        stored = codec.loads(data)
        meta = BuildMeta.from_dict(stored["meta"])
        plan = Plan.from_dict(stored["plan"])
        with self._plans_lock:
            self._remember(build_id, meta, plan)
        return meta, plan

    def forget(self, build_id: str) -> None:
        """Drop a build's cached plan (its worker is done with it)."""
        with self._plans_lock:
            self._plans.pop(build_id, None)

    def state(self, build_id: str) -> tuple[BuildState, int]:
        """The current state and its znode version."""
        with unavailable_as_error():
            try:
                data, stat = self.client.get(self.layout.state(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return BuildState.from_dict(codec.loads(data)), stat.version

    def get(self, build_id: str) -> Build:
        meta, plan = self.meta_and_plan(build_id)
        state, _ = self.state(build_id)
        return Build(meta, plan, state)

    def resources(self, build_id: str) -> dict[str, tuple[ResourceRecord, int]]:
        """Every resource that has a recorded step, with its znode version."""
        path = self.layout.resources(build_id)
        out: dict[str, tuple[ResourceRecord, int]] = {}
        with unavailable_as_error():
            try:
                names = self.client.get_children(path)
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
            for name in sorted(names):
                try:
                    data, stat = self.client.get(f"{path}/{name}")
                except NoNodeError:
                    continue  # removed while listing (the build is being pruned)
                out[name] = (ResourceRecord.from_dict(codec.loads(data)), stat.version)
        return out

    def events(
        self, build_id: str, *, after: int | None = None, limit: int | None = None
    ) -> list[tuple[int, Event]]:
        """Events in order, each with its sequence number; ``after`` pages past one."""
        path = self.layout.events(build_id)
        with unavailable_as_error():
            try:
                children = self.client.get_children(path)
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
            numbered = sorted(
                (int(child[len(EVENT_PREFIX) :]), child)
                for child in children
                if child.startswith(EVENT_PREFIX)
            )
            if after is not None:
                numbered = [(n, c) for n, c in numbered if n > after]
            if limit is not None:
                numbered = numbered[:limit]
            out = []
            for number, child in numbered:
                try:
                    data, _ = self.client.get(f"{path}/{child}")
                except NoNodeError:
                    continue
                out.append((number, Event.from_dict(codec.loads(data))))
        return out

    def pending(self) -> list[str]:
        with unavailable_as_error():
            return sorted(
                c for c in self.client.get_children(self.layout.pending) if is_build_id(c)
            )

    def claimed(self) -> list[str]:
        with unavailable_as_error():
            return sorted(c for c in self.client.get_children(self.layout.claims) if is_build_id(c))

    def project_builds(self, project_id: str) -> list[str]:
        with unavailable_as_error():
            try:
                children = self.client.get_children(self.layout.project(project_id))
            except NoNodeError:
                return []
        return sorted((c for c in children if is_build_id(c)), reverse=True)

    def lease_data(self, build_id: str) -> tuple[dict[str, Any], int]:
        with unavailable_as_error():
            try:
                data, stat = self.client.get(self.layout.lease(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return codec.loads(data), stat.version


def _first_cause(failures: list[Exception]) -> Exception:
    """The error that failed a transaction (the others are RolledBackError)."""
    for failure in failures:
        if isinstance(failure, RolledBackError):
            continue
        if isinstance(failure, _UNAVAILABLE):
            return StoreUnavailableError(f"ZooKeeper is unavailable: {failure!r}")
        if isinstance(failure, NodeExistsError):
            return BuildConflictError("a build with this id exists already")
        return StoreUnavailableError(f"ZooKeeper refused the write: {failure!r}")
    return StoreUnavailableError(f"ZooKeeper refused the write: {failures[0]!r}")
