"""The SIMULATED cloud's SQLite file (:mod:`cool.clouds.sim.provider`): schema, connections, rows.

Every worker on a host shares one file (WAL mode: many processes and threads
at once; committed rows survive a SIGKILLed worker), so duplicates and leaks
can be counted after the fact. The file, documented here once::

    resources  one row per resource ever created, never removed
      physical_id   uuid4, the primary key
      type, name    the OpenStack type; properties["name"] or the step's cloud_name
      build_id, resource_name, project_id    the tags (StepContext.tags)
      status        BUILD, ACTIVE, ERROR, DELETING or DELETED as last written; the
                    status *now* follows from ready_at and deleted_at (status_at)
      properties, attributes    JSON; parent_id    the row it hangs under, if any
      created_at, ready_at, deleted_at    clock seconds; deleted_at is when a
                    delete finishes (DELETING before it, DELETED from it on)
      error, error_action    why it is (or goes to) ERROR, and on which action
    switches   armed "fail here" switches (SimProvider.arm); times -1 = always
    calls      one row per cloud call: action, type, tags, physical id, caller, pid,
               time, outcome ("ok" or the error)
    counters   shared counters (MACs, VNIs, instance numbers, address cursors)
    fences     per build, the highest fencing token (claim epoch) any call presented
    addresses  claimed addresses per scope (a subnet, or "floating"), by owner

Every write is one short ``BEGIN IMMEDIATE`` transaction on a connection of
the calling thread (:meth:`SimStore.transaction`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cool.clouds.base import ProviderError
from cool.errors import ConfigurationError

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
    "CREATE INDEX IF NOT EXISTS resources_by_name ON resources (type, project_id, name)",
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
    "CREATE TABLE IF NOT EXISTS fences (build_id TEXT PRIMARY KEY, epoch INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS addresses (
        scope TEXT NOT NULL, address TEXT NOT NULL, owner TEXT NOT NULL,
        PRIMARY KEY (scope, address))""",
    "CREATE INDEX IF NOT EXISTS addresses_by_owner ON addresses (owner)",
)

LIVE = "(deleted_at IS NULL OR deleted_at > ?)"  # not DELETED at the time bound to ?


class SimStatus(StrEnum):
    BUILD = "BUILD"
    ACTIVE = "ACTIVE"
    ERROR = "ERROR"
    DELETING = "DELETING"
    DELETED = "DELETED"


def status_at(row: Mapping[str, Any], now: float) -> SimStatus:
    """A row's status at ``now``."""
    if row["deleted_at"] is not None:
        return SimStatus.DELETED if row["deleted_at"] <= now else SimStatus.DELETING
    if row["error"] is not None and (row["status"] == SimStatus.ERROR or row["ready_at"] <= now):
        return SimStatus.ERROR
    return SimStatus.ACTIVE if row["ready_at"] <= now else SimStatus.BUILD


class SimStore:
    """The file: a connection per thread (and per process, after a fork), the schema."""

    def __init__(self, db_path: str | os.PathLike[str], *, busy_timeout_s: float = 30.0) -> None:
        self.db_path = Path(db_path)
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
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
        conn = self.connection()
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
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigurationError(f"{self.db_path} has sim schema {version}, newer")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed, or rolled back on any exception."""
        conn = self.connection()
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

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.connection().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this store opened (in this process)."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
        for conn in connections:
            conn.close()


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
        return cls(status=status_at(row, now), **data)


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
