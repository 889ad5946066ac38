"""``aread_version``: what the HTTP API's read cache checks its answers against.

SQLite's is ``PRAGMA data_version`` on a connection of its own: SQLite documents that it moves
when *another* connection commits; these tests hold it to that for each writer the cache must
see (the store's own pool, another connection of this process, another process) and check
that reads leave it alone. PostgreSQL's is the current snapshot, which any commit moves.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy

from sessiondb.db._sql import SqlStore
from sessiondb.db.query import SessionQuery
from sessiondb.db.sqlite import SqliteDb
from sessiondb.session import AgentSession
from store_backends import SqlTarget


def version(store: SqlStore) -> object:
    return asyncio.run(store.aread_version())


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteDb]:
    store = SqliteDb(db_file=tmp_path / "v.db")
    store.migrate()
    store.upsert_session(AgentSession(session_id="s1", agent_id="a1"))
    yield store
    store.close()


def test_sqlite_reads_leave_the_version_alone(sqlite_store: SqliteDb) -> None:
    before = version(sqlite_store)
    sqlite_store.get_sessions(SessionQuery())
    sqlite_store.get_session("s1")

    assert before is not None
    assert version(sqlite_store) == before


def test_sqlite_a_commit_through_the_stores_own_connections_moves_it(sqlite_store: SqliteDb) -> None:
    before = version(sqlite_store)

    sqlite_store.update_session("s1", session_name="x")

    assert version(sqlite_store) != before


def test_sqlite_a_commit_by_another_connection_moves_it(sqlite_store: SqliteDb, tmp_path: Path) -> None:
    before = version(sqlite_store)
    with sqlite3.connect(tmp_path / "v.db") as other:
        other.execute("CREATE TABLE IF NOT EXISTS unrelated (x)")
        other.execute("INSERT INTO unrelated VALUES (1)")

    assert version(sqlite_store) != before


def test_sqlite_a_commit_by_another_process_moves_it(sqlite_store: SqliteDb, tmp_path: Path) -> None:
    before = version(sqlite_store)
    code = (
        "import sys, sqlite3; c = sqlite3.connect(sys.argv[1]); "
        "c.execute('CREATE TABLE IF NOT EXISTS unrelated (x)'); c.commit()"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "v.db")], check=True, timeout=60)

    assert version(sqlite_store) != before


def test_sqlite_in_memory_and_closed_stores_give_none(sqlite_store: SqliteDb) -> None:
    in_memory = SqliteDb(db_url="sqlite://")
    in_memory.migrate()
    assert version(in_memory) is None
    in_memory.close()

    sqlite_store.close()
    assert version(sqlite_store) is None


def test_a_commit_by_another_connection_moves_the_version(sql_store: SqlStore, sql_target: SqlTarget) -> None:
    sql_store.upsert_session(AgentSession(session_id="s1", agent_id="a1"))
    before = version(sql_store)
    other = sql_target.open()
    try:
        other.update_session("s1", session_name="x")
    finally:
        other.close()

    assert before is not None
    assert version(sql_store) != before


def test_postgres_version_is_the_snapshot_a_commit_changes(
    sql_store: SqlStore, sql_target: SqlTarget
) -> None:
    if sql_target.kind != "postgres":
        pytest.skip("PostgreSQL's version")
    engine = sqlalchemy.create_engine(sql_target.location)
    try:
        with engine.connect() as conn:
            # A transaction that wrote and is still open is in every snapshot's running list...
            conn.execute(sqlalchemy.text("SELECT pg_current_xact_id()"))
            running = version(sql_store)
            assert isinstance(running, str)
            xid = str(conn.execute(sqlalchemy.text("SELECT pg_current_xact_id()")).scalar_one())
            conn.commit()
        # ...and its commit, which needs no further WAL of anyone's, changes the version.
        # (running: listed, or at or past the snapshot's xmax)
        _xmin, xmax, listed = running.split(":")
        assert xid in listed.split(",") or int(xid) >= int(xmax)
        assert version(sql_store) != running
    finally:
        engine.dispose()
