"""Step 5: the elected reaper. Prunes finished builds that are old, or too many.

Every worker with ``[gc] enabled`` runs a :class:`GarbageCollector`; they
hold an election in ZooKeeper (``Layout.gc_election``) and only the leader
prunes, every ``[gc] interval`` seconds. When the leader stops it resigns
and the next contender takes over at once; when its process dies, its
election node goes with its session and the next takes over after the
session timeout.

A pass lists finished builds shard by shard, decides what goes
(:func:`cool.store.retention.decide`: older than ``[gc] retention``, then the
oldest above ``[gc] max_finished``) and prunes ``[gc] batch_size`` builds
per transaction. Nothing unfinished is ever pruned: each transaction
re-checks its builds (see :mod:`cool.store.prune`).

A pruned build's Keystone trust (DESIGN.md sections 6 and 7) is handed over
in the build's own prune transaction: its id is written under
``Layout.trusts``. After pruning, each pass deletes every trust waiting
there in Keystone (as cool's service user, :class:`Trusts`) and removes its
entry once Keystone says it is gone. A deletion that fails leaves the entry,
logged, and the next pass tries again, so pruning never waits on Keystone and
no trust id is ever lost; while Keystone cannot be reached, a pass stops
trying at the first failure. The gauge ``cool_gc_trusts_waiting`` shows what
waits (and a GC without ``[trustee]`` configured warns of it each pass).
Trusts made for submits whose build was never stored (cool-api died between
making the trust and storing the build) join them once they are older than
``[gc] unstored_trust_grace`` (:meth:`TrustRecords.orphan_new`).

Metrics (prometheus-client, on the registry given): ``cool_gc_builds_pruned_total``,
``cool_gc_trusts_deleted_total``, ``cool_gc_trusts_waiting`` and
``cool_zookeeper_znodes`` (the server's ``zk_znode_count`` from ``mntr``).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oslo_config import cfg
from prometheus_client import CollectorRegistry, Counter, Gauge

from cool.errors import CoolError, KeystoneUnavailableError, LeadershipLostError
from cool.model import BuildStatus
from cool.store.deletion import Refusal
from cool.store.election import Leadership
from cool.store.prune import Pruner, znode_count
from cool.store.retention import FinishedBuild, Reason, decide
from cool.store.session import Connection, Session
from cool.store.trusts import TrustRecords

if TYPE_CHECKING:
    from cool.clouds.openstack.credentials import Trusts

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GcSettings:
    retention_s: float = 7 * 24 * 3600.0  # finished builds stay this long
    max_finished: int = 10_000  # above this many finished builds, the oldest go
    interval_s: float = 60.0  # between two passes of the leader
    batch_size: int = 100  # builds per transaction
    enabled: bool = True  # whether workers take part in the election
    # a trust made for a submit whose build is not stored after this long is an orphan
    unstored_trust_grace_s: float = 900.0


def gc_settings(conf: cfg.ConfigOpts) -> GcSettings:
    group = conf.gc
    return GcSettings(
        retention_s=group.retention,
        max_finished=group.max_finished,
        interval_s=group.interval,
        batch_size=group.batch_size,
        enabled=group.enabled,
        unstored_trust_grace_s=group.unstored_trust_grace,
    )


class GcMetrics:
    """The collector's metrics, on a registry of the caller's (a private one by default)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self.pruned = Counter(
            "cool_gc_builds_pruned_total",
            "Finished builds pruned by the garbage collector.",
            registry=self.registry,
        )
        self.trusts_deleted = Counter(
            "cool_gc_trusts_deleted_total",
            "Keystone trusts of pruned builds deleted by the garbage collector.",
            registry=self.registry,
        )
        self.trusts_waiting = Gauge(
            "cool_gc_trusts_waiting",
            "Keystone trusts of pruned builds not deleted yet (retried every pass).",
            registry=self.registry,
        )
        self.znodes = Gauge(
            "cool_zookeeper_znodes",
            "Znodes in the ZooKeeper server (zk_znode_count from mntr), after the last GC pass.",
            registry=self.registry,
        )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A finished build chosen to go, and why (a row of ``cool-manage gc``)."""

    build_id: str
    project_id: str | None
    status: BuildStatus
    finished_at: float
    reason: Reason


@dataclass(frozen=True, slots=True)
class PruneReport:
    """One pass: what was finished, what was chosen, what went."""

    dry_run: bool
    finished: int  # finished builds seen
    candidates: tuple[Candidate, ...]  # chosen, oldest first
    pruned: tuple[str, ...]
    refused: tuple[Refusal, ...]  # chosen, but had moved on (or changed) when re-checked
    transactions: int
    largest_batch: int  # builds deleted in one transaction, at most
    znodes_before: int | None
    znodes_after: int | None
    elapsed_s: float
    trusts_deleted: int = 0  # Keystone trusts of pruned builds deleted in this pass
    trusts_waiting: int = 0  # still to delete after it (Keystone failed, or no [trustee])


class GarbageCollector:
    def __init__(
        self,
        session: Session,
        settings: GcSettings,
        *,
        clock: Callable[[], float] = time.time,
        identifier: str | None = None,
        registry: CollectorRegistry | None = None,
        trusts: Trusts | None = None,
    ) -> None:
        self.session = session
        self.trusts = trusts  # None: trusts of pruned builds wait (warned of each pass)
        self.settings = settings
        self.clock = clock
        self.identifier = identifier or f"gc-{uuid.uuid4().hex[:12]}"
        self.pruner = Pruner(session.client, session.layout)
        self.trust_records = TrustRecords(session.client, session.layout)
        self.leadership = Leadership(session.client, session.layout, self.identifier)
        self.metrics = GcMetrics(registry)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ---------------------------------------------------------------

    def run_once(self, *, dry_run: bool = False) -> PruneReport:
        """List, decide and (unless ``dry_run``) prune, in batches.

        Called by the elected loop, or directly (``cool-manage gc``, tests):
        outside the election it is still safe, only not exclusive.
        """
        started = time.monotonic()
        # As leader, every transaction of the pass checks our election node: one
        # that lost it (session expired) writes nothing more.
        guard = self.leadership.node_path
        znodes_before = self._count_znodes()
        finished: list[FinishedBuild] = []
        for chunk in self.pruner.finished():
            finished.extend(chunk)
        verdicts = decide(
            finished,
            now=self.clock(),
            retention_s=self.settings.retention_s,
            max_finished=self.settings.max_finished,
        )
        by_id = {build.build_id: build for build in finished}
        batch_size = max(self.settings.batch_size, 1)
        projects: dict[str, str | None] = {}
        pruned: list[str] = []
        refused: list[Refusal] = []
        transactions = largest = 0
        for start in range(0, len(verdicts), batch_size):
            batch = [by_id[v.build_id] for v in verdicts[start : start + batch_size]]
            if dry_run:
                projects.update(self.pruner.projects([b.build_id for b in batch]))
                continue
            if self._stopping.is_set():
                break
            if guard is not None and not self.leadership.is_held:
                raise LeadershipLostError("the GC election was lost during a pass")
            result = self.pruner.prune(batch, guard_path=guard)
            projects.update(result.projects)
            pruned += result.pruned
            refused += result.refused
            transactions += result.transactions
            largest = max(largest, result.largest_transaction)
            self.metrics.pruned.inc(len(result.pruned))
        if dry_run:
            trusts_deleted, trusts_waiting = 0, len(self.trust_records.waiting())
        else:
            self.trust_records.orphan_new(
                made_before=self.clock() - self.settings.unstored_trust_grace_s,
                guard_path=guard,
            )
            trusts_deleted, trusts_waiting = self._delete_trusts()
        candidates = tuple(
            Candidate(
                build_id=v.build_id,
                project_id=projects.get(v.build_id),
                status=by_id[v.build_id].status,
                finished_at=by_id[v.build_id].finished_at,
                reason=v.reason,
            )
            for v in verdicts
        )
        report = PruneReport(
            dry_run=dry_run,
            finished=len(finished),
            candidates=candidates,
            pruned=tuple(pruned),
            refused=tuple(refused),
            transactions=transactions,
            largest_batch=largest,
            znodes_before=znodes_before,
            znodes_after=self._count_znodes() if not dry_run else znodes_before,
            elapsed_s=time.monotonic() - started,
            trusts_deleted=trusts_deleted,
            trusts_waiting=trusts_waiting,
        )
        if pruned or refused:
            LOG.info(
                "gc %s: pruned %d of %d finished builds (%d refused) in %.2f s",
                self.identifier,
                len(pruned),
                len(finished),
                len(refused),
                report.elapsed_s,
            )
        return report

    def _delete_trusts(self) -> tuple[int, int]:
        """Delete the trusts pruned builds left in Keystone: (deleted, still waiting)."""
        waiting = self.trust_records.waiting()
        deleted = 0
        if waiting and self.trusts is None:
            LOG.warning(
                "gc %s: %d Keystone trusts of pruned builds wait to be deleted, and "
                "[trustee] is not configured",
                self.identifier,
                len(waiting),
            )
        for trust_id in waiting if self.trusts is not None else ():
            if self._stopping.is_set():
                break
            try:
                self.trusts.delete(trust_id)
            except CoolError as exc:
                LOG.warning(
                    "gc %s: trust %s not deleted (%s); the next pass tries again",
                    self.identifier,
                    trust_id,
                    exc,
                )
                if isinstance(exc, KeystoneUnavailableError):
                    break  # the rest would wait on the same Keystone
                continue
            self.trust_records.forget(trust_id)
            deleted += 1
            LOG.info("gc %s: trust %s of a pruned build deleted", self.identifier, trust_id)
        self.metrics.trusts_deleted.inc(deleted)
        self.metrics.trusts_waiting.set(len(waiting) - deleted)
        return deleted, len(waiting) - deleted

    def _count_znodes(self) -> int | None:
        count = znode_count(self.session.client)
        if count is not None:
            self.metrics.znodes.set(count)
        return count

    # -- the elected loop -------------------------------------------------------

    def start(self) -> None:
        """Take part in the election in a thread of its own; prune while leader."""
        self.session.on_connection(self._on_connection)
        self._thread = threading.Thread(target=self._campaign, name="cool-gc", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop pruning (after the current batch) and leave the election."""
        self._stopping.set()
        self._wake.set()
        self.leadership.withdraw()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                LOG.warning("gc %s: did not stop within %.0f s", self.identifier, timeout_s)

    @property
    def is_leader(self) -> bool:
        return self.leadership.is_held

    def _on_connection(self, _state: Connection) -> None:
        self._wake.set()  # kazoo's thread: wake the loop, nothing more

    def _campaign(self) -> None:
        while not self._stopping.is_set():
            try:
                elected = self.leadership.campaign()
            except CoolError as exc:
                LOG.warning("gc %s: election failed (%s); will retry", self.identifier, exc)
                self._stopping.wait(1.0)
                continue
            except Exception:
                LOG.exception("gc %s: election failed; will retry", self.identifier)
                self._stopping.wait(1.0)
                continue
            if not elected:
                continue
            LOG.info(
                "gc %s: elected; pruning every %g s", self.identifier, self.settings.interval_s
            )
            try:
                self._lead()
            finally:
                self.leadership.resign()
                LOG.info("gc %s: no longer the leader", self.identifier)

    def _lead(self) -> None:
        next_pass = time.monotonic()
        while not self._stopping.is_set() and self.leadership.is_held:
            self._wake.clear()
            connected = self.session.connection is Connection.CONNECTED
            now = time.monotonic()
            if connected and now >= next_pass:
                try:
                    self.run_once()
                except LeadershipLostError:
                    return
                except CoolError as exc:
                    LOG.warning("gc %s: pass failed (%s); will retry", self.identifier, exc)
                except Exception:
                    LOG.exception("gc %s: pass failed; will retry", self.identifier)
                next_pass = time.monotonic() + self.settings.interval_s
                continue
            # SUSPENDED: no pruning until CONNECTED again (the listener wakes us).
            self._wake.wait(max(next_pass - now, 0.0) if connected else 1.0)
