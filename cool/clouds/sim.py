"""``sim``: a SIMULATED OpenStack cloud in a SQLite file. Not a cloud.

For demos, load tests and chaos tests (DESIGN.md sections 6 and 10). Every
worker on a host shares one SQLite file (WAL mode: many processes and
threads at once; committed rows survive a SIGKILLed worker), so duplicates
and leaks can be counted after the fact. It simulates each OpenStack type
cool declares: real rows with ids, BUILD -> ACTIVE after ``latency_s``,
failures by rate (``failure_rate``, seeded) or on purpose (:meth:`SimProvider.arm`),
and the deterministic tags adoption relies on. Attributes are made up,
plausibly (:mod:`cool.clouds.sim_attributes`).

The file, documented here once::

    resources  one row per resource ever created, never removed
      physical_id   uuid4, the primary key
      type, name    the OpenStack type; properties["name"] or the step's cloud_name
      build_id, resource_name, project_id    the tags (StepContext.tags)
      status        BUILD, ACTIVE, ERROR, DELETING or DELETED as last written; the
                    status *now* follows from ready_at and deleted_at (_status)
      properties, attributes    JSON; parent_id    the row it hangs under, if any
      created_at, ready_at, deleted_at    clock seconds; deleted_at is when a
                    delete finishes (DELETING before it, DELETED from it on)
      error, error_action    why it is (or goes to) ERROR, and on which action
    switches   armed "fail here" switches (SimProvider.arm); times -1 = always
    calls      one row per cloud call: action, type, tags, physical id, caller, pid,
               time, outcome ("ok" or the error)
    counters   shared counters (MACs, VNIs, instance numbers, address cursors)
    addresses  claimed addresses per scope (a subnet, or "floating"), by owner

Every call is one short ``BEGIN IMMEDIATE`` transaction on a connection of
the calling thread. A failure decided by a switch or by the rate is committed
(the switch consumed, the call recorded) before it is raised.
"""

from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from cool.clouds import sim_attributes
from cool.clouds.base import (
    Found,
    Observed,
    ProviderError,
    ResourceFailedError,
    ResourceGoneError,
    StepContext,
)
from cool.errors import ConfigurationError

T = TypeVar("T")

SCHEMA_VERSION = 1

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS resources (
        physical_id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL,
        build_id TEXT NOT NULL, resource_name TEXT NOT NULL, project_id TEXT NOT NULL,
        status TEXT NOT NULL, properties TEXT NOT NULL, attributes TEXT NOT NULL,
        parent_id TEXT, created_at REAL NOT NULL, ready_at REAL NOT NULL, deleted_at REAL,
        error TEXT, error_action TEXT)""",
    "CREATE INDEX IF NOT EXISTS resources_by_tags ON resources (build_id, resource_name)",
    "CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (parent_id, type)",
    """CREATE TABLE IF NOT EXISTS switches (
        switch_id INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL,
        resource_name TEXT NOT NULL, build_id TEXT, times INTEGER NOT NULL,
        mode TEXT NOT NULL, retryable INTEGER NOT NULL, message TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS switches_by_target ON switches (action, resource_name)",
    """CREATE TABLE IF NOT EXISTS calls (
        call_id INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL, type TEXT NOT NULL,
        build_id TEXT NOT NULL, resource_name TEXT NOT NULL, physical_id TEXT,
        caller TEXT NOT NULL, pid INTEGER NOT NULL, at REAL NOT NULL, outcome TEXT NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS counters (scope TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS addresses (
        scope TEXT NOT NULL, address TEXT NOT NULL, owner TEXT NOT NULL,
        PRIMARY KEY (scope, address))""",
    "CREATE INDEX IF NOT EXISTS addresses_by_owner ON addresses (owner)",
)

_LIVE = "(deleted_at IS NULL OR deleted_at > ?)"


class SimStatus(StrEnum):
    BUILD = "BUILD"
    ACTIVE = "ACTIVE"
    ERROR = "ERROR"
    DELETING = "DELETING"
    DELETED = "DELETED"


