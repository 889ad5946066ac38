"""What only the SQL backends do: schema migrations, row layout, statement cost, driver errors."""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from db_builders import agent_run, agent_session
from sent_statements import statements
from sqlalchemy import inspect, text

from sessiondb.db import PostgresDb, SqliteDb
from sessiondb.db._sql import SqlStore
from sessiondb.db.errors import InvalidQuery, SchemaNotReady, SessionNotFound, StoreUnavailable
from sessiondb.db.query import SessionQuery
from store_backends import PG_URL, SqlTarget, require_postgres


def _table_names(store: SqlStore) -> set[str]:
    with store._engine.connect() as conn:
        return set(inspect(conn).get_table_names(schema=store._tables.names.schema))


def _run_writes(sent: list[str], store: SqlStore) -> list[str]:
    runs = store._tables.names.runs
    return [s for s in sent if s.lstrip().upper().startswith("INSERT") and runs in s]


# -- migrations ------------------------------------------------------------------------------


def test_without_auto_migrate_a_missing_schema_raises_and_nothing_is_created(sql_target: SqlTarget) -> None:
    store = sql_target.open(auto_migrate=False)
    with pytest.raises(SchemaNotReady, match="migrate"):
        store.get_session("s1")
    with pytest.raises(SchemaNotReady):
        store.upsert_session(agent_session())
    assert _table_names(store) == set()
    store.migrate()
    store.upsert_session(agent_session())
    assert store.get_session("s1").version == 1
    store.close()


def test_auto_migrate_creates_the_schema_on_first_use_and_logs_it(
    sql_target: SqlTarget, caplog: pytest.LogCaptureFixture
) -> None:
    store = sql_target.open()
    with caplog.at_level(logging.INFO, logger="sessiondb.db"):
        with pytest.raises(SessionNotFound):
            store.get_session("s1")
    # One line for the whole migration (Alembic's own INFO lines are kept out).
    logged = [
        record.getMessage() for record in caplog.records if record.name.startswith(("sessiondb", "alembic"))
    ]
    assert len(logged) == 1 and logged[0].startswith("migrated table "), logged
    names = store._tables.names
    # Plus, on SQLite, the FTS5 table of the search index and its shadow tables.
    engine_tables = {name for name in _table_names(store) if name.startswith(names.search_fts)}
    assert _table_names(store) - engine_tables == {
        names.sessions,
        names.runs,
        names.version,
        names.search,
        names.changes,
    }
    caplog.clear()
    second = sql_target.open()
    with caplog.at_level(logging.INFO, logger="sessiondb.db"):
        second.upsert_session(agent_session())
    assert not [r for r in caplog.records if r.name == "sessiondb.db"]
    store.close()
    second.close()


def test_migrate_is_safe_to_repeat(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session(runs=1))
    sql_store.migrate()
    sql_store.migrate()
    assert [r.run_id for r in sql_store.get_session("s1").runs or []] == ["s1-r0"]


def test_the_migrated_schema_is_exactly_the_one_the_code_uses(sql_store: SqlStore) -> None:
    names = sql_store._tables.names

    def ours(name: str | None, kind: str, _parent: Any) -> bool:
        # SQLite's FTS5 table and its shadow tables are the engine's, made by the migration's DDL.
        if kind == "table" and name is not None and name.startswith(names.search_fts):
            return False
        return kind != "schema" or name == names.schema

    options = {
        "include_schemas": names.schema is not None,
        "include_name": ours,
        "version_table": names.version,
        "version_table_schema": names.schema,
        "compare_type": True,
        "compare_server_default": True,
    }
    with sql_store._engine.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts=options), sql_store._tables.metadata
        )
    assert differences == []


def test_a_schema_at_an_unknown_revision_is_not_ready(sql_store: SqlStore, sql_target: SqlTarget) -> None:
    names = sql_store._tables.names
    version_table = f'"{names.schema}"."{names.version}"' if names.schema else names.version
    with sql_store._engine.begin() as conn:
        conn.execute(text(f"UPDATE {version_table} SET version_num = 'from-the-future'"))
    for auto_migrate in (False, True):
        store = sql_target.open(auto_migrate=auto_migrate)
        with pytest.raises(SchemaNotReady):
            store.get_sessions(SessionQuery())
        store.close()


