"""Forking on the SQL backends stays inside the database: how its statements do the copy."""

from __future__ import annotations

from typing import Any

import pytest
from db_builders import agent_session
from sqlalchemy import event, text

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql.fork import copy_runs_sql


def test_no_run_id_of_the_copy_goes_through_python(sql_store: SqlStore) -> None:
    # The copied runs' change-feed rows are one INSERT ... SELECT (ChangeLog.add_runs_of): a
    # statement sending the copies' ids means they were read back and sent one by one.
    sql_store.upsert_session(agent_session("s1", runs=40))
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append(repr(parameters))

    event.listen(sql_store._engine, "before_cursor_execute", note)
    try:
        fork = sql_store.fork_session("s1", new_session_id="f1")
    finally:
        event.remove(sql_store._engine, "before_cursor_execute", note)
    copies = [run.run_id for run in sql_store.get_session(fork.session_id).runs or []]
    assert len(copies) == 40
    sent_back = [copy for copy in copies if any(copy in parameters for parameters in sent)]
    assert len(sent_back) <= 1  # the run that names the fork (``name_run_id``), nothing more
    kinds = [change.kind for change in sql_store.changes().items if change.session_id == "f1"]
    assert kinds == ["session.created"] + ["run.created"] * 40


@pytest.mark.parametrize("sql_target", ["postgres"], indirect=True)
def test_postgres_parses_each_payload_once(sql_store: SqlStore) -> None:
    # A LATERAL subquery the planner flattens puts the cast back at each of its uses; kept, it is
    # a plan node of its own computing the cast once per row (EXPLAIN names its uses by it).
    runs = sql_store._engine.dialect.identifier_preparer.format_table(sql_store._tables.runs)
    statement = copy_runs_sql(runs, "postgresql", cut=False)
    with sql_store._engine.connect() as conn:
        plan = conn.execute(
            text(f"EXPLAIN (VERBOSE) {statement}"),
            {"source": "s", "target": "t", "prefix": "p" * 24},
        ).scalars()
        outputs = [line.strip() for line in plan if line.strip().startswith("Output:")]
    assert "Output: (r.run_data)::jsonb" in outputs
