"""Pruning finished builds: listing them, and deleting them safely (DESIGN.md section 7).

Which builds go is the retention policy's (:func:`cool.store.retention.decide`);
the GC (:mod:`cool.gc`) runs the passes, as the leader of the election in
:mod:`cool.store.election`. Here:

- :meth:`Pruner.finished` lists finished builds (terminal, not pending, not
  claimed) shard by shard, a few shards per round of pipelined reads, so a
  backlog of 100,000 builds never means one giant ``get_children``.
- :meth:`Pruner.prune` deletes a batch of builds: each build's whole
  subtree (children first) and its index entry, in multi-op transactions
  that re-check, for every build in them, that it is still the finished
  build that was listed (the ops are planned in :mod:`cool.store.deletion`).
  A build that moved on in between is refused, never touched. A batch is
  one transaction as long as it fits :data:`MAX_TRANSACTION_BYTES`; a single
  build bigger than that (thousands of events) has its events deleted ahead
  in guarded chunks (and its resource records too, those that do not fit),
  and the rest in one last transaction. A build's
  Keystone trust id, if it has one, is written under ``Layout.trusts`` in
  that same last transaction, for the GC to delete in Keystone
  (:mod:`cool.store.trusts`).

Leadership is for efficiency only; safety never depends on it, because every
transaction re-checks its builds. Given the leader's election node
(``guard_path``), every transaction also checks that it still exists, so a
leader whose session ended writes nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from kazoo.client import KazooClient
from kazoo.exceptions import (
    BadVersionError,
    KazooException,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
)

from cool.errors import CoolError, LeadershipLostError, StoreUnavailableError
from cool.store import codec
from cool.store.deletion import Doomed, Op, Refusal, plan_deletes, read_meta
from cool.store.layout import SHARD, Layout, is_build_id
from cool.store.outcomes import UNAVAILABLE, unavailable_as_error
from cool.store.pending import all_pending
from cool.store.pipelined import children, many
from cool.store.project_index import drop_if_empty
from cool.store.records import BuildState
from cool.store.retention import FinishedBuild

LOG = logging.getLogger(__name__)

SHARDS_PER_ROUND = 16  # shards listed per round of pipelined reads
# ZooKeeper refuses a request over jute.maxbuffer (1 MiB): a transaction's
# paths stay well below that (a typical build is ~15 ops of ~90 bytes).
MAX_TRANSACTION_BYTES = 256 * 1024
_OP_OVERHEAD_BYTES = 16


@dataclass(slots=True)
class PruneResult:
    """What one :meth:`Pruner.prune` call did."""

    pruned: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    projects: dict[str, str | None] = field(default_factory=dict)
    transactions: int = 0
    largest_transaction: int = 0  # builds deleted together, at most
    deeper: set[str] = field(default_factory=set)  # to plan again, listed to the bottom


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
            busy = {*all_pending(self.client, layout), *children(self.client, layout.claims)}
        for start in range(0, len(shards), shards_per_round):
            group = shards[start : start + shards_per_round]
            with unavailable_as_error():
                listings = many(self.client, "get_children", [layout.shard_dir(s) for s in group])
                build_ids = [
                    child
                    for shard, listing in zip(group, listings, strict=True)
                    for child in listing or ()
                    if is_build_id(child) and layout.shard(child) == shard
                ]
                candidates = [b for b in build_ids if b not in busy]
                states = many(self.client, "get", [layout.state(b) for b in candidates])
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
        records = many(self.client, "get", [self.layout.build(b) for b in build_ids])
        metas = {
            build_id: read_meta(build_id, got[0] if got else None)
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
        self._drop_empty_buckets(result)
        return result

    def _drop_empty_buckets(self, result: PruneResult) -> None:
        """The project index buckets the pruned builds leave empty go too, or a
        project's listing would keep one name per 33 seconds it ever submitted in.
        Best effort and unguarded (:func:`cool.store.project_index.drop_if_empty`)."""
        buckets = [
            self.layout.project_bucket(project_id, build_id)
            for build_id in result.pruned
            if (project_id := result.projects.get(build_id)) is not None
        ]
        try:
            with unavailable_as_error():
                drop_if_empty(self.client, buckets)
        except StoreUnavailableError as exc:
            # The builds are pruned whatever becomes of their buckets: the next prune
            # of a build of the same bucket tries again.
            LOG.warning("empty index buckets not deleted: %s", exc)

    def _commit_all(
        self, doomed: list[Doomed], guard_path: str | None, result: PruneResult
    ) -> None:
        """As few transactions as fit the budget; a build too big for one goes alone."""
        budget = self._budget(guard_path)
        group: list[Doomed] = []
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
    ) -> list[Doomed]:
        """Read each build afresh; the ones still finished, with their ops (the rest
        recorded as refused). See :func:`cool.store.deletion.plan_deletes`."""
        planned = plan_deletes(self.client, self.layout, builds, deep=deep)
        result.projects.update(planned.projects)
        result.refused += planned.refused
        return planned.doomed

    def _commit_group(
        self, group: list[Doomed], guard_path: str | None, result: PruneResult
    ) -> None:
        """One transaction for the group; a build that refuses it is dropped, and again."""
        while group:
            ops: list[tuple[Op, Doomed | None]] = []
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

    def _commit_alone(self, build: Doomed, guard_path: str | None, result: PruneResult) -> None:
        """A build too big for one transaction: its history first, in guarded chunks.

        Every chunk carries the build's guards, so it goes only while the build
        is still the finished one listed. Events go ahead; resource records stay
        for the last transaction with the state, as many as fit the budget, so a
        build asked to be deleted half way still has every record its teardown
        needs. Only the records that cannot fit go ahead too, after the events
        (thousands of long nested names would pass ZooKeeper's 1 MiB in one
        transaction, and that build would never be pruned): the build is terminal
        and past retention, so a reader (or a delete requested in that window)
        seeing some of its records gone is accepted. A chunk that fails leaves a
        finished build with less history; the next pass finishes the job.
        """
        history = self.layout.events(build.build_id) + "/"
        records = self.layout.resources(build.build_id) + "/"
        budget = self._budget(guard_path) - self._cost(build.guards)
        ahead = [op for op in build.body if op.path.startswith(history)]
        kept = [op for op in build.body if op.path.startswith(records)]
        last = [op for op in build.body if not op.path.startswith((history, records))] + build.tail
        # The records that fit stay with the state; the rest go ahead.
        room, split = budget - self._cost(last), len(kept)
        while split and self._cost(kept[split - 1 : split]) <= room:
            room -= self._cost(kept[split - 1 : split])
            split -= 1
        ahead, kept = ahead + kept[:split], kept[split:]
        chunks: list[list[Op]] = [[]]
        size = 0
        for op in ahead:
            cost = self._cost([op])
            if chunks[-1] and size + cost > budget:
                chunks.append([])
                size = 0
            chunks[-1].append(op)
            size += cost
        # The rest is whole, even over the budget (a quarter of ZooKeeper's limit).
        chunks.append(kept + last)
        for chunk in chunks:
            ops: list[tuple[Op, Doomed | None]] = [(op, build) for op in build.guards + chunk]
            if chunk and self._commit(ops, guard_path, result) is not None:
                return
        result.pruned.append(build.build_id)
        result.largest_transaction = max(result.largest_transaction, 1)

    def _commit(
        self, ops: list[tuple[Op, Doomed | None]], guard_path: str | None, result: PruneResult
    ) -> Doomed | None:
        """Commit; None if done, else the build whose op refused it (recorded as refused)."""
        if guard_path is not None:
            ops = [(Op("check", guard_path, -1, "leadership lost"), None), *ops]
        transaction = self.client.transaction()
        for op, _ in ops:
            if op.kind == "check":
                transaction.check(op.path, op.version)
            elif op.kind == "create":
                transaction.create(op.path, op.data)
            else:
                transaction.delete(op.path, version=op.version)
        try:
            results = transaction.commit()
        except UNAVAILABLE as exc:
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
        guard = self._cost([Op("check", guard_path)]) if guard_path else 0
        return self.max_transaction_bytes - guard

    def _cost(self, ops: Iterable[Op]) -> int:
        chroot = len(self.client.chroot or "")
        return sum(len(op.path.encode()) + chroot + _OP_OVERHEAD_BYTES for op in ops)


_EXPECTED_REFUSALS = (BadVersionError, NodeExistsError, NoNodeError, NotEmptyError)


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