class FailureMode(StrEnum):
    """How a simulated failure shows.

    RAISE: the call fails and changes nothing (a 5xx, or a refusal).
    ERROR_STATUS: the call succeeds, but the resource goes to ERROR: after the
        latency for a create, at once for an observe, and a delete leaves it in
        ERROR (``is_deleted`` raises ResourceFailedError).
    LOST_REPLY: the create or delete happens, but its reply is lost: the call
        raises a retryable error (a gateway timeout). Only adoption avoids a duplicate.
    """

    RAISE = "raise"
    ERROR_STATUS = "error_status"
    LOST_REPLY = "lost_reply"


_MODES_BY_ACTION = {
    "create": frozenset(FailureMode),
    "delete": frozenset(FailureMode),
    "observe": frozenset({FailureMode.RAISE, FailureMode.ERROR_STATUS}),
    "find": frozenset({FailureMode.RAISE}),
    "is_deleted": frozenset({FailureMode.RAISE}),
}


@dataclass(frozen=True, slots=True)
class _Fault:
    mode: FailureMode
    message: str
    retryable: bool

    def error(self) -> ProviderError:
        if self.retryable:
            return ProviderError(self.message, retryable=True)
        return ResourceFailedError(self.message)


def _status(row: Mapping[str, Any], now: float) -> SimStatus:
    """A row's status at ``now``."""
    if row["deleted_at"] is not None:
        return SimStatus.DELETED if row["deleted_at"] <= now else SimStatus.DELETING
    if row["error"] is not None and (row["status"] == SimStatus.ERROR or row["ready_at"] <= now):
        return SimStatus.ERROR
    return SimStatus.ACTIVE if row["ready_at"] <= now else SimStatus.BUILD


