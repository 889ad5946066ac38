"""The hot paths (append, windowed read, whole read) run their statements through the driver
cursor; they must return exactly what SQLAlchemy's execution returned, stay visible to
statement listeners, and raise the same domain errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from db_builders import agent_run, agent_session, team_run, team_session, workflow_run, workflow_session
from sqlalchemy import Connection, Text, bindparam, cast, event, select
from sqlalchemy.dialects import sqlite

from sessiondb.db._sql import SqlStore, run_reads
from sessiondb.db._sql.compiled import Compiled, fetch
from sessiondb.db._sql.reads import history_only, session_row, session_with_window, whole_session
from sessiondb.db._sql.run_reads import RunsFilter
from sessiondb.db._sql.writes import touch_session
from sessiondb.db.errors import InvalidQuery, SchemaNotReady, SessionNotFound
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run import Message, RunStatus
from sessiondb.run.metrics import MessageMetrics
from sessiondb.session import SessionSummary


def _fill(store: SqlStore) -> None:
    rich = agent_session(
        "a",
        runs=4,
        session_data={"session_state": {"nested": [1, {"ü": "ñ"}], "n": None}, "session_name": "Ä"},
        metadata=None,
        summary=SessionSummary(summary="so far", topics=["x"]),
    )
    rich.upsert_run(agent_run("a-err", "failed", status=RunStatus.ERROR))
    rich.upsert_run(agent_run("a-child", "member", parent_run_id="a-r1"))
    rich.upsert_run(agent_run("a-last", "last one"))
    store.upsert_session(rich)
    team = team_session("t")
    team.upsert_run(team_run("t-r0", "team question"))
    store.upsert_session(team)
    flow = workflow_session("w", user_id=None, workflow_data={"name": "Flow", "steps": 2})
    flow.upsert_run(workflow_run("w-r0"))
    store.upsert_session(flow)
    store.upsert_session(agent_session("empty"))


@contextmanager
def _rolled_back(store: SqlStore) -> Iterator[Connection]:
    with store._engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


CASES = [("a", None), ("a", "u1"), ("t", "u1"), ("w", None), ("empty", "u1")]


@pytest.mark.parametrize(("session_id", "user_id"), CASES)
def test_the_session_row_is_the_one_sqlalchemy_returns(
    sql_store: SqlStore, session_id: str, user_id: str | None
) -> None:
    _fill(sql_store)
    with _rolled_back(sql_store) as conn:
        for lock in (False, True):
            statement = sql_store._reads.session_rows[(user_id is not None, lock)]
            params = {"session_id": session_id, "user_id": user_id}
            expected = dict(conn.execute(statement, params).mappings().one())
            assert session_row(conn, sql_store._reads, session_id, user_id, lock=lock) == expected
        with pytest.raises(SessionNotFound):
            session_row(conn, sql_store._reads, session_id, "someone else")
        with pytest.raises(SessionNotFound):
            session_row(conn, sql_store._reads, "missing", user_id)


@pytest.mark.parametrize(("session_id", "user_id"), CASES)
def test_a_whole_session_is_the_session_row_and_all_its_runs_in_order(
    sql_store: SqlStore, session_id: str, user_id: str | None
) -> None:
    _fill(sql_store)
    runs = sql_store._tables.runs
    # Built independently, the obvious way: two statements.
    every_run = (
        select(runs.c.run_id, cast(runs.c.run_data, Text))
        .where(runs.c.session_id == session_id)
        .order_by(runs.c.run_index)
    )
    with _rolled_back(sql_store) as conn:
        expected_row = session_row(conn, sql_store._reads, session_id, user_id)
        expected_runs = [tuple(row) for row in conn.execute(every_run)]
        row, loaded = whole_session(conn, sql_store._reads, session_id, user_id)
        with pytest.raises(SessionNotFound):
            whole_session(conn, sql_store._reads, session_id, "someone else")
        with pytest.raises(SessionNotFound):
            whole_session(conn, sql_store._reads, "missing", user_id)
    assert {key: row[key] for key in expected_row} == expected_row
    assert loaded == expected_runs
    assert bool(loaded) == (session_id != "empty")


@pytest.mark.parametrize(("session_id", "user_id"), CASES)
@pytest.mark.parametrize("limit", [-1, 0, 1, 3, 100])
def test_a_window_is_the_session_row_and_the_newest_history_runs(
    sql_store: SqlStore, session_id: str, user_id: str | None, limit: int
) -> None:
    _fill(sql_store)
    runs = sql_store._tables.runs
    # The window built independently, the obvious way: two statements.
    newest = (
        select(runs.c.run_id, cast(runs.c.run_data, Text))
        .where(runs.c.session_id == session_id, history_only(sql_store._tables))
        .order_by(runs.c.run_index.desc())
        .limit(max(limit, 0))
    )
    with _rolled_back(sql_store) as conn:
        expected_row = session_row(conn, sql_store._reads, session_id, user_id)
        expected_runs = [tuple(row) for row in conn.execute(newest)][::-1]
        row, loaded = session_with_window(conn, sql_store._reads, session_id, user_id, limit)
        with pytest.raises(SessionNotFound):
            session_with_window(conn, sql_store._reads, session_id, "someone else", limit)
        with pytest.raises(SessionNotFound):
            session_with_window(conn, sql_store._reads, "missing", user_id, limit)
    # JSON columns decoded, every column as session_row gives it; runs oldest first.
    assert {key: row[key] for key in expected_row} == expected_row
    assert loaded == expected_runs
    if session_id == "a" and limit == 3:
        # History counts parent-less runs outside the skip statuses only.
        assert [run_id for run_id, _ in loaded] == ["a-r2", "a-r3", "a-last"]


@pytest.mark.parametrize("session_id", ["a", "t", "w"])
def test_touching_a_session_returns_the_row_sqlalchemy_returns(sql_store: SqlStore, session_id: str) -> None:
    _fill(sql_store)
    params = {"target_id": session_id, "now": 1_800_000_000, "reserve": 2}
    with _rolled_back(sql_store) as conn:
        expected = dict(conn.execute(sql_store._statements.touch_session, params).mappings().one())
    with _rolled_back(sql_store) as conn:
        assert (
            touch_session(conn, sql_store._statements, session_id, now=1_800_000_000, reserve=2) == expected
        )
    with _rolled_back(sql_store) as conn, pytest.raises(SessionNotFound):
        touch_session(conn, sql_store._statements, "missing", now=1)


def test_appends_return_the_reserved_index_and_a_replaced_run_keeps_its_own(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session("a", runs=2))
    assert sql_store.upsert_run("a", agent_run("a-new", "new")) == 2
    assert sql_store.upsert_run("a", agent_run("a-r0", "edited")) == 0
    assert sql_store.upsert_run("a", agent_run("a-newer", "newer")) == 4  # index 3 went to the replace
    loaded = sql_store.get_session("a")
    assert [run.run_id for run in loaded.runs or []] == ["a-r0", "a-r1", "a-new", "a-newer"]
    assert loaded.get_session_name() == "edited"
    sql_store.upsert_session(agent_session("b"))
    with pytest.raises(InvalidQuery, match="another session"):
        sql_store.upsert_run("b", agent_run("a-r1", "stolen"))
    with pytest.raises(SessionNotFound):
        sql_store.upsert_run("missing", agent_run("x", "nowhere"))


@contextmanager
def _sqlalchemy_executions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record the statements that go through SQLAlchemy's execution machinery."""
    sent: list[str] = []
    original = sqlalchemy.engine.Connection._execute_context

    def counting(
        self: Connection, dialect: Any, constructor: Any, statement: Any, *args: Any, **kwargs: Any
    ) -> Any:
        sent.append(str(statement))
        return original(self, dialect, constructor, statement, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(sqlalchemy.engine.Connection, "_execute_context", counting)
        yield sent


def test_the_hot_paths_bypass_sqlalchemy_execution(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(sql_store)
    with _sqlalchemy_executions(monkeypatch) as sent:
        sql_store.upsert_run("a", agent_run("a-more", "more"))
        window = sql_store.get_session("a", runs_limit=3, user_id="u1")
        whole = sql_store.get_session("a")
    assert sent == []
    assert [run.run_id for run in window.runs or []] == ["a-r3", "a-last", "a-more"]
    assert len(whole.runs or []) == 8


def test_naming_reads_and_writes_on_the_run_paths_bypass_sqlalchemy_execution(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql_store.upsert_session(agent_session("a", runs=2))
    sql_store.upsert_session(team_session("t"))
    with _sqlalchemy_executions(monkeypatch) as sent:
        # A later run saved again (reads the first naming run's id), the naming run replaced
        # (reads and decodes it, rewrites the name), a first run named (rewrites the name).
        sql_store.upsert_run("a", agent_run("a-r1", "message 1, done"))
        sql_store.upsert_run("a", agent_run("a-r0", "first, edited"))
        sql_store.upsert_run("t", agent_run("t-member", "member", agent_id="m1"))
        sql_store.upsert_run("t", team_run("t-r0", "the team question"))
    assert sent == []
    assert sql_store.get_session("a").get_session_name() == "first, edited"
    assert sql_store.get_session("t").get_session_name() == "the team question"
    names = {
        session.session_id: session.get_session_name()
        for session in sql_store.get_sessions(SessionQuery()).items
    }
    assert names == {"a": "first, edited", "t": "the team question"}


def test_run_reads_bypass_sqlalchemy_execution_with_one_statement_per_filter_shape(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(sql_store)
    with _sqlalchemy_executions(monkeypatch) as sent:
        one = sql_store.get_run("a-r1")
        owned = sql_store.get_run("a-r1", session_id="a", user_id="u1")
        recent = sql_store.get_runs("a", last_n=2, statuses=["completed"])
        others = sql_store.get_runs("t", last_n=2, statuses=["error"], user_id="u1")
        history = sql_store.get_runs("a", history_only=True, created_after=0)
    assert sent == []
    assert one.run_id == owned.run_id == "a-r1"
    assert [run.run_id for run in recent] == ["a-child", "a-last"]
    assert others == []
    assert [run.run_id for run in history] == ["a-r0", "a-r1", "a-r2", "a-r3", "a-last"]
    # Same filters given (other values) -> the same statement, so it is compiled once.
    shapes = sql_store._run_reads._by_shape
    assert len(shapes) == 3
    first, _ = sql_store._run_reads.runs_query("a", None, RunsFilter(statuses=("X",), last_n=5))
    again, _ = sql_store._run_reads.runs_query("t", None, RunsFilter(statuses=("Y",), last_n=1))
    assert first is again and len(shapes) == 3


def test_a_run_read_is_one_statement_outside_any_transaction(sql_store: SqlStore) -> None:
    _fill(sql_store)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(sql_store._engine, "before_cursor_execute", record)
    try:
        runs = sql_store.get_runs("a", statuses=["completed"], created_before=2_000_000_000, last_n=3)
        run = sql_store.get_run("t-r0", user_id="u1")
    finally:
        event.remove(sql_store._engine, "before_cursor_execute", record)
    assert [r.run_id for r in runs] == ["a-r3", "a-child", "a-last"] and run.run_id == "t-r0"
    # Before: BEGIN (REPEATABLE READ on PostgreSQL), the session row, the runs, COMMIT.
    assert [statement.lstrip().split()[0].upper() for statement in sent] == ["SELECT", "SELECT"]


def test_run_shapes_past_the_cache_bound_are_built_per_call(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_reads, "MAX_CACHED_SHAPES", 2)
    _fill(sql_store)
    for count in range(1, 6):
        statuses = ["completed", *(f"other-{i}" for i in range(count))]
        assert sql_store.get_runs("a", statuses=statuses)[0].run_id == "a-r0"
    assert len(sql_store._run_reads._by_shape) == 2


def test_statement_listeners_still_see_the_hot_statements_and_get_the_same_results(
    sql_store: SqlStore,
) -> None:
    _fill(sql_store)
    quiet = sql_store.get_session("a", runs_limit=3)
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(sql_store._engine, "before_cursor_execute", record)
    try:
        watched = sql_store.get_session("a", runs_limit=3)
        sql_store.upsert_run("a", agent_run("a-more", "more"))
    finally:
        event.remove(sql_store._engine, "before_cursor_execute", record)
    assert watched.to_dict() == quiet.to_dict()
    # Version, stored run texts, completeness and stored name: the whole bookkeeping.
    assert watched._store_state == quiet._store_state
    kinds = [statement.lstrip().split()[0].upper() for statement in sent]
    # The windowed read is one statement (row joined to the window); the append three (the
    # session row, the run, its search index row), then its change: the feed's ordering lock
    # (PostgreSQL) and the outbox row.
    lock = ["SELECT"] if isinstance(sql_store, PostgresDb) else []
    assert kinds == ["SELECT", "UPDATE", "INSERT", "INSERT", *lock, "INSERT"]


def _version(store: SqlStore, session_id: str) -> int:
    sessions = store._tables.sessions
    with store._engine.connect() as conn:
        version: int = conn.execute(
            select(sessions.c.version).where(sessions.c.session_id == session_id)
        ).scalar_one()
    return version


def test_a_driver_error_on_the_hot_path_is_the_same_domain_error_and_writes_nothing(
    sql_store: SqlStore,
) -> None:
    sql_store.upsert_session(agent_session("a", runs=1))
    if isinstance(sql_store, PostgresDb):
        # PostgreSQL's text columns cannot hold U+0000: the run insert fails after the session
        # was touched.
        with pytest.raises(InvalidQuery, match="refused"):
            sql_store.upsert_run("a", agent_run("a-nul", "refused", agent_id="agent \x00 nul"))
        assert _version(sql_store, "a") == 1
    with sql_store._engine.begin() as conn:
        sql_store._tables.search.drop(conn)  # it refers to the runs table
        sql_store._tables.runs.drop(conn)
    with pytest.raises(SchemaNotReady, match="migrate"):
        sql_store.upsert_run("a", agent_run("a-late", "too late"))
    assert _version(sql_store, "a") == 1
    with pytest.raises(SchemaNotReady, match="migrate"):
        sql_store.get_session("a", runs_limit=3)


def test_a_statement_that_needs_rendering_per_execution_is_refused() -> None:
    table = sqlalchemy.table("t", sqlalchemy.column("x"))
    statement = select(table).where(table.c.x.in_(bindparam("xs", expanding=True)))
    with pytest.raises(ValueError, match="rendering"):
        Compiled.of(statement, sqlite.dialect())


def test_fetch_binds_constants_and_positional_parameters_like_sqlalchemy(sql_store: SqlStore) -> None:
    sessions = sql_store._tables.sessions
    statement = select(sessions.c.session_id, sessions.c.session_data["session_name"].as_string()).where(
        sessions.c.session_id == bindparam("id")
    )
    _fill(sql_store)
    with _rolled_back(sql_store) as conn:
        expected = [tuple(row) for row in conn.execute(statement, {"id": "a"})]
        assert fetch(conn, statement, {"id": "a"}) == expected == [("a", "Ä")]


def test_to_dict_drops_the_same_empty_values_as_before() -> None:
    message = Message(
        role="assistant",
        content=0,
        tool_calls=[],
        provider_data={},
        tool_call_error=False,
        metrics=MessageMetrics(input_tokens=0, output_tokens=3, cost=0.0, duration=None),
    )
    data = message.to_dict()
    assert data["content"] == 0 and data["tool_call_error"] is False
    assert "tool_calls" not in data and "provider_data" not in data and "name" not in data
    assert data["stop_after_tool_call"] is False and data["from_history"] is False
    assert data["metrics"] == {"output_tokens": 3}
    assert MessageMetrics().to_dict() == {}


def test_an_engine_that_logs_sql_still_logs_the_hot_statements(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'echo.db'}", echo=True)
    store = SqliteDb(db_engine=engine)
    try:
        store.upsert_session(agent_session("a", runs=2))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            store.upsert_run("a", agent_run("a-more", "more"))
            assert [run.run_id for run in store.get_session("a", runs_limit=1).runs or []] == ["a-more"]
        logged = [record.getMessage().lstrip().split()[0].upper() for record in caplog.records]
        # The append's three statements (with the search index row) and its change (the feed's
        # outbox), then the windowed read's one.
        assert [kind for kind in logged if kind in {"SELECT", "UPDATE", "INSERT"}] == [
            "UPDATE",
            "INSERT",
            "INSERT",
            "INSERT",
            "SELECT",
        ]
    finally:
        store.close()
        engine.dispose()


def test_a_schema_translate_map_is_honoured_on_the_hot_paths(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'mapped.db'}")
    # SQLite's own database is "main": the map renders every table as main.<name>.
    store = SqliteDb(db_engine=engine.execution_options(schema_translate_map={None: "main"}))
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    store.upsert_session(agent_session("a", runs=2))
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert store.upsert_run("a", agent_run("a-more", "more")) == 2
        assert [run.run_id for run in store.get_session("a", runs_limit=2).runs or []] == ["a-r1", "a-more"]
        assert sent and all("main.sessiondb_sessions" in statement for statement in sent)
    finally:
        event.remove(engine, "before_cursor_execute", record)
        store.close()
        engine.dispose()


def test_a_listing_without_the_count_is_the_keyset_page_alone(sql_store: SqlStore) -> None:
    statement, _ = sql_store._listing.page_query(SessionQuery(count_total=False))
    counted, _ = sql_store._listing.page_query(SessionQuery())
    assert "count(" not in str(statement).lower() and "count(" in str(counted).lower()
