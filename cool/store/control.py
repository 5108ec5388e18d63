"""Requests to a build from outside (the API, operators): cancel and delete.

A request (a :class:`~cool.model.ControlRequest`) is recorded in the build's
``control`` node, keyed by its value; the worker that owns the build watches
that node and honours it within one step. A delete of a finished build, which
no worker owns, also puts the build back in ``pending`` (in the same
transaction), so that a worker claims it to tear it down.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, RolledBackError

from cool.errors import BuildConflictError, BuildNotFoundError
from cool.model import BuildStatus, ControlRequest
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.outcomes import unavailable_as_error
from cool.store.records import BuildState, Event

DELETE_REQUESTED = "delete requested"  # the reason of the state a delete request writes
_ATTEMPTS = 10  # optimistic concurrency: re-read and retry when a version moved


def claims_ended(lease: dict[str, Any]) -> int:
    """The claims of a build (its lease's data) that ended with a dead worker."""
    return int(lease.get("claims", 0) or 0) - int(lease.get("releases", 0) or 0)


class Requests:
    def __init__(self, store: BuildStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.client: KazooClient = store.client
        self.layout = store.layout
        self.clock = clock

    def control(self, build_id: str) -> tuple[dict[str, Any], int]:
        """The requests recorded for a build, and the control node's version."""
        with unavailable_as_error():
            try:
                data, stat = self.client.get(self.layout.control(build_id))
            except NoNodeError:
                raise BuildNotFoundError(f"no build {build_id!r}") from None
        return codec.loads(data), stat.version

    def cancel(self, build_id: str, *, user_id: str = "", request_id: str = "") -> BuildState:
        """Ask the owner to stop; refused (409) once the build has finished."""
        for _ in range(_ATTEMPTS):
            state, _ = self.store.state(build_id)
            if state.status.is_terminal or state.status in (
                BuildStatus.DELETE_IN_PROGRESS,
                BuildStatus.UPDATE_IN_PROGRESS,  # a resize is not rolled back: delete stops it
            ):
                raise BuildConflictError(
                    f"build {build_id} is {state.status}: only a build being created can be "
                    "cancelled"
                )
            control, version = self.control(build_id)
            if ControlRequest.CANCEL in control or ControlRequest.DELETE in control:
                return state  # asked already: asking again changes nothing
            control[ControlRequest.CANCEL] = self._request(user_id, request_id)
            if self._write(
                build_id,
                control=control,
                version=version,
                reason="cancel requested",
                state=state,
                request_id=request_id,
            ):
                return state
        raise BuildConflictError(f"build {build_id} changed too often to cancel; try again")

    def delete(self, build_id: str, *, user_id: str = "", request_id: str = "") -> BuildState:
        """Ask for the build's resources to be torn down. Deleting twice is harmless."""
        for _ in range(_ATTEMPTS):
            state, state_version = self.store.state(build_id)
            if state.status in (BuildStatus.DELETE_IN_PROGRESS, BuildStatus.DELETE_COMPLETE):
                return state
            control, version = self.control(build_id)
            if ControlRequest.DELETE in control and not state.status.is_terminal:
                return state  # the owner has it in hand
            control[ControlRequest.DELETE] = self._request(user_id, request_id)
            if not state.status.is_terminal:
                # In progress (or queued): the owner, or the next one, sees the request.
                if self._write(
                    build_id,
                    control=control,
                    version=version,
                    reason=DELETE_REQUESTED,
                    state=state,
                    request_id=request_id,
                ):
                    return state
                continue
            # Finished: nobody owns it. Back to pending, in DELETE_IN_PROGRESS.
            lease, lease_version = self.store.lease_data(build_id)
            deleting = state.but(
                status=BuildStatus.DELETE_IN_PROGRESS,
                reason=DELETE_REQUESTED,
                updated_at=self.clock(),
                update=None,
                claims_before=claims_ended(lease),
            )
            if self._reopen(
                build_id,
                control=control,
                version=version,
                state=state,
                state_version=state_version,
                deleting=deleting,
                request_id=request_id,
                lease_version=lease_version,
            ):
                return deleting
        raise BuildConflictError(f"build {build_id} changed too often to delete; try again")

    # -- writes --------------------------------------------------------------------

    def _request(self, user_id: str, request_id: str) -> dict[str, Any]:
        return {"at": self.clock(), "user_id": user_id, "request_id": request_id}

    def _event(self, state: BuildState, new: str, reason: str, request_id: str) -> bytes:
        event = Event(
            at=self.clock(),
            resource=None,
            old=str(state.status),
            new=new,
            reason=reason,
            request_id=request_id,
        )
        return codec.dumps(event.to_dict())

    def _write(
        self,
        build_id: str,
        *,
        control: dict[str, Any],
        version: int,
        reason: str,
        state: BuildState,
        request_id: str,
    ) -> bool:
        layout = self.layout
        transaction = self.client.transaction()
        transaction.set_data(layout.control(build_id), codec.dumps(control), version=version)
        transaction.create(
            layout.event_prefix(build_id),
            self._event(state, str(state.status), reason, request_id),
            sequence=True,
        )
        return self._commit(transaction)

    def _reopen(
        self,
        build_id: str,
        *,
        control: dict[str, Any],
        version: int,
        state: BuildState,
        state_version: int,
        deleting: BuildState,
        request_id: str,
        lease_version: int,
    ) -> bool:
        layout = self.layout
        transaction = self.client.transaction()
        transaction.check(layout.lease(build_id), lease_version)  # the count read holds
        transaction.set_data(layout.control(build_id), codec.dumps(control), version=version)
        transaction.set_data(
            layout.state(build_id), codec.dumps(deleting.to_dict()), version=state_version
        )
        transaction.create(layout.pending_build(build_id), b"")
        transaction.create(
            layout.event_prefix(build_id),
            self._event(state, str(BuildStatus.DELETE_IN_PROGRESS), DELETE_REQUESTED, request_id),
            sequence=True,
        )
        return self._commit(transaction)

    def _commit(self, transaction: Any) -> bool:
        """True when applied; False when a version moved (read again and retry)."""
        with unavailable_as_error():
            results = transaction.commit()
        failures = [r for r in results if isinstance(r, Exception)]
        if not failures:
            return True
        cause = next((f for f in failures if not isinstance(f, RolledBackError)), failures[0])
        if isinstance(cause, BadVersionError | NodeExistsError):
            return False
        if isinstance(cause, NoNodeError):
            raise BuildNotFoundError("the build is gone")
        raise BuildConflictError(f"the request could not be recorded: {cause!r}")
