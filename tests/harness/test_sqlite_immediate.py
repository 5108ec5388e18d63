"""The mini cloud's SQLite hook: IMMEDIATE transactions, except inside one this thread holds.

Real sqlite3 connections on one WAL database; the hook's choice of BEGIN is what
oslo.db's listener would run.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from harness.sqlite_immediate import begin_statement


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=0.2, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


def _begin(conn: sqlite3.Connection) -> str:
    statement = begin_statement(conn)
    conn.execute(statement)
    return statement


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "cloud.sqlite"
    with _connect(path) as conn:
        conn.execute("CREATE TABLE t (v INTEGER)")
    return path


def test_a_transaction_takes_the_write_lock_at_begin(database: Path) -> None:
    """A writer that read first cannot lose its snapshot to another writer: the one that
    failed Octavia's and Keystone's requests with "database is locked"."""
    first, second = _connect(database), _connect(database)
    assert _begin(first) == "BEGIN IMMEDIATE"
    first.execute("SELECT count(*) FROM t").fetchone()
    done: list[str] = []

    def other_thread() -> None:
        try:
            done.append(_begin(second))
        except sqlite3.OperationalError as exc:
            done.append(str(exc))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=10)
    assert done == ["database is locked"]  # it waited for the lock (0.2 s here), not a write
    first.execute("INSERT INTO t VALUES (1)")
    first.execute("COMMIT")


def test_inside_its_own_transaction_a_thread_reads_with_a_deferred_begin(
    database: Path,
) -> None:
    """Octavia's API reads through a second session inside its write transaction:
    IMMEDIATE would wait on this thread's own lock."""
    outer, inner = _connect(database), _connect(database)
    assert _begin(outer) == "BEGIN IMMEDIATE"
    outer.execute("INSERT INTO t VALUES (1)")
    assert _begin(inner) == "BEGIN"
    assert inner.execute("SELECT count(*) FROM t").fetchone() == (0,)
    inner.execute("COMMIT")
    outer.execute("COMMIT")
    # Once the outer one ended, the next transaction takes the lock again.
    assert _begin(inner) == "BEGIN IMMEDIATE"
    inner.execute("COMMIT")


def test_the_rule_is_per_thread(database: Path) -> None:
    held = _connect(database)
    assert _begin(held) == "BEGIN IMMEDIATE"
    seen: list[str] = []
    other = _connect(database)

    def other_thread() -> None:
        seen.append(begin_statement(other))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join(timeout=10)
    assert seen == ["BEGIN IMMEDIATE"]
    held.execute("COMMIT")
