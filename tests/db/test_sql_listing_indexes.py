"""The listing AgentOS makes (one user's sessions of one type) is served by its own index.

SQLite keeps no planner statistics unless ``ANALYZE`` runs, so which index it picks follows
from the indexes alone; these tests pin that choice. Migration 0002 adds the index to tables
created at revision 0001, keeping their rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from db_builders import agent_session
from sqlalchemy import Connection, event, inspect

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql import migrate as migrations
from sessiondb.db.query import SessionQuery
from store_backends import SqlTarget


def _listing_plan(store: SqlStore, query: SessionQuery) -> list[str]:
    """SQLite's query plan of the one statement the listing of ``query`` sends, a line per step."""
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        sent.append((statement, parameters))

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        store.get_sessions(query)
    finally:
        event.remove(store._engine, "before_cursor_execute", record)
    listing = [(sql, params) for sql, params in sent if sql.lstrip().upper().startswith("SELECT")]
    assert len(listing) == 1, listing  # the count and the page in one statement
    (sql, params) = listing[0]
    with store._engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        return [str(row[-1]) for row in driver.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


@pytest.mark.parametrize("sort_by", ["created_at", "updated_at"])
@pytest.mark.parametrize("sql_target", ["sqlite"], indirect=True)
def test_sqlite_lists_a_users_sessions_of_one_type_through_the_user_type_index(
    sql_store: SqlStore, sort_by: str
) -> None:
    for number in range(3):
        sql_store.upsert_session(agent_session(f"s{number}", user_id=f"u{number % 2}"))
    table = sql_store._tables.names.sessions
    expected = f"idx_{table}_user_type_{sort_by.removesuffix('_at')}"
    query = SessionQuery(user_id="u0", session_type="agent", sort_by=sort_by)  # type: ignore[arg-type]
    plan = _listing_plan(sql_store, query)
    # The count reads either user-and-type index alone; the page walks the one of its sort in
    # order. The only sort step left is the final one, over the page's own rows.
    assert any(f"COVERING INDEX idx_{table}_user_type_" in step for step in plan), plan
    assert any(f"USING INDEX {expected} (user_id=? AND session_type=?)" in step for step in plan), plan
    assert sum("TEMP B-TREE" in step for step in plan) <= 1, plan
    # Same second for all three, so the session id decides the order.
    assert [s.session_id for s in sql_store.get_sessions(query).items] == ["s2", "s0"]


def test_tables_made_at_revision_0001_are_upgraded_with_their_rows_kept(sql_target: SqlTarget) -> None:
    # Written at the head (the code writes the tables of later revisions too), then taken down.
    store = sql_target.open()
    store.upsert_session(agent_session("kept", runs=1))
    names = store._tables.names
    with store._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), "0001")
    with store._engine.connect() as conn:
        assert migrations.current_revision(conn, names) == "0001"
        indexes = {index["name"] for index in inspect(conn).get_indexes(names.sessions, schema=names.schema)}
    assert f"idx_{names.sessions}_user_type_created" not in indexes
    store.close()
    # The next store migrates on first use (auto_migrate), and the row is still there.
    upgraded = sql_target.open(auto_migrate=True)
    assert [run.run_id for run in upgraded.get_session("kept").runs or []] == ["kept-r0"]
    with upgraded._engine.connect() as conn:
        assert migrations.current_revision(conn, names) == migrations.head_revision()
        indexes = {index["name"] for index in inspect(conn).get_indexes(names.sessions, schema=names.schema)}
    assert {f"idx_{names.sessions}_user_type_created", f"idx_{names.sessions}_user_type_updated"} <= indexes
    upgraded.close()


def test_a_listing_is_one_statement_outside_any_transaction(sql_store: SqlStore) -> None:
    """One statement is one snapshot, so the count and the page agree with no BEGIN/COMMIT around them."""
    for number in range(3):
        sql_store.upsert_session(agent_session(f"s{number}"))
    seen: list[tuple[str, bool]] = []

    def record(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        driver = conn.connection.dbapi_connection
        # psycopg: autocommit means no transaction is open; sqlite3: in_transaction says it.
        outside = driver.autocommit if sql_store._tables.names.schema else not driver.in_transaction
        seen.append((statement, outside))

    event.listen(sql_store._engine, "before_cursor_execute", record)
    try:
        page = sql_store.get_sessions(SessionQuery(user_id="u1", limit=2))
    finally:
        event.remove(sql_store._engine, "before_cursor_execute", record)
    assert page.total_count == 3 and [s.session_id for s in page.items] == ["s2", "s1"]
    assert len(seen) == 1 and seen[0][1], seen
    # The connection goes back to the pool ready for transactions again.
    sql_store.upsert_session(agent_session("s3"))
    assert sql_store.get_sessions(SessionQuery(user_id="u1")).total_count == 4


def test_a_listing_bypasses_sqlalchemy_execution_and_decodes_json_columns(
    sql_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql_store.upsert_session(agent_session("s1", metadata={"k": [1, 2]}, session_data={"session_name": "n"}))
    sent: list[str] = []
    original = Connection._execute_context

    def counting(self: Connection, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(args[2]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "_execute_context", counting)
    page = sql_store.get_sessions(SessionQuery(user_id="u1", session_type="agent"))
    assert sent == []
    (item,) = page.items
    assert item.metadata == {"k": [1, 2]} and item.get_session_name() == "n" and page.total_count == 1
