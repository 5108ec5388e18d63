"""Pruning finished builds: which to prune, and deleting one safely (DESIGN.md section 7).

Three parts, each usable alone:

- :meth:`Pruner.finished` lists finished builds (terminal, not pending, not
  claimed) shard by shard, a few shards per round of pipelined reads, so a
  backlog of 100,000 builds never means one giant ``get_children``.
- :func:`decide` is pure: given the finished builds, the time and the
  limits, which go and why (older than ``retention``, or evicted, oldest
  first, above ``max_finished``).
- :meth:`Pruner.prune` deletes a batch of builds: each build's whole
  subtree (children first) and its index entry, in multi-op transactions
  that re-check, for every build in them, that it is still the finished
  build that was listed. A build that moved on in between is refused, never
  touched. A batch is one transaction as long as it fits
  :data:`MAX_TRANSACTION_BYTES`; a single build bigger than that (thousands
  of events) has its events deleted ahead in guarded chunks, and the rest in
  one last transaction. A build's Keystone trust id, if it has one, is
  written under ``Layout.trusts`` in that same last transaction, for the GC
  to delete in Keystone (:meth:`Pruner.waiting_trusts`, :meth:`Pruner.forget_trust`).

:class:`Leadership` is the GC election (kazoo's ``Lock`` recipe on
``Layout.gc_election``): one worker prunes at a time, and another takes over
when it stops or its session ends. Leadership is for efficiency only; safety
never depends on it, because every transaction re-checks its builds. A
leader's transactions also check that its election node still exists, so a
leader whose session ended writes nothing more.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    ConnectionLoss,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    OperationTimeoutError,
    RolledBackError,
    SessionExpiredError,
)
from kazoo.handlers.threading import KazooTimeoutError

from cool.errors import CoolError, StoreUnavailableError
from cool.model import BuildStatus
from cool.store import codec
from cool.store.builds import unavailable_as_error
from cool.store.layout import SHARD, IdInvalidError, Layout, is_build_id, is_trust_id
from cool.store.records import BuildMeta, BuildState

LOG = logging.getLogger(__name__)

_UNKNOWN_OUTCOME = (ConnectionLoss, OperationTimeoutError, KazooTimeoutError, SessionExpiredError)
_IN_FLIGHT = 256  # pipelined reads outstanding at once
SHARDS_PER_ROUND = 16  # shards listed per round of pipelined reads
# ZooKeeper refuses a request over jute.maxbuffer (1 MiB): a transaction's
# paths stay well below that (a typical build is ~15 ops of ~90 bytes).
MAX_TRANSACTION_BYTES = 256 * 1024
_OP_OVERHEAD_BYTES = 16


class Reason(StrEnum):
    RETENTION = "older than retention"
    EVICTED = "evicted: over max_finished"


@dataclass(frozen=True, slots=True)
class FinishedBuild:
    """A finished build as listed: ``version`` is its state znode's version then."""

    build_id: str
    finished_at: float  # the state's updated_at: when it finished
    status: BuildStatus
    version: int = -1


class Verdict(NamedTuple):
    build_id: str
    reason: Reason


def decide(
    builds: Iterable[FinishedBuild], *, now: float, retention_s: float, max_finished: int
) -> list[Verdict]:
    """Which finished builds go, oldest first, and why. Pure: no I/O.

    Older than ``retention_s`` (counted from when they finished) goes; of the
    rest, all but the ``max_finished`` most recently finished go. A build
    that is not terminal is never chosen, whatever it is given as.
    """
    ordered = sorted(
        (b for b in builds if b.status.is_terminal), key=lambda b: (b.finished_at, b.build_id)
    )
    cutoff = now - retention_s
    expired = [b for b in ordered if b.finished_at < cutoff]
    kept = [b for b in ordered if b.finished_at >= cutoff]
    evicted = kept[: max(len(kept) - max(max_finished, 0), 0)]
    return [Verdict(b.build_id, Reason.RETENTION) for b in expired] + [
        Verdict(b.build_id, Reason.EVICTED) for b in evicted
    ]


@dataclass(frozen=True, slots=True)
class Refusal:
    build_id: str
    why: str