class SimProvider:
    """A SIMULATED cloud for every OpenStack type cool declares; not a cloud.

    ``latency_s`` is how long a create (and a delete) takes; ``failure_rate``
    the chance (``seed``-ed) that a call of ``failure_actions`` fails as
    ``failure_mode`` says; ``clock`` is injectable so tests need no sleeps;
    ``caller`` labels this provider's calls (default host:pid).
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
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ConfigurationError(f"sim failure_rate {failure_rate} is not in [0, 1]")
        self.failure_mode = FailureMode(failure_mode)
        for action in failure_actions:
            if self.failure_mode not in _MODES_BY_ACTION.get(action, ()):
                raise ConfigurationError(f"sim cannot fail {action} as {self.failure_mode}")
        self.db_path = Path(db_path)
        self.latency_s = latency_s
        self.failure_rate = failure_rate
        self.failure_actions = frozenset(failure_actions)
        self.caller = caller or f"{socket.gethostname()}:{os.getpid()}"
        self.record_calls = record_calls
        self.busy_timeout_s = busy_timeout_s
        self._random = random.Random(seed)
        self._clock = clock
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    # -- connections ---------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:  # forked: never use the parent's connections
            with self._lock:
                self._pid, self._local, self._connections = os.getpid(), threading.local(), []
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.db_path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,  # only its thread uses it; close() may run elsewhere
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a killed worker loses nothing
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _init_schema(self) -> None:
        conn = self._connection()
        deadline = time.monotonic() + self.busy_timeout_s
        while True:  # workers starting together on a new file may race to switch it to WAL
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if str(mode).lower() != "wal":
            raise ConfigurationError(f"{self.db_path}: SQLite cannot use WAL here ({mode})")
        with self._transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigurationError(f"{self.db_path} has sim schema {version}, newer")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # busy past busy_timeout_s: a cloud timeout
            raise ProviderError(f"sim database busy: {exc}", retryable=True) from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self._connection().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this provider opened (in this process)."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
        for conn in connections:
            conn.close()

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

        def body(conn: sqlite3.Connection, now: float, fault: _Fault | None) -> str:
            name = properties.get("name")
            name = name if isinstance(name, str) and name else ctx.cloud_name
            birth = sim_attributes.Birth(
                physical_id, ctx.resource_type, name, ctx.project_id, properties, now
            )
            attributes, parent_id = sim_attributes.synthesize(
                birth, sim_attributes.Inventory(conn, now)
            )
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
                    json.dumps(properties, sort_keys=True, default=str),
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

    def find(self, ctx: StepContext) -> list[Found]:
        def body(conn: sqlite3.Connection, now: float, _fault: _Fault | None) -> list[Found]:
            rows = conn.execute(
                "SELECT physical_id, created_at FROM resources WHERE build_id = ? AND "
                f"resource_name = ? AND type = ? AND {_LIVE} ORDER BY created_at, rowid",
                (ctx.build_id, ctx.resource_name, ctx.resource_type, now),
            ).fetchall()
            return [Found(row["physical_id"], row["created_at"]) for row in rows]

        return self._call("find", ctx, None, body)

    def observe(self, ctx: StepContext, physical_id: str) -> Observed:
        def body(conn: sqlite3.Connection, now: float, fault: _Fault | None) -> Observed:
            row = self._live_row(conn, ctx, physical_id, now)
            if fault is not None:  # ERROR_STATUS: the resource breaks now
                conn.execute(
                    "UPDATE resources SET status = ?, error = ?, error_action = 'observe' "
                    "WHERE physical_id = ?",
                    (SimStatus.ERROR, fault.message, physical_id),
                )
                row = self._live_row(conn, ctx, physical_id, now)
            status = self._settle(conn, row, now)
            attributes = sim_attributes.current(
                ctx.resource_type,
                json.loads(row["attributes"]),
                status,
                sim_attributes.Inventory(conn, now),
            )
            if status is SimStatus.ERROR:
                return Observed(ready=False, failed=row["error"], attributes=attributes)
            return Observed(ready=status is SimStatus.ACTIVE, attributes=attributes)

        return self._call("observe", ctx, physical_id, body)

    def delete(self, ctx: StepContext, physical_id: str) -> None:
        def body(conn: sqlite3.Connection, now: float, fault: _Fault | None) -> None:
            row = conn.execute(
                "SELECT * FROM resources WHERE physical_id = ?", (physical_id,)
            ).fetchone()
            if row is None or row["deleted_at"] is not None:
                return  # gone, or going: deleting again changes nothing
            if fault is not None and fault.mode is FailureMode.ERROR_STATUS:
                conn.execute(
                    "UPDATE resources SET status = ?, error = ?, error_action = 'delete' "
                    "WHERE physical_id = ?",
                    (SimStatus.ERROR, fault.message, physical_id),
                )
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
        def body(conn: sqlite3.Connection, now: float, _fault: _Fault | None) -> bool:
            row = conn.execute(
                "SELECT * FROM resources WHERE physical_id = ?", (physical_id,)
            ).fetchone()
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
        mode = FailureMode(mode)
        if mode not in _MODES_BY_ACTION.get(action, ()):
            raise ValueError(f"a switch cannot fail {action!r} as {mode}")
        if times is not None and times < 1:
            raise ValueError("times is at least 1 (or None: every time)")
        text = message or f"simulated failure of {action} (armed switch)"
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO switches (action, resource_name, build_id, times, mode, retryable, "
                "message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (action, resource_name, build_id, -1 if times is None else times, mode,
                 int(retryable), text),
            )  # fmt: skip
            return int(cursor.lastrowid or 0)

    def disarm(self, switch_id: int | None = None) -> None:
        """Remove one switch, or all of them."""
        with self._transaction() as conn:
            if switch_id is None:
                conn.execute("DELETE FROM switches")
            else:
                conn.execute("DELETE FROM switches WHERE switch_id = ?", (switch_id,))

    # -- the machinery of a call -------------------------------------------------

    def _call(
        self,
        action: str,
        ctx: StepContext,
        physical_id: str | None,
        body: Callable[[sqlite3.Connection, float, _Fault | None], T],
    ) -> T:
        """One call: decide a failure, run ``body``, record the call; all committed, then raise."""
        now = self._clock()
        error: ProviderError | None = None
        result: Any = None
        with self._transaction() as conn:
            fault = self._fault(conn, action, ctx)
            if fault is not None and fault.mode is FailureMode.RAISE:
                error = fault.error()
            else:
                conn.execute("SAVEPOINT body")
                try:
                    result = body(conn, now, fault)
                except ProviderError as exc:
                    conn.execute("ROLLBACK TO body")
                    error = exc
                conn.execute("RELEASE body")
                if error is None and fault is not None and fault.mode is FailureMode.LOST_REPLY:
                    error = ProviderError(fault.message, retryable=True)
            if self.record_calls:
                conn.execute(
                    "INSERT INTO calls (action, type, build_id, resource_name, physical_id, "
                    "caller, pid, at, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (action, ctx.resource_type, ctx.build_id, ctx.resource_name, physical_id,
                     self.caller, os.getpid(), now, "ok" if error is None else str(error)),
                )  # fmt: skip
        if error is not None:
            raise error
        return result  # type: ignore[no-any-return]

    def _fault(self, conn: sqlite3.Connection, action: str, ctx: StepContext) -> _Fault | None:
        """The failure this call suffers: an armed switch (consumed), else maybe the rate's."""
        row = conn.execute(
            "SELECT * FROM switches WHERE action = ? AND resource_name = ? AND "
            "(build_id IS NULL OR build_id = ?) ORDER BY switch_id LIMIT 1",
            (action, ctx.resource_name, ctx.build_id),
        ).fetchone()
        if row is not None:
            if row["times"] == 1:
                conn.execute("DELETE FROM switches WHERE switch_id = ?", (row["switch_id"],))
            elif row["times"] > 1:
                conn.execute(
                    "UPDATE switches SET times = times - 1 WHERE switch_id = ?", (row["switch_id"],)
                )
            return _Fault(FailureMode(row["mode"]), row["message"], bool(row["retryable"]))
        if action not in self.failure_actions or self.failure_rate <= 0:
            return None
        if self._random.random() >= self.failure_rate:
            return None
        messages = {
            FailureMode.RAISE: "simulated transient cloud error (503 Service Unavailable)",
            FailureMode.ERROR_STATUS: f"simulated failure: the {ctx.resource_type} went to ERROR",
            FailureMode.LOST_REPLY: f"simulated lost reply: the {action} may have happened "
            "(504 Gateway Timeout)",
        }
        return _Fault(self.failure_mode, messages[self.failure_mode], retryable=True)

    def _live_row(
        self, conn: sqlite3.Connection, ctx: StepContext, physical_id: str, now: float
    ) -> sqlite3.Row:
        row = conn.execute(
            "SELECT * FROM resources WHERE physical_id = ?", (physical_id,)
        ).fetchone()
        if (
            row is None
            or row["type"] != ctx.resource_type
            or _status(row, now) is SimStatus.DELETED
        ):
            kind = ctx.resource_type.rsplit("::", 1)[-1]
            raise ResourceGoneError(f"{kind} {physical_id} could not be found (simulated 404)")
        return row

    def _settle(self, conn: sqlite3.Connection, row: sqlite3.Row, now: float) -> SimStatus:
        """The row's status now, written back so the file reads true to a person."""
        status = _status(row, now)
        if status != row["status"]:
            conn.execute(
                "UPDATE resources SET status = ? WHERE physical_id = ?",
                (status, row["physical_id"]),
            )
        return status

    # -- what tests and demos ask afterwards --------------------------------------

    def resource(self, physical_id: str) -> SimResource | None:
        """One row, deleted or not."""
        rows = self._read("SELECT * FROM resources WHERE physical_id = ?", (physical_id,))
        return SimResource.from_row(rows[0], self._clock()) if rows else None

    def live_resources(self, build_id: str | None = None) -> list[SimResource]:
        """Rows not deleted (of one build, or all), oldest first."""
        now = self._clock()
        rows = self._read(
            f"SELECT * FROM resources WHERE {_LIVE} AND (? IS NULL OR build_id = ?) "
            "ORDER BY created_at, rowid",
            (now, build_id, build_id),
        )
        return [SimResource.from_row(row, now) for row in rows]

    def audit(self, build_id: str | None = None) -> list[AuditLine]:
        """Per build and resource name: rows alive now, and rows ever created."""
        rows = self._read(
            f"SELECT build_id, resource_name, SUM({_LIVE}) AS live, COUNT(*) AS created "
            "FROM resources WHERE ? IS NULL OR build_id = ? "
            "GROUP BY build_id, resource_name ORDER BY build_id, resource_name",
            (self._clock(), build_id, build_id),
        )
        return [AuditLine(r["build_id"], r["resource_name"], r["live"], r["created"]) for r in rows]

    def duplicates(self, build_id: str | None = None) -> list[AuditLine]:
        """The steps with more than one live resource."""
        return [line for line in self.audit(build_id) if line.is_duplicated]

    def leaks(
        self, expected: Iterable[tuple[str, str]], *, build_ids: Collection[str] | None = None
    ) -> list[SimResource]:
        """Live rows whose (build_id, resource_name) is not ``expected`` (of ``build_ids``)."""
        wanted = set(expected)
        return [
            resource
            for resource in self.live_resources()
            if (build_ids is None or resource.build_id in build_ids)
            and (resource.build_id, resource.resource_name) not in wanted
        ]

    def calls(
        self,
        *,
        action: str | None = None,
        build_id: str | None = None,
        resource_name: str | None = None,
        caller: str | None = None,
        pid: int | None = None,
        after_id: int = 0,
    ) -> list[SimCall]:
        """The recorded calls matching every filter given, in order; ``after_id`` excludes
        the calls up to a :meth:`last_call_id` taken earlier."""
        filters = {
            "action": action,
            "build_id": build_id,
            "resource_name": resource_name,
            "caller": caller,
            "pid": pid,
        }
        where = " AND ".join(f"(? IS NULL OR {column} = ?)" for column in filters)
        params = [value for value in filters.values() for _ in range(2)]
        rows = self._read(
            f"SELECT * FROM calls WHERE call_id > ? AND {where} ORDER BY call_id",
            (after_id, *params),
        )
        return [SimCall(**dict(row)) for row in rows]

    def last_call_id(self) -> int:
        """A mark for :meth:`calls` (``after_id``): 0 when no call was made yet."""
        return int(self._read("SELECT COALESCE(MAX(call_id), 0) FROM calls")[0][0])


@dataclass(frozen=True, slots=True)
class SimResource:
    """One simulated resource (a row), with its status at the time it was read."""

    physical_id: str
    type: str
    name: str
    build_id: str
    resource_name: str
    project_id: str
    status: SimStatus
    properties: dict[str, Any]
    attributes: dict[str, Any]
    parent_id: str | None
    created_at: float
    ready_at: float
    deleted_at: float | None
    error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row, now: float) -> SimResource:
        data = {key: row[key] for key in cls.__dataclass_fields__ if key != "status"}
        data["properties"] = json.loads(data["properties"])
        data["attributes"] = json.loads(data["attributes"])
        return cls(status=_status(row, now), **data)


@dataclass(frozen=True, slots=True)
class AuditLine:
    """How many resources one step of one build has in the sim."""

    build_id: str
    resource_name: str
    live: int  # not deleted now
    created: int  # ever, deleted ones included

    @property
    def is_duplicated(self) -> bool:
        return self.live > 1


@dataclass(frozen=True, slots=True)
class SimCall:
    """One recorded cloud call."""

    call_id: int
    action: str
    type: str
    build_id: str
    resource_name: str
    physical_id: str | None
    caller: str
    pid: int
    at: float
    outcome: str  # "ok", or the error raised
