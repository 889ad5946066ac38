"""Reads on the event loop: only where they cannot wait (a ready SQLite file store), and alike.

The async read twins (``aget_session``, ``aget_sessions``, ``aget_run``, ``aget_runs``) call a
ready SQLite file store on the calling thread, through connections of that thread's own;
everything else keeps the worker-thread hop, except PostgreSQL's native async reads
(``test_postgres_event_loop_reads.py``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

from sessiondb import AgentSession, Message, RunOutput, SessionQuery
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import RunNotFound, SessionNotFound
from sessiondb.db.sqlite import LOOP_READER_THREADS, SqliteDb
from thread_noting import ThreadNotingSqliteDb


def _session(session_id: str = "s1", user_id: str = "ada", runs: int = 3) -> AgentSession:
    session = AgentSession(session_id=session_id, user_id=user_id, agent_id="helper")
    for index in range(runs):
        session.upsert_run(
            RunOutput(
                run_id=f"{session_id}-r{index}",
                agent_id="helper",
                messages=[Message(role="user", content="hi")],
            )
        )
    return session


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "loop.db"


@pytest.fixture
def store(db_file: Path) -> Iterator[ThreadNotingSqliteDb]:
    store = ThreadNotingSqliteDb(db_file=db_file)
    try:
        yield store
    finally:
        store.close()


async def test_reads_run_on_the_event_loop_once_the_schema_is_ready(store: ThreadNotingSqliteDb) -> None:
    loop_thread = threading.get_ident()
    assert store.event_loop_reader() is None  # not migrated yet: the first read may migrate

    assert (await store.aget_sessions(SessionQuery())).total_count == 0
    assert store.read_threads == [store.read_threads[0]] and store.read_threads[0] != loop_thread

    store.upsert_session(_session())
    store.read_threads.clear()
    session = await store.aget_session("s1", runs_limit=2)
    page = await store.aget_sessions(SessionQuery(user_id="ada"))
    run = await store.aget_run("s1-r1", session_id="s1")
    runs = await store.aget_runs("s1", last_n=2)

    assert store.read_threads == [loop_thread] * 4
    # The same answers as the synchronous calls, which use the store's own pool.
    assert session.to_dict() == store.get_session("s1", runs_limit=2).to_dict()
    assert [s.to_dict() for s in page.items] == [
        s.to_dict() for s in store.get_sessions(SessionQuery(user_id="ada")).items
    ]
    assert run.to_dict() == store.get_run("s1-r1", session_id="s1").to_dict()
    assert [r.to_dict() for r in runs] == [r.to_dict() for r in store.get_runs("s1", last_n=2)]


async def test_inline_reads_raise_the_same_domain_errors(store: ThreadNotingSqliteDb) -> None:
    store.upsert_session(_session())
    assert store.event_loop_reader() is not None

    with pytest.raises(SessionNotFound):
        await store.aget_session("missing")
    with pytest.raises(SessionNotFound):
        await store.aget_session("s1", user_id="someone-else")
    with pytest.raises(SessionNotFound):
        await store.aget_runs("s1", user_id="someone-else")
    with pytest.raises(RunNotFound):
        await store.aget_run("missing", session_id="s1")
    assert (await store.aget_sessions(SessionQuery(user_id="someone-else"))).total_count == 0
    assert set(store.read_threads) == {threading.get_ident()}


async def test_an_inline_read_sees_writes_committed_through_the_pool(store: ThreadNotingSqliteDb) -> None:
    store.upsert_session(_session(runs=1))
    assert len((await store.aget_session("s1")).runs or []) == 1
    await store.aupsert_run("s1", RunOutput(run_id="late", agent_id="helper"))
    assert [run.run_id for run in (await store.aget_session("s1")).runs or []] == ["s1-r0", "late"]


def _pool_capacity(pool: Any) -> int:
    assert isinstance(pool, QueuePool)
    return int(pool.size() + pool._max_overflow)


async def test_an_inline_read_does_not_wait_for_writers_holding_every_pooled_connection(
    store: ThreadNotingSqliteDb, db_file: Path
) -> None:
    store.upsert_session(_session())
    assert store.event_loop_reader() is not None
    pool = store._engine.pool
    capacity = _pool_capacity(pool)

    # Another process's writer holds the write lock; the store's writers each take a pooled
    # connection and poll for the lock, until every pooled connection is checked out.
    blocker = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    writers = [
        threading.Thread(target=store.upsert_run, args=("s1", RunOutput(run_id=f"w{i}", agent_id="helper")))
        for i in range(capacity)
    ]
    for writer in writers:
        writer.start()
    # Without the event-loop path the read would wait for a pooled connection until this
    # releases the lock: the assertion below would then fail after 3 s, not hang for 30.
    release = threading.Timer(3.0, blocker.execute, args=("COMMIT",))
    release.start()
    try:
        deadline = time.monotonic() + 10
        while pool.checkedout() < capacity:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the writers never took every pooled connection"
            await anyio.sleep(0.01)

        started = time.monotonic()
        session = await store.aget_session("s1")
        page = await store.aget_sessions(SessionQuery(user_id="ada"))
        elapsed = time.monotonic() - started

        assert elapsed < 1.0
        assert [run.run_id for run in session.runs or []] == ["s1-r0", "s1-r1", "s1-r2"]
        assert page.total_count == 1
    finally:
        release.join()
        for writer in writers:
            writer.join()
        blocker.close()
    assert len(store.get_session("s1").runs or []) == 3 + capacity


def _open_files(path: Path) -> int:
    """How many file descriptors of this process point at ``path``."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
        except OSError:
            continue  # closed while listing
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to count open files")
async def test_close_closes_the_event_loop_connections(store: ThreadNotingSqliteDb, db_file: Path) -> None:
    store.upsert_session(_session())
    store.close()  # only the pool's connections so far
    assert _open_files(db_file) == 0

    reopened = ThreadNotingSqliteDb(db_file=db_file)
    reopened.migrate()
    pooled = _open_files(db_file)
    await reopened.aget_session("s1")
    assert reopened.read_threads == [threading.get_ident()]
    assert _open_files(db_file) == pooled + 1  # the loop's own connection

    reopened.close()
    assert _open_files(db_file) == 0
    assert reopened.event_loop_reader() is None