@dataclass(slots=True)
class PruneResult:
    """What one :meth:`Pruner.prune` call did."""

    pruned: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    projects: dict[str, str | None] = field(default_factory=dict)
    transactions: int = 0
    largest_transaction: int = 0  # builds deleted together, at most
    deeper: set[str] = field(default_factory=set)  # to plan again, listed to the bottom


class LeadershipLostError(CoolError):
    """This process no longer holds the GC election: it must stop pruning."""

    code = "cool.gc.leadership_lost"


@dataclass(frozen=True, slots=True)
class _Op:
    kind: str  # "check", "create" or "delete"
    path: str
    version: int = -1
    why: str = ""  # what it means if this op is refused
    data: bytes = b""  # what a create writes


@dataclass(slots=True)
class _Doomed:
    """One build ready to go: the guards that re-check it and every delete, in order."""

    build_id: str
    guards: list[_Op]
    body: list[_Op]  # the subtree below the build, deepest first, but state and lease
    tail: list[_Op]  # state and lease (what the guards check), the index entry, the build
    deep: bool = False  # listed to the bottom, not only where the layout puts children


class Pruner:
    """The store side of garbage collection, for one deployment's tree."""

    def __init__(
        self,
        client: KazooClient,
        layout: Layout,
        *,
        max_transaction_bytes: int = MAX_TRANSACTION_BYTES,
    ) -> None:
        self.client = client
        self.layout = layout
        self.max_transaction_bytes = max_transaction_bytes

    # -- listing --------------------------------------------------------------

    def finished(
        self, *, shards_per_round: int = SHARDS_PER_ROUND
    ) -> Iterator[list[FinishedBuild]]:
        """Finished builds, a few shards at a time (each list holds those of some shards).

        Only advisory: what is listed may change before it is pruned, and
        :meth:`prune` re-checks everything in its transaction.
        """
        layout = self.layout
        with unavailable_as_error():
            try:
                shards = sorted(
                    s for s in self.client.get_children(layout.builds) if SHARD.fullmatch(s)
                )
            except NoNodeError:
                return
            # Snapshots: a build pending or claimed now is skipped this pass.
            busy = set(self._children(layout.pending)) | set(self._children(layout.claims))
        for start in range(0, len(shards), shards_per_round):
            group = shards[start : start + shards_per_round]
            with unavailable_as_error():
                listings = self._many("get_children", [layout.shard_dir(s) for s in group])
                build_ids = [
                    child
                    for shard, children in zip(group, listings, strict=True)
                    for child in children or ()
                    if is_build_id(child) and layout.shard(child) == shard
                ]
                candidates = [b for b in build_ids if b not in busy]
                states = self._many("get", [layout.state(b) for b in candidates])
            out: list[FinishedBuild] = []
            for build_id, got in zip(candidates, states, strict=True):
                if got is None:
                    continue  # half written, or pruned meanwhile
                data, stat = got
                try:
                    state = BuildState.from_dict(codec.loads(data))
                except (CoolError, KeyError, ValueError, TypeError) as exc:
                    LOG.warning("build %s: unreadable state, not pruned: %s", build_id, exc)
                    continue
                if not state.status.is_terminal:
                    continue
                finished_at = state.updated_at or stat.mtime / 1000.0
                out.append(FinishedBuild(build_id, finished_at, state.status, stat.version))
            yield out

    def projects(self, build_ids: Sequence[str]) -> dict[str, str | None]:
        """Each build's project (None when its record is gone or unreadable)."""
        with unavailable_as_error():
            records = self._many("get", [self.layout.build(b) for b in build_ids])
        metas = {
            build_id: _meta(build_id, got[0] if got else None)
            for build_id, got in zip(build_ids, records, strict=True)
        }
        return {build_id: meta.project_id if meta else None for build_id, meta in metas.items()}

    # -- pruning --------------------------------------------------------------

    def prune(
        self, builds: Sequence[FinishedBuild], *, guard_path: str | None = None
    ) -> PruneResult:
        """Delete these builds if each is still exactly the finished build listed.

        Normally one transaction for the whole batch (keep batches small:
        ``[gc] batch_size``). ``guard_path`` is the leader's election node:
        every transaction checks it still exists, and if it does not,
        :class:`LeadershipLostError` is raised and nothing more is written.
        """
        result = PruneResult()
        self._commit_all(self._plan(builds, result, deep=False), guard_path, result)
        if result.deeper:
            # Nodes below where cool writes them: list those builds to the bottom.
            again = [b for b in builds if b.build_id in result.deeper]
            result.deeper = set()
            self._commit_all(self._plan(again, result, deep=True), guard_path, result)
        return result

    def _commit_all(
        self, doomed: list[_Doomed], guard_path: str | None, result: PruneResult
    ) -> None:
        """As few transactions as fit the budget; a build too big for one goes alone."""
        budget = self._budget(guard_path)
        group: list[_Doomed] = []
        size = 0
        for build in doomed:
            cost = self._cost(build.guards + build.body + build.tail)
            if cost > budget:
                self._commit_alone(build, guard_path, result)
                continue
            if group and size + cost > budget:
                self._commit_group(group, guard_path, result)
                group, size = [], 0
            group.append(build)
            size += cost
        self._commit_group(group, guard_path, result)

    def _plan(
        self, builds: Sequence[FinishedBuild], result: PruneResult, *, deep: bool
    ) -> list[_Doomed]:
        """Read each build afresh; the ones still finished, with their ops.

        Reads are what a pass spends its time on, so they are few: the state
        (still the version listed, still terminal), the lease's version, the
        record (for the project), the index entry, and the subtree. Not
        ``deep``, the subtree is listed where the layout puts children (the
        build, and its children but state, lease and control); a node found
        deeper refuses the transaction (NotEmpty) and the build is planned
        again, ``deep``, listed to the bottom.
        """
        layout = self.layout
        ids = [b.build_id for b in builds]
        with unavailable_as_error():
            states = self._many("get", [layout.state(b) for b in ids])
            leases = self._many("exists", [layout.lease(b) for b in ids])
            records = self._many("get", [layout.build(b) for b in ids])
        ready: list[tuple[FinishedBuild, int, BuildMeta | None]] = []
        for build, state, lease, record in zip(builds, states, leases, records, strict=True):
            meta = _meta(build.build_id, record[0] if record else None)
            result.projects[build.build_id] = meta.project_id if meta else None
            why = _still_finished(build, state, lease)
            if why:
                result.refused.append(Refusal(build.build_id, why))
                LOG.info("build %s: not pruned: %s", build.build_id, why)
                continue
            ready.append((build, lease.version, meta))
        index_paths = [_index_path(layout, meta, build.build_id) for build, _, meta in ready]
        key_paths = [_idempotency_path(layout, meta) for _, _, meta in ready]
        roots = [layout.build(build.build_id) for build, _, _ in ready]
        trust_paths = [_trust_path(layout, meta, build.build_id) for build, _, meta in ready]
        with unavailable_as_error():
            if any(trust_paths):
                self.client.ensure_path(layout.trusts)
            listed = [p for p in index_paths + key_paths if p is not None]
            indexed = {
                p for p, stat in zip(listed, self._many("exists", listed), strict=True) if stat
            }
            if deep:
                subtrees = self._subtrees(roots)
            else:
                subtrees = self._shallow_subtrees([build.build_id for build, _, _ in ready])
        doomed = []
        for (build, lease_version, _), index_path, key_path, trust_path, nodes in zip(
            ready, index_paths, key_paths, trust_paths, subtrees, strict=True
        ):
            build_id = build.build_id
            state_path, lease_path = layout.state(build_id), layout.lease(build_id)
            pending_path = layout.pending_build(build_id)
            guards = [
                _Op("check", state_path, build.version, "its state changed since it was listed"),
                # Claiming bumps the lease: a build claimed since is refused. (A
                # claim needs the pending entry too, which the next two ops refuse.)
                _Op("check", lease_path, lease_version, "it was claimed since it was listed"),
                # ZooKeeper has no "check that a node does not exist": creating the
                # pending entry and deleting it again in the same transaction is one,
                # atomically. The create fails if the build is pending (again), which
                # refuses the whole transaction. It fires a children watch on
                # pending once per transaction: workers re-read the list, nothing more.
                _Op("create", pending_path, why="it is pending again"),
                _Op("delete", pending_path, why="it is pending again"),
            ]
            keep_last = {state_path, lease_path, layout.build(build_id)}
            why = "it changed while being pruned"
            body = [_Op("delete", p, why=why) for p in reversed(nodes) if p not in keep_last]
            tail = [_Op("delete", state_path, why=why), _Op("delete", lease_path, why=why)]
            if index_path in indexed:
                tail.append(_Op("delete", index_path, why="its index entry changed"))
            if key_path in indexed:
                tail.append(_Op("delete", key_path, why="its Idempotency-Key entry changed"))
            if trust_path is not None:
                # Handed to the GC's trust deletion in the same transaction: never lost.
                tail.append(
                    _Op(
                        "create",
                        trust_path,
                        why="its trust is already waiting to be deleted",
                        data=codec.dumps({"build_id": build_id}),
                    )
                )
            tail.append(_Op("delete", layout.build(build_id), why=why))
            doomed.append(_Doomed(build_id, guards, body, tail, deep=deep))
        return doomed

    def _subtrees(self, roots: Sequence[str]) -> list[list[str]]:
        """Each root's nodes in breadth-first order (so reversed, children come first)."""
        trees: list[list[str]] = [[root] for root in roots]
        frontier = [(i, root) for i, root in enumerate(roots)]
        while frontier:
            listings = self._many("get_children", [path for _, path in frontier])
            nxt = []
            for (i, path), children in zip(frontier, listings, strict=True):
                for child in sorted(children or ()):
                    child_path = f"{path}/{child}"
                    trees[i].append(child_path)
                    nxt.append((i, child_path))
            frontier = nxt
        return trees

    def _shallow_subtrees(self, build_ids: Sequence[str]) -> list[list[str]]:
        """Like :meth:`_subtrees`, listing only where the layout puts children."""
        layout = self.layout
        roots = [layout.build(b) for b in build_ids]
        trees: list[list[str]] = [[root] for root in roots]
        frontier: list[tuple[int, str]] = []
        for i, children in enumerate(self._many("get_children", roots)):
            build_id = build_ids[i]
            leaves = {layout.state(build_id), layout.lease(build_id), layout.control(build_id)}
            for child in sorted(children or ()):
                path = f"{roots[i]}/{child}"
                trees[i].append(path)
                if path not in leaves:
                    frontier.append((i, path))
        listings = self._many("get_children", [path for _, path in frontier])
        for (i, path), children in zip(frontier, listings, strict=True):
            trees[i] += [f"{path}/{child}" for child in sorted(children or ())]
        return trees

    def _commit_group(
        self, group: list[_Doomed], guard_path: str | None, result: PruneResult
    ) -> None:
        """One transaction for the group; a build that refuses it is dropped, and again."""
        while group:
            ops: list[tuple[_Op, _Doomed | None]] = []
            for build in group:
                ops += [(op, build) for op in build.guards]
            for build in group:
                ops += [(op, build) for op in build.body + build.tail]
            refused = self._commit(ops, guard_path, result)
            if refused is None:
                result.pruned += [b.build_id for b in group]
                result.largest_transaction = max(result.largest_transaction, len(group))
                return
            group = [b for b in group if b is not refused]

    def _commit_alone(self, build: _Doomed, guard_path: str | None, result: PruneResult) -> None:
        """A build too big for one transaction: its history first, in guarded chunks.

        Only events are deleted ahead (every chunk carries the build's guards,
        so only while the build is still the finished one listed). Everything
        else, resource records above all, goes in one last transaction with
        the state: a build that is asked to be deleted half way still has every
        record its teardown needs, and is never left without the nodes that
        list it. A chunk that fails leaves a finished build with less history;
        the next pass finishes the job.
        """
        history = self.layout.events(build.build_id) + "/"
        budget = self._budget(guard_path) - self._cost(build.guards)
        chunks: list[list[_Op]] = [[]]
        for op in build.body:
            if not op.path.startswith(history):
                continue
            if chunks[-1] and self._cost([*chunks[-1], op]) > budget:
                chunks.append([])
            chunks[-1].append(op)
        # Whole, even over the budget (the budget is a quarter of ZooKeeper's limit;
        # [template] max_resources keeps this well below it).
        chunks.append([op for op in build.body if not op.path.startswith(history)] + build.tail)
        for chunk in chunks:
            ops: list[tuple[_Op, _Doomed | None]] = [(op, build) for op in build.guards + chunk]
            if chunk and self._commit(ops, guard_path, result) is not None:
                return
        result.pruned.append(build.build_id)
        result.largest_transaction = max(result.largest_transaction, 1)

    def _commit(
        self, ops: list[tuple[_Op, _Doomed | None]], guard_path: str | None, result: PruneResult
    ) -> _Doomed | None:
        """Commit; None if done, else the build whose op refused it (recorded as refused)."""
        if guard_path is not None:
            ops = [(_Op("check", guard_path, -1, "leadership lost"), None), *ops]
        transaction = self.client.transaction()
        for op, _ in ops:
            if op.kind == "check":
                transaction.check(op.path, op.version)
            elif op.kind == "create":
                transaction.create(op.path, op.data)
            else:
                transaction.delete(op.path)
        try:
            results = transaction.commit()
        except _UNKNOWN_OUTCOME as exc:
            # Applied or not: either way safe, and the next pass lists afresh.
            raise StoreUnavailableError(
                f"ZooKeeper is unavailable while pruning: {type(exc).__name__}"
            ) from exc
        result.transactions += 1
        position, failure = next(
            (
                (i, r)
                for i, r in enumerate(results)
                if isinstance(r, Exception) and not isinstance(r, RolledBackError)
            ),
            (None, None),
        )
        if position is None:
            if any(isinstance(r, Exception) for r in results):
                raise StoreUnavailableError(f"ZooKeeper refused a prune: {results!r}")
            return None
        op, build = ops[position]
        if build is None:
            raise LeadershipLostError("the GC election node is gone: no longer the leader")
        if isinstance(failure, NotEmptyError) and not build.deep:
            result.deeper.add(build.build_id)  # planned again, listed to the bottom
            return build
        why = op.why if isinstance(failure, _EXPECTED_REFUSALS) else f"{op.why}: {failure!r}"
        result.refused.append(Refusal(build.build_id, why))
        LOG.info("build %s: not pruned: %s (%s)", build.build_id, why, type(failure).__name__)
        return build

    def _budget(self, guard_path: str | None) -> int:
        guard = self._cost([_Op("check", guard_path)]) if guard_path else 0
        return self.max_transaction_bytes - guard

    def _cost(self, ops: Iterable[_Op]) -> int:
        chroot = len(self.client.chroot or "")
        return sum(len(op.path.encode()) + chroot + _OP_OVERHEAD_BYTES for op in ops)

    # -- trusts of pruned builds ---------------------------------------------

    def waiting_trusts(self) -> list[str]:
        """Trust ids of pruned builds that Keystone has not been seen to delete yet."""
        with unavailable_as_error():
            return sorted(self._children(self.layout.trusts))

    def forget_trust(self, trust_id: str) -> None:
        """Keystone deleted it (or never had it): stop trying."""
        with unavailable_as_error(), contextlib.suppress(NoNodeError):
            self.client.delete(self.layout.trust(trust_id))

    def orphan_new_trusts(self, *, made_before: float, guard_path: str | None = None) -> list[str]:
        """Hand the trusts of submits whose build was never stored (their cool-api died,
        or ZooKeeper lost the build's answer) to the trust deletion: every record under
        ``Layout.new_trusts`` made before ``made_before`` (a Unix time, against the
        record's ZooKeeper ctime) moves to ``Layout.trusts``; the ids moved.

        Each move removes the record at the version read, in one transaction with
        the create: the build's own transaction, which removes the same record, can
        then never commit, so no stored build ever holds a trust deleted as an orphan.
        """
        layout = self.layout
        with unavailable_as_error():
            names = [n for n in self._children(layout.new_trusts) if is_trust_id(n)]
            records = self._many("get", [layout.new_trust(n) for n in names])
        old = [
            (name, record)
            for name, record in zip(names, records, strict=True)
            if record is not None and record[1].ctime / 1000 < made_before
        ]
        moved = []
        if old:
            with unavailable_as_error():
                self.client.ensure_path(layout.trusts)
        for name, (data, stat) in old:
            transaction = self.client.transaction()
            if guard_path is not None:
                transaction.check(guard_path, -1)
            transaction.delete(layout.new_trust(name), stat.version)
            transaction.create(layout.trust(name), data)
            try:
                results = transaction.commit()
            except _UNKNOWN_OUTCOME as exc:
                raise StoreUnavailableError(
                    f"ZooKeeper is unavailable while moving trusts: {type(exc).__name__}"
                ) from exc
            if not any(isinstance(r, Exception) for r in results):
                moved.append(name)
                LOG.warning(
                    "trust %s was made for build %s, which was never stored: to be deleted",
                    name,
                    _held_for(data),
                )
            elif guard_path is not None and isinstance(results[0], NoNodeError):
                raise LeadershipLostError("the GC election was lost while moving trusts")
            elif isinstance(results[-1], NodeExistsError):  # waiting already: the record goes
                with unavailable_as_error(), contextlib.suppress(NoNodeError, BadVersionError):
                    self.client.delete(layout.new_trust(name), stat.version)
            # else: the build's own transaction took the record in between (it holds the trust)
        return moved

    # -- reads ----------------------------------------------------------------

    def _children(self, path: str) -> list[str]:
        try:
            return self.client.get_children(path)
        except NoNodeError:
            return []

    def _many(self, method: str, paths: Sequence[str]) -> list[Any]:
        """``client.<method>_async`` over many paths, pipelined; None where there is no node."""
        call: Callable[[str], Any] = getattr(self.client, f"{method}_async")
        out: list[Any] = []
        for start in range(0, len(paths), _IN_FLIGHT):
            pending = [call(path) for path in paths[start : start + _IN_FLIGHT]]
            for async_result in pending:
                try:
                    out.append(async_result.get())
                except NoNodeError:
                    out.append(None)
        return out


