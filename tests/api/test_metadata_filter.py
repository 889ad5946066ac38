"""GET /sessions?metadata=... on every backend: JSON containment, 422s, and JWT isolation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from api_seed import seed_agent_session
from jwt_support import headers_of, jwt_client_of

from sessiondb.db.base import SessionStore


@pytest.fixture
def seeded(store: SessionStore) -> SessionStore:
    seed_agent_session(store, "web", metadata={"source": "web", "customer": {"tier": "gold", "id": 7}})
    seed_agent_session(store, "app", metadata={"source": "app", "customer": {"tier": "gold"}})
    seed_agent_session(store, "bob-web", user_id="bob", metadata={"source": "web"})
    seed_agent_session(store, "none")
    return store


async def _ids(client: httpx.AsyncClient, metadata: object, **headers: str) -> set[str]:
    response = await client.get("/sessions", params={"metadata": json.dumps(metadata)}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total_count"] == len(body["data"])
    return {item["session_id"] for item in body["data"]}


async def test_lists_the_sessions_whose_metadata_contains_the_object(
    seeded: SessionStore, client: httpx.AsyncClient
) -> None:
    assert await _ids(client, {"source": "web"}) == {"web", "bob-web"}
    assert await _ids(client, {"customer": {"tier": "gold"}}) == {"web", "app"}
    assert await _ids(client, {"customer": {"tier": "gold", "id": 7}, "source": "web"}) == {"web"}
    assert await _ids(client, {"customer": {"id": "7"}}) == set()


@pytest.mark.parametrize("value", ["{not json", "[1, 2]", '"web"', "null", '{"a": NaN}', '{"a\\"b": 1}'])
async def test_a_bad_metadata_parameter_is_a_422_naming_it(
    seeded: SessionStore, client: httpx.AsyncClient, value: str
) -> None:
    response = await client.get("/sessions", params={"metadata": value})
    assert response.status_code == 422, response.text
    assert "metadata" in response.text


@pytest.fixture
async def jwt_client(seeded: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    async for client in jwt_client_of(seeded):
        yield client


async def test_a_jwt_caller_finds_only_its_own_sessions(jwt_client: httpx.AsyncClient) -> None:
    assert await _ids(jwt_client, {"source": "web"}, **headers_of("alice")) == {"web"}
    assert await _ids(jwt_client, {"source": "web"}, **headers_of("bob")) == {"bob-web"}
