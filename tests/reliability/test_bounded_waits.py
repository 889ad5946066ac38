"""Every wait on PostgreSQL is bounded: a locked row, a full pool, a black-holed network.

Each ends in a 503 with ``Retry-After`` within its bound (small bounds here, so the tests are
fast), never a 500 or a hang; requests for other sessions and ``/health`` keep being served.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest
import sqlalchemy
from api_seed import seed_agent_session
from api_support import asgi_client
from tcp_proxy import TcpProxy

from sessiondb.api import create_app
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.timeouts import Timeouts
from store_backends import PG_URL, postgres_schema

pytestmark = pytest.mark.postgres

BOUNDS = Timeouts(connect_s=1, pool_s=1.0, lock_s=0.5, statement_s=1.0)
"""Small bounds: a lock wait gives up after 0.5 s, a silent connection after 2 s."""

LOCK_BOUNDS = Timeouts(connect_s=1, pool_s=2.0, lock_s=0.5, statement_s=5.0)
"""For the lock tests: a statement bound well above the lock bound, so that on a loaded machine
(a statement slow to reach its lock wait) the lock bound is still the one that runs out."""


def _libpq_url() -> str:
    return sqlalchemy.make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh schema holding sessions ``locked`` and ``other``."""
    with postgres_schema("bounds") as name:
        store = PostgresDb(db_url=PG_URL, db_schema=name, id="main")
        seed_agent_session(store, "locked")
        seed_agent_session(store, "other")
        store.close()
        yield name


@pytest.fixture
async def client(schema: str) -> AsyncIterator[httpx.AsyncClient]:
    """The API over the schema, with :data:`LOCK_BOUNDS`."""
    store = PostgresDb(db_url=PG_URL, db_schema=schema, id="main", timeouts=LOCK_BOUNDS)
    try:
        async for c in asgi_client(create_app(dbs=[store], health_timeout_s=1.0)):
            yield c
    finally:
        store.close()


@dataclass
class Timed:
    response: httpx.Response
    seconds: float


async def _timed(request: asyncio.Future[httpx.Response] | object) -> Timed:
    started = time.monotonic()
    response = await request  # type: ignore[misc]
    return Timed(response, time.monotonic() - started)


def _unavailable(timed: Timed, within: float, says: str) -> None:
    assert timed.response.status_code == 503, timed.response.text
    assert timed.response.headers["Retry-After"]
    assert says in timed.response.json()["detail"]
    assert timed.seconds < within, timed.seconds


async def test_a_locked_row_is_a_503_within_the_lock_bound_and_other_sessions_are_served(
    schema: str, client: httpx.AsyncClient
) -> None:
    with psycopg.connect(_libpq_url(), autocommit=False) as holder:
        holder.execute(
            f'SELECT 1 FROM "{schema}".sessiondb_sessions WHERE session_id = %s FOR UPDATE', ["locked"]
        )
        # Bounded here too, so that a missing bound fails the test instead of hanging it.
        async with asyncio.timeout(15):
            blocked, renamed, patched, read, health = await asyncio.gather(
                _timed(client.patch("/sessions/locked", json={"session_state": {"x": 1}})),
                _timed(client.post("/sessions/locked/rename", json={"session_name": "n"})),
                _timed(client.patch("/sessions/other", json={"session_state": {"y": 2}})),
                _timed(client.get("/sessions/other")),
                _timed(client.get("/health")),
            )
        holder.rollback()

    for timed in (blocked, renamed):
        _unavailable(timed, within=3.0, says="lock_timeout")
        assert timed.seconds >= LOCK_BOUNDS.lock_s * 0.9
    for timed in (patched, read, health):
        assert timed.response.status_code == 200, timed.response.text
        assert timed.seconds < 1.5
    assert patched.response.json()["session_state"] == {"y": 2}
    after = await client.patch("/sessions/locked", json={"session_state": {"x": 3}})
    assert after.status_code == 200  # the lock is gone, so is the refusal