_EXPECTED_REFUSALS = (BadVersionError, NodeExistsError, NoNodeError, NotEmptyError)


def _still_finished(build: FinishedBuild, state: Any, lease: Any) -> str:
    """Why a build must not be pruned now ("" if it may, as far as reads can tell)."""
    if state is None or lease is None:
        return "it is gone or incomplete"
    data, stat = state
    if stat.version != build.version:
        return "its state changed since it was listed"
    try:
        status = BuildState.from_dict(codec.loads(data)).status
    except (CoolError, KeyError, ValueError, TypeError):
        return "its state is unreadable"
    if not status.is_terminal:
        return f"it is {status}, not finished"
    return ""


def _meta(build_id: str, record: bytes | None) -> BuildMeta | None:
    if record is None:
        return None
    try:
        return BuildMeta.from_dict(codec.loads(record)["meta"])
    except (CoolError, KeyError, TypeError, ValueError) as exc:
        LOG.warning("build %s: unreadable record, its index entries stay: %s", build_id, exc)
        return None


def _index_path(layout: Layout, meta: BuildMeta | None, build_id: str) -> str | None:
    if meta is None:
        return None
    try:
        return layout.project_build(meta.project_id, build_id)
    except IdInvalidError:
        return None


def _idempotency_path(layout: Layout, meta: BuildMeta | None) -> str | None:
    if meta is None or not meta.idempotency_digest:
        return None
    try:
        return layout.idempotency_key(meta.project_id, meta.idempotency_digest)
    except IdInvalidError:
        return None


def _trust_path(layout: Layout, meta: BuildMeta | None, build_id: str) -> str | None:
    if meta is None or not meta.trust_id:
        return None
    try:
        return layout.trust(meta.trust_id)
    except IdInvalidError:
        LOG.warning("build %s: trust id %r is not one, left in Keystone", build_id, meta.trust_id)
        return None


def _held_for(record: bytes) -> str:
    """The build a held trust was made for (what :meth:`BuildStore.hold_trust` wrote)."""
    try:
        return str(codec.loads(record)["build_id"])
    except (CoolError, KeyError, TypeError, ValueError):
        return "(unknown)"


def znode_count(client: KazooClient) -> int | None:
    """``zk_znode_count`` from the server's ``mntr`` (None if it does not tell).

    The count is the whole server's, every deployment's root included; ``mntr``
    must be in the server's ``4lw.commands.whitelist``.
    """
    try:
        reply = client.command(b"mntr")
    except (KazooException, OSError) as exc:
        LOG.debug("mntr failed: %s", exc)
        return None
    for line in reply.splitlines():
        name, _, value = line.partition("\t")
        if name == "zk_znode_count":
            try:
                return int(value.strip())
            except ValueError:
                return None
    return None
