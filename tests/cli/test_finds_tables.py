"""Issue 16 §1-2: the CLI finds whatever table set a program wrote, and reading creates nothing.

Each test runs the real ``sessiondb`` command in a subprocess.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import assert_one_line_error, fresh_postgres_database, run_cli, schemas_of

from sessiondb.db import PostgresDb, SqliteDb
from sessiondb.run import Message, RunOutput
from sessiondb.session import AgentSession


def _store_one(store: SqliteDb | PostgresDb, session_id: str) -> None:
    run = RunOutput(run_id=f"{session_id}-run", agent_id="a1", messages=[Message(role="user", content="hi")])
    try:
        store.upsert_session(AgentSession(session_id=session_id, agent_id="a1", runs=[run]))
    finally:
        store.close()


def _sqlite_objects(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return sorted(conn.execute("SELECT type, name FROM sqlite_master").fetchall())


def test_list_and_show_find_the_seeds_session_table(tmp_path: Path) -> None:
    path = tmp_path / "agent.db"
    _store_one(SqliteDb(db_file=path, session_table="sessions"), "session_storage")

    listed = run_cli("sessions", "list", "--db", str(path), "--json")
    shown = run_cli("sessions", "show", "session_storage", "--db", str(path))

    assert listed.returncode == 0, listed.stderr
    assert [item["session_id"] for item in json.loads(listed.stdout)["data"]] == ["session_storage"]
    assert shown.returncode == 0, shown.stderr
    assert "session_storage-run" in shown.stdout


def test_several_table_sets_make_the_user_choose_and_the_error_names_them(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    _store_one(SqliteDb(db_file=path, session_table="sessions"), "in-sessions")
    _store_one(SqliteDb(db_file=path), "in-default")

    ambiguous = run_cli("sessions", "list", "--db", str(path))
    chosen = run_cli("sessions", "list", "--db", str(path), "--table", "sessions", "--json")
    unknown = run_cli("sessions", "list", "--db", str(path), "--table", "nope")

    message = assert_one_line_error(ambiguous)
    assert "sessiondb_sessions" in message and "sessions," in message and "--table" in message
    assert [item["session_id"] for item in json.loads(chosen.stdout)["data"]] == ["in-sessions"]
    assert "sessiondb_sessions" in assert_one_line_error(unknown)


@pytest.mark.postgres
def test_postgres_default_schema_ai_is_found_without_naming_it() -> None:
    with fresh_postgres_database() as url:
        _store_one(PostgresDb(db_url=url, session_table="sessions"), "pg-session")

        listed = run_cli("sessions", "list", "--db", url, "--json")
        qualified = run_cli("sessions", "show", "pg-session", "--db", url, "--table", "ai.sessions")

    assert listed.returncode == 0, listed.stderr
    assert [item["session_id"] for item in json.loads(listed.stdout)["data"]] == ["pg-session"]
    assert qualified.returncode == 0, qualified.stderr


def test_reading_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    listed = run_cli("sessions", "list", "--db", "nosuch.db", cwd=tmp_path)
    deleted = run_cli("sessions", "delete", "x", "-y", "--db", "nodir/x.db", cwd=tmp_path)

    assert "no database at nosuch.db" in assert_one_line_error(listed)
    assert "no database at nodir/x.db" in assert_one_line_error(deleted)
    assert list(tmp_path.iterdir()) == []


def test_reading_a_file_without_tables_creates_no_table(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER)")
    before = _sqlite_objects(path)

    result = run_cli("sessions", "list", "--db", str(path))

    assert "no sessiondb tables" in assert_one_line_error(result)
    assert _sqlite_objects(path) == before


@pytest.mark.postgres
def test_reading_an_empty_postgres_database_creates_no_schema() -> None:
    with fresh_postgres_database() as url:
        result = run_cli("sessions", "list", "--db", url)
        schemas = schemas_of(url)

    assert "no sessiondb tables" in assert_one_line_error(result)
    assert schemas == set()


def test_an_older_schema_is_not_upgraded_by_a_read(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _store_one(SqliteDb(db_file=path), "s")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE sessiondb_sessions_version SET version_num = '0002'")

    result = run_cli("sessions", "list", "--db", str(path))

    assert "sessiondb migrate" in assert_one_line_error(result)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM sessiondb_sessions_version").fetchall() == [("0002",)]
