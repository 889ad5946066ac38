"""PostgreSQL's async read twins on the event loop: same answers, bounded and healthy connections.

``aget_session`` and ``aget_sessions`` of a ready ``PostgresDb`` send the sync path's statements
on psycopg ``AsyncConnection``s of the running loop (``sessiondb.db._sql.aio``) instead of
running the sync read in a worker thread.
"""

from __future__ import annotations

import asyncio
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy
from db_builders import agent_session
from sqlalchemy import event

from sessiondb import AgentSession, SessionQuery
from sessiondb.db._sql.aio import ASYNC_READ_CONNECTIONS, AsyncReadPool
from sessiondb.db.errors import InvalidQuery, RunNotFound, SessionNotFound, StoreUnavailable
from sessiondb.db.postgres import POOL_RECYCLE_S, PostgresDb
from sessiondb.session import Session
from store_backends import PG_URL, postgres_schema
from thread_noting import ThreadNotingPostgresDb

pytestmark = pytest.mark.postgres


def _session(session_id: str, user_id: str = "ada", runs: int = 3) -> AgentSession:
    return agent_session(session_id, user_id=user_id, runs=runs)


@pytest.fixture
def schema() -> Iterator[str]:
    with postgres_schema() as name:
        yield name


@pytest.fixture
def store(schema: str) -> Iterator[ThreadNotingPostgresDb]:
    store = ThreadNotingPostgresDb(db_url=PG_URL, db_schema=schema)
    try:
        yield store
    finally:
        store.close()


def _pool(store: PostgresDb) -> AsyncReadPool:
    pool = store._async_reads
    assert pool is not None
    return pool


def _idle(store: PostgresDb) -> list[psycopg.AsyncConnection[Any]]:
    return [conn for connections in _pool(store)._loops.values() for conn, _born in connections.idle]


def _same(a: Session, b: Session) -> bool:
    return a.to_dict() == b.to_dict() and a.version == b.version and a.runs_complete == b.runs_complete


def _terminate(connections: list[psycopg.AsyncConnection[Any]]) -> int:
    """Make the server drop ``connections``, as a restart or an idle timeout would."""
    pids = [conn.info.backend_pid for conn in connections]
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as admin:
        found = admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        return sum(1 for (done,) in found.fetchall() if done)


async def test_reads_go_to_a_worker_thread_until_the_schema_is_ready(store: ThreadNotingPostgresDb) -> None:
    with pytest.raises(SessionNotFound):
        await store.aget_session("s1")  # may migrate: a write, so off the loop
    assert len(store.read_threads) == 1 and store.read_threads[0] != threading.get_ident()


async def test_ready_reads_answer_on_the_loop_exactly_as_the_sync_reads(
    store: ThreadNotingPostgresDb,
) -> None:
    store.upsert_sessions([_session("s1"), _session("s2", runs=0), _session("s3", user_id="bob")])
    expected_full = store.get_session("s1")
    expected_window = store.get_session("s1", runs_limit=2)
    expected_page = store.get_sessions(SessionQuery(user_id="ada", limit=1))
    store.read_threads.clear()

    full = await store.aget_session("s1")
    window = await store.aget_session("s1", runs_limit=2)
    empty = await store.aget_session("s2", runs_limit=2)
    typed = await store.aget_session("s1", session_type="agent", user_id="ada")
    page = await store.aget_sessions(SessionQuery(user_id="ada", limit=1))
    after = await store.aget_sessions(SessionQuery(user_id="ada", limit=1, cursor=page.next_cursor))

    assert store.read_threads == []  # no sync read ran: nothing took a worker thread
    assert _same(full, expected_full) and full.runs_complete
    assert _same(window, expected_window) and not window.runs_complete
    assert [run.run_id for run in window.runs or []] == ["s1-r1", "s1-r2"]
    assert empty.runs == [] and typed.session_id == "s1"
    assert [s.session_id for s in page.items] == [s.session_id for s in expected_page.items]
    assert page.total_count == expected_page.total_count == 2
    assert [s.session_id for s in after.items] == ["s1"] and after.next_cursor is None  # the last page
    # The loaded state is the store's: saving the loaded window again writes nothing new.
    window.runs[-1].content = "changed"  # type: ignore[index]
    window.mark_run_changed("s1-r2")
    store.upsert_session(window)
    assert (await store.aget_session("s1")).runs[-1].content == "changed"  # type: ignore[index]


