"""Builds in ZooKeeper: submitted in one transaction, read back, listed.

Writes made while a worker owns a build go through :mod:`cool.store.fence`;
this module makes the writes nobody owns (submit, control requests) and
every read.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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
    IdempotencyKeyReusedError,
    StoreUnavailableError,
    SubmitOutcomeUnknownError,
)
from cool.model import BuildStatus, Plan
from cool.store import codec
from cool.store.client import NotConnectedError
from cool.store.layout import EVENT_PREFIX, PROJECT_ID, Layout, is_build_id, new_build_id
from cool.store.records import Build, BuildMeta, BuildState, Event, ResourceRecord

_UNAVAILABLE = (
    ConnectionLoss,
    OperationTimeoutError,
    SessionExpiredError,
    KazooTimeoutError,
)
_PLAN_CACHE = 256  # plans never change: keep the most recently read ones
_IN_FLIGHT = 256  # pipelined reads outstanding at once


@dataclass(frozen=True, slots=True)
class Idempotency:
    """An Idempotency-Key, as stored: digests only (the key is the caller's secret).

    ``key_digest`` names the entry (SHA-256 of user and key, so one user's key
    never finds another's build); ``request_digest`` tells a retry of the same
    request from a different request that reuses the key.
    """

    key_digest: str
    request_digest: str


@dataclass(frozen=True, slots=True)
class Summary:
    """What a listing shows of a build without reading its (large) plan."""

    build_id: str
    project_id: str
    name: str
    created_at: float
    state: BuildState


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
        # The state each new build was stored with, until asked for once (a submit's answer).
        self._states: OrderedDict[str, BuildState] = OrderedDict()
        self._plans_lock = threading.Lock()

    def ensure_layout(self) -> None:
        """Create the deployment's top-level containers (idempotent)."""
        with unavailable_as_error():
            for path in self.layout.top_level():
                self.client.ensure_path(path)

    def ensure_reachable(self) -> None:
        """One round trip to ZooKeeper, or StoreUnavailableError."""
        with unavailable_as_error():
            self.client.exists(self.layout.root)

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
        idempotency: Idempotency | None = None,
        trust_id: str = "",
    ) -> BuildMeta:
        """Store a new build in one transaction: it exists completely or not at all.

        Every build has a deadline: ``timeout_mins`` (the deployment's default
        when None), at most the deployment's maximum. With ``idempotency``, a
        build already made with the same key is returned instead (see
        :meth:`submit_once`). A ``trust_id`` is held (:meth:`hold_trust`) first.
        """
        build_id = build_id or new_build_id()
        if trust_id:
            self.hold_trust(trust_id, build_id)
        meta, created = self.submit_once(
            plan,
            project_id=project_id,
            user_id=user_id,
            name=name,
            timeout_mins=timeout_mins,
            rollback=rollback,
            request_id=request_id,
            build_id=build_id,
            idempotency=idempotency,
            trust_id=trust_id,
        )
        if created:
            self.stored_state(meta.build_id)  # nobody asks for it here
        return meta

    def hold_trust(self, trust_id: str, build_id: str) -> None:
        """Record a Keystone trust just made for a submit, before the build that is to
        hold it is stored, so that it is never lost: if this process dies before the
        build is stored, the GC finds the record and deletes the trust. Storing the
        build removes the record in the build's own transaction
        (:meth:`submit_once`)."""
        record = codec.dumps({"build_id": build_id})  # when: the node's ctime
        with unavailable_as_error():
            self.client.create(self.layout.new_trust(trust_id), record, makepath=True)

    def release_trust(self, trust_id: str) -> None:
        """A held trust that no build will hold was deleted in Keystone: forget it."""
        with unavailable_as_error(), contextlib.suppress(NoNodeError):
            self.client.delete(self.layout.new_trust(trust_id))

    def submit_once(
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
        idempotency: Idempotency | None = None,
        trust_id: str = "",
    ) -> tuple[BuildMeta, bool]:
        """:meth:`submit`, and whether the build is new (False: the key's earlier build).

        The key's entry is created in the build's own transaction, so of two
        concurrent submits with one key exactly one makes a build; the other
        finds it. The same key with a different request is refused (422).
        ``trust_id`` is stored with a new build only: the caller deletes its
        trust when the answer is the key's earlier build. The trust must be held
        (:meth:`hold_trust`): the build's transaction removes that record, and
        fails whole if it is gone (the GC took the trust for an orphan).
        """
        if idempotency is not None:
            earlier = self.idempotent_build(project_id, idempotency)
            if earlier is not None:
                return earlier, False
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
            idempotency_digest=idempotency.key_digest if idempotency else "",
            trust_id=trust_id,
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
        ops: list[tuple[str, bytes, bool]] = [
            (layout.build(build_id), record, False),
            (layout.state(build_id), codec.dumps(state.to_dict()), False),
            (layout.lease(build_id), b"", False),
            (layout.control(build_id), b"", False),
            (layout.resources(build_id), b"", False),
            (layout.events(build_id), b"", False),
            (layout.event_prefix(build_id), codec.dumps(event.to_dict()), True),
            (layout.pending_build(build_id), b"", False),
            (
                layout.project_build(project_id, build_id),
                codec.dumps({"name": meta.name, "created_at": now, "user_id": user_id}),
                False,
            ),
        ]
        parents = [layout.shard_path(build_id), layout.project(project_id), layout.pending]
        if idempotency is not None:
            entry = {"build_id": build_id, "request_digest": idempotency.request_digest}
            ops.append(
                (
                    layout.idempotency_key(project_id, idempotency.key_digest),
                    codec.dumps(entry),
                    False,
                )
            )
            parents.append(layout.idempotency_project(project_id))
        consumed = [layout.new_trust(trust_id)] if trust_id else []
        results = self._create_all(ops, parents, deletes=consumed)
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            if consumed and isinstance(results[len(ops)], NoNodeError):
                raise StoreUnavailableError(
                    f"build {build_id} was not stored: its Keystone trust was taken for an "
                    "orphan (the submit took longer than [gc] unstored_trust_grace); "
                    "submit again"
                )
            if idempotency is not None and isinstance(results[len(ops) - 1], NodeExistsError):
                # A concurrent submit with the same key won the race: its build.
                earlier = self.idempotent_build(project_id, idempotency)
                if earlier is not None:
                    return earlier, False
                raise BuildConflictError(
                    "this Idempotency-Key names a build that no longer exists; use a new key"
                )
            raise _first_cause(failures)
        with self._plans_lock:
            self._remember(build_id, meta, plan)
            self._states[build_id] = state
            while len(self._states) > _PLAN_CACHE:
                self._states.popitem(last=False)
        return meta, True

    def _create_all(
        self, ops: list[tuple[str, bytes, bool]], parents: list[str], *, deletes: list[str]
    ) -> list[Any]:
        """One transaction of creates (then ``deletes``): one round trip when the
        parents exist (once a shard, a project and ``pending`` have been used, they
        always do). A parent missing fails the transaction whole; then the parents
        are made and it is committed again."""
        for attempt in range(2):
            transaction = self.client.transaction()
            for path, data, sequence in ops:
                transaction.create(path, data, sequence=sequence)
            for path in deletes:
                transaction.delete(path)
            results = self._commit_creating(transaction, ops[0][0])
            if attempt or not any(isinstance(r, NoNodeError) for r in results):
                return results
            with unavailable_as_error():
                for parent in parents:  # empty parents are harmless if what follows fails
                    self.client.ensure_path(parent)
        raise AssertionError("unreachable")

    def _commit_creating(self, transaction: Any, build_path: str) -> list[Any]:
        """Commit a build's creation. Not sent (no connection): unavailable, nothing
        stored. Sent, but no answer: the build may or may not exist, and may still
        appear (kazoo sends it again after a reconnection): said so, with its id."""
        try:
            return transaction.commit()
        except NotConnectedError as exc:
            raise StoreUnavailableError(f"ZooKeeper is unavailable: {exc}") from exc
        except _UNAVAILABLE as exc:
            build_id = build_path.rsplit("/", 1)[-1]
            raise SubmitOutcomeUnknownError(build_id) from exc

    def idempotent_build(self, project_id: str, idempotency: Idempotency) -> BuildMeta | None:
        """The build an Idempotency-Key made, if it still exists."""
        path = self.layout.idempotency_key(project_id, idempotency.key_digest)
        with unavailable_as_error():
            try:
                data, _ = self.client.get(path)
            except NoNodeError:
                return None
        entry = codec.loads(data)
        if entry.get("request_digest") != idempotency.request_digest:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key was used for a different request; use a new key "
                "for a new build"
            )
        try:
            meta, _ = self.meta_and_plan(entry["build_id"])
            self.state(meta.build_id)  # not cached: the build still exists now
        except BuildNotFoundError:
            return None  # its build was pruned while the entry was being read
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

    def stored_state(self, build_id: str) -> BuildState | None:
        """The state this process just stored a build with (once; then None): a submit's
        answer needs no read back."""
        with self._plans_lock:
            return self._states.pop(build_id, None)

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
        return self._events(build_id, after=after, limit=limit)

    def wait_events(
        self, build_id: str, *, after: int | None, limit: int | None, timeout_s: float
    ) -> list[tuple[int, Event]]:
        """:meth:`events`, waiting up to ``timeout_s`` for one if there is none yet.

        Woken by a ZooKeeper children watch on the build's events, not by
        polling; the watch is dropped from the client when the wait ends, so
        thousands of long-polls leave nothing behind.
        """
        deadline = time.monotonic() + timeout_s
        path = self.layout.events(build_id)
        while True:
            woken = threading.Event()

            def wake(_event: object, woken: threading.Event = woken) -> None:
                woken.set()

            try:
                found = self._events(build_id, after=after, limit=limit, watch=wake)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                woken.wait(remaining)
            finally:
                _forget_child_watch(self.client, path, wake)

    def _events(
        self,
        build_id: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        watch: Callable[[Any], None] | None = None,
    ) -> list[tuple[int, Event]]:
        path = self.layout.events(build_id)
        with unavailable_as_error():
            try:
                children = self.client.get_children(path, watch=watch)
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
        got = self._many("get", [f"{path}/{child}" for _, child in numbered])  # pipelined
        return [
            (number, Event.from_dict(codec.loads(item[0])))
            for (number, _), item in zip(numbered, got, strict=True)
            if item is not None
        ]

    def pending(self) -> list[str]:
        with unavailable_as_error():
            return sorted(
                c for c in self.client.get_children(self.layout.pending) if is_build_id(c)
            )

    def claimed(self) -> list[str]:
        with unavailable_as_error():
            return sorted(c for c in self.client.get_children(self.layout.claims) if is_build_id(c))

    def project_builds(self, project_id: str) -> list[str]:
        """A project's build ids, newest first (ULIDs sort by creation time)."""
        with unavailable_as_error():
            try:
                children = self.client.get_children(self.layout.project(project_id))
            except NoNodeError:
                return []
        return sorted((c for c in children if is_build_id(c)), reverse=True)

    def all_builds(self) -> list[tuple[str, str]]:
        """Every indexed build as (build id, project id), newest first."""
        projects = self.projects()
        listings = self._many("get_children", [self.layout.project(p) for p in projects])
        out = [
            (build_id, project)
            for project, children in zip(projects, listings, strict=True)
            for build_id in children or ()
            if is_build_id(build_id)
        ]
        out.sort(reverse=True)
        return out

    def projects(self) -> list[str]:
        with unavailable_as_error():
            try:
                children = self.client.get_children(self.layout.projects)
            except NoNodeError:
                return []
        return sorted(c for c in children if PROJECT_ID.fullmatch(c))

    def summaries(self, builds: Sequence[tuple[str, str]]) -> list[Summary]:
        """(build id, project id) pairs -> their summaries, pipelined; builds gone
        meanwhile (pruned) are left out."""
        layout = self.layout
        states = self._many("get", [layout.state(b) for b, _ in builds])
        entries = self._many("get", [layout.project_build(p, b) for b, p in builds])
        out = []
        for (build_id, project_id), state, entry in zip(builds, states, entries, strict=True):
            if state is None:
                continue
            summary = codec.loads(entry[0]) if entry is not None else {}
            if "name" not in summary:  # an index entry from before summaries
                try:
                    meta, _ = self.meta_and_plan(build_id)
                except BuildNotFoundError:
                    continue
                summary = {"name": meta.name, "created_at": meta.created_at}
            out.append(
                Summary(
                    build_id=build_id,
                    project_id=project_id,
                    name=summary["name"],
                    created_at=summary["created_at"],
                    state=BuildState.from_dict(codec.loads(state[0])),
                )
            )
        return out

    def _many(self, method: str, paths: Sequence[str]) -> list[Any]:
        """``client.<method>_async`` over many paths, pipelined; None where there is no node."""
        call: Callable[[str], Any] = getattr(self.client, f"{method}_async")
        out: list[Any] = []
        with unavailable_as_error():
            for start in range(0, len(paths), _IN_FLIGHT):
                pending = [call(path) for path in paths[start : start + _IN_FLIGHT]]
                for async_result in pending:
                    try:
                        out.append(async_result.get())
                    except NoNodeError:
                        out.append(None)
        return out

    def lease_data(self, build_id: str) -> tuple[dict[str, Any], int]:
        with unavailable_as_error():
            try:
                data, stat = self.client.get(self.layout.lease(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return codec.loads(data), stat.version


def _forget_child_watch(client: Any, path: str, watch: Callable[[Any], None]) -> None:
    """Drop a one-shot children watch that has not fired (kazoo keeps it until it does).

    kazoo files watches under the full server path, its chroot included.
    """
    raw = getattr(client, "raw", client)
    watchers = getattr(raw, "_child_watchers", None)
    if watchers is None:
        return
    full = (raw.chroot or "") + path
    found = watchers.get(full) if hasattr(watchers, "get") else None
    if found is None:
        return
    found.discard(watch)
    if not found:
        with contextlib.suppress(KeyError):
            if not watchers[full]:
                del watchers[full]


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
