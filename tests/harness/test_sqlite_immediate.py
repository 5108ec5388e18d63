"""The mini cloud's SQLite hook: IMMEDIATE transactions, except inside one this thread holds.

Real sqlite3 connections on one WAL database; the hook's choice of BEGIN is what
oslo.db's listener would run.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest

from harness import sqlite_immediate
from harness.mini_cloud.venv import ensure_venv
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


_GREENLETS = """
import sqlite3, sys, greenlet
sys.path.insert(0, sys.argv[1])
from sqlite_immediate import begin_statement
first, second = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
seen = []
def a():
    statement = begin_statement(first)
    first.execute(statement)
    seen.append(statement)
    b.switch()
def other():
    seen.append(begin_statement(second))
b = greenlet.greenlet(other)
greenlet.greenlet(a).switch()
print(seen)
"""


@pytest.mark.openstack
def test_the_rule_is_per_greenlet_in_eventlets_services(tmp_path: Path) -> None:
    """Cinder's and Nova's services run many greenlets in one thread: another greenlet's
    transaction is not this one's, so this one still takes the write lock first."""
    venv = ensure_venv()
    shutil.copyfile(Path(sqlite_immediate.__file__), tmp_path / "sqlite_immediate.py")
    result = subprocess.run(
        [venv / "bin" / "python", "-c", _GREENLETS, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert result.stdout.strip() == "['BEGIN IMMEDIATE', 'BEGIN IMMEDIATE']"
