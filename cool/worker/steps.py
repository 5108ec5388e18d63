"""One resource's steps: create (or adopt) it, and delete it.

Every step is recorded *before* its side effect (DESIGN.md section 5)::

    PENDING -> CREATE_IN_PROGRESS (intent recorded) -> cloud create called
            -> physical id recorded -> poll until ready -> CREATE_COMPLETE

so whoever runs a step after a takeover knows whether the resource is done
(skip it), has an id (poll it), or was being created with an unknown outcome
(look it up by its tags and *adopt* it, or create it).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections.abc import Callable
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
    StaleClaimError,
    StepContext,
    finds_by_mark,
)
from cool.clouds.registry import Providers
from cool.errors import ClaimLostError, RecordTooLargeError, ResolutionTooLargeError
from cool.model import DeletionPolicy, ResourceSpec, ResourceStatus
from cool.store.records import Note, ResourceRecord
from cool.template.functions import PathError
from cool.template.parse import DEFAULT_LIMITS, Limits
from cool.worker import references
from cool.worker.ledger import Ledger
from cool.worker.logins import Logins
from cool.worker.retry import CLOUD_RETRY, RetryPolicy
from cool.worker.schedule import StepFailedError, StepStoppedError

LOG = logging.getLogger(__name__)

_WAKE_SLICE_S = 0.5  # how often a step waiting on a watch looks at the stop flags
_KEPT = "kept in the cloud (deletion_policy: Retain)"
_RECREATE_LIMIT = 3  # a resource that keeps vanishing while it is created fails
# What resolving a step's properties may raise: a create fails with a note; a
# delete goes on without them (its ids suffice). KeyError and RecursionError: a plan
# the compiler would not make (a function without its arguments, nesting deeper than
# the walk goes) must fail its step, not the runner.
_UNRESOLVABLE = (
    PathError,
    TypeError,
    ValueError,
    KeyError,
    RecursionError,
    ResolutionTooLargeError,
)


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    parallelism: int = 4  # steps of one build at a time
    poll_interval_s: float = 0.2  # between the first two looks at a resource not ready
    poll_interval_max_s: float = 1.0  # the wait grows by half each look, up to this
    delete_patience_s: float = 1800.0  # a delete not done by then fails (DELETE_FAILED)
    guard_wait_s: float = 10.0  # how long a SUSPENDED connection may hold a step
    retry: RetryPolicy = CLOUD_RETRY
    limits: Limits = DEFAULT_LIMITS  # the resolution budget, as the API checked it


class Steps:
    def __init__(
        self,
        ledger: Ledger,
        providers: Providers,
        settings: RunnerSettings,
        specs: dict[str, ResourceSpec],
        *,
        stopping: threading.Event,
        count_call: Callable[[], None],
        expired: Callable[[], bool] = lambda: False,
        halt: threading.Event | None = None,
    ) -> None:
        self.ledger = ledger
        self.providers = providers
        self.settings = settings
        self.specs = specs
        self.stopping = stopping
        self.count_call = count_call
        self.expired = expired
        # A cancel or delete request (or the deadline): a step that only waits (a wait
        # condition) lets go at once; one that made something finishes its step.
        self.halt = halt or threading.Event()
        # The build's logins, started by the runner as its run starts (none: at once).
        self.logins = Logins(ledger.meta.trust_id, stopping)

    # -- shared -----------------------------------------------------------------

    def _context(self, spec: ResourceSpec, *, creating: bool = False) -> StepContext:
        """The step's names, tags and properties. A create's references all resolve (what
        it depends on is complete); a delete's may not any more, and its ids suffice."""
        meta = self.ledger.meta
        try:
            properties = references.resolve(
                spec.properties, meta, self.ledger.records, limits=self.settings.limits
            )
        except _UNRESOLVABLE:
            if creating:
                raise
            properties = {}
        return StepContext(
            build_id=meta.build_id,
            resource_name=spec.name,
            resource_type=spec.type,
            project_id=meta.project_id,
            build_name=meta.name,
            trust_id=meta.trust_id,
            epoch=self.ledger.fence.epoch,
            properties=properties,
            external_id=spec.external_id,
            made=self._made(spec) if creating else {},
        )

    def _made(self, spec: ResourceSpec) -> dict[str, str]:
        """The ids of what the step depends on, built (its references can only name
        those): the provider uses them as they are instead of looking them up."""
        made: dict[str, str] = {}
        records = self.ledger.records
        for name in spec.depends_on:
            entry = records.get(name)
            if entry is None:
                continue
            record = entry[0]
            if record.status == ResourceStatus.CREATE_COMPLETE and record.physical_id:
                made[record.physical_id] = record.type
        return made

    def _guarded(self, function: Callable[[], Any]) -> Any:
        """A cloud call, a read (poll, find) as much as a create or a delete: only while
        the claim is ours and the connection up (``Fence.guard`` holds it while
        SUSPENDED), retried as the policy says."""

        def before() -> None:
            self.ledger.fence.guard(self.settings.guard_wait_s)
            self.count_call()

        try:
            return self.settings.retry.call(function, before=before, pause=self._between_tries)
        except StaleClaimError as exc:  # the cloud has seen a newer owner's token
            self.ledger.fence.lose(str(exc))
            raise ClaimLostError(f"build {self.ledger.build_id}: {exc}") from exc

    def _between_tries(self, seconds: float) -> None:
        """The wait before a cloud call's next try, cut short when the worker stops (the
        step lets go; its intent is recorded, so the next owner adopts) or the claim is
        lost. Cancel and delete requests do not cut it: a teardown retries too."""
        give_up = time.monotonic() + seconds
        while True:
            if self.stopping.is_set():
                raise StepStoppedError("a cloud call's retry")
            if self.ledger.fence.lost.is_set():
                raise ClaimLostError(f"build {self.ledger.build_id}: claim lost while waiting")
            left = give_up - time.monotonic()
            if left <= 0:
                return
            self.stopping.wait(min(_WAKE_SLICE_S, left))

    def _pause(self, name: str, looks: int, *, creating: bool = False) -> None:
        """Between two polls (the ``looks``-th wait, from 0, backing off): let go when the
        worker stops or the build's deadline passed (the physical id is recorded: nothing
        is lost), abandon when the claim is lost."""
        if self.stopping.is_set() or (creating and self.expired()):
            raise StepStoppedError(name)
        settings = self.settings
        wait = min(settings.poll_interval_s * 1.5 ** min(looks, 64), settings.poll_interval_max_s)
        if self.ledger.fence.lost.wait(max(wait, settings.poll_interval_s)):
            raise ClaimLostError(f"build {self.ledger.build_id}: claim lost while waiting")

    def _await_change(self, name: str, changed: threading.Event, left_s: float) -> None:
        """Until ``changed`` is set (a ZooKeeper watch: a wait condition's next signal)
        or ``left_s`` passed (its timeout, to be judged): ZooKeeper is not polled. The
        worker stopping, a cancel or delete request, the deadline and a lost claim are
        looked at in memory, every :data:`_WAKE_SLICE_S`, so that none waits for the
        next signal (a wait has nothing in the cloud to finish)."""
        give_up = time.monotonic() + left_s + _WAKE_SLICE_S
        while True:
            if self.stopping.is_set() or self.halt.is_set() or self.expired():
                raise StepStoppedError(name)
            if self.ledger.fence.lost.is_set():
                raise ClaimLostError(f"build {self.ledger.build_id}: claim lost while waiting")
            left = give_up - time.monotonic()
            if left <= 0 or changed.wait(min(_WAKE_SLICE_S, left)):
                return

    def _update(self, name: str, reason: str, *, progress: int = 0, **changes: Any) -> None:
        record = self.ledger.record(name)
        assert record is not None
        self.ledger.write_resource(
            record.but(worker=self.ledger.worker_id, updated_at=self.ledger.clock(), **changes),
            reason,
            progress=progress,
        )

    def note(self, spec: ResourceSpec, action: str, error: str) -> dict[str, object]:
        return Note(
            resource=spec.name,
            type=spec.type,
            action=action,
            error=error,
            worker=self.ledger.worker_id,
            at=self.ledger.clock(),
        ).to_dict()

    # -- create -------------------------------------------------------------------

    def create(self, name: str) -> None:
        try:
            self._create_step(name)
        except RecordTooLargeError as exc:  # never sent: the step fails, the build goes on
            raise StepFailedError(self.note(self.specs[name], "CREATE", str(exc))) from exc

    def batchable(self, name: str) -> bool:
        """A create that needs no checkpoint and no cloud: a type with no side effect,
        not started before (no record), not standing for an existing resource."""
        spec = self.specs[name]
        return (
            spec.external_id is None
            and self.ledger.record(name) is None
            and _has_no_side_effect(self.providers.for_spec(spec), spec.type)
        )

    def create_many(self, names: list[str]) -> dict[str, BaseException | None]:
        """Creates of :meth:`batchable` resources, recorded CREATE_COMPLETE together in
        one write (halved until it fits one ZooKeeper write). A resource that does not
        simply come out complete (unresolvable, failed, its record too large) takes
        the single step's way, which records why."""
        ended: dict[str, BaseException | None] = {}
        made: list[ResourceRecord] = []
        for name in names:
            record = self._made_at_once(self.specs[name])
            if record is None:
                ended[name] = _ended(lambda name=name: self.create(name))
            else:
                made.append(record)
        self._write_together(made, "created", ended, single=self.create, progress=True)
        return ended

    def _made_at_once(self, spec: ResourceSpec) -> ResourceRecord | None:
        """A batchable resource's complete record, or None when anything is not plain."""
        provider = self.providers.for_spec(spec)
        try:
            ctx = self._context(spec, creating=True)
            physical_id = provider.create(ctx, ctx.properties)
            observed = provider.observe(ctx, physical_id)
        except (*_UNRESOLVABLE, ProviderError):
            return None
        if observed.failed is not None or not observed.ready:
            return None
        return ResourceRecord(
            name=spec.name,
            type=spec.type,
            status=ResourceStatus.CREATE_COMPLETE,
            physical_id=physical_id,
            reference=observed.reference,
            attributes=dict(observed.attributes),
            error=None,
            attempts=1,
            worker=self.ledger.worker_id,
            updated_at=self.ledger.clock(),
        )

    def _write_together(
        self,
        records: list[ResourceRecord],
        reason: str,
        ended: dict[str, BaseException | None],
        *,
        single: Callable[[str], None],
        progress: bool,
    ) -> None:
        """Records written in one transaction, halved until it fits one write; one
        that alone does not fit takes the single step's way (``single``)."""
        if not records:
            return
        try:
            self.ledger.write_resources(records, reason, progress=len(records) if progress else 0)
        except RecordTooLargeError:
            if len(records) == 1:
                name = records[0].name
                ended[name] = _ended(lambda: single(name))
                return
            half = len(records) // 2
            for part in (records[:half], records[half:]):
                self._write_together(part, reason, ended, single=single, progress=progress)
            return
        ended.update(dict.fromkeys((r.name for r in records), None))

    def _create_step(self, name: str) -> None:
        spec = self.specs[name]
        provider = self.providers.for_spec(spec)
        record = self.ledger.record(name)
        if record is not None and record.status is ResourceStatus.CREATE_FAILED:
            raise StepFailedError(self.note(spec, "CREATE", record.error or "failed"))
        try:
            ctx = self._context(spec, creating=True)
        except _UNRESOLVABLE as exc:  # over the resolution budget, say: nothing was made
            error = f"its properties could not be resolved: {exc}"
            self._fail_unstarted(spec, error)
            raise StepFailedError(self.note(spec, "CREATE", error)) from exc
        try:
            if spec.external_id is not None:
                physical_id, sole = self._record_external(spec, record), False
            elif record is None and _has_no_side_effect(provider, spec.type):
                self._create_at_once(provider, ctx, spec)
                return
            elif record is None:
                self.logins.wait(provider)  # the build's, not this step's
                self.ledger.write_resource(
                    ResourceRecord(
                        name=name,
                        type=spec.type,
                        status=ResourceStatus.CREATE_IN_PROGRESS,
                        attempts=1,
                        worker=self.ledger.worker_id,
                        updated_at=self.ledger.clock(),
                    ),
                    "creating",
                )
                physical_id, sole = self._create(provider, ctx, spec, adopt=False)
            elif record.physical_id is None:
                physical_id, sole = self._create(provider, ctx, spec, adopt=True)
            else:  # made by an earlier claim, whose way to it is not known
                physical_id, sole = record.physical_id, False
            self._await_ready(provider, ctx, spec, physical_id, sole=sole)
        except ProviderError as exc:
            if self.ledger.status(name) is not ResourceStatus.CREATE_FAILED:
                self._update(name, str(exc), status=ResourceStatus.CREATE_FAILED, error=str(exc))
            raise StepFailedError(self.note(spec, "CREATE", str(exc))) from exc

    def _create_at_once(self, provider: Provider, ctx: StepContext, spec: ResourceSpec) -> None:
        """A type with no side effect: made and recorded in one write, complete or
        failed. Nothing needs a checkpoint: a worker that dies before the write leaves
        nothing behind, and the next one makes it again."""
        try:
            physical_id = provider.create(ctx, ctx.properties)
            observed = provider.observe(ctx, physical_id)
            if observed.failed is not None or not observed.ready:
                raise ResourceFailedError(observed.failed or "not ready when made")
        except ProviderError as exc:
            self._write_new(spec, str(exc), status=ResourceStatus.CREATE_FAILED, error=str(exc))
            raise
        self._record_created(
            spec, physical_id, observed, lambda reason, **f: self._write_new(spec, reason, **f)
        )

    def _record_created(
        self,
        spec: ResourceSpec,
        physical_id: str,
        observed: Observed,
        write: Callable[..., None],
    ) -> None:
        """CREATE_COMPLETE with the attributes, through ``write(reason, **fields)``. A
        record too large to write is never sent: a small one instead, CREATE_FAILED with
        the id (which the rollback deletes), not the attributes."""
        try:
            write(
                "created",
                progress=1,
                status=ResourceStatus.CREATE_COMPLETE,
                physical_id=physical_id,
                reference=observed.reference,
                attributes=dict(observed.attributes),
                error=None,
            )
        except RecordTooLargeError as exc:
            error = str(exc)
            write(error, status=ResourceStatus.CREATE_FAILED, physical_id=physical_id, error=error)
            raise StepFailedError(self.note(spec, "CREATE", error)) from exc

    def _write_new(
        self, spec: ResourceSpec, reason: str, *, progress: int = 0, **fields: Any
    ) -> None:
        self.ledger.write_resource(
            ResourceRecord(
                name=spec.name,
                type=spec.type,
                attempts=1,
                worker=self.ledger.worker_id,
                updated_at=self.ledger.clock(),
                **fields,
            ),
            reason,
            progress=progress,
        )

    def _record_external(self, spec: ResourceSpec, record: ResourceRecord | None) -> str:
        """An existing resource stands for this one (HOT ``external_id``): nothing is
        created or looked up by tags. The intent record carries the id from the start,
        so whoever takes the step over only observes it."""
        external_id = spec.external_id
        assert external_id is not None
        if record is None:
            self.ledger.write_resource(
                ResourceRecord(
                    name=spec.name,
                    type=spec.type,
                    status=ResourceStatus.CREATE_IN_PROGRESS,
                    physical_id=external_id,
                    attempts=1,
                    worker=self.ledger.worker_id,
                    updated_at=self.ledger.clock(),
                ),
                f"adopting the existing resource {external_id} (external_id)",
            )
        elif record.physical_id != external_id:
            self._update(spec.name, "adopting (external_id)", physical_id=external_id)
        return external_id

    def _create(
        self, provider: Provider, ctx: StepContext, spec: ResourceSpec, *, adopt: bool
    ) -> tuple[str, bool]:
        """The physical id, adopted or newly created, and whether it is ``sole``: made
        by the one create call this step sent, answered at its first try.

        ``adopt``: an earlier create's outcome is unknown (a takeover), so look
        the resource up by its tags first. A retried create looks it up too: a
        create whose reply was lost may well have happened.
        """
        attempts = 0
        sole = False

        def find_or_create() -> str:
            nonlocal attempts, sole
            attempts += 1
            if adopt or attempts > 1:
                found = provider.find(ctx)
                if found:
                    return self._adopt(provider, ctx, spec, found)
            try:
                made = provider.create(ctx, properties)
            except ResourceExistsError:
                # Ours, if it carries our tags (an earlier create landed late);
                # else the name belongs to someone else: a failure to report.
                found = provider.find(ctx)
                if found:
                    return self._adopt(provider, ctx, spec, found)
                raise
            sole = not adopt and attempts == 1
            return made

        properties = ctx.properties
        return self._guarded(find_or_create), sole

    def _adopt(
        self, provider: Provider, ctx: StepContext, spec: ResourceSpec, found: list[Found]
    ) -> str:
        """Keep the oldest resource carrying the step's tags; delete any duplicates."""
        keep, extras = found[0], found[1:]
        for extra in extras:  # a create that raced a takeover
            try:
                self._guarded(lambda e=extra: provider.delete(ctx, e.physical_id))
            except ProviderError as exc:  # still marked: the build's delete finds it
                LOG.warning("%s: a duplicate %s is left for the delete: %s", spec.name, extra, exc)
        self._update(spec.name, "adopted an existing resource", physical_id=keep.physical_id)
        return keep.physical_id

    def _await_ready(
        self,
        provider: Provider,
        ctx: StepContext,
        spec: ResourceSpec,
        physical_id: str,
        *,
        sole: bool,
    ) -> None:
        recreated = 0
        for looks in itertools.count():
            try:
                observed: Observed = self._guarded(lambda p=physical_id: provider.observe(ctx, p))
            except ResourceGoneError as exc:
                if spec.external_id is not None:  # not ours to make: Heat's words
                    error = (
                        f"Invalid external resource: Resource {spec.external_id} "
                        f"({spec.type}) can not be found."
                    )
                    self._failed(spec.name, physical_id, error)
                    raise ResourceGoneError(error) from exc
                # Gone before it was ready (deleted behind our back, or a provider
                # that cannot observe another worker's create): create it again.
                recreated += 1
                if recreated > _RECREATE_LIMIT:
                    raise
                physical_id, sole = self._create(provider, ctx, spec, adopt=True)
                continue
            except ProviderError as exc:
                self._failed(spec.name, physical_id, str(exc))
                raise
            if observed.failed is not None:
                self._failed(spec.name, physical_id, observed.failed)
                raise ResourceFailedError(observed.failed)
            if observed.ready:
                self._record_created(
                    spec,
                    physical_id,
                    observed,
                    lambda reason, sole=sole, **f: self._update(spec.name, reason, sole=sole, **f),
                )
                return
            record = self.ledger.record(spec.name)
            if record is not None and record.physical_id != physical_id:
                self._update(spec.name, "create called", physical_id=physical_id)
            changed = getattr(provider, "changed", None)
            wake = changed(ctx, physical_id) if callable(changed) else None
            if wake is not None:
                self._await_change(spec.name, *wake)
            else:
                self._pause(spec.name, looks, creating=True)

    def _failed(self, name: str, physical_id: str, error: str) -> None:
        """A create that failed at its first look still records what it made (the id
        is otherwise written by the first look that finds it not ready): the rollback
        deletes it by id, not only by what a find turns up."""
        record = self.ledger.record(name)
        if record is not None and record.status is not ResourceStatus.CREATE_FAILED:
            self._update(
                name,
                error,
                status=ResourceStatus.CREATE_FAILED,
                physical_id=physical_id,
                error=error,
            )

    def _fail_unstarted(self, spec: ResourceSpec, error: str) -> None:
        """A create that failed before its cloud call: recorded CREATE_FAILED, so the
        build's resources say which one failed and why."""
        record = self.ledger.record(spec.name)
        if record is not None:
            self._update(spec.name, error, status=ResourceStatus.CREATE_FAILED, error=error)
            return
        self.ledger.write_resource(
            ResourceRecord(
                name=spec.name,
                type=spec.type,
                status=ResourceStatus.CREATE_FAILED,
                error=error,
                worker=self.ledger.worker_id,
                updated_at=self.ledger.clock(),
            ),
            error,
        )

    # -- delete -------------------------------------------------------------------

    def delete_batchable(self, name: str) -> bool:
        """A delete with nothing to delete anywhere: a type with no side effect, made by
        this build, whatever its deletion policy (it keeps nothing in any cloud)."""
        spec = self.specs[name]
        return spec.external_id is None and _has_no_side_effect(
            self.providers.for_spec(spec), spec.type
        )

    def delete_many(
        self, names: list[str], *, honour_retain: bool
    ) -> dict[str, BaseException | None]:
        """Deletes of :meth:`delete_batchable` resources: there is nothing to call or to
        wait for, so each is recorded DELETE_COMPLETE (RETAINED when its policy keeps
        it), together in one write. The single step's way writes DELETE_IN_PROGRESS
        first, which guards a cloud call these do not make."""
        ended: dict[str, BaseException | None] = {}
        records = []
        for name in names:
            record = self.ledger.record(name)
            assert record is not None
            if (
                honour_retain
                and self.specs[name].deletion_policy is DeletionPolicy.RETAIN
                and record.physical_id
            ):
                status, reason = ResourceStatus.RETAINED, _KEPT
            else:
                status, reason = ResourceStatus.DELETE_COMPLETE, "deleted"
            records.append(
                (
                    record.but(
                        status=status,
                        error=None,
                        worker=self.ledger.worker_id,
                        updated_at=self.ledger.clock(),
                    ),
                    reason,
                )
            )
        for reason in sorted({reason for _, reason in records}):
            self._write_together(
                [r for r, why in records if why == reason],
                reason,
                ended,
                single=lambda name: self.delete(name, honour_retain=honour_retain),
                progress=False,
            )
        return ended

    def delete(self, name: str, *, honour_retain: bool) -> None:
        try:
            self._delete_step(name, honour_retain=honour_retain)
        except RecordTooLargeError as exc:
            raise StepFailedError(self.note(self.specs[name], "DELETE", str(exc))) from exc

    def _delete_step(self, name: str, *, honour_retain: bool) -> None:
        spec = self.specs[name]
        record = self.ledger.record(name)
        assert record is not None
        if spec.external_id is not None:  # never cool's to delete, whatever the teardown
            self._update(
                name,
                "kept in the cloud (external_id: not made by this build)",
                status=ResourceStatus.RETAINED,
            )
            return
        if honour_retain and spec.deletion_policy is DeletionPolicy.RETAIN and record.physical_id:
            self._update(name, _KEPT, status=ResourceStatus.RETAINED)
            return
        provider = self.providers.for_spec(spec)
        ctx = self._context(spec)
        try:
            if record.status is not ResourceStatus.DELETE_IN_PROGRESS:
                self.logins.wait(provider)  # the build's, not this step's
                self._update(name, "deleting", status=ResourceStatus.DELETE_IN_PROGRESS)
            # Everything tagged for this step goes, not just the recorded id: a
            # create whose outcome was never recorded leaves nothing behind. (A type
            # found by its endpoints, not by marks, is looked up only when no id was
            # recorded: what it finds could be another build's identical link.)
            # A record made by one create answered at once (``sole``) has no other.
            ids: set[str] = set()
            if record.physical_id is None or (
                finds_by_mark(provider, spec.type) and not record.sole
            ):
                ids = {f.physical_id for f in self._guarded(lambda: provider.find(ctx))}
            if record.physical_id:
                ids.add(record.physical_id)
            self._delete_all(provider, ctx, name, ids)
        except ProviderError as exc:
            self._update(name, str(exc), status=ResourceStatus.DELETE_FAILED, error=str(exc))
            raise StepFailedError(self.note(spec, "DELETE", str(exc))) from exc
        self._update(name, "deleted", status=ResourceStatus.DELETE_COMPLETE, error=None)

    def _delete_all(self, provider: Provider, ctx: StepContext, name: str, ids: set[str]) -> None:
        """Delete every id and wait until each is gone (bounded by ``delete_patience_s``)."""
        for physical_id in sorted(ids):
            with contextlib.suppress(ResourceGoneError):
                self._guarded(lambda p=physical_id: provider.delete(ctx, p))
        give_up = self.ledger.clock() + self.settings.delete_patience_s
        for looks in itertools.count():
            if all(self._guarded(lambda p=p: provider.is_deleted(ctx, p)) for p in ids):
                return
            if self.ledger.clock() > give_up:
                raise ProviderError(
                    f"still not deleted after {self.settings.delete_patience_s:.0f} s "
                    f"(the cloud's state: see {', '.join(sorted(ids))})"
                )
            self._pause(name, looks)

    # -- the re-check before a terminal status ---------------------------------------

    def sweep(self, name: str, *, keep: str | None) -> None:
        """Delete whatever carries the step's tags but ``keep``, with an event: what a
        create that landed late (its worker's claim had moved on) left in the cloud."""
        spec = self.specs[name]
        provider = self.providers.for_spec(spec)
        ctx = self._context(spec)
        try:
            try:
                found = self._guarded(lambda: provider.find(ctx))
            except ResourceGoneError:  # what it would hang on is gone: so is it
                found = []
            extras = {f.physical_id for f in found if f.physical_id != keep}
            if not extras:
                return
            LOG.warning("build %s: %s: deleting %s, not ours", ctx.build_id, name, extras)
            self._delete_all(provider, ctx, name, extras)
        except ProviderError as exc:
            error = f"could not delete what a late create left under its tags: {exc}"
            raise StepFailedError(self.note(spec, "DELETE", error)) from exc
        # (An event's text is cut short: it cannot be too large to write.)
        self.ledger.remark(
            spec.name,
            f"deleted {', '.join(sorted(extras))}: made under its tags by a create that "
            "landed late, after its worker's claim had moved on",
        )


def _ended(step: Callable[[], None]) -> BaseException | None:
    """How a step ended: None, or what it raised (a batch reports it, not raises)."""
    try:
        step()
    except BaseException as exc:
        return exc
    return None


def _has_no_side_effect(provider: Provider, resource_type: str) -> bool:
    check = getattr(provider, "has_no_side_effect", None)
    return bool(check(resource_type)) if callable(check) else False
