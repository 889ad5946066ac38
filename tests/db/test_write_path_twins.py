"""The write paths that bypass SQLAlchemy's execution write exactly what its own execution writes.

Every hot write statement (the session row, the run rows, the search index rows, the change
rows) runs on the driver cursor, and the change rows of a save go by the driver's own
``executemany`` without ``RETURNING``. When a statement listener is installed, the same writes
go through SQLAlchemy's execution instead (the plain twin). Two stores in one database, one
watched by a listener and one not, are given the same random sequence of appends, saves of
session objects kept in memory (the seeds' pattern, with in-place edits, session field changes
and batches of runs) and run replacements; afterwards every table holds the same rows, row by
row, and the change feed and search answer alike.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from db_builders import agent_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sent_statements import statements
from sqlalchemy import select

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql import store as store_module
from sessiondb.db.errors import StoreError
from sessiondb.db.sqlite import SqliteDb
from sessiondb.db.timeouts import Timeouts
from sessiondb.run.agent import RunOutput
from sessiondb.session import AgentSession
from store_backends import SqlTarget

SESSIONS = ("s0", "s1", "s2")
RUN_IDS = tuple(f"r{i}" for i in range(8))
WORDS = ("alpha", "beta", "gamma", "delta", "naïve", "Ünïcode", "x")

text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
runs = st.lists(st.tuples(st.sampled_from(RUN_IDS), text), min_size=1, max_size=5)
operation = st.one_of(
    st.tuples(st.just("append"), st.sampled_from(SESSIONS), st.sampled_from(RUN_IDS), text),
    st.tuples(st.just("save"), st.sampled_from(SESSIONS), runs),
    st.tuples(st.just("edit_last"), st.sampled_from(SESSIONS), text),
    st.tuples(st.just("rename"), st.sampled_from(SESSIONS), text),
    st.tuples(st.just("reload"), st.sampled_from(SESSIONS)),
)


@dataclass
class Side:
    """One store and the session objects its caller keeps in memory (the seeds' pattern)."""

    store: SqlStore
    kept: dict[str, AgentSession] = field(default_factory=dict)
    created: int = 0

    def session(self, session_id: str) -> AgentSession:
        found = self.kept.get(session_id)
        if found is None:
            found = self.kept[session_id] = AgentSession(
                session_id=session_id, user_id="u1", agent_id="agent-1"
            )
        return found

    def run(self, run_id: str, words: str) -> RunOutput:
        """A run as both sides build it: ids and times fixed, so the two stores' rows can match."""
        self.created += 1
        run = agent_run(run_id, words, created_at=1_700_000_000 + self.created)
        for position, message in enumerate(run.messages or []):
            message.id = f"{run_id}-{self.created}-{position}"
            message.created_at = 1_700_000_000 + self.created
        return run

    def apply(self, op: tuple[Any, ...]) -> str:
        """Apply ``op``; the name of the error it raised, or ``"ok"``."""
        kind, session_id = op[0], op[1]
        try:
            if kind == "append":
                self.store.upsert_run(session_id, self.run(op[2], op[3]))
            elif kind == "save":
                session = self.session(session_id)
                for run_id, words in op[2]:
                    session.upsert_run(self.run(run_id, words))
                self.store.upsert_session(session)
            elif kind == "edit_last":
                session = self.session(session_id)
                if session.runs:
                    # An in-place edit of a run the caller reaches: persisted by the next save.
                    session.runs[-1].content = op[2]
                self.store.upsert_session(session)
            elif kind == "rename":
                session = self.session(session_id)
                session.session_data = {**(session.session_data or {}), "session_name": op[2]}
                self.store.upsert_session(session)
            else:
                loaded = self.store.get_session(session_id)
                assert isinstance(loaded, AgentSession)
                self.kept[session_id] = loaded
        except StoreError as error:
            # Only on both sides alike, e.g. a run id stored in another session.
            self.kept.pop(session_id, None)
            return type(error).__name__
        return "ok"


def _contents(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    tables = store._tables
    order = {
        "sessions": [tables.sessions.c.session_id],
        "runs": [tables.runs.c.session_id, tables.runs.c.run_index],
        "search": [tables.search.c.session_id, tables.search.c.run_id],
        "changes": [tables.changes.c.change_id],
    }
    found: dict[str, list[tuple[Any, ...]]] = {}
    with store._engine.connect() as conn:
        for name, keys in order.items():
            table = getattr(tables, name)
            found[name] = [tuple(row) for row in conn.execute(select(table).order_by(*keys))]
    return found


def _answers(store: SqlStore) -> tuple[Any, ...]:
    changes = store.changes(0, limit=1_000)
    feed = [(c.change_id, c.kind, c.session_id, c.run_id, c.version, c.at) for c in changes.items]
    hits = []
    for word in WORDS:
        page = store.search(word, limit=100)
        hits.append([(hit.session_id, hit.run_id) for hit in page.items])
    sessions = {
        session_id: store.get_session(session_id).to_dict() if _exists(store, session_id) else None
        for session_id in SESSIONS
    }
    return feed, hits, sessions


def _exists(store: SqlStore, session_id: str) -> bool:
    try:
        store.get_session(session_id)
    except StoreError:
        return False
    return True


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_the_bypassing_writes_store_what_sqlalchemys_execution_stores(
    sql_target: SqlTarget, monkeypatch: pytest.MonkeyPatch, ops: list[tuple[Any, ...]]
) -> None:
    suffix = uuid.uuid4().hex[:6]
    quiet = Side(sql_target.open(session_table=f"quiet_{suffix}"))
    plain = Side(sql_target.open(session_table=f"plain_{suffix}"))
    clock = [1_800_000_000]
    monkeypatch.setattr(store_module, "_now", lambda: clock[0])
    try:
        for store in (quiet.store, plain.store):
            store.migrate()
        with statements(plain.store) as seen:
            for op in ops:
                clock[0] += 1
                assert quiet.apply(op) == plain.apply(op), op
        assert seen, "the plain side's statements went through SQLAlchemy's execution"
        ours, theirs = _contents(quiet.store), _contents(plain.store)
        assert ours == theirs
        assert _answers(quiet.store) == _answers(plain.store)
    finally:
        quiet.store.close()
        plain.store.close()


def test_a_sqlite_write_waits_for_the_lock_as_long_as_the_store_says(tmp_path: Path) -> None:
    # Writes run on a view of the store's engine (an OptionEngine); the wait configured for
    # the engine must still be the one a write's BEGIN IMMEDIATE polls for.
    store = SqliteDb(db_file=tmp_path / "locked.db", timeouts=Timeouts(lock_s=0.3))
    store.upsert_session(AgentSession(session_id="s", user_id="u1", agent_id="agent-1"))
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreError):
            store.upsert_run("s", agent_run("r", "blocked"))
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.close()
    assert 0.25 <= waited < 5, waited
