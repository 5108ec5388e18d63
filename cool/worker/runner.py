"""One build's step loop, run by the worker that owns it.

Every step is recorded *before* its side effect (DESIGN.md section 5)::

    PENDING -> CREATE_IN_PROGRESS (intent recorded) -> cloud create called
            -> physical id recorded -> poll until ready -> CREATE_COMPLETE

so a worker that takes a build over knows, for each resource, whether it is
done (skip it), has an id (poll it), or was being created with an unknown
outcome (look it up by its tags and *adopt* it, or create it). Each write is
fenced by the claim (:mod:`cool.store.fence`); the runner never parses
templates, never speaks HTTP and never imports kazoo.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from cool.clouds.base import (
    Found,
    Observed,
    Provider,
    ProviderError,
    ResourceExistsError,
    ResourceFailedError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.registry import Providers
from cool.errors import ClaimLostError, CommitUnknownError
from cool.model import BuildStatus, DeletionPolicy, ResourceSpec, ResourceStatus
from cool.store.builds import BuildStore
from cool.store.fence import Fence
from cool.store.records import BuildState, Event, Note, ResourceRecord
from cool.template import functions
from cool.worker.retry import CLOUD_RETRY, RetryPolicy
from cool.worker.schedule import StepFailedError, StepStoppedError, run_graph

LOG = logging.getLogger(__name__)

_FINISHED = (ResourceStatus.DELETE_COMPLETE, ResourceStatus.RETAINED)


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    parallelism: int = 4  # steps of one build at a time
    poll_interval_s: float = 0.2  # between two looks at a resource that is not ready
    guard_wait_s: float = 10.0  # how long a SUSPENDED connection may hold a step
    retry: RetryPolicy = CLOUD_RETRY


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
        self.store = store
        self.fence = fence
        self.providers = providers
        self.settings = settings
        self.executor = executor
        self.stopping = stopping
        self.clock = clock
        self.count_call = count_call
        self.build_id = fence.build_id
        self.worker_id = fence.worker_id
        self.meta, self.plan = store.meta_and_plan(self.build_id)
        self.specs = {r.name: r for r in self.plan.resources}
        self._lock = threading.Lock()
        self.state: BuildState
        self._state_version = 0
        self.records: dict[str, tuple[ResourceRecord, int]] = {}

    # -- the whole build ----------------------------------------------------

    def run(self) -> BuildStatus | None:
        """The terminal status reached, or None when it stopped early and released the build.

        Raises ClaimLostError when the claim is lost: the caller writes
        nothing more for this build.
        """
        while True:
            try:
                return self._run_once()
            except CommitUnknownError as exc:
                LOG.warning("build %s: %s; re-reading and carrying on", self.build_id, exc)
                self._wait_connected()

    def _wait_connected(self) -> None:
        self.fence.guard(self.settings.guard_wait_s)

    def _load(self) -> None:
        self.state, self._state_version = self.store.state(self.build_id)
        self.records = self.store.resources(self.build_id)

    def _run_once(self) -> BuildStatus | None:
        self._load()
        status = self.state.status
        LOG.info("build %s: running from %s (epoch %d)", self.build_id, status, self.fence.epoch)
        if status is BuildStatus.CREATE_QUEUED:
            self._transition(BuildStatus.CREATE_IN_PROGRESS, f"claimed by {self.worker_id}")
            status = BuildStatus.CREATE_IN_PROGRESS
        if status is BuildStatus.CREATE_IN_PROGRESS:
            failure, stopped = self._create_all()
            if stopped:
                return self._release()
            if failure is None:
                outputs = self._outputs()
                return self._finish(BuildStatus.CREATE_COMPLETE, "build complete", outputs=outputs)
            if not self.meta.rollback:
                return self._finish(BuildStatus.CREATE_FAILED, _reason(failure), note=failure)
            self._transition(BuildStatus.CREATE_FAILED, _reason(failure), note=failure)
            status = BuildStatus.CREATE_FAILED
        if status is BuildStatus.CREATE_FAILED:  # rollback on, and not started yet
            self._transition(BuildStatus.ROLLBACK_IN_PROGRESS, "rolling back")
            status = BuildStatus.ROLLBACK_IN_PROGRESS
        if status is BuildStatus.ROLLBACK_IN_PROGRESS:
            failure, stopped = self._teardown(honour_retain=True)
            if stopped:
                return self._release()
            if failure is None:
                return self._finish(BuildStatus.ROLLBACK_COMPLETE, "rolled back")
            return self._finish(
                BuildStatus.ROLLBACK_FAILED,
                f"rollback failed: {_reason(failure)}",
                rollback_note=failure,
            )
        if status is BuildStatus.DELETE_IN_PROGRESS:
            failure, stopped = self._teardown(honour_retain=True)
            if stopped:
                return self._release()
            if failure is None:
                return self._finish(BuildStatus.DELETE_COMPLETE, "deleted")
            return self._finish(BuildStatus.DELETE_FAILED, _reason(failure), note=failure)
        # Terminal but still pending: a finish that did not complete. Finish it.
        return self._finish(status, self.state.reason)

    # -- build state writes -------------------------------------------------

    def _event(self, resource: str | None, old: str | None, new: str, reason: str) -> Event:
        return Event(
            at=self.clock(),
            resource=resource,
            old=old,
            new=new,
            reason=reason,
            worker=self.worker_id,
            request_id=self.meta.request_id,
        )

    def _transition(self, status: BuildStatus, reason: str, **changes: Any) -> None:
        with self._lock:
            old = self.state.status
            state = self.state.but(status=status, reason=reason, updated_at=self.clock(), **changes)
            written = self.fence.write(
                state=(state, self._state_version),
                events=[self._event(None, str(old), str(status), reason)],
            )
            self.state, self._state_version = state, written.state or 0
        LOG.info("build %s: %s -> %s (%s)", self.build_id, old, status, reason)

    def _finish(self, status: BuildStatus, reason: str, **changes: Any) -> BuildStatus:
        """Terminal state, note, outputs, out of pending, claim released: one transaction."""
        with self._lock:
            old = self.state.status
            note = changes.pop("rollback_note", None)
            if note is not None:
                changes["reason"] = reason
            state = self.state.but(status=status, reason=reason, updated_at=self.clock(), **changes)
            self.fence.write(
                state=(state, self._state_version),
                events=[self._event(None, str(old), str(status), reason)],
                finish=True,
            )
            self.state = state
        LOG.info("build %s: %s (%s)", self.build_id, status, reason)
        return status

    def _release(self) -> None:
        self.fence.write(release=True)
        LOG.info("build %s: released for another worker to continue", self.build_id)

    def _write_resource(
        self, record: ResourceRecord, old: str | None, reason: str, *, progress: int = 0
    ) -> None:
        with self._lock:
            previous = self.records.get(record.name)
            version = previous[1] if previous else None
            state = None
            if progress:
                new_state = self.state.but(done=self.state.done + progress, updated_at=self.clock())
                state = (new_state, self._state_version)
            written = self.fence.write(
                resources=[(record, version)],
                state=state,
                events=[self._event(record.name, old, str(record.status), reason)]
                if old != str(record.status)
                else [],
            )
            self.records[record.name] = (record, written.resources[record.name])
            if state is not None:
                self.state, self._state_version = state[0], written.state or 0

    # -- creating -------------------------------------------------------------

    def _create_all(self) -> tuple[dict[str, object] | None, bool]:
        todo = [
            name for name in self.specs if self._status(name) is not ResourceStatus.CREATE_COMPLETE
        ]
        blockers = {name: self.specs[name].depends_on for name in todo}
        return run_graph(
            todo,
            blockers,
            self._create_step,
            executor=self.executor,
            parallelism=self.settings.parallelism,
            stopping=self.stopping,
        )

    def _status(self, name: str) -> ResourceStatus:
        entry = self.records.get(name)
        return entry[0].status if entry else ResourceStatus.PENDING

    def _context(self, spec: ResourceSpec) -> StepContext:
        return StepContext(
            build_id=self.build_id,
            resource_name=spec.name,
            resource_type=spec.type,
            project_id=self.meta.project_id,
            build_name=self.meta.name,
        )

    def _guarded(self, function: Callable[[], Any]) -> Any:
        """A cloud call: only while the claim is ours, retried as the policy says."""

        def before() -> None:
            self.fence.guard(self.settings.guard_wait_s)
            self.count_call()

        return self.settings.retry.call(function, before=before)

    def _create_step(self, name: str) -> None:
        spec = self.specs[name]
        provider = self.providers.for_type(spec.type)
        ctx = self._context(spec)
        entry = self.records.get(name)
        record = entry[0] if entry else None
        if record is not None and record.status is ResourceStatus.CREATE_FAILED:
            raise StepFailedError(self._note(spec, "CREATE", record.error or "failed"))
        try:
            if record is None:
                record = ResourceRecord(
                    name=name,
                    type=spec.type,
                    status=ResourceStatus.CREATE_IN_PROGRESS,
                    attempts=1,
                    worker=self.worker_id,
                    updated_at=self.clock(),
                )
                self._write_resource(record, str(ResourceStatus.PENDING), "creating")
                physical_id = self._create(provider, ctx, spec, adopt=False)
            elif record.physical_id is None:
                physical_id = self._create(provider, ctx, spec, adopt=True)
            else:
                physical_id = record.physical_id
            self._await_ready(provider, ctx, spec, physical_id)
        except ProviderError as exc:
            self._fail_resource(spec, str(exc))

    def _create(
        self, provider: Provider, ctx: StepContext, spec: ResourceSpec, *, adopt: bool
    ) -> str:
        """The physical id: adopted, or newly created.

        ``adopt``: an earlier create's outcome is unknown (a takeover), so look
        the resource up by its tags first. A retried create looks it up too: a
        create whose reply was lost may well have happened.
        """
        attempts = 0

        def find_or_create() -> str:
            nonlocal attempts
            attempts += 1
            if adopt or attempts > 1:
                found = provider.find(ctx)
                if found:
                    return self._adopt(provider, ctx, spec, found)
            try:
                return provider.create(ctx, properties)
            except ResourceExistsError:
                # Ours, if it carries our tags (an earlier create landed late);
                # else the name belongs to someone else: a failure to report.
                found = provider.find(ctx)
                if found:
                    return self._adopt(provider, ctx, spec, found)
                raise

        properties = self._resolve(spec.properties)
        return self._guarded(find_or_create)

    def _adopt(
        self, provider: Provider, ctx: StepContext, spec: ResourceSpec, found: list[Found]
    ) -> str:
        """Keep the oldest resource carrying the step's tags; delete any duplicates."""
        keep, extras = found[0], found[1:]
        for extra in extras:  # a create that raced a takeover
            self._guarded(lambda e=extra: provider.delete(ctx, e.physical_id))
        self._record_id(spec, keep.physical_id, "adopted an existing resource")
        return keep.physical_id

    def _record_id(self, spec: ResourceSpec, physical_id: str, reason: str) -> None:
        record, _ = self.records[spec.name]
        self._write_resource(
            record.but(physical_id=physical_id, worker=self.worker_id, updated_at=self.clock()),
            str(record.status),
            reason,
        )

    def _await_ready(
        self, provider: Provider, ctx: StepContext, spec: ResourceSpec, physical_id: str
    ) -> None:
        recorded = self.records[spec.name][0].physical_id == physical_id
        recreated = 0
        while True:
            try:
                observed: Observed = self._guarded(lambda p=physical_id: provider.observe(ctx, p))
            except ResourceGoneError:
                # Gone before it was ready (deleted behind our back, or a provider
                # that cannot observe another worker's create): create it again.
                recreated += 1
                if recreated > 3:
                    raise
                physical_id = self._create(provider, ctx, spec, adopt=True)
                recorded = self.records[spec.name][0].physical_id == physical_id
                continue
            if observed.failed is not None:
                raise ResourceFailedError(observed.failed)
            if observed.ready:
                record, _ = self.records[spec.name]
                self._write_resource(
                    record.but(
                        status=ResourceStatus.CREATE_COMPLETE,
                        physical_id=physical_id,
                        reference=observed.reference,
                        attributes=dict(observed.attributes),
                        error=None,
                        worker=self.worker_id,
                        updated_at=self.clock(),
                    ),
                    str(record.status),
                    "created",
                    progress=1,
                )
                return
            if not recorded:
                self._record_id(spec, physical_id, "create called")
                recorded = True
            if self.stopping.is_set():
                raise StepStoppedError(spec.name)
            if self.fence.lost.wait(self.settings.poll_interval_s):
                raise ClaimLostError(f"build {self.build_id}: claim lost while polling")

    def _fail_resource(self, spec: ResourceSpec, error: str) -> None:
        record, _ = self.records[spec.name]
        if record.status is not ResourceStatus.CREATE_FAILED:
            self._write_resource(
                record.but(
                    status=ResourceStatus.CREATE_FAILED,
                    error=error,
                    worker=self.worker_id,
                    updated_at=self.clock(),
                ),
                str(record.status),
                error,
            )
        raise StepFailedError(self._note(spec, "CREATE", error))

    def _note(self, spec: ResourceSpec, action: str, error: str) -> dict[str, object]:
        return Note(
            resource=spec.name,
            type=spec.type,
            action=action,
            error=error,
            worker=self.worker_id,
            at=self.clock(),
        ).to_dict()

    # -- run-time references --------------------------------------------------

    def _resolve(self, value: Any) -> Any:
        return functions.resolve(
            value,
            get_resource=self._physical_id,
            get_attr=self._attribute,
            pseudo={
                "OS::stack_name": self.meta.name,
                "OS::stack_id": self.build_id,
                "OS::project_id": self.meta.project_id,
            },
        )

    def _physical_id(self, name: str) -> str | None:
        """What get_resource gives: the provider's reference, else the physical id."""
        entry = self.records.get(name)
        if entry is None:
            return None
        return entry[0].reference or entry[0].physical_id

    def _attribute(self, name: str, attribute: str) -> Any:
        entry = self.records.get(name)
        if entry is None:
            return None
        attributes = entry[0].attributes
        if attribute == "show" and "show" not in attributes:
            return dict(attributes)
        return attributes.get(attribute)

    def _outputs(self) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for output in self.plan.outputs:
            try:
                value = self._resolve(output.value)
            except (ValueError, KeyError, TypeError, functions.PathError) as exc:
                outputs[output.name] = {"description": output.description, "error": str(exc)}
            else:
                outputs[output.name] = {"description": output.description, "value": value}
        return outputs

    # -- tearing down (rollback and delete) ------------------------------------

    def _teardown(self, *, honour_retain: bool) -> tuple[dict[str, object] | None, bool]:
        targets = [
            name
            for name in self.specs
            if name in self.records and self.records[name][0].status not in _FINISHED
        ]
        dependents: dict[str, list[str]] = {name: [] for name in targets}
        for name in targets:
            for dep in self.specs[name].depends_on:
                if dep in dependents:
                    dependents[dep].append(name)

        def step(name: str) -> None:
            self._delete_step(name, honour_retain=honour_retain)

        return run_graph(
            targets,
            dependents,
            step,
            executor=self.executor,
            parallelism=self.settings.parallelism,
            stopping=self.stopping,
        )

    def _delete_step(self, name: str, *, honour_retain: bool) -> None:
        spec = self.specs[name]
        record, _ = self.records[name]
        if honour_retain and spec.deletion_policy is DeletionPolicy.RETAIN and record.physical_id:
            self._write_resource(
                record.but(status=ResourceStatus.RETAINED, updated_at=self.clock()),
                str(record.status),
                "kept in the cloud (deletion_policy: Retain)",
            )
            return
        provider = self.providers.for_type(spec.type)
        ctx = self._context(spec)
        try:
            if record.status is not ResourceStatus.DELETE_IN_PROGRESS:
                record = record.but(
                    status=ResourceStatus.DELETE_IN_PROGRESS,
                    worker=self.worker_id,
                    updated_at=self.clock(),
                )
                self._write_resource(record, str(self.records[name][0].status), "deleting")
            # Everything tagged for this step goes, not just the recorded id: a
            # create whose outcome was never recorded leaves nothing behind.
            ids = {f.physical_id for f in self._guarded(lambda: provider.find(ctx))}
            if record.physical_id:
                ids.add(record.physical_id)
            for physical_id in sorted(ids):
                with contextlib.suppress(ResourceGoneError):
                    self._guarded(lambda p=physical_id: provider.delete(ctx, p))
            while not all(self._guarded(lambda p=p: provider.is_deleted(ctx, p)) for p in ids):
                if self.stopping.is_set():
                    raise StepStoppedError(name)
                if self.fence.lost.wait(self.settings.poll_interval_s):
                    raise ClaimLostError(f"build {self.build_id}: claim lost while deleting")
        except ProviderError as exc:
            self._write_resource(
                record.but(
                    status=ResourceStatus.DELETE_FAILED, error=str(exc), updated_at=self.clock()
                ),
                str(record.status),
                str(exc),
            )
            raise StepFailedError(self._note(spec, "DELETE", str(exc))) from exc
        self._write_resource(
            record.but(status=ResourceStatus.DELETE_COMPLETE, error=None, updated_at=self.clock()),
            str(record.status),
            "deleted",
        )


def _reason(note: dict[str, object]) -> str:
    return (
        f"{note.get('action')} of {note.get('resource')} ({note.get('type')}) failed: "
        f"{note.get('error')}"
    )
