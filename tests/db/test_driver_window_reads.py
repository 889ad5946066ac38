"""The windowed ``get_session`` on the pool's driver connection (SQLite) is the plain read.

``SqliteDb.get_session(..., runs_limit=N)`` reads the session row and its window on the pooled
sqlite3 connection (:mod:`sessiondb.db._sql.driver_reads`); with ``_reads_on_driver`` off it
reads them through a SQLAlchemy ``Connection`` in one joined statement (the plain twin). For
generated sessions, owners and windows both build the same session: fields, bookkeeping,
``get_messages`` under every filter, ``get_chat_history``. Stored data that is not valid
raises the same error on both, and a driver error leaves the read to the plain path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from db_builders import agent_run, agent_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sent_statements import statements
from sqlalchemy import update
from test_lazy_runs_equivalence import message_filters, sessions

from sessiondb.db.errors import SchemaNotReady, SessionNotFound
from sessiondb.db.sqlite import SqliteDb
from sessiondb.session import Session


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteDb]:
    store = SqliteDb(db_file=tmp_path / "window.db")
    try:
        yield store
    finally:
        store.close()


def _outcome(read: Callable[[], Any]) -> Any:
    """What ``read`` returns, or the type and text of what it raises."""
    try:
        return read()
    except Exception as error:  # every error counts: the paths must raise the same one
        return ("raised", type(error), str(error))


def _plain(store: SqliteDb, monkeypatch: pytest.MonkeyPatch, read: Callable[[], Any]) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(store, "_reads_on_driver", lambda: False)
        return _outcome(read)


def _both(store: SqliteDb, monkeypatch: pytest.MonkeyPatch, read: Callable[[], Any]) -> tuple[Any, Any]:
    return _outcome(read), _plain(store, monkeypatch, read)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), runs_limit=st.integers(-1, 5), owner=st.sampled_from([None, "u", "someone else"]))
def test_the_driver_read_builds_the_session_the_plain_read_builds(
    sqlite_store: SqliteDb,
    monkeypatch: pytest.MonkeyPatch,
    data: st.DataObject,
    runs_limit: int,
    owner: str | None,
) -> None:
    original: Session = data.draw(sessions())
    sqlite_store.upsert_session(original)
    session_id = original.session_id
    filters = data.draw(message_filters(original.session_type))

    def load() -> Session:
        return sqlite_store.get_session(session_id, user_id=owner, runs_limit=runs_limit)

    # The driver path itself answers (not a fallback to the plain one).
    if owner == "someone else":
        with pytest.raises(SessionNotFound):
            sqlite_store._window_on_driver(session_id, owner, runs_limit)
    else:
        assert sqlite_store._window_on_driver(session_id, owner, runs_limit) is not None
    fast, plain = _both(sqlite_store, monkeypatch, load)
    if isinstance(plain, tuple):
        assert fast == plain  # the same SessionNotFound
        return
    # Each read on fresh loads, so that it meets runs not decoded yet.
    reads: list[Callable[[Session], Any]] = [
        lambda s: s.get_messages(**filters),
        lambda s: s.get_chat_history(),
        lambda s: s.get_chat_history(last_n_runs=2),
        lambda s: s.to_dict(),
        lambda s: (s.version, s.runs_complete, s._store_state),
        lambda s: {name: getattr(s, name) for name in type(s).model_fields},
    ]
    for read in reads:
        on_driver, through_sqlalchemy = _both(sqlite_store, monkeypatch, lambda read=read: read(load()))
        assert on_driver == through_sqlalchemy
    assert fast == plain
    assert type(fast) is type(plain)


def test_the_session_row_and_the_window_are_read_in_one_transaction(sqlite_store: SqliteDb) -> None:
    sqlite_store.upsert_session(agent_session("a", runs=5))
    sent: list[str] = []
    pooled = sqlite_store._engine.raw_connection()
    pooled.driver_connection.set_trace_callback(sent.append)  # type: ignore[union-attr]
    pooled.close()  # back to the pool: the read below checks it out again
    try:
        window = sqlite_store.get_session("a", runs_limit=2)
    finally:
        pooled = sqlite_store._engine.raw_connection()
        pooled.driver_connection.set_trace_callback(None)  # type: ignore[union-attr]
        pooled.close()
    assert [run.run_id for run in window.runs or ()] == ["a-r3", "a-r4"]
    kinds = [statement.split()[0].upper() for statement in sent]
    # One snapshot: both reads inside BEGIN ... COMMIT (the pool's reset adds a no-op ROLLBACK).
    assert kinds[:4] == ["BEGIN", "SELECT", "SELECT", "COMMIT"]
    assert sqlite_store._engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def _corrupt(store: SqliteDb, table: str, column: str, text: str, **where: str) -> None:
    target = getattr(store._tables, table)
    clause = [target.c[name] == value for name, value in where.items()]
    with store._engine.begin() as conn:
        conn.execute(update(target).where(*clause).values({column: text}))


@pytest.mark.parametrize(
    "text",
    ['{"run_id": "a-r2", "messages": "not a list"}', "{not json", '{"run_id": 5}', "[]"],
)
def test_a_damaged_run_raises_the_same_error_on_both_paths(
    sqlite_store: SqliteDb, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    sqlite_store.upsert_session(agent_session("a", runs=4))
    _corrupt(sqlite_store, "runs", "run_data", text, run_id="a-r2")
    fast, plain = _both(
        sqlite_store, monkeypatch, lambda: sqlite_store.get_session("a", runs_limit=3).get_messages()
    )
    assert fast[0] == "raised"
    assert fast == plain


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", '"text"'])
def test_a_damaged_session_row_raises_the_same_error_on_both_paths(
    sqlite_store: SqliteDb, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    sqlite_store.upsert_session(agent_session("a", runs=2))
    _corrupt(sqlite_store, "sessions", "session_data", text, session_id="a")
    fast, plain = _both(sqlite_store, monkeypatch, lambda: sqlite_store.get_session("a", runs_limit=3))
    assert fast[0] == "raised"
    assert fast == plain


def test_a_driver_error_leaves_the_read_to_the_plain_path(sqlite_store: SqliteDb) -> None:
    sqlite_store.upsert_session(agent_session("a", runs=2))
    with sqlite_store._engine.begin() as conn:
        sqlite_store._tables.search.drop(conn)  # it refers to the runs table
        sqlite_store._tables.runs.drop(conn)
    # The driver's "no such table", raised as the plain path raises it; no connection kept.
    assert sqlite_store._window_on_driver("a", None, 3) is None
    with pytest.raises(SchemaNotReady, match="migrate"):
        sqlite_store.get_session("a", runs_limit=3)
    assert sqlite_store._engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_watched_statements_take_the_plain_path(sqlite_store: SqliteDb) -> None:
    sqlite_store.upsert_session(agent_session("a", runs=3))
    sqlite_store.upsert_run("a", agent_run("a-more", "more"))
    with statements(sqlite_store) as sent:
        assert sqlite_store._window_on_driver("a", None, 2) is None
        window = sqlite_store.get_session("a", runs_limit=2)
    assert [run.run_id for run in window.runs or ()] == ["a-r2", "a-more"]
    assert len(sent) == 1  # the listener saw the plain path's one statement


def test_a_connection_other_threads_may_share_takes_the_plain_path(tmp_path: Path) -> None:
    # An in-memory database is one connection shared by every thread (StaticPool): a read's
    # BEGIN there could collide with another thread's transaction on the same connection.
    shared = SqliteDb(db_url="sqlite://")
    try:
        shared.upsert_session(agent_session("a", runs=3))
        assert shared._window_on_driver("a", None, 2) is None
        assert [run.run_id for run in shared.get_session("a", runs_limit=2).runs or ()] == ["a-r1", "a-r2"]
    finally:
        shared.close()
    # An event-loop view's one connection is its thread's alone: the driver read is fine there.
    store = SqliteDb(db_file=tmp_path / "views.db")
    try:
        store.upsert_session(agent_session("a", runs=3))
        view = store.event_loop_reader()
        assert view is not None and view is not store
        found = view._window_on_driver("a", None, 2)
        assert found is not None
        assert [run_id for run_id, _ in found[1]] == ["a-r1", "a-r2"]
    finally:
        store.close()
