"""Client errors are 4xx with ``{"detail": ...}``; planned failures map to their status; the rest are 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_seed import seed_agent_session
from api_support import asgi_client

from sessiondb.api import create_app
from sessiondb.api.errors import CatchAllMiddleware
from sessiondb.db.errors import (
    InvalidQuery,
    SchemaNotReady,
    SessionDeleted,
    SessionOwnedByAnotherUser,
    StoreError,
    StoreUnavailable,
)
from sessiondb.db.memory import InMemoryDb


@pytest.fixture
async def small_body_client() -> AsyncIterator[httpx.AsyncClient]:
    async for client in asgi_client(create_app(dbs=[InMemoryDb()], max_body_bytes=1000)):
        yield client


async def test_declared_oversized_body_is_413(small_body_client: httpx.AsyncClient) -> None:
    response = await small_body_client.post("/sessions", json={"session_state": {"blob": "x" * 2000}})

    assert response.status_code == 413
    assert "1000 bytes" in response.json()["detail"]


async def test_streamed_oversized_body_is_413(small_body_client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"session_state": {"blob": "'
        for _ in range(20):
            yield b"x" * 100
        yield b'"}}'

    # A generator body is sent chunked, without Content-Length: the limit is enforced as it streams.
    response = await small_body_client.post(
        "/sessions", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert response.json()["detail"].startswith("Request body too large")


async def test_body_under_the_limit_passes(small_body_client: httpx.AsyncClient) -> None:
    response = await small_body_client.post("/sessions", json={"session_state": {"blob": "x" * 100}})

    assert response.status_code == 201


async def test_malformed_json_is_422_in_fastapi_shape(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.patch(
        "/sessions/s1", content=b'{"session_name": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


def _failing(error: BaseException) -> Any:
    def fail(*args: object, **kwargs: object) -> Any:
        raise error

    return fail


@pytest.mark.parametrize(
    ("error", "status_code"),
    [
        (StoreUnavailable("connection refused"), 503),
        (SchemaNotReady("run `sessiondb migrate`"), 503),
        (InvalidQuery("session_name", "too long"), 422),
        (SessionOwnedByAnotherUser("s1"), 409),
        (SessionDeleted("s1"), 404),
        (StoreError("something new"), 500),
    ],
)
async def test_domain_errors_map_to_their_status(
    memory_store: InMemoryDb, memory_client: httpx.AsyncClient, error: StoreError, status_code: int
) -> None:
    memory_store.get_sessions = _failing(error)  # type: ignore[method-assign]

    response = await memory_client.get("/sessions")

    assert response.status_code == status_code
    assert "detail" in response.json()
    if status_code in (404, 409):
        assert response.json()["detail"] == str(error)


async def test_unavailable_database_says_so_and_asks_to_retry(
    memory_store: InMemoryDb, memory_client: httpx.AsyncClient
) -> None:
    memory_store.get_sessions = _failing(StoreUnavailable("connection refused"))  # type: ignore[method-assign]

    response = await memory_client.get("/sessions")

    assert response.json() == {"detail": "Database unavailable: connection refused. Retry later."}
    assert response.headers["retry-after"] == "5"


async def test_invalid_query_names_the_field(
    memory_store: InMemoryDb, memory_client: httpx.AsyncClient
) -> None:
    memory_store.get_sessions = _failing(InvalidQuery("session_name", "too long"))  # type: ignore[method-assign]

    response = await memory_client.get("/sessions")

    assert response.json()["detail"] == [
        {"type": "value_error", "loc": ["query", "session_name"], "msg": "too long", "input": None}
    ]


async def test_unexpected_error_is_500_without_its_message(
    memory_store: InMemoryDb, memory_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    memory_store.get_session = _failing(RuntimeError("secret connection string"))  # type: ignore[method-assign]

    response = await memory_client.get("/sessions/s1")
    after = await memory_client.get("/sessions")

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error (RuntimeError)"}
    assert "secret connection string" in caplog.text  # logged for the operator, not sent
    assert after.status_code == 200  # and the server keeps serving


async def test_catch_all_leaves_a_started_response_alone() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("mid-stream")

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    with pytest.raises(RuntimeError, match="mid-stream"):
        await CatchAllMiddleware(app)({"type": "http"}, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]


async def test_owned_by_another_user_is_409_for_unscoped_callers(
    memory_store: InMemoryDb, memory_client: httpx.AsyncClient
) -> None:
    seed_agent_session(memory_store, "s1")
    memory_store.update_session = _failing(SessionOwnedByAnotherUser("s1"))  # type: ignore[method-assign]

    response = await memory_client.patch("/sessions/s1", json={"session_name": "x"})

    assert response.status_code == 409
    assert "another user" in response.json()["detail"]
