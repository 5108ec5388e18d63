"""A scaling policy's signal, recorded as the build's next plan in one transaction.

A build whose template has an ``OS::Heat::ScalingPolicy`` keeps its *recipe* (the
template's text, parameters, environments and files as the submit gave them; hidden
values included, as the plan holds them) in ``<build>/recipe``, written with the build.
A signal (:meth:`Resizes.signal`) decides the resize (cool.template.scaling), compiles
the recipe again with the group's member names, and writes, in one transaction
checked against the state's version:

- the new plan, ``<build>/plan-<version>`` (written once; the one before it goes, and
  so do the records of members an earlier resize removed, which are gone by then);
- the state: ``UPDATE_IN_PROGRESS``, its ``plan_version``, the resize (``update``:
  group, policy, cooldown, deadline) and what scaling keeps (``scaling``: each
  group's next member number; its cooldown's end is set when the resize completes);
- the build back in ``pending`` (no worker owns a complete build), and an event.

A second signal racing the first finds the state moved on and the build no longer
complete: it does nothing, as Heat's does while a group is resizing. The worker then
runs the update under its fence (cool.worker.runner).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, RolledBackError

from cool.errors import BuildConflictError, BuildNotFoundError
from cool.model import NESTED_SEPARATOR, BuildStatus, ControlRequest, Plan
from cool.store import codec, sizes
from cool.store.builds import BuildStore
from cool.store.control import claims_ended
from cool.store.outcomes import unavailable_as_error
from cool.store.pipelined import many
from cool.store.records import BuildState, Event
from cool.template.scaling import Decision, NoAction, decide, members_now, resized_plan

_ATTEMPTS = 8  # optimistic concurrency: re-read and retry when the state moved


@dataclass(frozen=True, slots=True)
class Recipe:
    """What a build's plans are compiled from, as its submit gave it."""

    template: str
    parameters: dict[str, Any] = field(default_factory=dict)
    environments: tuple[tuple[str, str], ...] = ()  # (name, text), in the request's order
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "parameters": self.parameters,
            "environments": [list(e) for e in self.environments],
            "files": self.files,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipe:
        return cls(
            template=str(data.get("template") or ""),
            parameters=dict(data.get("parameters") or {}),
            environments=tuple((str(n), str(t)) for n, t in data.get("environments") or ()),
            files=dict(data.get("files") or {}),
        )