async def test_ready_reads_raise_the_domain_errors_of_the_sync_reads(store: ThreadNotingPostgresDb) -> None:
    store.upsert_session(_session("s1"))
    with pytest.raises(SessionNotFound):
        await store.aget_session("missing")
    with pytest.raises(SessionNotFound):
        await store.aget_session("s1", runs_limit=3, user_id="someone-else")
    with pytest.raises(SessionNotFound):
        await store.aget_session("s1", user_id="someone-else")
    with pytest.raises(InvalidQuery):
        await store.aget_sessions(SessionQuery(cursor="not-a-cursor"))
    # Errors of the caller's own making leave the connection healthy: it is reused.
    assert len(_idle(store)) == 1
    assert store.read_threads == []


async def test_run_reads_answer_on_the_loop_exactly_as_the_sync_reads(store: ThreadNotingPostgresDb) -> None:
    store.upsert_sessions([_session("s1", runs=4), _session("s2", runs=0), _session("s3", user_id="bob")])
    filters: dict[str, Any] = {"statuses": ["completed"], "last_n": 2, "created_after": 0}
    expected_runs = store.get_runs("s1", **filters)
    expected_run = store.get_run("s1-r1", session_id="s1", user_id="ada")
    store.read_threads.clear()

    runs = await store.aget_runs("s1", **filters)
    every = await store.aget_runs("s1", user_id="ada")
    none = await store.aget_runs("s2", history_only=True)
    run = await store.aget_run("s1-r1", session_id="s1", user_id="ada")
    plain = await store.aget_run("s3-r0")

    assert store.read_threads == []  # no sync read ran: nothing took a worker thread
    assert [r.to_dict() for r in runs] == [r.to_dict() for r in expected_runs]
    assert [r.run_id for r in runs] == ["s1-r2", "s1-r3"]
    assert [r.run_id for r in every] == ["s1-r0", "s1-r1", "s1-r2", "s1-r3"] and none == []
    assert run.to_dict() == expected_run.to_dict() and plain.run_id == "s3-r0"


async def test_run_counts_answer_on_the_loop_exactly_as_the_sync_read(store: ThreadNotingPostgresDb) -> None:
    store.upsert_sessions([_session("s1", runs=4), _session("s2", runs=0), _session("s3", user_id="bob")])
    ids = ["s1", "s2", "s3", "missing"]
    expected = store.run_counts(ids)
    expected_ada = store.run_counts(ids, user_id="ada")
    store.read_threads.clear()

    counts = await store.arun_counts(ids)
    ada = await store.arun_counts(ids, user_id="ada")
    trash = await store.arun_counts(ids, deleted=True)

    assert store.read_threads == []  # no sync read ran: nothing took a worker thread
    assert counts == expected == {"s1": 4, "s3": 3}
    assert ada == expected_ada == {"s1": 4} and trash == {}


async def test_run_reads_on_the_loop_raise_the_domain_errors_of_the_sync_reads(
    store: ThreadNotingPostgresDb,
) -> None:
    store.upsert_session(_session("s1"))
    with pytest.raises(RunNotFound):
        await store.aget_run("missing")
    with pytest.raises(RunNotFound):
        await store.aget_run("s1-r0", user_id="someone-else")
    with pytest.raises(RunNotFound):
        await store.aget_run("s1-r0", session_id="other")
    with pytest.raises(SessionNotFound):
        await store.aget_runs("s1", user_id="someone-else")
    with pytest.raises(SessionNotFound):
        await store.aget_runs("missing")
    with pytest.raises(InvalidQuery) as raised:
        await store.aget_runs("s1", created_before=2**63)
    assert raised.value.field == "created_before"
    with pytest.raises(TypeError):
        await store.aget_runs("s1", newest=1)  # type: ignore[call-arg]
    assert store.read_threads == [] and len(_idle(store)) == 1


async def test_connections_are_reused_and_bounded_per_loop(store: ThreadNotingPostgresDb) -> None:
    store.upsert_session(_session("s1"))
    for _ in range(5):
        await store.aget_session("s1", runs_limit=1)
    assert len(_idle(store)) == 1

    results = await asyncio.gather(*(store.aget_session("s1", runs_limit=1) for _ in range(40)))

    assert all(result.session_id == "s1" for result in results)
    assert 1 < len(_idle(store)) <= ASYNC_READ_CONNECTIONS


