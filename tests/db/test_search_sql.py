"""Full-text search on the SQL backends: the engines' indexes, the migration that builds them,
and PostgreSQL's text search configuration."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy
from alembic import command
from db_builders import agent_run, agent_session
from sqlalchemy import func, select, text

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql import migrate as migrations
from sessiondb.db._sql.search import owner_token
from sessiondb.db.postgres import PostgresDb
from store_backends import PG_URL, SqlTarget, postgres_schema


def _index_rows(store: SqlStore) -> int:
    with store._engine.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(store._tables.search)).scalar_one()
    return count


def test_the_migration_builds_the_index_for_runs_stored_before_it(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    session = agent_session("old")
    for index, word in enumerate(["pelican", "cormorant", "pelican again"]):
        session.upsert_run(agent_run(f"old-r{index}", word, created_at=1_700_000_000 + index))
    store.upsert_session(session)
    names = store._tables.names
    with store._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), "0005")
    store.close()

    upgraded = sql_target.open()  # migrates on first use, filling the index from the runs
    assert sorted(hit.run_id for hit in upgraded.search("pelican").items) == ["old-r0", "old-r2"]
    assert _index_rows(upgraded) == 3
    upgraded.close()


@pytest.mark.parametrize("sql_target", ["sqlite"], indirect=True)
def test_the_fts5_index_agrees_with_its_rows_after_replacements_and_deletes(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    store.upsert_session(agent_session("s1", runs=3))
    store.upsert_run("s1", agent_run("s1-r1", "replaced text"))
    store.upsert_run("s1", agent_run("s1-r1", "replaced text"))  # unchanged: the row is left alone
    store.delete_run("s1-r0")
    store.upsert_sessions([agent_session("s2", runs=2), agent_session("s3", runs=1)])
    store.delete_sessions(["s2"])
    fts = store._tables.names.search_fts
    with store._engine.begin() as conn:
        # FTS5 compares every indexed token with the external content (rank 1): raises if not.
        conn.execute(text(f'INSERT INTO "{fts}"("{fts}", rank) VALUES (\'integrity-check\', 1)'))
    assert _index_rows(store) == 3
    store.close()


def _fts5_integrity_check(store: SqlStore) -> None:
    fts = store._tables.names.search_fts
    with store._engine.begin() as conn:
        # FTS5 compares every indexed token with the external content (rank 1): raises if not.
        conn.execute(text(f'INSERT INTO "{fts}"("{fts}", rank) VALUES (\'integrity-check\', 1)'))


@pytest.mark.parametrize("sql_target", ["sqlite"], indirect=True)
def test_the_owner_column_follows_the_sessions_user(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    store.upsert_session(agent_session("s1", runs=2, user_id=None))
    claimed = store.get_session("s1")
    claimed.user_id = "ü1"
    store.upsert_session(claimed)
    store.fork_session("s1", new_session_id="f1")
    with store._engine.connect() as conn:
        owners = set(conn.execute(select(store._tables.search.c.owner)).scalars())
    assert owners == {owner_token("ü1")}
    _fts5_integrity_check(store)
    store.close()


@pytest.mark.parametrize("sql_target", ["sqlite"], indirect=True)
def test_the_owner_migration_goes_down_and_up_with_the_index_intact(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    store.upsert_session(agent_session("s1", runs=2, user_id="u1"))
    store.upsert_session(agent_session("s2", runs=1, user_id="u2"))
    before = {hit.run_id for hit in store.search("message", user_id="u1").items}
    assert before
    names = store._tables.names
    with store._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), "0009")
        columns = [row[1] for row in conn.execute(text(f'PRAGMA table_info("{names.search}")'))]
        assert "owner" not in columns
    store.close()

    upgraded = sql_target.open()  # migrates on first use, filling owner from the sessions
    assert {hit.run_id for hit in upgraded.search("message", user_id="u1").items} == before
    _fts5_integrity_check(upgraded)
    upgraded.close()


def test_a_failed_append_leaves_no_index_row(sql_store: SqlStore) -> None:
    sql_store.upsert_session(agent_session("s1", runs=1))
    with pytest.raises(Exception):  # noqa: B017 - SessionNotFound; what matters is what was kept
        sql_store.upsert_run("missing", agent_run("lost", "never stored"))
    assert _index_rows(sql_store) == 1
    assert sql_store.search("stored").items == []


def test_postgres_refuses_a_search_config_that_is_not_a_name() -> None:
    with pytest.raises(ValueError, match="search_config"):
        PostgresDb(db_url=PG_URL, search_config="simple'); DROP TABLE x; --")


@pytest.mark.postgres
def test_postgres_folds_accents_with_an_unaccent_configuration() -> None:
    with postgres_schema() as schema:
        engine = sqlalchemy.create_engine(PG_URL)
        with engine.begin() as conn:
            if (
                conn.execute(text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")).first()
                is None
            ):
                pytest.skip("the server has no unaccent extension (postgresql-contrib)")
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            conn.execute(
                text(f'CREATE TEXT SEARCH CONFIGURATION "{schema}".folded (COPY = pg_catalog.simple)')
            )
            conn.execute(
                text(
                    f'ALTER TEXT SEARCH CONFIGURATION "{schema}".folded '
                    "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple"
                )
            )
        engine.dispose()
        store = PostgresDb(
            db_url=PG_URL, db_schema=schema, search_config=f"{schema}.folded", id=uuid.uuid4().hex
        )
        try:
            session = agent_session("s1")
            session.upsert_run(agent_run("s1-r0", "Le déploiement a échoué"))
            store.upsert_session(session)
            assert [hit.run_id for hit in store.search("deploiement ECHOUE").items] == ["s1-r0"]
            assert [hit.run_id for hit in store.search("déploi*").items] == ["s1-r0"]
        finally:
            store.close()


@pytest.mark.parametrize("sql_target", ["postgres"], indirect=True)
def test_postgres_default_configuration_keeps_accents(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    session = agent_session("s1")
    session.upsert_run(agent_run("s1-r0", "Le déploiement"))
    store.upsert_session(session)
    assert [hit.run_id for hit in store.search("DÉPLOIEMENT").items] == ["s1-r0"]
    assert store.search("deploiement").items == []
    store.close()
