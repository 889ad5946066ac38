"""Finding the table sets a database holds (``db/_sql/discovery.py``), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy

from sessiondb.db._sql.discovery import discover
from sessiondb.db._sql.migrate import head_revision
from store_backends import SqlTarget


def _found(target: SqlTarget) -> list[tuple[str | None, str, str, str | None]]:
    url = f"sqlite:///{target.location}" if target.kind == "sqlite" else target.location
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            sets = discover(conn, target.schema)
    finally:
        engine.dispose()
    return [(s.names.schema, s.names.sessions, s.names.runs, s.revision) for s in sets]


def test_every_migrated_table_set_is_found_with_its_runs_table_and_revision(sql_target: SqlTarget) -> None:
    for options in ({}, {"session_table": "sessions"}, {"session_table": "chats", "runs_table": "chat_runs"}):
        store = sql_target.open(**options)
        store.migrate()
        store.close()

    found = _found(sql_target)

    head = head_revision()
    assert found == [
        (sql_target.schema, "chats", "chat_runs", head),
        (sql_target.schema, "sessiondb_sessions", "sessiondb_sessions_runs", head),
        (sql_target.schema, "sessions", "sessions_runs", head),
    ]


def test_an_empty_database_has_none(sql_target: SqlTarget) -> None:
    assert _found(sql_target) == []


def test_tables_that_only_look_alike_are_not_a_set(sql_target: SqlTarget) -> None:
    # A "notes" table with a "notes_version" sibling but no runs table pointing at it.
    url = f"sqlite:///{sql_target.location}" if sql_target.kind == "sqlite" else sql_target.location
    engine = sqlalchemy.create_engine(url)
    schema = f'"{sql_target.schema}".' if sql_target.schema else ""
    with engine.begin() as conn:
        if sql_target.schema:
            conn.exec_driver_sql(f'CREATE SCHEMA "{sql_target.schema}"')
        conn.exec_driver_sql(f"CREATE TABLE {schema}notes (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(f"CREATE TABLE {schema}notes_version (version_num VARCHAR(32))")
    engine.dispose()

    assert _found(sql_target) == []
