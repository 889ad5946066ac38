"""Several databases at once (db_id, table), /config, /health, and a database outage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from api_seed import seed_agent_session
from api_support import asgi_client
from tcp_proxy import TcpProxy

from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from store_backends import PG_URL, postgres_schema


@pytest.fixture
async def two_dbs() -> AsyncIterator[tuple[httpx.AsyncClient, InMemoryDb, InMemoryDb]]:
    one, two = InMemoryDb(id="one"), InMemoryDb(id="two")
    seed_agent_session(one, "in-one")
    seed_agent_session(two, "in-two")
    async for client in asgi_client(create_app(dbs=[one, two])):
        yield client, one, two


async def test_db_id_picks_the_database(two_dbs: tuple[httpx.AsyncClient, InMemoryDb, InMemoryDb]) -> None:
    client, _, two = two_dbs

    listed = await client.get("/sessions", params={"db_id": "two"})
    created = await client.post("/sessions", params={"db_id": "two"}, json={"session_id": "new"})

    assert [s["session_id"] for s in listed.json()["data"]] == ["in-two"]
    assert created.status_code == 201
    assert two.get_session("new").session_id == "new"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/sessions"),
        ("GET", "/sessions/in-one"),
        ("POST", "/sessions"),
        ("DELETE", "/sessions/in-one"),
    ],
)
async def test_missing_db_id_with_several_databases_is_400(
    two_dbs: tuple[httpx.AsyncClient, InMemoryDb, InMemoryDb], method: str, path: str
) -> None:
    client, _, _ = two_dbs

    response = await client.request(method, path)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The db_id query parameter is required when using multiple databases"
    }


async def test_unknown_db_id_is_404(memory_store: SessionStore) -> None:
    async for client in asgi_client(create_app(dbs=[memory_store])):
        response = await client.get("/sessions", params={"db_id": "nope"})

        assert response.status_code == 404
        assert response.json() == {"detail": "No database found with id 'nope'"}


async def test_table_without_db_id_is_400(memory_store: SessionStore) -> None:
    async for client in asgi_client(create_app(dbs=[memory_store])):
        response = await client.get("/sessions", params={"table": "sessions"})

        assert response.status_code == 400
        assert "db_id" in response.json()["detail"]


async def test_a_mapping_serves_stores_under_its_keys() -> None:
    async for client in asgi_client(create_app(dbs={"custom": InMemoryDb(id="ignored")})):
        config = (await client.get("/config")).json()
        listed = await client.get("/sessions", params={"db_id": "custom"})

        assert config["databases"] == ["custom"]
        assert listed.status_code == 200


async def test_table_chooses_among_stores_sharing_an_id(tmp_path: Path) -> None:
    from sessiondb.db.sqlite import SqliteDb

    first = SqliteDb(db_file=tmp_path / "x.db", session_table="first_sessions", id="local")
    second = SqliteDb(db_file=tmp_path / "x.db", session_table="second_sessions", id="local")
    seed_agent_session(first, "in-first")
    seed_agent_session(second, "in-second")
    try:
        async for client in asgi_client(create_app(dbs=[first, second])):
            default = await client.get("/sessions", params={"db_id": "local"})
            chosen = await client.get("/sessions", params={"db_id": "local", "table": "second_sessions"})
            unknown = await client.get("/sessions", params={"db_id": "local", "table": "nope"})
            config = (await client.get("/config")).json()

            assert [s["session_id"] for s in default.json()["data"]] == ["in-first"]
            assert [s["session_id"] for s in chosen.json()["data"]] == ["in-second"]
            assert unknown.status_code == 404
            assert config["session"]["dbs"] == [
                {"db_id": "local", "tables": ["first_sessions", "second_sessions"]}
            ]
    finally:
        first.close()
        second.close()


async def test_config_lists_databases_in_agentos_shape(
    two_dbs: tuple[httpx.AsyncClient, InMemoryDb, InMemoryDb],
) -> None:
    client, _, _ = two_dbs

    config = (await client.get("/config")).json()

    assert config["os_id"] == "sessiondb"
    assert config["databases"] == ["one", "two"]
    assert [db["db_id"] for db in config["session"]["dbs"]] == ["one", "two"]
    assert config["agents"] == config["teams"] == config["workflows"] == config["interfaces"] == []


async def test_health_reports_each_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert list(response.json()["databases"].values()) == ["ok"]
    assert response.json()["instantiated_at"].endswith("Z")


def test_create_app_needs_a_store() -> None:
    with pytest.raises(ValueError, match="at least one database"):
        create_app(dbs=[])
    with pytest.raises(ValueError, match="SessionStore"):
        create_app(dbs={"x": "not a store"})  # type: ignore[dict-item]


@pytest.mark.postgres
async def test_postgres_outage_is_503_and_the_server_recovers() -> None:
    import sqlalchemy

    from sessiondb.db.postgres import PostgresDb

    url = sqlalchemy.make_url(PG_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    with postgres_schema("outage") as schema:
        proxy.start()
        proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
        store = PostgresDb(db_url=proxied, db_schema=schema)
        try:
            store.migrate()
            seed_agent_session(store, "s1")
            async for client in asgi_client(create_app(dbs=[store])):
                assert (await client.get("/sessions")).status_code == 200

                proxy.cut()
                during = await client.get("/sessions")
                health = await client.get("/health")

                assert during.status_code == 503, during.text
                assert during.json()["detail"].startswith("Database unavailable")
                assert during.headers["retry-after"] == "5"
                assert health.status_code == 503
                assert health.json()["status"] == "unavailable"

                proxy.start()
                after = await client.get("/sessions")

                assert after.status_code == 200, after.text
                assert [s["session_id"] for s in after.json()["data"]] == ["s1"]
        finally:
            proxy.cut()
            store.close()


# -- query validation comes before the choice of database (as in AgentOS) ----------------------


@pytest.mark.parametrize(
    ("method", "path", "params", "error_type"),
    [
        ("GET", "/sessions", {"type": "invalid_type"}, "enum"),
        ("GET", "/sessions", {"limit": "0"}, "greater_than_equal"),
        ("GET", "/sessions/in-two", {"type": "invalid_type"}, "enum"),
        ("GET", "/sessions/in-two/runs", {"type": "invalid_type"}, "enum"),
        ("GET", "/sessions/in-two/run-previews", {"type": "invalid_type"}, "enum"),
        ("GET", "/sessions/in-two/runs/r1", {"type": "invalid_type"}, "enum"),
        ("POST", "/sessions", {"type": "invalid_type"}, "enum"),
        ("PATCH", "/sessions/in-two", {"type": "invalid_type"}, "enum"),
    ],
)
async def test_a_bad_parameter_is_a_422_even_without_db_id(
    two_dbs: tuple[httpx.AsyncClient, InMemoryDb, InMemoryDb],
    method: str,
    path: str,
    params: dict[str, str],
    error_type: str,
) -> None:
    client, _, _ = two_dbs
    body = {} if method in ("POST", "PATCH") else None
    response = await client.request(method, path, params=params, json=body)
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    assert item["type"] == error_type
    assert item["loc"] == ["query", next(iter(params))]


async def test_valid_parameters_without_db_id_still_need_it(
    two_dbs: tuple[httpx.AsyncClient, InMemoryDb, InMemoryDb],
) -> None:
    client, _, _ = two_dbs
    for path in ("/sessions", "/sessions/in-two", "/sessions/in-two/runs"):
        response = await client.get(path, params={"type": "agent"})
        assert response.status_code == 400, (path, response.text)
        assert "db_id" in response.json()["detail"]
