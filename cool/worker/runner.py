"""One build, run to a terminal state by the worker that owns it.

The runner walks the build's statuses (create, then rollback or finish;
delete) and runs the resources' steps (:mod:`cool.worker.steps`) over the
dependency graph, independent ones in parallel. Every write goes through
the claim's fence (:mod:`cool.worker.ledger`); the runner never parses
templates, never speaks HTTP and never imports kazoo.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor

from cool.clouds.registry import Providers
from cool.errors import CommitUnknownError
from cool.model import BuildStatus, ResourceStatus
from cool.store.builds import BuildStore
from cool.store.fence import Fence
from cool.worker import references
from cool.worker.ledger import Ledger
from cool.worker.schedule import run_graph
from cool.worker.steps import RunnerSettings, Steps

__all__ = ["BuildRunner", "RunnerSettings"]

LOG = logging.getLogger(__name__)

_FINISHED = (ResourceStatus.DELETE_COMPLETE, ResourceStatus.RETAINED)

Outcome = tuple[dict[str, object] | None, bool]  # (failure note, stopped early)


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
    ) -> None:
        self.fence = fence
        self.settings = settings
        self.executor = executor
        self.stopping = stopping
        self.build_id = fence.build_id
        self.meta, self.plan = store.meta_and_plan(self.build_id)
        self.specs = {r.name: r for r in self.plan.resources}
        self.ledger = Ledger(store, fence, self.meta, clock)
        self.steps = Steps(
            self.ledger, providers, settings, self.specs, stopping=stopping, count_call=count_call
        )

    def run(self) -> BuildStatus | None:
        """The terminal status reached, or None when it stopped early and released the build.

        Raises ClaimLostError when the claim is lost: the caller writes
        nothing more for this build. After a write whose outcome is unknown,
        it reads back what is recorded and carries on from there.
        """
        while True:
            try:
                return self._run_once()
            except CommitUnknownError as exc:
                LOG.warning("build %s: %s; re-reading and carrying on", self.build_id, exc)
                self.fence.guard(self.settings.guard_wait_s)

    def _run_once(self) -> BuildStatus | None:
        ledger = self.ledger
        ledger.load()
        status = ledger.state.status
        LOG.info("build %s: running from %s (epoch %d)", self.build_id, status, self.fence.epoch)
        if status is BuildStatus.CREATE_QUEUED:
            ledger.transition(BuildStatus.CREATE_IN_PROGRESS, f"claimed by {ledger.worker_id}")
            status = BuildStatus.CREATE_IN_PROGRESS
        if status is BuildStatus.CREATE_IN_PROGRESS:
            failure, stopped = self._create_all()
            if stopped:
                return ledger.release()
            if failure is None:
                outputs = references.outputs(self.plan, self.meta, ledger.records)
                return ledger.finish(BuildStatus.CREATE_COMPLETE, "build complete", outputs=outputs)
            if not self.meta.rollback:
                return ledger.finish(BuildStatus.CREATE_FAILED, _reason(failure), note=failure)
            ledger.transition(BuildStatus.CREATE_FAILED, _reason(failure), note=failure)
            status = BuildStatus.CREATE_FAILED
        if status is BuildStatus.CREATE_FAILED:  # rollback on, and not started yet
            ledger.transition(BuildStatus.ROLLBACK_IN_PROGRESS, "rolling back")
            status = BuildStatus.ROLLBACK_IN_PROGRESS
        if status is BuildStatus.ROLLBACK_IN_PROGRESS:
            failure, stopped = self._teardown()
            if stopped:
                return ledger.release()
            if failure is None:
                return ledger.finish(BuildStatus.ROLLBACK_COMPLETE, "rolled back")
            # The note stays the create failure's; the reason says why rollback failed.
            return ledger.finish(
                BuildStatus.ROLLBACK_FAILED, f"rollback failed: {_reason(failure)}"
            )
        if status is BuildStatus.DELETE_IN_PROGRESS:
            failure, stopped = self._teardown()
            if stopped:
                return ledger.release()
            if failure is None:
                return ledger.finish(BuildStatus.DELETE_COMPLETE, "deleted")
            return ledger.finish(BuildStatus.DELETE_FAILED, _reason(failure), note=failure)
        # Terminal but still pending: a finish that did not complete. Finish it.
        return ledger.finish(status, ledger.state.reason)

    def _create_all(self) -> Outcome:
        todo = [
            name
            for name in self.specs
            if self.ledger.status(name) is not ResourceStatus.CREATE_COMPLETE
        ]
        return run_graph(
            todo,
            {name: self.specs[name].depends_on for name in todo},
            self.steps.create,
            executor=self.executor,
            parallelism=self.settings.parallelism,
            stopping=self.stopping,
        )

    def _teardown(self) -> Outcome:
        """Delete what was recorded, dependents first (reverse dependency order)."""
        targets = [
            name
            for name in self.specs
            if self.ledger.record(name) is not None and self.ledger.status(name) not in _FINISHED
        ]
        dependents: dict[str, list[str]] = {name: [] for name in targets}
        for name in targets:
            for dep in self.specs[name].depends_on:
                if dep in dependents:
                    dependents[dep].append(name)
        return run_graph(
            targets,
            dependents,
            lambda name: self.steps.delete(name, honour_retain=True),
            executor=self.executor,
            parallelism=self.settings.parallelism,
            stopping=self.stopping,
        )


def _reason(note: dict[str, object]) -> str:
    return (
        f"{note.get('action')} of {note.get('resource')} ({note.get('type')}) failed: "
        f"{note.get('error')}"
    )
