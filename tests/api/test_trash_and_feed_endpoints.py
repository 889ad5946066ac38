"""``GET /sessions?deleted=true``, ``POST /sessions/{id}/restore`` and the checks ``GET /changes``
makes before it streams, on an in-process app over a store with soft delete."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import jwt
import pytest
from api_support import asgi_client

from sessiondb.api import create_app
from sessiondb.api.auth import AuthConfig, JwtConfig
from sessiondb.db.changes import Changes
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.memory import InMemoryDb
from sessiondb.session import AgentSession

SECRET = "trash-test-secret-with-enough-bytes-for-hs256"


def _as(
    sub: str, scopes: tuple[str, ...] = ("sessions:read", "sessions:write", "sessions:delete")
) -> dict[str, str]:
    claims = {"sub": sub, "exp": int(time.time()) + 300, "scopes": list(scopes)}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    store = InMemoryDb(soft_delete=timedelta(days=7))
    app = create_app(store, auth=AuthConfig(jwt=JwtConfig(key=SECRET)))
    async for http in asgi_client(app):
        yield http


async def test_a_deleted_session_is_listed_in_the_trash_and_restored_with_its_history(
    client: httpx.AsyncClient,
) -> None:
    alice = _as("alice")
    created = await client.post(
        "/sessions",
        json={"session_id": "s1", "session_state": {"step": 3}, "metadata": {"k": "v"}},
        headers=alice,
    )
    assert created.status_code == 201
    assert (await client.delete("/sessions/s1", headers=alice)).status_code == 204
    assert (await client.get("/sessions/s1", headers=alice)).status_code == 404
    live = await client.get("/sessions", headers=alice)
    trash = await client.get("/sessions", params={"deleted": "true"}, headers=alice)
    assert live.json()["data"] == []
    assert [item["session_id"] for item in trash.json()["data"]] == ["s1"]

    restored = await client.post("/sessions/s1/restore", headers=alice)
    assert restored.status_code == 200
    body = restored.json()
    assert (
        body["session_id"] == "s1" and body["session_state"] == {"step": 3} and body["metadata"] == {"k": "v"}
    )
    assert restored.headers["ETag"] == '"3"'
    assert (await client.get("/sessions/s1", headers=alice)).status_code == 200
    again = await client.post("/sessions/s1/restore", headers=alice)
    assert again.status_code == 404


async def test_another_user_can_neither_see_nor_restore_the_trash(client: httpx.AsyncClient) -> None:
    alice, bob = _as("alice"), _as("bob")
    await client.post("/sessions", json={"session_id": "s1"}, headers=alice)
    await client.delete("/sessions/s1", headers=alice)
    assert (await client.get("/sessions", params={"deleted": "true"}, headers=bob)).json()["data"] == []
    assert (await client.post("/sessions/s1/restore", headers=bob)).status_code == 404
    reader = _as("alice", ("sessions:read",))
    assert (await client.post("/sessions/s1/restore", headers=reader)).status_code == 403
    # A new session cannot take the id of one in the trash.
    taken = await client.post("/sessions", json={"session_id": "s1"}, headers=alice)
    assert taken.status_code == 409 and "trash" in taken.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "params", "status", "named"),
    [
        ({"Last-Event-ID": "abc"}, {}, 400, "Last-Event-ID"),
        ({"Last-Event-ID": "-5"}, {}, 400, "Last-Event-ID"),
        ({"Last-Event-ID": "99999999999999999999999"}, {}, 400, "Last-Event-ID"),
        ({}, {"after": "-1"}, 422, "after"),
        ({}, {"after": "x"}, 422, "after"),
        ({}, {"after": str(2**63)}, 422, "after"),
    ],
)
async def test_a_malformed_resume_token_is_a_clear_error_before_any_stream(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str], status: int, named: str
) -> None:
    response = await client.get("/changes", headers={**_as("alice"), **headers}, params=params)
    assert response.status_code == status
    assert named in response.text


async def test_the_deleted_flag_must_be_a_boolean(client: httpx.AsyncClient) -> None:
    response = await client.get("/sessions", params={"deleted": "maybe"}, headers=_as("alice"))
    assert response.status_code == 422 and "deleted" in response.text


async def test_a_database_outage_mid_stream_ends_the_stream_for_the_client_to_resume(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = InMemoryDb()
    store.upsert_session(AgentSession(session_id="s1", user_id="alice"))

    def unavailable(*_args: object, **_kwargs: object) -> Changes:
        raise StoreUnavailable("the database went away")

    app = create_app(store)
    async for http in asgi_client(app):
        monkeypatch.setattr(store, "changes", unavailable)
        response = await http.get("/changes", params={"after": 0})
    # The stream began (200), then ended cleanly: EventSource reconnects with Last-Event-ID.
    assert response.status_code == 200
    assert response.text == "retry: 1000\n\n"


def test_the_openapi_document_describes_the_feed_and_restore() -> None:
    document = create_app(InMemoryDb()).openapi()
    feed = document["paths"]["/changes"]["get"]
    stream = feed["responses"]["200"]["content"]["text/event-stream"]
    assert "id: 1042\nevent: run.created\n" in stream["example"]
    assert set(stream["x-event-data"]["properties"]) == {
        "session_id",
        "run_id",
        "session_type",
        "user_id",
        "version",
        "db_id",
        "at",
    }
    assert {p["name"] for p in feed["parameters"]} >= {"after", "Last-Event-ID"}
    assert "restore_session" == document["paths"]["/sessions/{session_id}/restore"]["post"]["operationId"]
