"""The PostgreSQL schema shards by ``session_id`` (Citus): checked on the real, migrated schema.

Citus can only enforce a key on the node that holds the row, so every primary key, unique
constraint and unique index of a distributed table must include the distribution column, and a
foreign key between two distributed tables must include it on both sides. These tests read the
catalog of a migrated store and check that, with exactly one known exception (the run-id guard,
which docs/scale-out.md's DDL drops before distributing).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy
from alembic import command
from db_builders import agent_run, agent_session

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql import migrate as migrations
from sessiondb.db._sql.tables import TableNames, build_tables, run_id_guard
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from store_backends import SqlTarget

DISTRIBUTION_COLUMN = "session_id"
SCALE_OUT = Path(__file__).parents[2] / "docs" / "scale-out.md"

postgres_only = pytest.mark.parametrize("sql_target", ["postgres"], indirect=True)


def _session_tables(names: TableNames) -> list[str]:
    """Every table of a store: each holds rows of one session (the schema has no global table)."""
    return [names.sessions, names.runs, names.search, names.changes]


def _keys(store: SqlStore) -> dict[str, list[tuple[str, list[str]]]]:
    """For each table: its unique keys (primary key, unique constraints, unique indexes) by name."""
    names = store._tables.names
    inspector = sqlalchemy.inspect(store._engine)
    keys: dict[str, list[tuple[str, list[str]]]] = {}
    for table in _session_tables(names):
        pk = inspector.get_pk_constraint(table, schema=names.schema)
        found = [(str(pk["name"]), list(pk["constrained_columns"]))]
        found += [
            (str(u["name"]), list(u["column_names"]))
            for u in inspector.get_unique_constraints(table, schema=names.schema)
        ]
        found += [
            (str(i["name"]), [str(c) for c in i["column_names"]])
            for i in inspector.get_indexes(table, schema=names.schema)
            if i["unique"]
        ]
        keys[table] = found
    return keys


@postgres_only
def test_every_unique_key_includes_session_id_but_the_run_id_guard(sql_store: SqlStore) -> None:
    names = sql_store._tables.names
    keys = _keys(sql_store)
    # Each table has a primary key, and the runs' guard is among the unique keys found.
    assert all(found and found[0][1] for found in keys.values()), keys
    offending = [
        (table, name, columns)
        for table, found in keys.items()
        for name, columns in found
        if DISTRIBUTION_COLUMN not in columns
    ]
    assert offending == [(names.runs, run_id_guard(names), ["run_id"])]


@postgres_only
def test_every_foreign_key_joins_on_session_id(sql_store: SqlStore) -> None:
    names = sql_store._tables.names
    inspector = sqlalchemy.inspect(sql_store._engine)
    foreign = [
        (table, fk)
        for table in _session_tables(names)
        for fk in inspector.get_foreign_keys(table, schema=names.schema)
    ]
    assert {table for table, _ in foreign} == {names.runs, names.search}
    for table, fk in foreign:
        position = fk["constrained_columns"].index(DISTRIBUTION_COLUMN)
        assert fk["referred_columns"][position] == DISTRIBUTION_COLUMN, (table, fk)


@postgres_only
def test_the_run_id_guard_keeps_a_run_in_one_session_and_is_all_that_stops_it(sql_store: SqlStore) -> None:
    """With the guard, a run id stays in one session on every write path (as on SQLite); without
    it (as once sharded) the keys alone let a second session store it: the guard is load-bearing."""
    sql_store.upsert_session(agent_session("a", runs=1))
    sql_store.upsert_session(agent_session("b"))
    with pytest.raises(InvalidQuery, match="another session"):
        sql_store.upsert_run("b", agent_run("a-r0", "stolen"))  # one run: the append path
    for write in (sql_store.upsert_session, lambda s: sql_store.upsert_sessions([s])):
        taker = agent_session("c", runs=1)  # a new run beside the stolen one: the batch paths
        taker.upsert_run(agent_run("a-r0", "stolen"))
        with pytest.raises(InvalidQuery, match="another session"):
            write(taker)
    with pytest.raises(SessionNotFound):
        sql_store.get_session("c")  # each write failed whole
    names = sql_store._tables.names
    with sql_store._engine.begin() as conn:
        conn.exec_driver_sql(f'DROP INDEX "{names.schema}"."{run_id_guard(names)}"')
    sql_store.upsert_run("b", agent_run("a-r0", "stored twice"))
    assert [run.run_id for run in sql_store.get_session("b").runs or []] == ["a-r0"]
    assert [run.run_id for run in sql_store.get_session("a").runs or []] == ["a-r0"]


@postgres_only
def test_the_migration_down_and_up_keeps_every_run_and_index_row(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    store.upsert_session(agent_session("s1", runs=3))
    store.upsert_session(agent_session("s2", runs=2))
    names = store._tables.names
    with store._engine.connect() as conn, conn.begin():
        command.downgrade(migrations._config(conn, names), "0008")
    keys_before = _keys(store)
    assert [c for _, c in keys_before[names.runs] if c == ["run_id"]]  # the old primary key
    store.close()

    upgraded = sql_target.open()  # migrates on first use
    assert [len(upgraded.get_session(s).runs or []) for s in ("s1", "s2")] == [3, 2]
    assert sorted(hit.run_id for hit in upgraded.search("message 1").items) == ["s1-r1", "s2-r1"]
    assert sorted(_keys(upgraded)) == sorted(keys_before)
    with upgraded._engine.connect() as conn:
        rows = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(upgraded._tables.search))
        assert rows.scalar_one() == 5
    upgraded.close()


def test_the_scale_out_guide_distributes_every_table_and_drops_the_guard_first() -> None:
    """docs/scale-out.md's DDL names every table of the default names, co-located, after the guard goes."""
    names = TableNames.build(None, None, None)
    tables = build_tables(names, "postgresql")
    text = SCALE_OUT.read_text()
    block = re.search(r"```sql\n(-- citus: distribute.*?)```", text, re.S)
    assert block is not None, "docs/scale-out.md lost its Citus DDL block"
    ddl = block.group(1)
    drop = ddl.index(f"DROP INDEX {run_id_guard(names)}")
    for table in (tables.sessions, tables.runs, tables.search, tables.changes):
        call = f"create_distributed_table('{table.name}', '{DISTRIBUTION_COLUMN}'"
        assert call in ddl, call
        assert ddl.index(call) > drop
