"""A closed store leaves nothing behind: the statements it built once go with its tables.

They used to be kept in module-level weak dictionaries keyed by the store's tables, whose
values (statements over those tables) held their keys alive: every store a process had opened
stayed in memory (db/_sql/built_once.py).
"""

from __future__ import annotations

import gc
import weakref

from db_builders import agent_session
from sqlalchemy import MetaData, Table

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql.built_once import built_once
from sessiondb.db.query import SessionQuery
from store_backends import SqlTarget


def _use_every_statement_built_once(store: SqlStore) -> None:
    store.upsert_session(agent_session("a", runs=3))  # change rows, search index rows, names
    store.upsert_sessions([agent_session("b", runs=2), agent_session("c", runs=1)])  # bulk records
    store.rename_session("a", session_name="renamed")  # the name update
    assert store.get_session("a", runs_limit=2).runs
    assert store.get_sessions(SessionQuery()).items
    store.search("message")  # the search statements
    store.fork_session("a", new_session_id="a-fork")
    assert store.changes().items


def test_a_closed_store_and_its_tables_are_freed(sql_target: SqlTarget) -> None:
    store = sql_target.open()
    try:
        store.migrate()
        _use_every_statement_built_once(store)
    finally:
        store.close()
    tables = store._tables
    alive = [weakref.ref(table) for table in (tables.sessions, tables.runs, tables.search, tables.changes)]
    alive.append(weakref.ref(tables.metadata))
    del store, tables
    gc.collect()
    assert [ref() for ref in alive] == [None] * len(alive)


def test_a_value_is_built_once_per_owner() -> None:
    first, second = Table("t", MetaData()), Table("t", MetaData())
    built: list[str] = []

    def build(name: str) -> str:
        built.append(name)
        return name

    assert built_once(first, "x", lambda: build("first")) == "first"
    assert built_once(first, "x", lambda: build("again")) == "first"
    assert built_once(second, "x", lambda: build("second")) == "second"
    assert built == ["first", "second"]


def test_a_copied_table_builds_its_own_value() -> None:
    # Table.to_metadata copies ``info``: the copy must not reuse statements over the original.
    original = Table("t", MetaData())
    built_once(original, "x", lambda: "over the original")
    copy = original.to_metadata(MetaData())
    assert built_once(copy, "x", lambda: "over the copy") == "over the copy"
