"""``sim``: a SIMULATED OpenStack cloud in a SQLite file. Not a cloud.

For demos, load tests and chaos tests (DESIGN.md sections 6 and 10). Every
worker on a host shares one SQLite file (:mod:`cool.clouds.sim.store`, where
its layout is documented), so duplicates and leaks can be counted after the
fact (:mod:`cool.clouds.sim.audit`). It simulates each OpenStack type cool
declares: real rows with ids, BUILD -> ACTIVE after ``latency_s``, failures by
rate or on purpose (:mod:`cool.clouds.sim.faults`), and the deterministic
tags adoption relies on. Attributes are made up, plausibly
(:mod:`cool.clouds.sim.attributes`), and so is what ``get_resource`` gives
where Heat gives something other than the id (a key pair's name).

Every call is one short ``BEGIN IMMEDIATE`` transaction on a connection of
the calling thread. A failure decided by a switch or by the rate is committed
(the switch consumed, the call recorded) before it is raised. The sim enforces
fencing tokens (:mod:`cool.clouds.sim.fencing`) unless told to behave like a
cloud that cannot (``fencing=False``).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from cool.clouds.base import (
    Found,
    Observed,
    ProviderError,
    ResourceFailedError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.sim import attributes as sim_attributes
from cool.clouds.sim import faults as sim_faults
from cool.clouds.sim import fencing as sim_fencing
from cool.clouds.sim.audit import AuditLine, SimAudit
from cool.clouds.sim.faults import FailureMode, Failures, Fault
from cool.clouds.sim.inventory import Birth, Inventory, kind_of
from cool.clouds.sim.store import LIVE, SimCall, SimResource, SimStatus, SimStore, status_at

__all__ = [
    "AuditLine",
    "FailureMode",
    "SimCall",
    "SimProvider",
    "SimResource",
    "SimStatus",
]

T = TypeVar("T")
_SECRETS = frozenset({"password", "admin_pass"})  # Keystone's user's, Nova's server's


def _kept(properties: Mapping[str, Any]) -> dict[str, Any]:
    """The properties as the sim stores (and its audit shows) them: no secret in clear."""
    return {k: "******" if k in _SECRETS and v is not None else v for k, v in properties.items()}


Body = Callable[[sqlite3.Connection, float, Fault | None], T]


class SimProvider(SimAudit):
    """A SIMULATED cloud for every OpenStack type cool declares; not a cloud.

    ``latency_s`` is how long a create (and a delete) takes; ``failure_rate``
    the chance (``seed``-ed) that a call of ``failure_actions`` fails as
    ``failure_mode`` says; ``clock`` is injectable so tests need no sleeps;
    ``caller`` labels this provider's calls (default host:pid); ``fencing`` False
    makes it accept stale fencing tokens, as a cloud that cannot check them does
    (the runner's re-check of tags is then what removes a late create). The audit
    queries (:class:`~cool.clouds.sim.audit.SimAudit`) read the same file.
    """

    name = "sim"

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        latency_s: float = 0.0,
        failure_rate: float = 0.0,
        failure_mode: FailureMode | str = FailureMode.RAISE,
        failure_actions: Collection[str] = ("create",),
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        caller: str | None = None,
        record_calls: bool = True,
        busy_timeout_s: float = 30.0,
        fencing: bool = True,
    ) -> None:
        self.fences_creates = fencing
        self._failures = Failures(
            rate=failure_rate, mode=failure_mode, actions=failure_actions, seed=seed
        )
        self.failure_rate = failure_rate
        self.failure_mode = self._failures.mode
        self.failure_actions = self._failures.actions
        self.latency_s = latency_s
        self.caller = caller or f"{socket.gethostname()}:{os.getpid()}"
        self.record_calls = record_calls
        self.busy_timeout_s = busy_timeout_s
        store = SimStore(db_path, busy_timeout_s=busy_timeout_s)
        self.db_path = store.db_path
        super().__init__(store, clock)

    def close(self) -> None:
        """Close every connection this provider opened (in this process)."""
        self._store.close()

    def __enter__(self) -> SimProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the Provider protocol -------------------------------------------------

    def supports(self, resource_type: str) -> bool:
        return resource_type in sim_attributes.TYPES

    def create(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        if not self.supports(ctx.resource_type):
            raise ProviderError(f"the sim does not simulate {ctx.resource_type}")
        physical_id = str(uuid.uuid4())

        def body(conn: sqlite3.Connection, now: float, fault: Fault | None) -> str:
            name = properties.get("name")
            name = name if isinstance(name, str) and name else ctx.cloud_name
            birth = Birth(physical_id, ctx.resource_type, name, ctx.project_id, properties, now)
            attributes, parent_id = sim_attributes.synthesize(birth, Inventory(conn, now))
            failing = fault is not None and fault.mode is FailureMode.ERROR_STATUS
            conn.execute(
                "INSERT INTO resources (physical_id, type, name, build_id, resource_name, "
                "project_id, status, properties, attributes, parent_id, created_at, ready_at, "
                "error, error_action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    physical_id,
                    ctx.resource_type,
                    name,
                    ctx.build_id,
                    ctx.resource_name,
                    ctx.project_id,
                    SimStatus.BUILD if self.latency_s > 0 or failing else SimStatus.ACTIVE,
                    json.dumps(_kept(properties), sort_keys=True, default=str),
                    json.dumps(attributes, sort_keys=True),
                    parent_id,
                    now,
                    now + self.latency_s,
                    fault.message if failing and fault else None,
                    "create" if failing else None,
                ),
            )
            return physical_id

        return self._call("create", ctx, physical_id, body)

    def finds_by_mark(self, resource_type: str) -> bool:
        """The sim finds every type, links included, by the step's build and resource
        name (its marks), never by endpoints: another build's link is never found."""
        return True

    def find(self, ctx: StepContext) -> list[Found]:
        def body(conn: sqlite3.Connection, now: float, _fault: Fault | None) -> list[Found]:
            rows = conn.execute(
                "SELECT physical_id, created_at FROM resources WHERE build_id = ? AND "
                f"resource_name = ? AND type = ? AND {LIVE} ORDER BY created_at, rowid",
                (ctx.build_id, ctx.resource_name, ctx.resource_type, now),
            ).fetchall()
            return [Found(row["physical_id"], row["created_at"]) for row in rows]

        return self._call("find", ctx, None, body)

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        def body(conn: sqlite3.Connection, now: float, fault: Fault | None) -> Observed:
            if fault is not None:  # ERROR_STATUS: the resource breaks now
                self._live_row(conn, ctx, physical_id, now)
                self._break(conn, physical_id, "observe", fault.message)
            row = self._live_row(conn, ctx, physical_id, now)
            status = self._settle(conn, row, now)
            attributes = sim_attributes.current(
                ctx.resource_type, json.loads(row["attributes"]), status, Inventory(conn, now)
            )
            reference = sim_attributes.reference(
                ctx.resource_type, json.loads(row["properties"]), attributes
            )
            return Observed(
                ready=status is SimStatus.ACTIVE,
                failed=row["error"] if status is SimStatus.ERROR else None,
                attributes=attributes,
                reference=reference,
            )

        return self._call("observe", ctx, physical_id, body)

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        def body(conn: sqlite3.Connection, now: float, fault: Fault | None) -> None:
            row = self._row(conn, physical_id)
            if row is None or row["deleted_at"] is not None:
                return  # gone, or going: deleting again changes nothing
            if fault is not None and fault.mode is FailureMode.ERROR_STATUS:
                self._break(conn, physical_id, "delete", fault.message)
                return
            done = now + self.latency_s
            status = SimStatus.DELETED if done <= now else SimStatus.DELETING
            conn.execute(
                "UPDATE resources SET status = ?, deleted_at = ? WHERE physical_id = ?",
                (status, done, physical_id),
            )
            conn.execute("DELETE FROM addresses WHERE owner = ?", (physical_id,))

        self._call("delete", ctx, physical_id, body)

    def is_deleted(self, ctx: StepContext, physical_id: str) -> bool:
        def body(conn: sqlite3.Connection, now: float, _fault: Fault | None) -> bool:
            row = self._row(conn, physical_id)
            if row is None:
                return True
            status = self._settle(conn, row, now)
            if status is SimStatus.ERROR and row["error_action"] == "delete":
                raise ResourceFailedError(row["error"])
            return status is SimStatus.DELETED

        return self._call("is_deleted", ctx, physical_id, body)

    # -- failures on purpose ---------------------------------------------------

    def arm(
        self,
        resource_name: str,
        action: str = "create",
        *,
        build_id: str | None = None,
        times: int | None = 1,
        mode: FailureMode | str = FailureMode.RAISE,
        message: str | None = None,
        retryable: bool = False,
    ) -> int:
        """Make the next ``times`` (None: every) ``action`` calls for a resource fail.

        ``build_id`` None matches the resource in any build. With mode RAISE the
        call raises ProviderError(retryable=True) if ``retryable`` else
        ResourceFailedError; see :class:`FailureMode` for the others. Any process
        sharing the file sees the switch. Returns the switch id (for :meth:`disarm`).
        """
        with self._store.transaction() as conn:
            return sim_faults.arm(
                conn,
                resource_name,
                action,
                build_id=build_id,
                times=times,
                mode=mode,
                message=message,
                retryable=retryable,
            )

    def hold(
        self,
        resource_name: str,
        action: str = "create",
        *,
        release: str | os.PathLike[str],
        build_id: str | None = None,
    ) -> int:
        """Make the next ``action`` call for a resource wait until the file ``release``
        exists (at most :data:`~cool.clouds.sim.faults.HOLD_MAX_S`), then run; the switch
        id. The switch is gone (:meth:`armed`) once a call is held by it."""
        return self.arm(
            resource_name, action, build_id=build_id, mode=FailureMode.HOLD, message=str(release)
        )

    def armed(self) -> list[int]:
        """The ids of the switches still armed."""
        return [row[0] for row in self._store.read("SELECT switch_id FROM switches")]

    def disarm(self, switch_id: int | None = None) -> None:
        """Remove one switch, or all of them."""
        with self._store.transaction() as conn:
            sim_faults.disarm(conn, switch_id)

    # -- the machinery of a call -------------------------------------------------

    def _call(self, action: str, ctx: StepContext, physical_id: str | None, body: Body[T]) -> T:
        """One call: check its fencing token, decide a failure, run ``body``, record the
        call; all committed, then raise. A held call waits first, outside any transaction."""
        now = self._clock()
        error: ProviderError | None = None
        result: Any = None
        with self._store.transaction() as conn:
            error = sim_fencing.present(conn, action, ctx) if self.fences_creates else None
            fault = self._failures.fault(conn, action, ctx) if error is None else None
            held = fault is not None and fault.mode is FailureMode.HOLD
            # (Held: the switch is consumed now; the call runs once released.)
            if error is None and fault is not None and fault.mode is FailureMode.RAISE:
                error = fault.error()
            elif error is None and not held:
                conn.execute("SAVEPOINT body")
                try:
                    result = body(conn, now, fault)
                except ProviderError as exc:
                    conn.execute("ROLLBACK TO body")
                    error = exc
                conn.execute("RELEASE body")
                if error is None and fault is not None and fault.mode is FailureMode.LOST_REPLY:
                    error = ProviderError(fault.message, retryable=True)
            if self.record_calls and not held:
                conn.execute(
                    "INSERT INTO calls (action, type, build_id, resource_name, physical_id, "
                    "caller, pid, at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (action, ctx.resource_type, ctx.build_id, ctx.resource_name, physical_id,
                     self.caller, os.getpid(), now, "ok" if error is None else str(error)),
                )  # fmt: skip
        if held:
            assert fault is not None
            sim_faults.wait_for_release(fault.message)  # outside any transaction
            return self._call(action, ctx, physical_id, body)
        if error is not None:
            raise error
        return result  # type: ignore[no-any-return]

    @staticmethod
    def _row(conn: sqlite3.Connection, physical_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM resources WHERE physical_id = ?", (physical_id,)
        ).fetchone()
        return row

    def _live_row(
        self, conn: sqlite3.Connection, ctx: StepContext, physical_id: str, now: float
    ) -> sqlite3.Row:
        row = self._row(conn, physical_id)
        if (
            row is None
            or row["type"] != ctx.resource_type
            or status_at(row, now) is SimStatus.DELETED
        ):
            kind = kind_of(ctx.resource_type)
            raise ResourceGoneError(f"{kind} {physical_id} could not be found (simulated 404)")
        return row

    @staticmethod
    def _break(conn: sqlite3.Connection, physical_id: str, action: str, why: str) -> None:
        """The resource goes to ERROR, because of ``action``."""
        conn.execute(
            "UPDATE resources SET status = ?, error = ?, error_action = ? WHERE physical_id = ?",
            (SimStatus.ERROR, why, action, physical_id),
        )

    @staticmethod
    def _settle(conn: sqlite3.Connection, row: sqlite3.Row, now: float) -> SimStatus:
        """The row's status now, written back so the file reads true to a person."""
        status = status_at(row, now)
        if status != row["status"]:
            conn.execute(
                "UPDATE resources SET status = ? WHERE physical_id = ?",
                (status, row["physical_id"]),
            )
        return status