def test_dropped_tables_surface_as_schema_not_ready(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session())
    runs = sql_store._tables.runs
    with sql_store._engine.begin() as conn:
        sql_store._tables.search.drop(conn)  # it refers to the runs table
        runs.drop(conn)
    with pytest.raises(SchemaNotReady, match="migrate"):
        sql_store.get_session("s1")


def test_two_table_sets_live_side_by_side_with_their_own_version_tables(sql_target: SqlTarget) -> None:
    default = sql_target.open()
    custom = sql_target.open(session_table="chats", runs_table="chat_turns")
    default.upsert_session(agent_session("in-default", runs=1))
    custom.upsert_session(agent_session("in-custom", runs=1))
    assert {"chats", "chat_turns", "chats_version", "sessiondb_sessions_runs"} <= _table_names(custom)
    with pytest.raises(SessionNotFound):
        custom.get_session("in-default")
    assert custom.get_run("in-custom-r0").run_id == "in-custom-r0"
    default.close()
    custom.close()


# -- layout and cost -------------------------------------------------------------------------


def test_runs_are_rows_with_distinct_indexes_and_the_session_row_holds_none(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session(runs=5))
    runs, sessions = sql_store._tables.runs, sql_store._tables.sessions
    with sql_store._engine.connect() as conn:
        indexes = list(conn.execute(sqlalchemy.select(runs.c.run_index).order_by(runs.c.run_index)).scalars())
        row = conn.execute(sqlalchemy.select(sessions)).mappings().one()
    assert indexes == [0, 1, 2, 3, 4]
    assert "runs" not in row and row["next_run_index"] == 5 and row["session_name"] == "message 0"


def test_a_save_writes_only_new_or_changed_runs_whatever_the_history_length(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session(runs=60))
    loaded = sql_store.get_session("s1")
    with statements(sql_store) as unchanged:
        sql_store.upsert_session(loaded)
    assert _run_writes(unchanged, sql_store) == []

    loaded.upsert_run(agent_run("late"))
    with statements(sql_store) as appended_late:
        sql_store.upsert_session(loaded)
    assert len(_run_writes(appended_late, sql_store)) == 1

    loaded.runs[3].content = "edited"  # type: ignore[index]
    with statements(sql_store) as edited:
        sql_store.upsert_session(loaded)
    assert len(_run_writes(edited, sql_store)) == 1

    sql_store.upsert_session(agent_session("young", runs=1))
    young = sql_store.get_session("young")
    young.upsert_run(agent_run("early"))
    with statements(sql_store) as appended_early:
        sql_store.upsert_session(young)
    # Appending to a session of 61 runs sends exactly what appending to one of 1 run does.
    assert len(appended_late) == len(appended_early)


def test_listing_never_reads_the_runs_table(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session(runs=3))
    with statements(sql_store) as sent:
        page = sql_store.get_sessions(SessionQuery(session_name="message"))
    assert [s.get_session_name() for s in page.items] == ["message 0"]
    assert sent and not [s for s in sent if sql_store._tables.names.runs in s]


# -- constructors ----------------------------------------------------------------------------


def test_sqlite_defaults_to_a_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqliteDb()
    store.upsert_session(agent_session())
    assert (tmp_path / "sessiondb.db").exists() and store.id == "sqlite"
    store.close()


def test_sqlite_takes_a_url_and_creates_missing_directories(tmp_path: Path) -> None:
    by_url = SqliteDb(db_url=f"sqlite:///{tmp_path / 'url.db'}", id="by-url")
    by_url.upsert_session(agent_session())
    by_file = SqliteDb(db_file=tmp_path / "deep" / "er" / "file.db")
    by_file.upsert_session(agent_session())
    assert (tmp_path / "url.db").exists() and (tmp_path / "deep" / "er" / "file.db").exists()
    assert by_url.id == "by-url"
    by_url.close()
    by_file.close()


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    store = SqliteDb(db_file=tmp_path / "pragmas.db")
    with store._engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    store.close()


def test_an_engine_passed_in_is_used_and_not_disposed(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'given.db'}")
    store = SqliteDb(db_engine=engine)
    store.upsert_session(agent_session(runs=2))
    store.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sessiondb_sessions_runs")).scalar() == 2
    assert store.delete_session("s1") is True
    engine.dispose()


def test_postgres_needs_a_url_or_an_engine() -> None:
    with pytest.raises(ValueError, match="db_url"):
        PostgresDb()


