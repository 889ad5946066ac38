"""``GET /search`` over every backend: hits, filters, paging, errors, isolation and hostile input."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_auth import AUDIENCE, SECRET, bearer, token

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.base import SessionStore


def _seed(store: SessionStore) -> None:
    seed_agent_session(
        store,
        "alice-1",
        user_id="alice",
        runs=[
            agent_run("ra0", "plan the deployment", created_at=1_700_000_000),
            agent_run("ra1", "lunch on friday", created_at=1_700_000_001),
        ],
        session_data={"session_name": "Ops"},
    )
    seed_agent_session(
        store,
        "bob-1",
        user_id="bob",
        runs=[agent_run("rb0", "secret deployment plans", created_at=1_700_000_002)],
    )


async def test_a_search_returns_hits_with_meta(store: SessionStore, client: httpx.AsyncClient) -> None:
    _seed(store)
    response = await client.get("/search", params={"q": "deployment", "user_id": "alice"})
    assert response.status_code == 200
    body = response.json()
    assert [hit["run_id"] for hit in body["data"]] == ["ra0"]
    hit = body["data"][0]
    assert hit["session_id"] == "alice-1" and hit["session_name"] == "Ops" and hit["session_type"] == "agent"
    assert hit["created_at"] == "2023-11-14T22:13:20Z"
    assert "<mark>deployment</mark>" in hit["snippet"] and hit["score"] > 0
    assert body["meta"]["limit"] == 20 and body["meta"]["next_cursor"] is None
    assert body["meta"]["search_time_ms"] >= 0


async def test_filters_and_paging(store: SessionStore, client: httpx.AsyncClient) -> None:
    _seed(store)
    assert len((await client.get("/search", params={"q": "deployment"})).json()["data"]) == 2
    typed = await client.get("/search", params={"q": "deployment", "type": "team"})
    assert typed.json()["data"] == []
    component = await client.get("/search", params={"q": "deployment", "component_id": "agent-1"})
    assert len(component.json()["data"]) == 2
    first = (await client.get("/search", params={"q": "deployment", "limit": 1})).json()
    cursor = first["meta"]["next_cursor"]
    assert cursor is not None and len(first["data"]) == 1
    second = (await client.get("/search", params={"q": "deployment", "limit": 1, "cursor": cursor})).json()
    assert len(second["data"]) == 1 and second["data"][0]["run_id"] != first["data"][0]["run_id"]
    assert second["meta"]["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "***"}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "x" * 1001}, "q"),
        ({"q": "ok", "limit": 0}, "limit"),
        ({"q": "ok", "limit": 101}, "limit"),
        ({"q": "ok", "type": "robot"}, "type"),
        ({"q": "ok", "cursor": "garbage"}, "cursor"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    store: SessionStore, client: httpx.AsyncClient, params: dict[str, object], field: str
) -> None:
    _seed(store)
    response = await client.get("/search", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == field


async def test_a_cursor_of_another_query_is_a_422(store: SessionStore, client: httpx.AsyncClient) -> None:
    _seed(store)
    cursor = (await client.get("/search", params={"q": "deployment", "limit": 1})).json()["meta"][
        "next_cursor"
    ]
    response = await client.get("/search", params={"q": "lunch", "cursor": cursor})
    assert response.status_code == 422
    assert "another query" in response.json()["detail"][0]["msg"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=80))
async def test_no_query_text_is_a_server_error(
    store: SessionStore, client: httpx.AsyncClient, q: str
) -> None:
    response = await client.get("/search", params={"q": q})
    assert response.status_code in (200, 422), response.text


@pytest.fixture
async def jwt_client(store: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    _seed(store)
    auth = AuthConfig(jwt=JwtConfig(key=SECRET, audience=AUDIENCE))
    async for client in asgi_client(create_app(dbs=[store], auth=auth)):
        yield client


async def test_with_jwt_a_caller_finds_only_its_own_sessions(jwt_client: httpx.AsyncClient) -> None:
    alice = bearer(token("alice"))
    own = await jwt_client.get("/search", params={"q": "deployment"}, headers=alice)
    assert [hit["run_id"] for hit in own.json()["data"]] == ["ra0"]
    # Asking for another user's sessions changes nothing for a caller without the admin scope.
    asked = await jwt_client.get("/search", params={"q": "secret", "user_id": "bob"}, headers=alice)
    assert asked.status_code == 200 and asked.json()["data"] == []


async def test_with_jwt_an_admin_finds_every_users_sessions(jwt_client: httpx.AsyncClient) -> None:
    admin = bearer(token("root", ["sessions:read", "sessions:admin"]))
    everyone = await jwt_client.get("/search", params={"q": "deployment"}, headers=admin)
    assert sorted(hit["run_id"] for hit in everyone.json()["data"]) == ["ra0", "rb0"]
    bob = await jwt_client.get("/search", params={"q": "deployment", "user_id": "bob"}, headers=admin)
    assert [hit["run_id"] for hit in bob.json()["data"]] == ["rb0"]


async def test_with_jwt_search_needs_a_token_with_the_read_scope(jwt_client: httpx.AsyncClient) -> None:
    assert (await jwt_client.get("/search", params={"q": "deployment"})).status_code == 401
    writer = bearer(token("alice", ["sessions:write"]))
    assert (await jwt_client.get("/search", params={"q": "deployment"}, headers=writer)).status_code == 403


async def test_the_openapi_document_describes_search_with_examples(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/search"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"q", "type", "component_id", "user_id", "db_id", "limit", "cursor"} <= names
    schemas = document["components"]["schemas"]
    assert "example" in schemas["SearchHitSchema"] and "example" in schemas["SearchResponse"]
