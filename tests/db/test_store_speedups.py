"""Store settings chosen for speed keep their promises: no pre-ping on PostgreSQL, SQLite's
``synchronous`` setting, batched bulk imports, the collector paused while large sessions are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import sqlalchemy
from db_builders import agent_run, agent_session, team_run, team_session, workflow_session
from sqlalchemy import event, select

from sessiondb.db._sql import SqlStore, codec
from sessiondb.db._sql.codec import PAUSE_COLLECTOR_FROM, dumps
from sessiondb.db.errors import InvalidQuery, SessionNotFound, StoreUnavailable
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import Message, RunOutput
from sessiondb.session import AgentSession, _runs
from store_backends import PG_URL, postgres_schema


@pytest.mark.postgres
def test_a_dropped_pooled_postgres_connection_fails_one_call_then_the_store_recovers() -> None:
    with postgres_schema("nopreping") as schema:
        store = PostgresDb(db_url=PG_URL, db_schema=schema)
        try:
            store.migrate()
            with store._engine.connect() as conn:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            dsn = sqlalchemy.make_url(PG_URL).set(drivername="postgresql").render_as_string(False)
            with psycopg.connect(dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            # No pre-ping: the dead connection is found by the call itself, once.
            with pytest.raises(StoreUnavailable):
                store.get_session("missing")
            with pytest.raises(SessionNotFound):
                store.get_session("missing")
        finally:
            store.close()


def test_a_run_is_encoded_once_and_stored_as_that_text(tmp_path: Path) -> None:
    encoded: list[object] = []

    def counting_dumps(value: object) -> str:
        encoded.append(value)
        return dumps(value)

    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'x.db'}", json_serializer=counting_dumps)
    store = SqliteDb(db_engine=engine)
    try:
        store.upsert_session(AgentSession(session_id="s1"))
        run = RunOutput(
            run_id="r1", agent_id="a", content="hello", messages=[Message(role="user", content="hi")]
        )
        encoded.clear()
        store.upsert_run("s1", run)
        # The engine's JSON serialiser never saw the run: its text was bound as it was made.
        assert encoded == []
        with engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT run_data FROM sessiondb_sessions_runs").scalar_one()
        assert orjson.loads(stored) == run.to_dict()
        assert store.get_run("r1") == run
    finally:
        store.close()
        engine.dispose()


def _synchronous_of(store: SqliteDb) -> int:
    with store._engine.connect() as conn:
        level: int = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
    return level


def test_sqlite_defaults_to_synchronous_normal_and_full_can_be_chosen(tmp_path: Path) -> None:
    normal = SqliteDb(db_file=tmp_path / "normal.db")
    full = SqliteDb(db_file=tmp_path / "full.db", synchronous="FULL")
    try:
        # SQLite reports the levels as numbers: NORMAL is 1, FULL is 2.
        assert _synchronous_of(normal) == 1
        assert _synchronous_of(full) == 2
    finally:
        normal.close()
        full.close()


def test_stores_sharing_an_engine_must_agree_on_synchronous(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        SqliteDb(db_engine=engine, synchronous="FULL")
        SqliteDb(db_engine=engine, session_table="other", synchronous="FULL")
        with pytest.raises(ValueError, match="synchronous=FULL"):
            SqliteDb(db_engine=engine, session_table="third")
    finally:
        engine.dispose()


def _run_inserts(store: SqlStore) -> list[str]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT") and store._tables.names.runs in statement:
            sent.append(statement)

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        store.upsert_sessions([agent_session("a", runs=20), agent_session("b", runs=20)])
    finally:
        event.remove(store._engine, "before_cursor_execute", record)
    return sent


def test_a_bulk_save_sends_runs_as_multi_row_inserts_and_stores_them_in_order(sql_store: SqlStore) -> None:
    sent = _run_inserts(sql_store)
    # One multi-row INSERT for the whole batch (db/_sql/bulk.py), not one per run or session.
    assert len(sent) == 1
    for session_id in ("a", "b"):
        runs = sql_store.get_session(session_id).runs or []
        assert [run.run_id for run in runs] == [f"{session_id}-r{index}" for index in range(20)]
    with sql_store._engine.connect() as conn:
        runs_table = sql_store._tables.runs
        indexes = conn.execute(
            select(runs_table.c.run_index).where(runs_table.c.session_id == "a").order_by(runs_table.c.run_id)
        ).scalars()
        assert sorted(indexes) == list(range(20))


def test_a_bulk_save_refuses_a_run_stored_in_another_session_and_writes_nothing(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session("a", runs=2))
    thief = agent_session("b", runs=3)
    thief.upsert_run(agent_run("a-r1", "taken"))
    with pytest.raises(InvalidQuery, match="a-r1"):
        sql_store.upsert_sessions([thief])
    with pytest.raises(SessionNotFound):
        sql_store.get_session("b")
    assert [run.content for run in sql_store.get_session("a").runs or []] == ["MESSAGE 0", "MESSAGE 1"]


def test_a_save_with_one_run_id_twice_stores_it_once(sql_store: SqlStore) -> None:
    session = agent_session("a", runs=2)
    assert session.runs is not None
    session.runs.append(agent_run("a-r0", "again"))
    sql_store.upsert_session(session)
    stored = sql_store.get_session("a").runs or []
    assert [(run.run_id, run.content) for run in stored] == [("a-r0", "AGAIN"), ("a-r1", "MESSAGE 1")]


def test_saving_new_sessions_names_them_from_memory_without_reading_runs(sql_store: SqlStore) -> None:
    team = team_session("t1")
    team.upsert_run(agent_run("member", "member speaks first", agent_id="m1", parent_run_id=None))
    team.upsert_run(team_run("lead", "the team question"))
    flow = workflow_session("w1")
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(sql_store._engine, "before_cursor_execute", record)
    try:
        sql_store.upsert_sessions([agent_session("a", runs=3), team, flow])
    finally:
        event.remove(sql_store._engine, "before_cursor_execute", record)
    runs_table = sql_store._tables.names.runs
    assert not [s for s in sent if s.lstrip().upper().startswith("SELECT") and runs_table in s]
    # The same names a read of the first naming run gives (team sessions skip member runs).
    names = {s.session_id: s.get_session_name() for s in sql_store.get_sessions(SessionQuery()).items}
    assert names == {"a": "message 0", "t1": "the team question", "w1": "New Flow Session"}


def _watch_collections() -> tuple[list[int], Any]:
    seen: list[int] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    return seen, callback


def _collections_while(read: Any) -> int:
    seen, callback = _watch_collections()
    gc.collect()
    gc.callbacks.append(callback)
    try:
        with _collector_state(enabled=True):
            read()
            assert gc.isenabled()
    finally:
        gc.callbacks.remove(callback)
    return len(seen)


@pytest.mark.parametrize("read", ["get_session", "get_runs", "lazy get_session, then every run"])
def test_building_a_large_session_pauses_the_collector_and_turns_it_back_on(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch, read: str
) -> None:
    # A full collection walks every object of the process; during the build of a large
    # session it can only find survivors, so the build pauses the collector. A lazily loaded
    # session builds its runs when read: reading them all at once (a slice, a copy, to_dict)
    # pauses it the same way.
    size = PAUSE_COLLECTOR_FROM * 4
    sql_store.upsert_session(agent_session("big", runs=size))
    if read == "get_session":
        sql_store.lazy_runs = False  # the plain path builds every run at load
    if read.startswith("lazy"):
        call: Any = lambda session_id: (sql_store.get_session(session_id).runs or [])[:]  # noqa: E731
    else:
        call = getattr(sql_store, read)
    paused = _collections_while(lambda: call("big"))
    monkeypatch.setattr(codec, "PAUSE_COLLECTOR_FROM", size + 1)
    monkeypatch.setattr(_runs, "PAUSE_COLLECTOR_FROM", size + 1)
    unpaused = _collections_while(lambda: call("big"))
    # Unpaused, the allocations of 256 runs trigger several collections; paused, at most the
    # one that follows the build (and one while the rows are read).
    assert unpaused >= 3
    assert paused <= 2 < unpaused


def test_a_collector_the_application_turned_off_stays_off(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session("big", runs=PAUSE_COLLECTOR_FROM))
    with _collector_state(enabled=False):
        sql_store.get_session("big")
        assert not gc.isenabled()


@contextmanager
def _collector_state(*, enabled: bool) -> Iterator[None]:
    was = gc.isenabled()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
