"""Bulk imports on PostgreSQL's ``COPY`` path: which runs it writes, and when they are encoded.

The runs of sessions that had none stored go through one binary ``COPY``
(``db/_sql/copy.py``); when every session of a big batch is new, their JSON texts are made
while the ``COPY`` streams (``DEFER_ENCODING_FROM``). ``test_bulk_import.py`` holds every
path to the one-by-one results; these tests hold the path itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from bulk_probes import run_concurrently, run_indexes, statements_sent
from db_builders import agent_run, agent_session
from sqlalchemy import event

from sessiondb.db._sql import SqlStore, bulk, writes
from sessiondb.db._sql.store import DEFER_ENCODING_FROM
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from sessiondb.db.postgres import PostgresDb
from sessiondb.session import Session
from store_backends import PG_URL, postgres_schema

T0 = 1_700_000_000
"""Creation time of the imported sessions."""


# -- runs of new sessions through COPY (PostgreSQL) -------------------------------------------


@pytest.fixture
def pg_store() -> Iterator[PostgresDb]:
    with postgres_schema() as schema:
        store = PostgresDb(db_url=PG_URL, db_schema=schema)
        store.migrate()
        try:
            yield store
        finally:
            store.close()


def _copied(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the run ids each ``COPY`` of the bulk path writes."""
    copied: list[list[str]] = []
    original = bulk.copy_runs

    def spy(conn: Any, runs: Any, rows: Any) -> None:
        rows = list(rows)  # may be a generator
        copied.append([row["run_id"] for row in rows])
        original(conn, runs, rows)

    monkeypatch.setattr(bulk, "copy_runs", spy)
    return copied


def _fails_with_a_run_of_another_session(store: PostgresDb) -> None:
    """A batch of two new sessions, one holding run ``a-r0`` of stored session ``a``, fails whole."""
    store.upsert_session(agent_session("a", runs=1))
    thief = agent_session("b", runs=1)
    thief.upsert_run(agent_run("a-r0", "taken"))
    with pytest.raises(InvalidQuery, match="a-r0"):
        store.upsert_sessions([thief, agent_session("c", runs=1)])
    for session_id in ("b", "c"):
        with pytest.raises(SessionNotFound):
            store.get_session(session_id)
    assert [run.content for run in store.get_session("a").runs or []] == ["MESSAGE 0"]


