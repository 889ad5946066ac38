"""The change feed on the SQL backends: positions commit in order under concurrent writers, and
PostgreSQL wakes readers of any store (any process) on ``NOTIFY``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from bulk_probes import run_concurrently
from db_builders import agent_run, agent_session

from sessiondb.db._sql import SqlStore
from sessiondb.db._sql.changes import ChangeLog, record_changes
from sessiondb.db.changes import MAX_CHANGES_LIMIT
from sessiondb.db.postgres import PostgresDb
from store_backends import SqlTarget, sql_target_for


@pytest.fixture
def pg_target(tmp_path: Path) -> Iterator[SqlTarget]:
    """A fresh PostgreSQL schema (SQLite has one writer at a time and no NOTIFY)."""
    with sql_target_for("postgres", tmp_path) as target:
        yield target


@pytest.mark.postgres
def test_a_writer_takes_its_position_only_once_the_one_before_has_committed(pg_target: SqlTarget) -> None:
    store = pg_target.open()
    held = store._engine.connect()
    try:
        store.upsert_session(agent_session("s1"))
        transaction = held.begin()
        log = ChangeLog(int(time.time()))
        log.add(
            "session.updated", {"session_id": "s1", "session_type": "agent", "user_id": "u1", "version": 99}
        )
        record_changes(held, store._tables, log)  # holds its position, not committed yet
        done = threading.Event()
        writer = threading.Thread(target=lambda: (store.upsert_run("s1", agent_run("r", "x")), done.set()))
        writer.start()
        # Without the ordering lock the writer would commit a later position now, and a
        # reader handing it out would never see the held one appear below it.
        assert not done.wait(0.5)
        assert store.changes(None).items[-1].kind == "session.created"
        transaction.commit()
        writer.join(10)
        assert done.is_set()
        kinds = [(c.kind, c.version) for c in store.changes(None).items]
        assert kinds[-2:] == [("session.updated", 99), ("run.created", 2)]
    finally:
        held.close()
        store.close()


def test_a_reader_racing_concurrent_writers_misses_nothing(sql_store: SqlStore) -> None:
    for worker in range(4):
        sql_store.upsert_session(agent_session(f"s{worker}"))
    start = sql_store.changes(limit=0).position
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        position = start
        while True:
            finished = stop.is_set()
            page = sql_store.changes(position, limit=7)
            seen.extend(change.change_id for change in page.items)
            position = page.position
            if finished and not page.items:
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        run_concurrently(
            lambda worker: [
                sql_store.upsert_run(f"s{worker}", agent_run(f"w{worker}-{k}", "x")) for k in range(15)
            ]
        )
    finally:
        stop.set()
        reader.join(30)
    written = [c.change_id for c in sql_store.changes(start, limit=MAX_CHANGES_LIMIT).items]
    assert len(written) == 60
    assert seen == written


@pytest.mark.postgres
def test_a_watch_wakes_within_a_second_of_a_commit_by_another_store(pg_target: SqlTarget) -> None:
    reader, writer = pg_target.open(), pg_target.open()
    assert isinstance(reader, PostgresDb)
    try:
        writer.upsert_session(agent_session("s1"))

        async def watch() -> float:
            async with reader.watch_changes() as watching:
                await watching.wait(5)  # woken once it listens: changes may predate it
                started = time.monotonic()
                threading.Timer(0.3, lambda: writer.upsert_run("s1", agent_run("r", "x"))).start()
                await watching.wait(10)
                return time.monotonic() - started

        waited = anyio.run(watch)
        assert 0.25 <= waited < 1.0
        assert reader.changes(None).items[-1].run_id == "r"
    finally:
        reader.close()
        writer.close()


def test_a_polling_watch_never_waits_longer_than_asked(sql_store: SqlStore) -> None:
    async def wait() -> float:
        async with sql_store.watch_changes() as watching:
            started = time.monotonic()
            await watching.wait(0.05)
            return time.monotonic() - started

    assert anyio.run(wait) < 0.5
