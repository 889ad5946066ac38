"""Auth on the runtime endpoints: security key, AgentOS scopes, and JWT user isolation of runs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from api_support import asgi_client
from run_support import Hosted, parse_sse

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.memory import InMemoryDb

SECRET = "run-endpoints-secret-long-enough-for-hs256"
KEY = "run-endpoints-key"
AUTH = AuthConfig(security_key=KEY, jwt=JwtConfig(key=SECRET))


def bearer(sub: str | None, *scopes: str) -> dict[str, str]:
    """Headers with an HS256 token for ``sub`` holding ``scopes``."""
    claims: dict[str, object] = {"exp": int(time.time()) + 300, "scopes": list(scopes)}
    if sub is not None:
        claims["sub"] = sub
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


RUNNER = ("agents:run", "sessions:read")


@pytest.fixture
async def auth_client(hosted: Hosted) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the runtimes of ``hosted`` (every backend) with auth on."""
    async for c in asgi_client(create_app(**hosted.app_options(), auth=AUTH)):
        yield c


@pytest.fixture
async def memory_auth_client() -> AsyncIterator[httpx.AsyncClient]:
    """The same over an in-memory store, for checks that never reach the store."""
    async for c in asgi_client(create_app(**Hosted(InMemoryDb(id="main")).app_options(), auth=AUTH)):
        yield c


async def test_security_key_is_required(memory_auth_client: httpx.AsyncClient) -> None:
    client = memory_auth_client
    for method, path in (
        ("GET", "/agents"),
        ("GET", "/teams/research-team"),
        ("POST", "/workflows/draft/runs"),
    ):
        response = await client.request(method, path, data={"message": "hi"} if method == "POST" else None)
        assert response.status_code == 401, path
        assert response.json() == {"detail": "Authorization header required"}
    wrong = await client.get("/agents", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401

    ok = await client.post(
        "/agents/helper/runs",
        data={"message": "hi", "stream": "false"},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert ok.status_code == 200 and ok.json()["content"] == "echo: hi"


async def test_running_needs_the_run_scope_of_its_kind(memory_auth_client: httpx.AsyncClient) -> None:
    client = memory_auth_client
    form = {"message": "hi", "stream": "false"}
    session_writer = bearer("alice", "sessions:read", "sessions:write")
    denied = await client.post("/agents/helper/runs", data=form, headers=session_writer)
    assert denied.status_code == 403
    assert denied.json() == {"detail": "Insufficient permissions: requires 'agents:run'"}
    # The scope is checked before the form: a caller without it learns nothing more.
    assert (await client.post("/agents/helper/runs", data={}, headers=session_writer)).status_code == 403
    team_runner = bearer("alice", "teams:run")
    assert (await client.post("/agents/helper/runs", data=form, headers=team_runner)).status_code == 403
    assert (await client.post("/teams/research-team/runs", data=form, headers=team_runner)).status_code == 200

    assert (
        await client.post("/agents/helper/runs", data=form, headers=bearer("alice", *RUNNER))
    ).status_code == 200


async def test_per_runtime_and_wildcard_scopes(memory_auth_client: httpx.AsyncClient) -> None:
    client = memory_auth_client
    form = {"message": "hi", "stream": "false"}
    one = bearer("alice", "agents:helper:run", "agents:helper:read")
    assert (await client.post("/agents/helper/runs", data=form, headers=one)).status_code == 200
    assert (await client.post("/agents/broken/runs", data=form, headers=one)).status_code == 403
    listed = await client.get("/agents", headers=one)
    assert [agent["id"] for agent in listed.json()] == ["helper"]
    assert (await client.get("/agents/broken", headers=one)).status_code == 403

    every = bearer("alice", "agents:*:read")
    assert [a["id"] for a in (await client.get("/agents", headers=every)).json()] == ["helper", "broken"]
    assert (await client.get("/agents", headers=bearer("alice", "agents:run"))).status_code == 403


async def test_a_user_cannot_run_into_another_users_session(
    auth_client: httpx.AsyncClient, hosted: Hosted
) -> None:
    alice, bob = bearer("alice", *RUNNER), bearer("bob", *RUNNER)
    # A non-admin caller always runs as itself, whatever user_id it sends.
    mine = await auth_client.post(
        "/agents/helper/runs",
        data={"message": "secret", "stream": "false", "session_id": "s-alice", "user_id": "mallory"},
        headers=alice,
    )
    assert mine.status_code == 200 and mine.json()["user_id"] == "alice"

    for stream in ("false", "true"):
        stolen = await auth_client.post(
            "/agents/helper/runs",
            data={"message": "append", "stream": stream, "session_id": "s-alice", "user_id": "alice"},
            headers=bob,
        )
        assert stolen.status_code == 404, stolen.text
        assert stolen.json() == {"detail": "Session with id 's-alice' not found"}

    session = hosted.store.get_session("s-alice")
    assert session.user_id == "alice"
    assert [run.input.input_content for run in session.runs or [] if run.input] == ["secret"]
    bobs = await auth_client.get("/sessions", headers=bob)
    assert bobs.json()["meta"]["total_count"] == 0


async def test_an_admin_may_run_for_any_user(auth_client: httpx.AsyncClient, hosted: Hosted) -> None:
    alice = bearer("alice", *RUNNER)
    first = await auth_client.post(
        "/agents/helper/runs", data={"message": "one", "session_id": "s-a"}, headers=alice
    )
    assert parse_sse(first.text)[-1].event == "RunCompleted"

    admin = bearer("root", "agent_os:admin")
    second = await auth_client.post(
        "/agents/helper/runs",
        data={"message": "two", "stream": "false", "session_id": "s-a", "user_id": "alice"},
        headers=admin,
    )
    assert second.status_code == 200 and second.json()["user_id"] == "alice"
    assert len(hosted.store.get_runs("s-a")) == 2