async def test_a_connection_the_server_dropped_fails_one_read_then_reads_reconnect(
    store: ThreadNotingPostgresDb,
) -> None:
    store.upsert_session(_session("s1"))
    await store.aget_session("s1")
    dropped = _idle(store)
    assert _terminate(dropped) == 1

    with pytest.raises(StoreUnavailable):
        await store.aget_session("s1")  # as the sync path: the first call on it fails

    assert all(conn.closed for conn in dropped)
    assert (await store.aget_session("s1")).session_id == "s1"
    assert not any(conn in dropped for conn in _idle(store))


async def test_an_unreachable_server_is_store_unavailable() -> None:
    store = PostgresDb(db_url="postgresql+psycopg://postgres@127.0.0.1:9/test?connect_timeout=2")
    store._schema_ready = True  # as if migrated: the read itself must meet the outage
    try:
        with pytest.raises(StoreUnavailable):
            await store.aget_sessions(SessionQuery())
    finally:
        store.close()


async def test_a_cancelled_read_closes_its_connection(store: ThreadNotingPostgresDb, schema: str) -> None:
    store.upsert_session(_session("s1"))
    await store.aget_session("s1")
    [conn] = _idle(store)
    engine = sqlalchemy.create_engine(PG_URL)
    try:
        with engine.connect() as locker:
            # An exclusive lock makes the next read wait on the server until it is cancelled.
            locker.exec_driver_sql(f'LOCK TABLE "{schema}".sessiondb_sessions IN ACCESS EXCLUSIVE MODE')
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(store.aget_session("s1"), timeout=0.3)
            locker.rollback()
    finally:
        engine.dispose()

    assert conn.closed and _idle(store) == []
    assert (await store.aget_session("s1")).session_id == "s1"


def test_close_closes_every_connection_of_every_loop_without_warnings(store: ThreadNotingPostgresDb) -> None:
    store.upsert_session(_session("s1"))
    opened: list[psycopg.AsyncConnection[Any]] = []

    def read_in_a_loop_of_its_own() -> None:
        async def read() -> None:
            await store.aget_session("s1")
            opened.extend(_idle(store))

        asyncio.run(read())

    thread = threading.Thread(target=read_in_a_loop_of_its_own)
    thread.start()
    thread.join()
    assert opened and not any(conn.closed for conn in opened)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        store.close()
    assert all(conn.closed for conn in opened)
    # A read after close opens a connection again, as a disposed engine would.
    assert asyncio.run(store.aget_session("s1")).session_id == "s1"


def test_the_connections_of_a_loop_that_ended_are_closed_when_another_loop_reads(
    store: ThreadNotingPostgresDb,
) -> None:
    store.upsert_session(_session("s1"))
    asyncio.run(store.aget_session("s1"))
    [first] = _idle(store)

    asyncio.run(store.aget_session("s1"))

    assert first.closed
    assert len(_idle(store)) == 1


async def test_watched_engines_and_callers_engines_keep_the_worker_thread(
    store: ThreadNotingPostgresDb, schema: str
) -> None:
    store.upsert_session(_session("s1"))
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(store._engine, "before_cursor_execute", note)
    try:
        await store.aget_sessions(SessionQuery())
    finally:
        event.remove(store._engine, "before_cursor_execute", note)
    assert len(store.read_threads) == 1 and seen  # the listener saw the statement

    engine = sqlalchemy.create_engine(PG_URL)
    on_callers_engine = ThreadNotingPostgresDb(db_engine=engine, db_schema=schema)
    try:
        await on_callers_engine.aget_session("s1")
        assert len(on_callers_engine.read_threads) == 1
    finally:
        on_callers_engine.close()
        engine.dispose()


async def test_connections_past_the_recycle_age_are_replaced_as_the_engine_replaces_its_own(
    store: ThreadNotingPostgresDb,
) -> None:
    assert _pool(store)._recycle_s == POOL_RECYCLE_S
    store.upsert_session(_session("s1"))
    await store.aget_session("s1")
    [first] = _idle(store)

    _pool(store)._recycle_s = 0.0  # every connection is too old from now on
    await store.aget_session("s1")

    [second] = _idle(store)
    assert first.closed and second is not first and not second.closed