@pytest.mark.postgres
def test_runs_of_new_sessions_are_copied_and_the_others_upserted(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_store.upsert_session(agent_session("old", runs=2))
    stored = pg_store.get_session("old")
    stored.upsert_run(agent_run("old-r2", "appended"))
    copied = _copied(monkeypatch)

    new = agent_session("new", runs=3)
    pg_store.upsert_sessions([stored, new])

    assert copied == [["new-r0", "new-r1", "new-r2"]]
    assert run_indexes(pg_store, "new") == [0, 1, 2]
    assert run_indexes(pg_store, "old") == [0, 1, 2]
    loaded = pg_store.get_session("new")
    assert [run.to_dict() for run in loaded.runs or []] == [run.to_dict() for run in new.runs or []]


@pytest.mark.postgres
def test_a_new_session_with_a_run_of_another_session_takes_the_upsert_path_and_fails(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = _copied(monkeypatch)
    _fails_with_a_run_of_another_session(pg_store)
    assert copied == []


@pytest.mark.postgres
def test_a_run_id_committed_elsewhere_after_the_lookup_fails_the_batch_cleanly(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if another transaction committed "a-r0" between the lookup and the COPY.
    monkeypatch.setattr(bulk, "stored_ids", lambda *_args: set())
    _fails_with_a_run_of_another_session(pg_store)


@pytest.mark.postgres
def test_watched_statements_keep_the_upsert_path(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied = _copied(monkeypatch)
    sent = statements_sent(pg_store, lambda: pg_store.upsert_sessions([agent_session("new", runs=2)]))
    # The session row, the runs, the search index, then the change feed's lock (SELECT) and outbox rows.
    assert copied == [] and sent == ["INSERT", "INSERT", "INSERT", "SELECT", "INSERT"]
    pg_store.upsert_sessions([agent_session("later", runs=2)])
    assert copied == [["later-r0", "later-r1"]]


# -- runs encoded inside the COPY (all-new batches) ------------------------------------------

DEFERRED_BATCH = 40
"""Sessions of 25 runs in a batch big enough (1,000 runs) to defer encoding."""


def _big_new_batch(prefix: str = "n") -> list[Session]:
    assert DEFERRED_BATCH * 25 >= DEFER_ENCODING_FROM
    return [agent_session(f"{prefix}{k:02}", runs=25) for k in range(DEFERRED_BATCH)]


def _texts_at_copy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """For each ``COPY`` of the bulk path: (runs of the batch not yet encoded when it starts,
    runs of the batch still not encoded when it ends)."""
    prepared: list[writes.PreparedSave] = []
    original_of = writes.PreparedSave.of.__func__  # type: ignore[attr-defined]

    def of(
        cls: type[writes.PreparedSave], session: Session, store: Any, **options: Any
    ) -> writes.PreparedSave:
        made: writes.PreparedSave = original_of(cls, session, store, **options)
        prepared.append(made)
        return made

    def pending() -> int:
        return sum(run._text is None for save in prepared for run in save.runs)

    seen: list[tuple[int, int]] = []
    original_copy = bulk.copy_runs

    def copy_runs(conn: Any, runs: Any, rows: Any) -> None:
        before = pending()
        original_copy(conn, runs, rows)
        seen.append((before, pending()))

    monkeypatch.setattr(writes.PreparedSave, "of", classmethod(of))
    monkeypatch.setattr(bulk, "copy_runs", copy_runs)
    return seen


@pytest.mark.postgres
def test_runs_of_an_all_new_batch_are_encoded_while_the_copy_streams(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _texts_at_copy(monkeypatch)
    batch = _big_new_batch()
    pg_store.upsert_sessions(batch)
    # Nothing was encoded before the COPY began, everything by its end.
    assert seen == [(DEFERRED_BATCH * 25, 0)]
    for session in batch:
        loaded = pg_store.get_session(session.session_id)
        assert [run.to_dict() for run in loaded.runs or []] == [run.to_dict() for run in session.runs or []]
        assert session._store_state.stored_runs == {
            run.run_id: orjson.dumps(run.to_dict()).decode() for run in session.runs or []
        }


@pytest.mark.postgres
def test_a_batch_holding_a_stored_session_encodes_its_runs_before_the_transaction(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stored session's row is locked by the transaction: nobody should wait on encoding.
    pg_store.upsert_session(agent_session("n05", runs=1))
    seen = _texts_at_copy(monkeypatch)
    pg_store.upsert_sessions(_big_new_batch())
    assert seen == [(0, 0)]


@pytest.mark.postgres
def test_a_small_batch_encodes_its_runs_before_the_transaction(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _texts_at_copy(monkeypatch)
    pg_store.upsert_sessions([agent_session("small", runs=DEFER_ENCODING_FROM - 1)])
    assert seen == [(0, 0)]


def test_sqlite_encodes_a_big_new_batch_before_its_write_lock(sql_store: SqlStore) -> None:
    # Without COPY nothing overlaps the encoding, and SQLite's write lock is the whole file's.
    if isinstance(sql_store, PostgresDb):
        assert sql_store._all_new_for_copy(_big_new_batch())
        return
    checkouts: list[object] = []
    event.listen(sql_store._engine, "checkout", lambda *args: checkouts.append(args))
    assert not sql_store._all_new_for_copy(_big_new_batch())
    # The driver alone says no COPY: no connection is checked out to learn it.
    assert checkouts == []


def test_a_run_that_cannot_be_encoded_fails_a_big_new_batch_cleanly(store: SessionStore) -> None:
    # On PostgreSQL the run is encoded inside the COPY: the error must end it, roll the
    # batch back and leave the connection usable.
    deep: Any = "bottom"
    for _ in range(300):
        deep = {"d": deep}
    batch = _big_new_batch()
    broken = agent_run("n04-broken", "too deep")
    broken.metadata = deep
    batch[4].upsert_run(broken)
    with pytest.raises(InvalidQuery, match="n04-broken") as raised:
        store.upsert_sessions(batch)
    assert raised.value.field == "runs"
    for session in batch:
        with pytest.raises(SessionNotFound):
            store.get_session(session.session_id)
    store.upsert_sessions(_big_new_batch("again"))
    assert len(store.get_session("again03").runs or []) == 25


@pytest.mark.postgres
def test_a_session_stored_after_the_lookup_is_still_written_as_one_by_one(
    pg_store: PostgresDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if "n03" was stored between the lookup and the transaction: its runs are then
    # encoded inside the transaction, on the upsert path, and land after the stored ones.
    pg_store.upsert_session(agent_session("n03", runs=2))
    monkeypatch.setattr(PostgresDb, "_all_new_for_copy", lambda _self, _sessions: True)
    seen = _texts_at_copy(monkeypatch)
    batch = _big_new_batch()
    pg_store.upsert_sessions(batch)
    assert seen == [(DEFERRED_BATCH * 25, 25)]  # n03's runs were not copied
    # r0 and r1 replaced in place, the others after the indexes reserved (as one by one).
    assert run_indexes(pg_store, "n03") == [0, 1, *range(4, 27)]
    loaded = pg_store.get_session("n03")
    assert [run.to_dict() for run in loaded.runs or []] == [run.to_dict() for run in batch[3].runs or []]


def test_concurrent_big_batches_of_the_same_new_sessions_all_land(sql_store: SqlStore) -> None:
    # Every worker may find the sessions new and defer its encoding; whoever locks a row
    # second then writes onto a stored session, encoding its runs inside the transaction.
    ids = [f"n{k:02}" for k in range(DEFERRED_BATCH)]
    barrier = threading.Barrier(4)

    def importer(worker: int) -> None:
        order = ids if worker % 2 == 0 else list(reversed(ids))
        batch = []
        for session_id in order:
            session = agent_session(session_id, created_at=T0)
            for index in range(25):
                session.upsert_run(agent_run(f"{session_id}-w{worker}-{index}", f"w{worker} {index}"))
            batch.append(session)
        barrier.wait()  # the workers probe at about the same time, before any commits
        sql_store.upsert_sessions(batch)

    run_concurrently(importer)
    for session_id in ids:
        assert sorted(run_indexes(sql_store, session_id)) == list(range(100))
        runs = sql_store.get_session(session_id).runs or []
        assert sorted(run.run_id for run in runs) == sorted(
            f"{session_id}-w{worker}-{index}" for worker in range(4) for index in range(25)
        )
        assert all(run.content == "W" + run.run_id.split("-w")[1].replace("-", " ") for run in runs)
