"""Migration 0003: run payloads become ``json`` on PostgreSQL, keeping every stored run."""

from __future__ import annotations

import pytest
from alembic import command
from db_builders import agent_run, agent_session
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql import migrate as migrations
from sessiondb.session import Session
from store_backends import SqlTarget


def _saved_then_downgraded(target: SqlTarget, revision: str, session: Session) -> SqlStore:
    """A store on ``target`` holding ``session``, its tables then taken down to ``revision``.

    The session is written at the head revision: the code writes every table the head has
    (the search index of 0006, for one), so it cannot write at an older revision itself.
    """
    store = target.open()
    store.upsert_session(session)
    names = store._tables.names
    with store._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), revision)
    return store


def _run_data_type(store: SqlStore) -> str:
    names = store._tables.names
    with store._engine.connect() as conn:
        columns = inspect(conn).get_columns(names.runs, schema=names.schema)
    return next(str(column["type"]) for column in columns if column["name"] == "run_data")


def test_runs_stored_as_jsonb_are_kept_through_the_upgrade_and_back(sql_target: SqlTarget) -> None:
    session = agent_session("kept", runs=3)
    old = _saved_then_downgraded(sql_target, "0002", session)
    if sql_target.kind == "postgres":
        assert _run_data_type(old) == "JSONB"
    old.close()

    upgraded = sql_target.open(auto_migrate=True)
    loaded = upgraded.get_session("kept")  # migrates on first use
    with upgraded._engine.connect() as conn:
        assert migrations.current_revision(conn, upgraded._tables.names) == migrations.head_revision()
    if sql_target.kind == "postgres":
        assert _run_data_type(upgraded) == "JSON"
    assert [run.to_dict() for run in loaded.runs or []] == [run.to_dict() for run in session.runs or []]
    # Loaded runs are not rewritten by a save: the migrated text counts as stored.
    loaded.upsert_run(agent_run("kept-r3", "after"))
    upgraded.upsert_session(loaded)
    assert [run.run_id for run in upgraded.get_session("kept").runs or []] == [
        "kept-r0",
        "kept-r1",
        "kept-r2",
        "kept-r3",
    ]

    names = upgraded._tables.names
    with upgraded._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), "0002")
    if sql_target.kind == "postgres":
        assert _run_data_type(upgraded) == "JSONB"
    upgraded.close()


@pytest.mark.parametrize("sql_target", ["postgres"], indirect=True)
def test_a_payload_holding_u0000_cannot_go_back_to_jsonb(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    store.upsert_session(agent_session("s", runs=1))
    store.upsert_run("s", agent_run("s-nul", "nul \x00 inside"))
    names = store._tables.names
    with pytest.raises(DBAPIError, match="0000"), store._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), "0002")
    assert _run_data_type(store) == "JSON"
    assert store.get_run("s-nul").content == "NUL \x00 INSIDE"
    store.close()