@pytest.mark.postgres
def test_postgres_with_a_plain_url_and_a_table_name_uses_schema_ai() -> None:
    require_postgres()
    table = f"sessions_{uuid.uuid4().hex[:8]}"
    store = PostgresDb(db_url=PG_URL.replace("postgresql+psycopg://", "postgresql://"), session_table=table)
    try:
        store.upsert_session(agent_session(runs=1))
        assert store.get_session("s1").version == 1
        with store._engine.connect() as conn:
            found = set(inspect(conn).get_table_names(schema="ai"))
        assert {table, f"{table}_runs", f"{table}_version"} <= found
        assert store._engine.dialect.driver == "psycopg" and store.id == "postgres"
    finally:
        with store._engine.begin() as conn:
            for name in (f"{table}_search", f"{table}_runs", table, f"{table}_version", f"{table}_changes"):
                conn.execute(text(f'DROP TABLE IF EXISTS ai."{name}"'))
        store.close()


# -- driver errors ---------------------------------------------------------------------------


def test_an_unreachable_postgres_is_store_unavailable() -> None:
    store = PostgresDb(db_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.get_session("s1")
    store.close()


def test_an_unopenable_sqlite_file_is_store_unavailable(tmp_path: Path) -> None:
    store = SqliteDb(db_url=f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable):
        store.upsert_session(agent_session())


def test_a_value_the_database_refuses_is_an_invalid_query_and_writes_nothing(sql_store: SqlStore) -> None:
    session = agent_session(session_data={"note": "nul \x00 inside"})
    if isinstance(sql_store, SqliteDb):
        sql_store.upsert_session(session)
        assert sql_store.get_session("s1").session_data == {"note": "nul \x00 inside"}
        return
    # PostgreSQL's JSONB cannot hold U+0000.
    with pytest.raises(InvalidQuery, match="refused"):
        sql_store.upsert_session(session)
    with pytest.raises(SessionNotFound):
        sql_store.get_session("s1")


def test_concurrent_first_uses_migrate_once_and_all_succeed(sql_target: SqlTarget) -> None:
    stores = [sql_target.open() for _ in range(4)]
    errors: list[BaseException] = []

    def first_use(store: SqlStore, number: int) -> None:
        try:
            store.upsert_session(agent_session(f"s{number}"))
        except BaseException as error:  # collected and re-raised in the test thread
            errors.append(error)

    threads = [threading.Thread(target=first_use, args=(store, n)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[0].get_sessions(SessionQuery()).total_count == 4
    for store in stores:
        store.close()


def test_two_stores_may_share_one_sqlite_engine(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    first, second = SqliteDb(db_engine=engine), SqliteDb(db_engine=engine, session_table="other")
    first.upsert_session(agent_session("a", runs=1))
    second.upsert_session(agent_session("b", runs=1))
    assert first.get_session("a").version == second.get_session("b").version == 1
    engine.dispose()


def test_a_sqlite_writer_locked_out_past_the_timeout_gets_store_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import sessiondb.db.sqlite as sqlite_backend

    store = SqliteDb(db_file=tmp_path / "locked.db")
    store.upsert_session(agent_session())
    monkeypatch.setattr(sqlite_backend, "BUSY_TIMEOUT_MS", 300)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.update_session("s1", session_state={"blocked": True})
        assert store.get_session("s1").session_data is None  # readers are never blocked (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.update_session("s1", session_state={"ok": True}).version == 2
    store.close()


def test_many_first_connections_to_a_new_sqlite_file_never_fail_locked(tmp_path: Path) -> None:
    # Switching a new file to WAL answers BUSY without waiting; before _use_wal retried it,
    # about one round in fifty of four concurrent first uses failed "database is locked".
    failures: list[BaseException] = []
    for round_number in range(40):
        stores = [SqliteDb(db_file=tmp_path / f"new{round_number}.db") for _ in range(4)]

        def first_use(store: SqliteDb, number: int) -> None:
            try:
                store.upsert_session(agent_session(f"s{number}"))
            except BaseException as error:  # collected and asserted in the test thread
                failures.append(error)

        threads = [threading.Thread(target=first_use, args=(s, n)) for n, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert stores[0].get_sessions(SessionQuery()).total_count == 4 or failures
        for store in stores:
            store.close()
    assert failures == []
