"""One build, run to a terminal state by the worker that owns it.

The runner walks the build's statuses and runs the resources' steps
(:mod:`cool.worker.steps`) over the dependency graph, independent ones in
parallel::

    CREATE_QUEUED -> CREATE_IN_PROGRESS -> CREATE_COMPLETE
                                        -> CREATE_FAILED [-> ROLLBACK_IN_PROGRESS
                                                            -> ROLLBACK_COMPLETE | _FAILED]
                                        -> (cancel) [ROLLBACK_IN_PROGRESS ->] CANCEL_COMPLETE
    (delete, from any state) -> DELETE_IN_PROGRESS -> DELETE_COMPLETE | DELETE_FAILED
    (a scaling policy's resize of a complete build, cool.store.scaling)
        UPDATE_IN_PROGRESS -> UPDATE_COMPLETE | UPDATE_FAILED

An update runs the build's newer plan: it creates what that plan adds (a resized
group's new members), then tears down what it retires (removed members), dependents
first; it is not rolled back (Heat leaves a failed resize as it stands) and has a
deadline of its own (the build's timeout, from the signal).

Cancel and delete requests arrive through the build's control node and are
honoured within one step (no new step starts; those in flight finish). The
deadline fails the build like any failure. A build claimed too many times
(its workers keep dying) is failed as poison. Every write goes through the
claim's fence (:mod:`cool.worker.ledger`); the runner never parses
templates, never speaks HTTP and never imports kazoo.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from cool.clouds.base import Provider, fences_creates, finds_by_mark
from cool.clouds.registry import Providers
from cool.errors import CommitUnknownError, ConfigurationError, RecordTooLargeError
from cool.model import NESTED_SEPARATOR, BuildStatus, ControlRequest, ResourceStatus
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.control import DELETE_REQUESTED, Requests
from cool.store.fence import Fence
from cool.store.records import BuildState, Note
from cool.worker import references
from cool.worker.ledger import Ledger
from cool.worker.schedule import Outcome, run_graph
from cool.worker.steps import RunnerSettings, Steps

__all__ = ["BuildRunner", "RunnerSettings"]

LOG = logging.getLogger(__name__)

_FINISHED = (ResourceStatus.DELETE_COMPLETE, ResourceStatus.RETAINED)

# Calls ``callback(requests)`` now and whenever a build's control node changes;
# returns a function that stops the watch.
WatchControl = Callable[[str, Callable[[dict[str, Any]], None]], Callable[[], None]]


class BuildRunner:
    """Runs one claimed build to a terminal state, or until told to stop."""

    def __init__(
        self,
        store: BuildStore,
        fence: Fence,
        providers: Providers,
        settings: RunnerSettings,
        *,
        executor: Executor,
        stopping: threading.Event,
        clock: Callable[[], float] = time.time,
        count_call: Callable[[], None] = lambda: None,
        watch_control: WatchControl | None = None,
        max_claims: int = 5,
    ) -> None:
        self.fence = fence
        self.settings = settings
        self.executor = executor
        self.stopping = stopping
        self.clock = clock
        self.watch_control = watch_control
        self.max_claims = max_claims
        self._announced = False  # "claimed by" or "resumed by": once per claim
        self.build_id = fence.build_id
        self.meta, self.plan = store.meta_and_plan(self.build_id)
        self.deadline = self.meta.deadline
        if self.plan.scales:  # it may have been resized: the plan its state names
            _, self.plan, state = store.current(self.build_id)
            if state.status is BuildStatus.UPDATE_IN_PROGRESS and state.update:
                self.deadline = float(state.update.get("deadline") or self.deadline)
        self.specs = {r.name: r for r in self.plan.resources}
        self.retiring = frozenset(self.plan.retiring)
        self.providers = providers
        self.requests = Requests(store, clock=clock)
        self.ledger = Ledger(store, fence, self.meta, clock)
        self.ledger.retiring = self.retiring
        # Set when no new step may start: a request came, or time is up. (The worker
        # stopping, ``stopping``, halts the graph too, and makes steps let go.)
        self.halt = threading.Event()
        self.steps = Steps(
            self.ledger,
            providers,
            settings,
            self.specs,
            stopping=stopping,
            count_call=count_call,
            expired=self._expired,
            halt=self.halt,
        )
        self._control: dict[str, Any] = {}

    def run(self) -> BuildStatus | None:
        """The terminal status reached, or None when it stopped early and released the build.

        Raises ClaimLostError when the claim is lost: the caller writes
        nothing more for this build. After a write whose outcome is unknown,
        it reads back what is recorded and carries on from there.
        """
        halt = self.halt  # the watch holds this event only, never the runner

        def on_control(requests: dict[str, Any]) -> None:
            if ControlRequest.CANCEL in requests or ControlRequest.DELETE in requests:
                halt.set()  # honoured within one step: nothing new starts

        unwatch = self.watch_control(self.build_id, on_control) if self.watch_control else None
        self.steps.logins.start(self._providers(), name=self.build_id)
        timer = threading.Timer(max(self.deadline - self.clock(), 0), self.halt.set)
        timer.daemon = True
        timer.start()
        try:
            while True:
                try:
                    try:
                        return self._run_once()
                    except RecordTooLargeError as exc:  # never sent: fail with a small note
                        return self._too_large(exc)
                except CommitUnknownError as exc:
                    LOG.warning("build %s: %s; re-reading and carrying on", self.build_id, exc)
                    self.fence.guard(self.settings.guard_wait_s)
        finally:
            timer.cancel()
            if unwatch is not None:
                unwatch()

    def _providers(self) -> list[Provider]:
        """The providers the plan's steps go to (a type none runs fails its own step)."""
        found: dict[int, Provider] = {}
        for spec in self.plan.resources:
            with contextlib.suppress(ConfigurationError):
                provider = self.providers.for_spec(spec)
                found.setdefault(id(provider), provider)
        return list(found.values())

    # -- what stops a build -------------------------------------------------------

    def _expired(self) -> bool:
        return self.clock() >= self.deadline

    def _read_control(self) -> dict[str, Any]:
        self._control, self.ledger.control_version = self.requests.control(self.build_id)
        return self._control

    def _note(self, error: str, action: str = "CREATE") -> dict[str, object]:
        return Note(
            resource=None,
            type=None,
            action=action,
            error=error,
            worker=self.ledger.worker_id,
            at=self.clock(),
        ).to_dict()

    def _deadline_note(self, action: str = "CREATE") -> dict[str, object]:
        return self._note(
            f"the build did not finish within its timeout of {self.meta.timeout_mins} minutes",
            action,
        )

    def _too_large(self, exc: RecordTooLargeError) -> BuildStatus:
        """A write of the walk was too large to send (steps turn theirs into failures):
        the build fails where it stands, with a note that fits, and no rollback. Were it
        left to escape, the build would go from worker to worker, failing each the same."""
        LOG.warning("build %s: failed: %s", self.build_id, exc)
        self.ledger.load()
        self._read_control()
        status = self.ledger.state.status
        failed, action = _TOO_LARGE.get(status, (BuildStatus.CREATE_FAILED, "CREATE"))
        note = self._note(str(exc), action)
        return self.ledger.finish(failed, str(note["error"]), note=note, update=None)

    def _resumed(self) -> bool:
        """Whether an earlier claim left the build midway (a worker died, or handed it
        over): an in-progress status that no request of the API just set (the first
        worker of a delete records "claimed by", which later ones see)."""
        state = self.ledger.state
        if self.fence.lease.claims < 2 or state.status not in _RESUMABLE:
            return False
        return not (
            (state.status is BuildStatus.DELETE_IN_PROGRESS and state.reason == DELETE_REQUESTED)
            or (state.status is BuildStatus.UPDATE_IN_PROGRESS and _as_signalled(state))
        )

    def _claims(self) -> int:
        """Claims that ended with a dead worker (graceful handovers do not count) since the
        build was last queued by the API (a resize or a delete of a finished build starts
        the count again: each is a run of its own)."""
        lease = self.fence.lease
        return lease.claims - lease.releases - self.ledger.state.claims_before

    # -- the walk through the statuses ------------------------------------------

    def _run_once(self) -> BuildStatus | None:
        ledger = self.ledger
        ledger.load()
        control = self._read_control()
        status = ledger.state.status
        LOG.info(
            "build %s: running from %s (epoch %d, claim %d)",
            self.build_id,
            status,
            self.fence.epoch,
            self.fence.lease.claims,
        )
        if not status.is_terminal and self._claims() > self.max_claims:
            failed, action = _POISONED.get(status, (BuildStatus.CREATE_FAILED, "CREATE"))
            note = self._note(
                f"claimed {self._claims()} times and each of its workers died before it "
                "finished: failed as a poison build, without rollback",
                action,
            )
            return ledger.finish(failed, str(note["error"]), note=note, update=None)
        if not self._announced:
            # Who follows the build sees who took it, and any takeover (or handover).
            self._announced = True
            if self._resumed():
                ledger.transition(
                    status, f"resumed by {ledger.worker_id} (claim {self.fence.lease.claims})"
                )
            elif status in (BuildStatus.DELETE_IN_PROGRESS, BuildStatus.UPDATE_IN_PROGRESS):
                ledger.transition(status, f"claimed by {ledger.worker_id}")  # as the API left it
        if ControlRequest.DELETE in control and status not in (
            BuildStatus.DELETE_IN_PROGRESS,
            BuildStatus.DELETE_COMPLETE,
        ):
            ledger.transition(BuildStatus.DELETE_IN_PROGRESS, DELETE_REQUESTED, update=None)
            status = BuildStatus.DELETE_IN_PROGRESS
        if status is BuildStatus.CREATE_QUEUED:
            if ControlRequest.CANCEL in control:
                return ledger.finish(BuildStatus.CANCEL_COMPLETE, "cancelled before it started")
            if self._expired():
                note = self._deadline_note()
                return ledger.finish(BuildStatus.CREATE_FAILED, str(note["error"]), note=note)
            ledger.transition(BuildStatus.CREATE_IN_PROGRESS, f"claimed by {ledger.worker_id}")
            status = BuildStatus.CREATE_IN_PROGRESS
        if status is BuildStatus.UPDATE_IN_PROGRESS:
            status = self._update()
            if status is None:
                return ledger.release()
            if ledger.finished:
                return status
        if status is BuildStatus.CREATE_IN_PROGRESS:
            status = self._create()
            if status is None:
                return ledger.release()
            if ledger.finished:
                return status
        if status is BuildStatus.CREATE_FAILED:  # rollback on, not started yet
            ledger.transition(BuildStatus.ROLLBACK_IN_PROGRESS, "rolling back")
            status = BuildStatus.ROLLBACK_IN_PROGRESS
        if status is BuildStatus.ROLLBACK_IN_PROGRESS:
            outcome = self._teardown()
            if outcome.stopped:  # a drain: the next worker finishes the rollback
                return ledger.release()
            if outcome.failure is not None:
                # The note stays the first failure's; the reason says why rollback failed.
                return ledger.finish(
                    BuildStatus.ROLLBACK_FAILED, f"rollback failed: {_reason(outcome.failure)}"
                )
            control = self._read_control()
            if ControlRequest.DELETE in control:
                ledger.transition(BuildStatus.DELETE_IN_PROGRESS, DELETE_REQUESTED)
                status = BuildStatus.DELETE_IN_PROGRESS
            elif ControlRequest.CANCEL in control:
                return ledger.finish(BuildStatus.CANCEL_COMPLETE, "cancelled; rolled back")
            else:
                return ledger.finish(BuildStatus.ROLLBACK_COMPLETE, "rolled back")
        if status is BuildStatus.DELETE_IN_PROGRESS:
            outcome = self._teardown()
            if outcome.stopped:  # a drain: the next worker finishes the delete
                return ledger.release()
            if outcome.failure is None:
                # Outputs pointed at what is gone now.
                return ledger.finish(BuildStatus.DELETE_COMPLETE, "deleted", outputs=None)
            return ledger.finish(
                BuildStatus.DELETE_FAILED, _reason(outcome.failure), note=outcome.failure
            )
        # Terminal but still pending: a finish that did not complete. Finish it.
        return ledger.finish(status, ledger.state.reason)

    def _create(self) -> BuildStatus | None:
        """Create what is left; the status that follows (None: released to another worker)."""
        ledger = self.ledger
        if self._expired():
            self.halt.set()
        outcome = self._create_all()
        control = self._read_control()
        if (
            outcome.failure is None
            and ControlRequest.DELETE not in control
            and (
                not outcome.unfinished
                or (ControlRequest.CANCEL in control and not self.meta.rollback)
            )
        ):
            # About to finish with what was built: nothing more under its tags.
            outcome = _handed_over_if_stopped(self._recheck(torn_down=False)) or outcome
        if self.stopping.is_set() and outcome.unfinished and outcome.failure is None:
            return None
        if ControlRequest.DELETE in control:  # even when all was built: the caller wants it gone
            ledger.transition(BuildStatus.DELETE_IN_PROGRESS, DELETE_REQUESTED)
            return BuildStatus.DELETE_IN_PROGRESS
        if outcome.failure is None and not outcome.unfinished:
            return self._complete()
        if ControlRequest.CANCEL in control and outcome.failure is None:
            if not self.meta.rollback:
                return ledger.finish(BuildStatus.CANCEL_COMPLETE, "cancelled")
            ledger.transition(BuildStatus.ROLLBACK_IN_PROGRESS, "cancelled; rolling back")
            return BuildStatus.ROLLBACK_IN_PROGRESS
        return self._failed(outcome.failure or self._deadline_note())

    def _update(self) -> BuildStatus | None:
        """Create what the newer plan adds, then tear down what it retires; the status
        that follows (None: released to another worker)."""
        ledger = self.ledger
        if self._expired():
            self.halt.set()
        outcome = self._create_all()
        if outcome.failure is None and not outcome.unfinished:
            outcome = self._teardown(self.retiring, halts=(self.halt, self.stopping))
        control = self._read_control()
        if (
            outcome.failure is None
            and not outcome.unfinished
            and ControlRequest.DELETE not in control
        ):
            # Only the resized group's steps ran: only they can have a late duplicate.
            group = str((ledger.state.update or {}).get("group") or "")
            resized = frozenset(
                n for n in self.specs if n == group or n.startswith(group + NESTED_SEPARATOR)
            )
            outcome = (
                _handed_over_if_stopped(self._recheck(torn_down=False, only=resized)) or outcome
            )
        if self.stopping.is_set() and outcome.unfinished and outcome.failure is None:
            return None
        if ControlRequest.DELETE in control:
            ledger.transition(BuildStatus.DELETE_IN_PROGRESS, DELETE_REQUESTED, update=None)
            return BuildStatus.DELETE_IN_PROGRESS
        if outcome.failure is None and not outcome.unfinished:
            return self._complete(BuildStatus.UPDATE_COMPLETE)
        failure = outcome.failure or self._deadline_note("UPDATE")
        return ledger.finish(BuildStatus.UPDATE_FAILED, _reason(failure), note=failure, update=None)

    def _scaled(self) -> dict[str, Any]:
        """What the state keeps of a completed resize: its group's cooldown ends now plus
        the cooldown (Heat's _finished_scaling: the later of that and the one before)."""
        state = self.ledger.state
        scaling = dict(state.scaling or {})
        update = state.update or {}
        group = update.get("group")
        if not isinstance(group, str):
            return {"update": None}
        kept = dict(scaling.get(group) or {})
        end = self.clock() + float(update.get("cooldown") or 0)
        kept["cooldown_end"] = max(float(kept.get("cooldown_end") or 0), end)
        scaling[group] = kept
        return {"update": None, "scaling": scaling}

    def _failed(self, failure: dict[str, object]) -> BuildStatus:
        """CREATE_FAILED with the note: final without rollback, else the rollback follows."""
        if not self.meta.rollback:
            return self.ledger.finish(BuildStatus.CREATE_FAILED, _reason(failure), note=failure)
        self.ledger.transition(BuildStatus.CREATE_FAILED, _reason(failure), note=failure)
        return BuildStatus.CREATE_FAILED

    def _complete(self, status: BuildStatus = BuildStatus.CREATE_COMPLETE) -> BuildStatus:
        """CREATE_COMPLETE (or UPDATE_COMPLETE) with the outputs. When they would make the
        build's record too large to store, the largest values are replaced by an error,
        one at a time, until it fits (each try is measured, never sent): the build and
        what it built are fine, only those values are not kept."""
        outputs = references.outputs(
            self.plan, self.meta, self.ledger.records, limits=self.settings.limits
        )
        dropped: list[str] = []
        extra = self._scaled() if status is BuildStatus.UPDATE_COMPLETE else {}
        while True:
            reason = "update complete" if extra else "build complete"
            if dropped:
                reason += f"; outputs too large to keep: {', '.join(dropped)}"
            try:
                return self.ledger.finish(status, reason, outputs=outputs, **extra)
            except RecordTooLargeError as exc:
                sizes = {
                    name: len(codec.dumps(entry["value"]))
                    for name, entry in outputs.items()
                    if "value" in entry
                }
                if not sizes:  # not the outputs' fault: fail with a (small) note
                    if status is BuildStatus.UPDATE_COMPLETE:
                        note = self._note(str(exc), "UPDATE")
                        return self.ledger.finish(
                            BuildStatus.UPDATE_FAILED, str(note["error"]), note=note, update=None
                        )
                    return self._failed(self._note(str(exc)))
                name = max(sizes, key=lambda n: sizes[n])
                outputs[name] = {
                    "description": outputs[name].get("description", ""),
                    "error": f"not kept: its value is {sizes[name]:,} bytes, and the build's "
                    f"record would be {exc.size:,} bytes, over the {exc.limit:,}-byte limit "
                    "of one ZooKeeper write",
                }
                dropped.append(name)
                LOG.warning("build %s: output %s not kept: %s", self.build_id, name, exc)

    def _create_all(self) -> Outcome:
        todo = [
            name
            for name in self.specs
            if name not in self.retiring
            and self.ledger.status(name) is not ResourceStatus.CREATE_COMPLETE
        ]
        return run_graph(
            todo,
            {name: self.specs[name].depends_on for name in todo},
            self.steps.create,
            executor=self.executor,
            parallelism=self.settings.parallelism,
            halts=(self.halt, self.stopping),
            batch=self.steps.create_many,
            batchable=self.steps.batchable,
        )

    def _teardown(
        self, only: frozenset[str] | None = None, *, halts: tuple[threading.Event, ...] = ()
    ) -> Outcome:
        """Delete what was recorded (of ``only``, when given: an update's retiring
        resources), dependents first (reverse dependency order).

        ``stopped`` when the worker is stopping before everything is gone: the build
        is handed over, never called complete. A teardown without failure is checked
        before it counts as done: every recorded resource DELETE_COMPLETE or RETAINED
        in the ledger, and nothing left in the cloud under their tags.
        """
        names = [name for name in self.specs if only is None or name in only]
        targets = [
            name
            for name in names
            if self.ledger.record(name) is not None and self.ledger.status(name) not in _FINISHED
        ]
        dependents: dict[str, list[str]] = {name: [] for name in targets}
        for name in targets:
            for dep in self.specs[name].depends_on:
                if dep in dependents:
                    dependents[dep].append(name)
        outcome = run_graph(
            targets,
            dependents,
            lambda name: self.steps.delete(name, honour_retain=True),
            executor=self.executor,
            parallelism=self.settings.parallelism,
            # Requests and deadlines do not stop a delete (an update's retiring, they do).
            halts=halts or (self.stopping,),
            batch=lambda names: self.steps.delete_many(names, honour_retain=True),
            batchable=self.steps.delete_batchable,
        )
        if outcome.failure is not None:
            return outcome
        standing = [
            name
            for name in names
            if self.ledger.record(name) is not None and self.ledger.status(name) not in _FINISHED
        ]
        if outcome.stopped or outcome.unfinished or standing:
            if self.stopping.is_set():
                return Outcome(stopped=True, unfinished=True)
            if only is not None and self.halt.is_set():  # an update's deadline, or a delete
                return Outcome(unfinished=True)
            # Only the worker stopping halts a teardown; anything else is a bug to report.
            return Outcome(
                failure=self._note(f"not torn down: {', '.join(standing)}", "DELETE"),
                unfinished=True,
            )
        return _handed_over_if_stopped(self._recheck(torn_down=True, only=only)) or Outcome()

    def _recheck(self, *, torn_down: bool, only: frozenset[str] | None = None) -> Outcome:
        """Before a terminal status: look each step's tags up again, and delete what the
        ledger does not own (a late create of a worker whose claim moved on: a duplicate
        after a create, anything at all after a teardown). One ``find`` per resource of
        a provider that does not fence creates itself (:mod:`cool.clouds.base`), for the
        types it finds by the step's marks (a find by endpoints could match another
        build's identical link)."""
        names = [
            name
            for name, spec in self.specs.items()
            if (only is None or name in only)
            and (torn_down or name not in self.retiring)
            and (record := self.ledger.record(name)) is not None
            and (torn_down or record.status is ResourceStatus.CREATE_COMPLETE)
            and not record.sole  # made by one create answered at once: nothing else is
            and spec.external_id is None  # an existing resource: nothing of the build's
            and not fences_creates(provider := self.providers.for_spec(spec))
            # A find by endpoints could return another build's identical link: not swept.
            and finds_by_mark(provider, spec.type)
        ]
        if not names:
            return Outcome()

        def sweep(name: str) -> None:
            record = self.ledger.record(name)
            assert record is not None
            retained = record.status is ResourceStatus.RETAINED
            keep = record.physical_id if not torn_down or retained else None
            self.steps.sweep(name, keep=keep)

        return run_graph(
            names,
            {},
            sweep,
            executor=self.executor,
            parallelism=self.settings.parallelism,
            halts=(self.stopping,),
        )


