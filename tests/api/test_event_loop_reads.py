"""The read endpoints call a ready SQLite file store on the event loop, with the same answers.

``GET /sessions``, ``GET /sessions/{id}`` and the runs reads skip the worker thread when the
store offers an event-loop reader; every response, error or not, is what the worker-thread
path gives.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_support import asgi_client

from sessiondb import AgentSession, Message, RunOutput, SessionQuery
from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import Page
from sessiondb.db.sqlite import SqliteDb
from sessiondb.session import Session
from store_backends import PG_URL, postgres_schema
from thread_noting import ThreadNotingPostgresDb, ThreadNotingSqliteDb

READS = [
    "/sessions?type=agent&user_id=ada&limit=20",
    "/sessions?type=agent&limit=2&sort_order=asc",
    "/sessions/s1",
    "/sessions/s1?type=agent",
    "/sessions/s1?user_id=ada",
    "/sessions/s1/runs",
    "/sessions/s1/run-previews",
    "/sessions/s1/runs/s1-r1",
    "/sessions/missing",
    "/sessions/missing?type=team",
    "/sessions/s1?user_id=someone-else",
    "/sessions/s1/runs/nope",
    "/sessions/missing/runs",
]


def _fill(store: SessionStore) -> None:
    for number in range(3):
        session = AgentSession(session_id=f"s{number}", user_id="ada", agent_id="helper")
        for index in range(3):
            session.upsert_run(
                RunOutput(
                    run_id=f"s{number}-r{index}",
                    agent_id="helper",
                    messages=[Message(role="user", content=f"question {index}")],
                )
            )
        store.upsert_session(session)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "api.db"


@pytest.fixture
def store(db_file: Path) -> Iterator[ThreadNotingSqliteDb]:
    store = ThreadNotingSqliteDb(db_file=db_file, id="main")
    store.migrate()
    _fill(store)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
async def client(store: ThreadNotingSqliteDb) -> AsyncIterator[httpx.AsyncClient]:
    async for c in asgi_client(create_app(dbs=[store])):
        yield c


def _comparable(response: httpx.Response) -> tuple[int, Any, str | None]:
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("meta"), dict):
        body["meta"].pop("search_time_ms")
    return response.status_code, body, response.headers.get("etag")


async def test_read_endpoints_answer_on_the_event_loop_as_through_a_worker_thread(
    store: ThreadNotingSqliteDb, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    inline = [_comparable(await client.get(url)) for url in READS]
    assert store.read_threads and set(store.read_threads) == {threading.get_ident()}

    monkeypatch.setattr(SqliteDb, "event_loop_reader", lambda self: None)
    store.read_threads.clear()
    offloaded = [_comparable(await client.get(url)) for url in READS]
    assert threading.get_ident() not in store.read_threads

    assert inline == offloaded
    statuses = [status for status, _, _ in inline]
    assert statuses == [200, 200, 200, 200, 200, 200, 200, 200, 404, 404, 404, 404, 404]
    assert inline[9][1] == {"detail": "Team Session with id 'missing' not found"}


async def test_writes_keep_the_worker_thread(store: ThreadNotingSqliteDb, client: httpx.AsyncClient) -> None:
    response = await client.post("/sessions/s1/rename", json={"session_name": "renamed"})
    assert response.status_code == 200
    # Only the re-read after the write went through get_session, and on the event loop: the
    # write itself took a worker thread (a rename is no read).
    assert store.read_threads == [threading.get_ident()]


async def test_an_inline_read_of_a_broken_database_is_a_503(
    store: ThreadNotingSqliteDb, client: httpx.AsyncClient, db_file: Path
) -> None:
    assert (await client.get("/sessions/s1")).status_code == 200
    with sqlite3.connect(db_file) as raw:
        raw.execute(f"DROP TABLE {store.session_table_name}_runs")

    response = await client.get("/sessions/s1")

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "tables are missing" in response.json()["detail"]
    assert set(store.read_threads) == {threading.get_ident()}


async def test_a_store_outage_met_inline_is_a_503(
    store: ThreadNotingSqliteDb, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(self: SqliteDb, query: SessionQuery) -> Page[Session]:
        raise StoreUnavailable("disk gone")

    # On the class: the event-loop views are copies of the store, made on first use. Both
    # listing reads: the fast path's rows (sessiondb.api.fast_reads), then the route's objects.
    monkeypatch.setattr(ThreadNotingSqliteDb, "get_session_rows", unavailable)
    monkeypatch.setattr(ThreadNotingSqliteDb, "get_sessions", unavailable)
    response = await client.get("/sessions")

    assert response.status_code == 503
    assert response.json()["detail"] == "Database unavailable: disk gone. Retry later."
    assert store.event_loop_reader() is not None


@pytest.mark.postgres
async def test_postgres_read_endpoints_answer_on_the_event_loop_as_through_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with postgres_schema() as schema:
        store = ThreadNotingPostgresDb(db_url=PG_URL, db_schema=schema, id="main")
        try:
            store.migrate()
            _fill(store)
            async for client in asgi_client(create_app(dbs=[store])):
                native = []
                for url in READS:
                    store.read_threads.clear()
                    native.append(_comparable(await client.get(url)))
                    # Session and run reads go out on the loop's own async connections: no
                    # sync read runs at all.
                    assert store.read_threads == [], url

                monkeypatch.setattr(PostgresDb, "_event_loop_pool", lambda self: None)
                store.read_threads.clear()
                offloaded = [_comparable(await client.get(url)) for url in READS]
                assert len(store.read_threads) >= len(READS)
        finally:
            store.close()

    assert native == offloaded
    assert [status for status, _, _ in native] == [200] * 8 + [404] * 5
