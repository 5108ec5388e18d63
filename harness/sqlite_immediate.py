"""SQLite transactions that wait for each other instead of failing: for the mini cloud's venv.

Copied by :mod:`harness.mini_cloud.venv` into the OpenStack venv as
``cool_sqlite_immediate.py``, with a ``.pth`` file that calls :func:`install`
at interpreter start; never imported by cool itself (it imports nothing of cool).

Why: oslo.db opens every SQLite transaction with a plain (deferred) ``BEGIN``.
A transaction that reads and then writes must upgrade its lock, and in WAL mode
the upgrade fails at once with "database is locked" (no busy wait) when another
connection wrote in between. With several processes on one database (Cinder's
API, scheduler and volume service; Nova's API, conductor and scheduler; Octavia's
API and worker) that kills services at start and fails API
calls with a 500. ``BEGIN IMMEDIATE``
takes the write lock first, so transactions queue on the busy timeout (raised
to 60 s) instead. A test cloud's load is small enough
for writers in single file.

One exception: a thread that already holds a transaction on another connection
gets a deferred ``BEGIN``. Octavia's API reads through a session of its own
inside its write transaction (the amphora provider's checks), as Neutron's QoS
and trunk extensions do; made IMMEDIATE, that read would wait out the busy
timeout on its own thread's lock. Deferred, it reads the last committed state,
as WAL lets any reader do.

Only ``oslo_db.sqlalchemy.engines`` is touched, when something imports it: an
import hook wraps its ``create_engine`` so that SQLite engines get the two
event listeners. Other engines, and interpreters that never use oslo.db (pip),
are left alone.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sqlite3
import sys
import threading
from types import ModuleType
from typing import Any

_TARGET = "oslo_db.sqlalchemy.engines"
ENV_VAR = "COOL_SQLITE_IMMEDIATE"
_BUSY_TIMEOUT_MS = 60_000
_OWNERS_KEPT = 256


# Per greenlet (eventlet's services run many in one thread, and monkey patching comes
# after this module made its objects), else per thread: the connections that began
# IMMEDIATE there. sqlite3 connections take no weak reference: each is dropped at the
# next BEGIN of its owner once its transaction is over.
_held: dict[Any, list[Any]] = {}
_held_lock = threading.Lock()
_greenlet: Any = None  # the greenlet module, False without it, None before the first look


def _owner() -> Any:
    global _greenlet  # noqa: PLW0603  (looked up once, at the first BEGIN)
    if _greenlet is None:
        try:
            import greenlet  # noqa: PLC0415  (the services' venv has it: eventlet, SQLAlchemy)
        except ImportError:
            _greenlet = False
        else:
            _greenlet = greenlet
    return _greenlet.getcurrent() if _greenlet else threading.get_ident()


def _in_transaction(dbapi_connection: Any) -> bool:
    try:
        return bool(dbapi_connection.in_transaction)
    except sqlite3.ProgrammingError:  # closed
        return False


def begin_statement(dbapi_connection: Any) -> str:
    """``BEGIN IMMEDIATE``, or a deferred ``BEGIN`` when this thread (greenlet) already
    holds a transaction on another connection (which the IMMEDIATE one would wait on)."""
    owner = _owner()
    with _held_lock:
        held = [
            other
            for other in _held.get(owner, ())
            if other is not dbapi_connection and _in_transaction(other)
        ]
        if held:
            _held[owner] = held
            return "BEGIN"
        _held[owner] = [dbapi_connection]
        if len(_held) > _OWNERS_KEPT:  # owners long gone (greenlets, threads) hold nothing
            for gone in [o for o, conns in _held.items() if not any(map(_in_transaction, conns))]:
                del _held[gone]
            _held[owner] = [dbapi_connection]
        return "BEGIN IMMEDIATE"


def _immediate_begin(
    conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any
) -> tuple[str, Any]:
    """A ``before_cursor_execute`` listener (retval=True): oslo.db's BEGIN, made IMMEDIATE."""
    if statement.strip().upper() == "BEGIN":
        statement = begin_statement(conn.connection.dbapi_connection)
    return statement, parameters


def _busy_timeout(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")


def _patch(module: ModuleType) -> None:
    import sqlalchemy.event  # noqa: PLC0415  (only once oslo.db is in use)

    original = module.create_engine

    def create_engine(*args: Any, **kwargs: Any) -> Any:
        engine = original(*args, **kwargs)
        if engine.dialect.name == "sqlite":
            sqlalchemy.event.listen(engine, "before_cursor_execute", _immediate_begin, retval=True)
            sqlalchemy.event.listen(engine, "checkout", _busy_timeout)
        return engine

    module.create_engine = create_engine


class _Loader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _patch(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Any, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Patch oslo.db's engines when they are imported (idempotent), in the processes
    that ask for it (``COOL_SQLITE_IMMEDIATE=1``: the services and their manage
    commands)."""
    if os.environ.get(ENV_VAR) != "1":
        return
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