_RESUMABLE = frozenset(
    {
        BuildStatus.CREATE_IN_PROGRESS,
        BuildStatus.ROLLBACK_IN_PROGRESS,
        BuildStatus.DELETE_IN_PROGRESS,
        BuildStatus.UPDATE_IN_PROGRESS,
    }
)

# What a poison build fails as, from where it stood.
_POISONED = {
    BuildStatus.DELETE_IN_PROGRESS: (BuildStatus.DELETE_FAILED, "DELETE"),
    BuildStatus.UPDATE_IN_PROGRESS: (BuildStatus.UPDATE_FAILED, "UPDATE"),
}


def _as_signalled(state: BuildState) -> bool:
    """An update as the API's resize left it: no worker has claimed it yet."""
    return bool(state.update) and state.reason == (state.update or {}).get("reason")


# What a build fails as, from where it stood, when a write was too large to send.
_TOO_LARGE = {
    BuildStatus.ROLLBACK_IN_PROGRESS: (BuildStatus.ROLLBACK_FAILED, "DELETE"),
    BuildStatus.DELETE_IN_PROGRESS: (BuildStatus.DELETE_FAILED, "DELETE"),
    BuildStatus.DELETE_COMPLETE: (BuildStatus.DELETE_FAILED, "DELETE"),
    BuildStatus.UPDATE_IN_PROGRESS: (BuildStatus.UPDATE_FAILED, "UPDATE"),
}


def _handed_over_if_stopped(outcome: Outcome) -> Outcome | None:
    """A re-check's outcome as the caller needs it: None when it found all well, else
    a failure, or "stopped" (the worker is stopping: the build is handed over)."""
    if outcome.failure is not None:
        return outcome
    if outcome.stopped or outcome.unfinished:
        return Outcome(stopped=True, unfinished=True)
    return None


def _reason(note: dict[str, object]) -> str:
    if note.get("resource") is None:
        return str(note.get("error"))
    return (
        f"{note.get('action')} of {note.get('resource')} ({note.get('type')}) failed: "
        f"{note.get('error')}"
    )
