"""Builds in ZooKeeper: submitted in one transaction, once per Idempotency-Key.

:class:`BuildStore` is the store the API and the workers use: submitting is
here, every read is inherited from :class:`cool.store.reads.BuildReads`, and
a submit's Keystone trust is recorded by :class:`cool.store.trusts.TrustRecords`
(``BuildStore.trust_records``). Writes made while a worker owns a build go
through :mod:`cool.store.fence`; control requests through
:mod:`cool.store.control`.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import (
    KazooException,
    NodeExistsError,
    NoNodeError,
    RolledBackError,
)

from cool.errors import (
    BuildConflictError,
    BuildNameExistsError,
    BuildNotFoundError,
    BuildRequestInvalidError,
    IdempotencyKeyReusedError,
    StoreUnavailableError,
    SubmitOutcomeUnknownError,
)
from cool.model import BuildStatus, Plan
from cool.store import codec, sizes
from cool.store.client import NotConnectedError
from cool.store.layout import Layout, new_build_id
from cool.store.outcomes import UNAVAILABLE, unavailable_as_error
from cool.store.pending import ensure_shards
from cool.store.project_index import drop_if_empty
from cool.store.reads import PLAN_CACHE, BuildReads
from cool.store.records import BuildMeta, BuildSource, BuildState, Event
from cool.store.trusts import TrustRecords


@dataclass(frozen=True, slots=True)
class Idempotency:
    """An Idempotency-Key, as stored: digests only (the key is the caller's secret).

    ``key_digest`` names the entry (SHA-256 of user and key, so one user's key
    never finds another's build); ``request_digest`` tells a retry of the same
    request from a different request that reuses the key.
    """

    key_digest: str
    request_digest: str


class BuildStore(BuildReads):
    """Submits builds, and reads them back (:class:`BuildReads`)."""

    def __init__(
        self,
        client: KazooClient,
        layout: Layout,
        *,
        clock: Callable[[], float] = time.time,
        default_timeout_mins: int = 60,
        max_timeout_mins: int = 24 * 60,
    ) -> None:
        super().__init__(client, layout)
        self.clock = clock
        self.default_timeout_mins = default_timeout_mins
        self.max_timeout_mins = max_timeout_mins
        self.trust_records = TrustRecords(client, layout)
        # The state each new build was stored with, until asked for once (a submit's answer).
        self._states: OrderedDict[str, BuildState] = OrderedDict()

    def ensure_layout(self) -> None:
        """Create the deployment's top-level containers (idempotent)."""
        with unavailable_as_error():
            for path in self.layout.top_level():
                self.client.ensure_path(path)
        ensure_shards(self.client, self.layout)

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
        source: BuildSource | None = None,
        recipe: dict[str, Any] | None = None,
    ) -> BuildMeta:
        """Store a new build in one transaction: it exists completely or not at all.

        Every build has a deadline: ``timeout_mins`` (the deployment's default
        when None), at most the deployment's maximum. With ``idempotency``, a
        build already made with the same key is returned instead (see
        :meth:`submit_once`). A ``trust_id`` is held (:meth:`TrustRecords.hold`) first.
        """
        build_id = build_id or new_build_id()
        if trust_id:
            self.trust_records.hold(trust_id, build_id)
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
            source=source,
            recipe=recipe,
        )
        if created:
            self.stored_state(meta.build_id)  # nobody asks for it here
        return meta

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
        source: BuildSource | None = None,
        tags: tuple[str, ...] = (),
        recipe: dict[str, Any] | None = None,
    ) -> tuple[BuildMeta, bool]:
        """:meth:`submit`, and whether the build is new (False: the key's earlier build).

        The key's entry is created in the build's own transaction, so of two
        concurrent submits with one key exactly one makes a build; the other
        finds it. The same key with a different request is refused (422).
        ``trust_id`` is stored with a new build only: the caller deletes its
        trust when the answer is the key's earlier build. The trust must be held
        (:meth:`TrustRecords.hold`): the build's transaction removes that record, and
        fails whole if it is gone (the GC took the trust for an orphan).

        The build's name (its id when none is given) is taken in the same
        transaction: a live build of the project with that name fails it whole
        (:class:`BuildNameExistsError`, 409). The key's entry comes before the name
        in the transaction, so a retry that races its own first attempt finds the
        key taken first and gets the earlier build, never a 409. ``source`` (what
        the API shows back as the template, environment and files) is stored
        compressed in the same transaction; the whole is measured first and refused
        (413) if one ZooKeeper write could not carry it. So is ``recipe``, what a build
        that scales is compiled again from (cool.store.scaling.Recipe, as a dict).
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
            tags=tuple(tags),
        )
        layout = self.layout
        record = codec.dumps_compressed({"meta": meta.to_dict(), "plan": plan.to_dict()})
        source_record = (
            codec.dumps_compressed(
                source.to_dict(),
                what="the build's source (template, environment and files)",
                error=codec.BuildTooLargeError,
            )
            if source is not None
            else None
        )
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
        ]
        if source_record is not None:
            ops.append((layout.source(build_id), source_record, False))
        if recipe is not None:
            ops.append(
                (
                    layout.recipe(build_id),
                    codec.dumps_compressed(
                        recipe,
                        what="the build's recipe (template, parameters, environments, files)",
                        error=codec.BuildTooLargeError,
                    ),
                    False,
                )
            )
        parents = [
            layout.shard_path(build_id),
            layout.project_bucket(project_id, build_id),
            layout.pending_shard(layout.shard(build_id)),
            layout.names_project(project_id),
        ]
        key_at = None
        if idempotency is not None:
            entry = {"build_id": build_id, "request_digest": idempotency.request_digest}
            key_at = len(ops)
            ops.append(
                (
                    layout.idempotency_key(project_id, idempotency.key_digest),
                    codec.dumps(entry),
                    False,
                )
            )
            parents.append(layout.idempotency_project(project_id))
        name_at = len(ops)  # after the key: a replay's key is refused before its name
        name_entry = {"build_id": build_id, "name": meta.name}
        ops.append((layout.name(project_id, meta.name), codec.dumps(name_entry), False))
        # Last: a key or a name taken is the failure reported, not the index's time bucket
        # missing (made for a retry that would then fail on the name all the same, and
        # left empty).
        summary = {"name": meta.name, "created_at": now, "user_id": user_id, "tags": list(tags)}
        ops.append((layout.project_build(project_id, build_id), codec.dumps(summary), False))
        consumed = [layout.new_trust(trust_id)] if trust_id else []
        results, made_parents = self._create_all(ops, parents, deletes=consumed)
        failures = [r for r in results if isinstance(r, Exception)]
        if failures:
            if made_parents:
                # They include the build's time bucket in the project index: left
                # empty, it would cost every deeper page a read.
                with contextlib.suppress(KazooException):
                    drop_if_empty(self.client, [layout.project_bucket(project_id, build_id)])
            if consumed and isinstance(results[len(ops)], NoNodeError):
                raise StoreUnavailableError(
                    f"build {build_id} was not stored: its Keystone trust was taken for an "
                    "orphan (the submit took longer than [gc] unstored_trust_grace); "
                    "submit again"
                )
            if key_at is not None and isinstance(results[key_at], NodeExistsError):
                # A concurrent submit with the same key won the race: its build.
                earlier = self.idempotent_build(project_id, idempotency)
                if earlier is not None:
                    return earlier, False
                raise BuildConflictError(
                    "this Idempotency-Key names a build that no longer exists; use a new key"
                )
            if isinstance(results[name_at], NodeExistsError):
                holder = self.find_by_name(project_id, meta.name)
                raise BuildNameExistsError(
                    f"a build named {meta.name!r} exists already in this project"
                    + (f" ({holder})" if holder else "")
                    + ": names are unique among a project's builds until they are "
                    "DELETE_COMPLETE",
                    holder,
                )
            raise _first_cause(failures)
        with self._plans_lock:
            self._remember(build_id, meta, plan)
            self._states[build_id] = state
            while len(self._states) > PLAN_CACHE:
                self._states.popitem(last=False)
        return meta, True

    def _create_all(
        self, ops: list[tuple[str, bytes, bool]], parents: list[str], *, deletes: list[str]
    ) -> tuple[list[Any], bool]:
        """One transaction of creates (then ``deletes``), and whether parents were made
        for it: one round trip when the parents exist (once a shard, a project and
        ``pending`` have been used, they always do). A parent missing fails the
        transaction whole; then the parents are made and it is committed again:
        twice, as the GC removes a project's index bucket once it is empty, and one
        may go between the two."""
        attempts = 3
        for attempt in range(attempts):
            transaction = self.client.transaction()
            for path, data, sequence in ops:
                transaction.create(path, data, sequence=sequence)
            for path in deletes:
                transaction.delete(path)
            size = sizes.transaction_size(transaction.operations)
            if size > sizes.MAX_WRITE_BYTES:
                raise codec.BuildTooLargeError(
                    f"the build's records (plan and source) would be {size:,} bytes, over the "
                    f"{sizes.MAX_WRITE_BYTES:,} bytes one ZooKeeper write may carry; nothing "
                    "was stored"
                )
            results = self._commit_creating(transaction, ops[0][0])
            if attempt == attempts - 1 or not any(isinstance(r, NoNodeError) for r in results):
                return results, attempt > 0
            with unavailable_as_error():
                for parent in parents:  # empty parents are harmless if what follows fails
                    try:
                        self.client.ensure_path(parent)
                    except NoNodeError:
                        # The GC removed an emptied index bucket between ensure_path's
                        # steps: the next attempt makes it again.
                        break
        raise AssertionError("unreachable")

    def _commit_creating(self, transaction: Any, build_path: str) -> list[Any]:
        """Commit a build's creation. Not sent (no connection): unavailable, nothing
        stored. Sent, but no answer: the build may or may not exist, and may still
        appear (kazoo sends it again after a reconnection): said so, with its id."""
        try:
            return transaction.commit()
        except NotConnectedError as exc:
            raise StoreUnavailableError(f"ZooKeeper is unavailable: {exc}") from exc
        except UNAVAILABLE as exc:
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

    def stored_state(self, build_id: str) -> BuildState | None:
        """The state this process just stored a build with (once; then None): a submit's
        answer needs no read back."""
        with self._plans_lock:
            return self._states.pop(build_id, None)


def _first_cause(failures: list[Exception]) -> Exception:
    """The error that failed a transaction (the others are RolledBackError)."""
    for failure in failures:
        if isinstance(failure, RolledBackError):
            continue
        if isinstance(failure, UNAVAILABLE):
            return StoreUnavailableError(f"ZooKeeper is unavailable: {failure!r}")
        if isinstance(failure, NodeExistsError):
            return BuildConflictError("a build with this id exists already")
        return StoreUnavailableError(f"ZooKeeper refused the write: {failure!r}")
    return StoreUnavailableError(f"ZooKeeper refused the write: {failures[0]!r}")