def test_threads_that_ended_give_their_connection_back(db_file: Path) -> None:
    store = SqliteDb(db_file=db_file)
    store.migrate()
    store.upsert_session(_session())
    try:

        async def read() -> None:
            await store.aget_session("s1")

        def in_a_new_loop() -> None:
            anyio.run(read)

        for _ in range(LOOP_READER_THREADS + 2):
            thread = threading.Thread(target=in_a_new_loop)
            thread.start()
            thread.join()
        # Each new thread found the last one ended, closed its connection and took its place.
        assert _open_files(db_file) <= 2  # the last thread's, and the pool's from migrate
    finally:
        store.close()
    assert _open_files(db_file) == 0


def test_at_most_a_few_threads_get_connections_of_their_own(db_file: Path) -> None:
    store = SqliteDb(db_file=db_file)
    store.migrate()
    views: list[SessionStore | None] = []
    ready = threading.Barrier(LOOP_READER_THREADS + 2)
    done = threading.Event()

    def take_a_view() -> None:
        views.append(store.event_loop_reader())
        ready.wait()
        done.wait()  # stay alive, so that the view stays this thread's

    threads = [threading.Thread(target=take_a_view) for _ in range(LOOP_READER_THREADS + 1)]
    try:
        for thread in threads:
            thread.start()
        ready.wait()
        assert sum(view is not None for view in views) == LOOP_READER_THREADS
    finally:
        done.set()
        for thread in threads:
            thread.join()
        store.close()


def test_in_memory_databases_and_callers_engines_keep_the_thread_hop(db_file: Path) -> None:
    memory = SqliteDb(db_url="sqlite:///:memory:")
    memory.migrate()
    engine = create_engine(f"sqlite:///{db_file}")
    on_callers_engine = SqliteDb(db_engine=engine)
    on_callers_engine.migrate()
    try:
        assert memory.event_loop_reader() is None
        assert on_callers_engine.event_loop_reader() is None
    finally:
        memory.close()
        on_callers_engine.close()
        engine.dispose()
