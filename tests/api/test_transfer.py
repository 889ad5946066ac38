"""``GET /export`` and ``POST /import``: the format over HTTP, admin only, never a 5xx."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import orjson
import pytest
from api_support import asgi_client

from collector_watch import watch_collector
from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.transfer import ExportFilter
from sessiondb.run import Message, RunOutput
from sessiondb.session import AgentSession

SECRET = "test-secret-that-is-long-enough-for-hs256"
NDJSON_TYPE = "application/x-ndjson; charset=utf-8"


def _sessions(count: int = 5) -> list[AgentSession]:
    sessions = []
    for k in range(count):
        session = AgentSession(
            session_id=f"s{k}", agent_id="a1", user_id=f"u{k % 2}", created_at=1_700_000_000 + k
        )
        for i in range(2):
            session.upsert_run(
                RunOutput(
                    run_id=f"s{k}-r{i}",
                    agent_id="a1",
                    status="COMPLETED",
                    messages=[
                        Message(role="user", content=f"q{i}"),
                        Message(role="assistant", content=f"a{i}"),
                    ],
                )
            )
        sessions.append(session)
    return sessions


def _ids(store: SessionStore) -> list[str]:
    return [e.session.session_id for e in store.export_sessions(ExportFilter(), limit=100)]


async def test_export_streams_the_format(store: SessionStore, client: httpx.AsyncClient) -> None:
    store.upsert_sessions(_sessions())
    response = await client.get("/export", params={"user_id": "u1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.content.splitlines()
    assert orjson.loads(lines[0])["format"] == "sessiondb-export"
    assert [orjson.loads(line)["session_id"] for line in lines[1:]] == ["s1", "s3"]
    assert all(len(orjson.loads(line)["runs"]) == 2 for line in lines[1:])


async def test_import_then_import_again(store: SessionStore, client: httpx.AsyncClient) -> None:
    source = InMemoryDb()
    source.upsert_sessions(_sessions())
    async for other in asgi_client(create_app(dbs=[source])):
        body = (await other.get("/export")).content

    async def chunks() -> AsyncIterator[bytes]:
        # Lines split across chunks, as a client streaming a file sends them.
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    response = await client.post(
        "/import", content=chunks(), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "sessions_read": 5,
        "created": 5,
        "replaced": 0,
        "unchanged": 0,
        "skipped": 0,
        "runs_written": 10,
    }
    again = await client.post("/import", content=body)
    assert again.json()["unchanged"] == 5 and again.json()["runs_written"] == 0
    assert [m.content for m in store.get_session("s3").get_messages()] == ["q0", "a0", "q1", "a1"]


async def test_an_import_decodes_with_the_collector_paused(
    store: SessionStore, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = watch_collector(monkeypatch)
    response = await client.post("/import", content=await _export_body(3))
    assert response.status_code == 200, response.text
    assert seen == [False, False, False]
    assert gc.isenabled()


async def _export_body(count: int = 5) -> bytes:
    source = InMemoryDb()
    source.upsert_sessions(_sessions(count))
    async for other in asgi_client(create_app(dbs=[source])):
        return (await other.get("/export")).content
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"{oops", "line 3: not JSON"),
        (
            b'{"session_id": "x", "session_type": "agent", "runs": [{"run_id": 1}]}',
            "line 3: session 'x': runs",
        ),
        (b'{"session_id": "x", "session_type": "agent", "session_data": "text"}', "line 3: session 'x'"),
        (
            b'{"session_id": "x", "session_type": "agent", "runs": [{"run_id": "r", "messages": "text"}]}',
            "line 3",
        ),
        (b"\xff\xfe", "line 3: not JSON"),
    ],
)
async def test_a_malformed_line_is_a_422_naming_it_and_nothing_of_it_is_written(
    store: SessionStore, client: httpx.AsyncClient, bad: bytes, message: str
) -> None:
    lines = (await _export_body()).splitlines(keepends=True)
    body = b"".join([*lines[:2], bad + b"\n", *lines[2:]])
    response = await client.post("/import", content=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["detail"].startswith(message), payload
    assert payload["line"] == 3
    assert payload["imported"]["created"] == 1
    assert _ids(store) == ["s0"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 422, "line 1: the body is empty"),
        (b'{"session_id": "s"}\n', 422, "line 1: not a sessiondb export"),
        (b'{"format": "sessiondb-export", "format_version": 2}\n', 422, "line 1: format_version 2"),
        (b"x" * 2_000, 413, "line 1: longer than the limit of 1000 bytes"),
        (b"x" * 900 + b"\n" + b"y" * 1_500, 413, "line 2: longer than the limit of 1000 bytes"),
    ],
)
async def test_hostile_bodies_are_4xx(
    memory_store: SessionStore, body: bytes, status: int, message: str
) -> None:
    async for client in asgi_client(create_app(dbs=[memory_store], max_body_bytes=1_000)):
        response = await client.post("/import", content=body, headers={"content-type": NDJSON_TYPE})
        assert response.status_code == status, response.text
        assert response.json()["detail"].startswith(message)
    assert _ids(memory_store) == []


async def test_an_ndjson_body_may_exceed_the_body_limit_when_each_line_fits(
    memory_store: SessionStore,
) -> None:
    body = await _export_body(20)
    assert len(body) > 8_000
    async for client in asgi_client(create_app(dbs=[memory_store], max_body_bytes=8_000)):
        # Any other media type keeps the cap: the app-wide JSON screening would read it whole.
        for media_type in (None, "application/json", "text/plain"):
            headers = {"content-type": media_type} if media_type else {}
            capped = await client.post("/import", content=body, headers=headers)
            assert capped.status_code == 413, media_type
        assert _ids(memory_store) == []
        response = await client.post("/import", content=body, headers={"content-type": NDJSON_TYPE})
        assert response.status_code == 200, response.text
    assert len(_ids(memory_store)) == 20


async def test_on_conflict_fail_is_a_409(
    memory_store: SessionStore, memory_client: httpx.AsyncClient
) -> None:
    body = await _export_body(2)
    memory_store.upsert_session(AgentSession(session_id="s1", user_id="u1", agent_id="other"))
    response = await memory_client.post("/import", params={"on_conflict": "fail"}, content=body)
    assert response.status_code == 409
    assert response.json()["detail"] == "line 3: session 's1' is stored already (on_conflict='fail')"
    bad = await memory_client.post("/import", params={"on_conflict": "merge"}, content=body)
    assert bad.status_code == 422


async def test_export_filters_are_checked(memory_client: httpx.AsyncClient) -> None:
    assert (await memory_client.get("/export", params={"type": "robot"})).status_code == 422
    assert (await memory_client.get("/export", params={"since": 2**70})).status_code == 422
    assert (await memory_client.get("/export", params={"user_id": "a\x00b"})).status_code == 422


def _token(sub: str | None, scopes: list[str]) -> dict[str, str]:
    claims: dict[str, Any] = {"exp": int(time.time()) + 300, "scopes": scopes}
    if sub is not None:
        claims["sub"] = sub
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def test_export_and_import_need_an_admin_scope() -> None:
    store = InMemoryDb()
    store.upsert_sessions(_sessions())
    body = await _export_body(2)
    auth = AuthConfig(jwt=JwtConfig(key=SECRET))
    async for client in asgi_client(create_app(dbs=[store], auth=auth)):
        user = _token("u1", ["sessions:read", "sessions:write", "sessions:delete"])
        assert (await client.get("/export")).status_code == 401
        denied = await client.get("/export", headers=user)
        assert denied.status_code == 403 and "admin" in denied.json()["detail"]
        assert (await client.post("/import", content=body, headers=user)).status_code == 403
        assert (await client.post("/import", content=body)).status_code == 401
        admin = _token("root", ["sessions:admin"])
        exported = await client.get("/export", headers=admin)
        assert exported.status_code == 200 and exported.content.count(b"\n") == 6
        assert (await client.post("/import", content=body, headers=admin)).json()["sessions_read"] == 2