# Compiles a recipe with the scaling groups' member names given (by group plan name).
Compile = Callable[[Recipe, Mapping[str, Sequence[str]]], Plan]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a signal did: ``resized`` (the state it wrote), or why nothing."""

    resized: bool
    reason: str
    state: BuildState


class Resizes:
    def __init__(self, store: BuildStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.client = store.client
        self.layout = store.layout
        self.clock = clock

    def recipe(self, build_id: str) -> Recipe:
        with unavailable_as_error():
            try:
                data, _ = self.client.get(self.layout.recipe(build_id))
            except NoNodeError:
                raise BuildConflictError(
                    f"build {build_id} has no recipe to resize from (stored before cool "
                    "scaled groups)"
                ) from None
        return Recipe.from_dict(codec.loads(data))

    def signal(
        self,
        build_id: str,
        policy: str,
        body: Any,
        *,
        compile_plan: Compile,
        max_members: int,
        request_id: str = "",
    ) -> Outcome:
        """Resize the policy's group if Heat would (:func:`decide`), else say why not
        (:class:`~cool.errors.ResizeRefusedError` past ``max_members``)."""
        meta, _ = self.store.meta_and_plan(build_id)
        for _ in range(_ATTEMPTS):
            state, state_version = self.store.state(build_id)
            try:
                running = self.store.plan_at(build_id, state.plan_version)
            except BuildNotFoundError:
                continue  # resized again since the state was read
            now = self.clock()
            decision = decide(
                running,
                state.status,
                state.scaling,
                policy,
                body=body,
                now=now,
                max_members=max_members,
            )
            if isinstance(decision, NoAction):
                return Outcome(False, decision.reason, state)
            compiled = compile_plan(self.recipe(build_id), members_now(running, decision))
            plan = resized_plan(running, compiled, decision)
            lease, lease_version = self.store.lease_data(build_id)
            reason = (
                f"{policy}: resizing {decision.group} from {decision.current} to "
                f"{decision.capacity} ({decision.adjustment})"
            )
            scaling = dict(state.scaling or {})
            scaling[decision.group] = {
                **(scaling.get(decision.group) or {}),
                "next": decision.next_number,
            }
            updating = state.but(
                status=BuildStatus.UPDATE_IN_PROGRESS,
                reason=reason,
                note=None,
                # A complete build has every resource it keeps complete.
                done=len(plan.resources) - len(plan.retiring) - _added(plan, decision),
                total=len(plan.resources) - len(plan.retiring),
                updated_at=now,
                plan_version=state.plan_version + 1,
                scaling=scaling,
                update={
                    "group": decision.group,
                    "policy": policy,
                    "cooldown": decision.cooldown,
                    "deadline": now + meta.timeout_mins * 60,
                    "from": decision.current,
                    "to": decision.capacity,
                    "at": now,
                    "reason": reason,  # the state's, until a worker claims the update
                },
                claims_before=claims_ended(lease),
            )
            if self._write(
                build_id,
                running=running,
                plan=plan,
                state=state,
                state_version=state_version,
                updating=updating,
                request_id=request_id,
                lease_version=lease_version,
            ):
                return Outcome(True, reason, updating)
        raise BuildConflictError(f"build {build_id} changed too often to resize; try again")

    def _write(
        self,
        build_id: str,
        *,
        running: Plan,
        plan: Plan,
        state: BuildState,
        state_version: int,
        updating: BuildState,
        request_id: str,
        lease_version: int,
    ) -> bool:
        layout = self.layout
        record = codec.dumps_compressed(
            plan.to_dict(), what="the resized plan", error=codec.BuildTooLargeError
        )
        transaction = self.client.transaction()
        transaction.check(layout.lease(build_id), lease_version)  # claims_before holds
        # A cancel asked of the create, which completed all the same, is not this
        # update's: left there, it would stop it at once.
        with unavailable_as_error():
            control, control_stat = self.client.get(layout.control(build_id))
        requests = codec.loads(control)
        if ControlRequest.CANCEL in requests:
            del requests[ControlRequest.CANCEL]
            transaction.set_data(
                layout.control(build_id), codec.dumps(requests), version=control_stat.version
            )
        transaction.set_data(
            layout.state(build_id), codec.dumps(updating.to_dict()), version=state_version
        )
        transaction.create(layout.plan(build_id, updating.plan_version), record)
        if state.plan_version:
            transaction.delete(layout.plan(build_id, state.plan_version))
        # The records of members an earlier resize removed: torn down (the build was
        # complete), and no plan names them any more.
        gone = [layout.resource(build_id, name) for name in running.retiring]
        with unavailable_as_error():
            for path, got in zip(gone, many(self.client, "exists", gone), strict=True):
                if got is not None:
                    transaction.delete(path)
            if self.client.exists(layout.pending_build(build_id)) is None:
                transaction.create(layout.pending_build(build_id), b"")
        event = Event(
            at=updating.updated_at,
            resource=None,
            old=str(state.status),
            new=str(BuildStatus.UPDATE_IN_PROGRESS),
            reason=updating.reason,
            request_id=request_id,
        )
        transaction.create(
            layout.event_prefix(build_id), codec.dumps(event.to_dict()), sequence=True
        )
        size = sizes.transaction_size(transaction.operations)
        if size > sizes.MAX_WRITE_BYTES:
            raise codec.BuildTooLargeError(
                f"the resize would write {size:,} bytes, over the {sizes.MAX_WRITE_BYTES:,} "
                "bytes one ZooKeeper write may carry; the group was not resized"
            )
        with unavailable_as_error():
            results = transaction.commit()
        failures = [r for r in results if isinstance(r, Exception)]
        if not failures:
            return True
        cause = next((f for f in failures if not isinstance(f, RolledBackError)), failures[0])
        if isinstance(cause, BadVersionError | NodeExistsError | NoNodeError):
            if (
                isinstance(cause, NoNodeError)
                and self.client.exists(layout.state(build_id)) is None
            ):
                raise BuildNotFoundError(f"no build {build_id!r}")
            return False
        raise BuildConflictError(f"the resize could not be recorded: {cause!r}")


def _added(plan: Plan, decision: Decision) -> int:
    """How many of the plan's resources the resize adds (the new members, and theirs)."""
    heads = [f"{decision.group}{NESTED_SEPARATOR}{member}" for member in decision.added]
    return sum(
        1
        for spec in plan.resources
        if any(spec.name == h or spec.name.startswith(h + NESTED_SEPARATOR) for h in heads)
    )


__all__ = ["Compile", "Decision", "Outcome", "Recipe", "Resizes"]