async def test_a_black_holed_network_is_a_503_within_the_bounds_and_heals(schema: str) -> None:
    url = sqlalchemy.make_url(PG_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    store = PostgresDb(db_url=proxied, db_schema=schema, id="main", timeouts=BOUNDS)
    try:
        async for client in asgi_client(create_app(dbs=[store], health_timeout_s=1.0)):
            # Warm both pools up, so that the black hole catches open connections too.
            assert (
                await client.patch("/sessions/other", json={"session_state": {"v": 0}})
            ).status_code == 200
            assert (await client.get("/sessions/other")).status_code == 200
            proxy.black_hole()
            calls = [
                client.patch("/sessions/other", json={"session_state": {"v": 1}}),
                client.get("/sessions/other"),
                client.get("/sessions"),
                client.post("/sessions", json={"session_id": "new"}),
                *(client.patch("/sessions/locked", json={"session_state": {"n": n}}) for n in range(4)),
            ]
            started = time.monotonic()
            async with asyncio.timeout(15):  # a missing bound fails the test instead of hanging it
                results = await asyncio.gather(
                    *(_timed(call) for call in calls), _timed(client.get("/health"))
                )
            elapsed = time.monotonic() - started
            *answers, health = results
            proxy.heal()
            await asyncio.sleep(0.2)
            healed = await client.patch("/sessions/other", json={"session_state": {"v": 2}})
            healed_read = await client.get("/sessions/other")
            healed_health = await client.get("/health")
    finally:
        proxy.cut()
        store.close()

    # Silent connections are given up at statement_s + 1 s; new ones at connect_timeout (2 s,
    # libpq's least); calls queued for a connection at pool_s. None waits much past the sum,
    # plus, for the cached reads, their version check's own 0.5 s (postgres._VERSION_DEADLINE_S).
    for timed in answers:
        _unavailable(timed, within=5.0, says="Database unavailable")
    assert health.response.status_code == 503
    assert health.seconds < 1.5
    assert "no answer within 1 s" in health.response.json()["databases"]["main"]
    assert elapsed < 5.0  # measured: 2.0-2.2 s (4.8 with the version check)
    assert healed.status_code == 200, healed.text
    assert healed_read.json()["session_state"] == {"v": 2}
    assert healed_health.status_code == 200


def test_a_full_pool_is_store_unavailable_not_a_timeout_error(schema: str) -> None:
    engine = sqlalchemy.create_engine(PG_URL, pool_size=1, max_overflow=0, pool_timeout=0.3)
    store = PostgresDb(db_engine=engine, db_schema=schema, id="main")
    store.get_session("other")  # ready: the schema check is done
    try:
        with engine.connect():  # the only connection, taken
            started = time.monotonic()
            with pytest.raises(StoreUnavailable, match="pool_timeout"):
                store.update_session("other", session_state={"x": 1})
            assert time.monotonic() - started < 1.0
        assert store.update_session("other", session_state={"x": 2}).session_data == {
            "session_state": {"x": 2}
        }
    finally:
        store.close()
        engine.dispose()


def test_the_bounds_reach_the_server_and_a_migration_is_exempt(schema: str) -> None:
    store = PostgresDb(db_url=PG_URL, db_schema=schema, id="main", timeouts=BOUNDS)
    try:
        with store._engine.connect() as conn:
            lock = conn.exec_driver_sql("SHOW lock_timeout").scalar()
            statement = conn.exec_driver_sql("SHOW statement_timeout").scalar()
        assert (lock, statement) == ("500ms", "1s")
        store.migrate()  # takes the advisory lock with no bound: it may wait for another migrator
    finally:
        store.close()


def test_bounds_must_be_positive() -> None:
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="lock_s"):
            Timeouts(lock_s=bad)


async def test_more_calls_blocked_on_one_row_than_the_pool_holds_do_not_starve_other_sessions(
    schema: str, client: httpx.AsyncClient
) -> None:
    # 24 calls wait on the locked row: more than the pool's 15 connections. The lock bound is
    # shorter than the pool bound, so they give their connections up before the call for
    # another session, queued behind them, gives up waiting for one.
    with psycopg.connect(_libpq_url(), autocommit=False) as holder:
        holder.execute(
            f'SELECT 1 FROM "{schema}".sessiondb_sessions WHERE session_id = %s FOR UPDATE', ["locked"]
        )
        blocked = [
            _timed(client.patch("/sessions/locked", json={"session_state": {"n": n}})) for n in range(24)
        ]
        async with asyncio.timeout(15):
            *refused, served = await asyncio.gather(
                *blocked, _timed(client.patch("/sessions/other", json={"session_state": {"ok": True}}))
            )
        holder.rollback()

    assert {timed.response.status_code for timed in refused} == {503}
    assert served.response.status_code == 200, served.response.text
    assert served.seconds < LOCK_BOUNDS.lock_s * 3 + 1.0, served.seconds
