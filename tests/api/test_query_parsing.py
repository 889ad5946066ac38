"""GET /sessions and GET /sessions/{id} parse their query strings: 422s and OpenAPI stay FastAPI's.

Each test compares with a reference app where FastAPI declares and validates the same
parameters, so a FastAPI upgrade that changes its output shows up here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from api_support import asgi_client
from fastapi import FastAPI, Query, Request

from sessiondb.api import AuthConfig, create_app
from sessiondb.api.deps import DbIdQuery, TableQuery, UserIdQuery
from sessiondb.api.query import documented_parameters, parse_query
from sessiondb.api.routers.common import SessionIdPath, TypeQuery
from sessiondb.api.schemas.sessions import ListSessionsQuery
from sessiondb.db.memory import InMemoryDb

BAD_QUERIES = [
    "limit=0",
    "limit=abc",
    "limit=",
    "page=0",
    "page=1.5",
    "sort_by=name",
    "sort_order=up",
    "type=robot",
    "created_after=yesterday",
    "limit=0&page=x&sort_by=name&type=robot",
    "limit=5&limit=0",
]
GOOD_QUERIES = ["", "limit=5&page=2", "type=team&sort_by=updated_at&sort_order=asc", "limit=0&limit=7", "x=1"]


def declared(
    params: Annotated[ListSessionsQuery, Query()],
    db_id: DbIdQuery = None,
    table: TableQuery = None,
    user_id: UserIdQuery = None,
) -> dict[str, Any]:
    """The query string of GET /sessions as FastAPI would declare and validate it."""
    return params.model_dump()


def parsed(request: Request) -> dict[str, Any]:
    return parse_query(ListSessionsQuery, request).model_dump()


@pytest.fixture
async def reference() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.get("/declared")(declared)
    app.get("/parsed")(parsed)
    async for client in asgi_client(app):
        yield client


@pytest.mark.parametrize("query", BAD_QUERIES + GOOD_QUERIES)
async def test_parse_query_answers_as_fastapi_does(reference: httpx.AsyncClient, query: str) -> None:
    by_fastapi = await reference.get(f"/declared?{query}")
    by_hand = await reference.get(f"/parsed?{query}")

    assert (by_hand.status_code, by_hand.json()) == (by_fastapi.status_code, by_fastapi.json())


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_list_sessions_422_items_are_fastapis(
    reference: httpx.AsyncClient, memory_client: httpx.AsyncClient, query: str
) -> None:
    expected = await reference.get(f"/declared?{query}")
    response = await memory_client.get(f"/sessions?{query}")

    assert response.status_code == expected.status_code == 422
    assert response.json() == expected.json()


def test_list_sessions_documents_the_parameters_fastapi_would() -> None:
    app = FastAPI()
    app.get("/sessions")(declared)
    expected = app.openapi()["paths"]["/sessions"]["get"]["parameters"]

    document = create_app(InMemoryDb(id="main")).openapi()

    assert document["paths"]["/sessions"]["get"]["parameters"] == expected
    assert documented_parameters(declared) == expected


async def test_list_sessions_authenticates_then_validates_the_query_then_picks_the_database() -> None:
    app = create_app(InMemoryDb(id="main"), auth=AuthConfig(security_key="key"))
    async for client in asgi_client(app):
        unauthenticated = await client.get("/sessions?limit=0")
        unknown_db = await client.get("/sessions?limit=0&db_id=nope", headers={"Authorization": "Bearer key"})
        unknown_db_valid_query = await client.get(
            "/sessions?db_id=nope", headers={"Authorization": "Bearer key"}
        )
        user_filter = await client.get("/sessions?user_id=bob", headers={"Authorization": "Bearer key"})

    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    # AgentOS resolves the database inside the handler, after FastAPI validated the query.
    assert unknown_db.status_code == 422
    assert unknown_db_valid_query.status_code == 404
    assert user_filter.status_code == 200


def declared_detail(
    session_id: SessionIdPath,
    session_type: TypeQuery = None,
    db_id: DbIdQuery = None,
    table: TableQuery = None,
    user_id: UserIdQuery = None,
) -> dict[str, Any]:
    """The path and query of GET /sessions/{session_id} as FastAPI would declare them."""
    return {"session_type": session_type}


@pytest.mark.parametrize("query", ["type=robot", "type=", "type=agent&type=bot"])
async def test_session_detail_422_items_are_fastapis(memory_client: httpx.AsyncClient, query: str) -> None:
    app = FastAPI()
    app.get("/sessions/{session_id}")(declared_detail)
    async for reference_client in asgi_client(app):
        expected = await reference_client.get(f"/sessions/s1?{query}")

    response = await memory_client.get(f"/sessions/s1?{query}")

    assert response.status_code == expected.status_code == 422
    assert response.json() == expected.json()


def test_session_detail_documents_the_parameters_fastapi_would() -> None:
    app = FastAPI()
    app.get("/sessions/{session_id}")(declared_detail)
    expected = app.openapi()["paths"]["/sessions/{session_id}"]["get"]["parameters"]

    document = create_app(InMemoryDb(id="main")).openapi()

    assert document["paths"]["/sessions/{session_id}"]["get"]["parameters"] == expected


async def test_session_detail_authenticates_then_validates_the_type_then_picks_the_database() -> None:
    app = create_app(InMemoryDb(id="main"), auth=AuthConfig(security_key="key"))
    async for client in asgi_client(app):
        unauthenticated = await client.get("/sessions/s1?type=robot")
        key = {"Authorization": "Bearer key"}
        unknown_db = await client.get("/sessions/s1?type=robot&db_id=nope", headers=key)
        unknown_db_valid_type = await client.get("/sessions/s1?type=agent&db_id=nope", headers=key)

    assert unauthenticated.status_code == 401
    assert unknown_db.status_code == 422
    assert unknown_db.json()["detail"][0]["type"] == "enum"
    assert unknown_db_valid_type.status_code == 404
