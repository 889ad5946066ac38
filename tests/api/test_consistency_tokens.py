"""The consistency token over HTTP: handed out after a write when a store reads from replicas,
honoured on reads (header or cookie), refused when malformed, absent without replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from api_support import asgi_client
from sqlalchemy.engine import make_url

from sessiondb.api import create_app
from sessiondb.api.serve import ServeSettings, open_stores
from sessiondb.db import consistency
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.postgres import PostgresDb
from store_backends import PG_URL, postgres_schema

pytestmark = pytest.mark.postgres

FAR_FUTURE = "FFFFFFF/0"


@pytest.fixture
def replicated() -> Iterator[PostgresDb]:
    replica = make_url(PG_URL).update_query_dict({"application_name": "replica"}).render_as_string(False)
    with postgres_schema("apireplicas") as schema:
        db = PostgresDb(db_url=PG_URL, db_schema=schema, read_replica_urls=[replica])
        try:
            yield db
        finally:
            db.close()


@pytest.fixture
async def client(replicated: PostgresDb) -> AsyncIterator[httpx.AsyncClient]:
    async for c in asgi_client(create_app(replicated)):
        yield c


async def test_a_write_hands_out_a_token_as_header_and_cookie(client: httpx.AsyncClient) -> None:
    created = await client.post("/sessions", json={"session_id": "s1", "agent_id": "a"})
    assert created.status_code == 201
    token = created.headers[consistency.HEADER]
    assert consistency.parse_position(token) > 0
    assert client.cookies[consistency.COOKIE] == token
    read = await client.get("/sessions/s1")
    assert read.status_code == 200 and consistency.HEADER not in read.headers


async def test_a_read_behind_a_token_goes_to_the_primary(
    client: httpx.AsyncClient, replicated: PostgresDb
) -> None:
    await client.post("/sessions", json={"session_id": "s1", "agent_id": "a"})
    client.cookies.clear()
    before = replicated.health_details()["primary_reads"]
    answer = await client.get("/sessions/s1", headers={consistency.HEADER: FAR_FUTURE})
    assert answer.status_code == 200
    assert replicated.health_details()["primary_reads"] == before + 1
    # The cookie alone does the same.
    client.cookies.set(consistency.COOKIE, FAR_FUTURE)
    assert (await client.get("/sessions/s1")).status_code == 200
    assert replicated.health_details()["primary_reads"] == before + 2


async def test_a_malformed_token_header_is_a_422_naming_it(client: httpx.AsyncClient) -> None:
    answer = await client.get("/sessions", headers={consistency.HEADER: "yesterday"})
    assert answer.status_code == 422
    assert consistency.HEADER in answer.json()["detail"]


async def test_a_malformed_cookie_is_ignored(client: httpx.AsyncClient) -> None:
    client.cookies.set(consistency.COOKIE, "garbage")
    assert (await client.get("/sessions")).status_code == 200


async def test_health_shows_replica_lag_and_routing(client: httpx.AsyncClient) -> None:
    answer = await client.get("/health")
    assert answer.status_code == 200
    (details,) = answer.json()["details"].values()
    assert details["replicas"][0]["lag_bytes"] >= 0 and "primary_reads" in details


async def test_without_replicas_no_token_is_handed_out() -> None:
    async for c in asgi_client(create_app(InMemoryDb(id="m"))):
        created = await c.post("/sessions", json={"session_id": "s1", "agent_id": "a"})
        assert created.status_code == 201 and consistency.HEADER not in created.headers
        assert "details" not in (await c.get("/health")).json()


@pytest.mark.parametrize(
    ("db", "replicas", "message"),
    [
        (("sessions.db",), ("postgresql://u@h/db",), "need a PostgreSQL database"),
        (("a=postgresql://u@h/db", "b=postgresql://u@h/db2"), ("postgresql://u@h/r",), "name the database"),
        (("a=postgresql://u@h/db",), ("c=postgresql://u@h/r",), "no --db has that id"),
    ],
)
def test_serve_refuses_replicas_it_cannot_attach(
    db: tuple[str, ...], replicas: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        open_stores(ServeSettings(db=db, read_replica=replicas, auto_migrate=False))
