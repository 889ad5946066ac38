"""With JWT on, no read, list, rename, update or delete crosses users, by any route.

Every row of the matrix is one way alice may try to reach bob's data: by session id, by a
filter, by bulk delete, through a run endpoint, through a run id of another session, in the
second database (``db_id``) or by table. It runs against every backend. Afterwards bob's
sessions are exactly as they were: same version (nothing was written), same runs.

``tests/api/test_auth.py`` holds the basic cases against one in-memory store; this is the
exhaustive version.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client

from sessiondb.agent import Agent
from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.api.registry import session_table_of
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.models import TestModel

SECRET = "isolation-matrix-secret-long-enough-for-hs256"
SCOPES = ["sessions:read", "sessions:write", "sessions:delete", "agents:read", "agents:run"]
BOB_SECRET = "bob's secret plans"
TOKEN_LIFETIME_S = 6 * 3600
"""Long enough for any run of the suite: ``ALICE`` is made once, when the module is collected,
and a loaded machine once took 24 minutes to reach these tests (a 10-minute token expired)."""


def bearer(sub: str, scopes: list[str] | None = None) -> dict[str, str]:
    claims = {"sub": sub, "scopes": scopes or SCOPES, "exp": int(time.time()) + TOKEN_LIFETIME_S}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


ALICE = bearer("alice")


@dataclass
class World:
    """Two databases, each with one session of alice and one of bob, and a client."""

    client: httpx.AsyncClient
    main: SessionStore
    second: SessionStore

    def params(self, db: str) -> dict[str, str]:
        """Query parameters naming database ``db`` (and its table, when it has one)."""
        params = {"db_id": db}
        table = session_table_of(self.main if db == "main" else self.second)
        if table is not None:
            params["table"] = table
        return params


@pytest.fixture
async def world(store: SessionStore) -> AsyncIterator[World]:
    second = InMemoryDb(id="second")
    for db in (store, second):
        seed_agent_session(db, "s-alice", user_id="alice", runs=[agent_run("ra", "alice's question")])
        seed_agent_session(db, "s-bob", user_id="bob", runs=[agent_run("rb", BOB_SECRET)])
    agent = Agent(id="helper", name="Helper", model=TestModel(reply="ok"), db=store)
    app = create_app(
        dbs={"main": store, "second": second}, agents=[agent], auth=AuthConfig(jwt=JwtConfig(key=SECRET))
    )
    async for client in asgi_client(app):
        yield World(client, store, second)


Attempt = Callable[[World, dict[str, str]], Awaitable[list[httpx.Response]]]


async def _read(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    return [
        await c.get("/sessions/s-bob", params=p, headers=ALICE),
        await c.get("/sessions/s-bob", params={**p, "user_id": "bob"}, headers=ALICE),
        await c.get("/sessions/s-bob", params={**p, "type": "agent"}, headers=ALICE),
        await c.get("/sessions/s-bob/runs", params=p, headers=ALICE),
        await c.get("/sessions/s-bob/run-previews", params=p, headers=ALICE),
        await c.get("/sessions/s-bob/runs/rb", params=p, headers=ALICE),
        # bob's run addressed through alice's own session
        await c.get("/sessions/s-alice/runs/rb", params=p, headers=ALICE),
    ]


async def _list(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    listings = [
        await c.get("/sessions", params=p, headers=ALICE),
        await c.get("/sessions", params={**p, "user_id": "bob"}, headers=ALICE),
        await c.get("/sessions", params={**p, "session_name": BOB_SECRET}, headers=ALICE),
        await c.get("/sessions", params={**p, "component_id": "agent-1", "type": "agent"}, headers=ALICE),
        await c.get("/sessions", params={**p, "sort_by": "session_name", "limit": 1}, headers=ALICE),
    ]
    # Walk every page by cursor: still only alice's.
    cursor = listings[-1].json()["meta"]["next_cursor"]
    while cursor:
        page = await c.get(
            "/sessions", params={**p, "sort_by": "session_name", "limit": 1, "cursor": cursor}, headers=ALICE
        )
        listings.append(page)
        cursor = page.json()["meta"]["next_cursor"]
    for listing in listings:
        assert listing.status_code == 200, listing.text
        assert {s["session_id"] for s in listing.json()["data"]} <= {"s-alice"}
        assert listing.json()["meta"]["total_count"] <= 1
    return listings


async def _search(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    found = [
        await c.get("/search", params={**p, "q": "secret plans"}, headers=ALICE),
        await c.get("/search", params={**p, "q": "secret plans", "user_id": "bob"}, headers=ALICE),
        await c.get(
            "/search", params={**p, "q": "secr*", "type": "agent", "component_id": "agent-1"}, headers=ALICE
        ),
    ]
    for response in found:
        assert response.status_code == 200, response.text
        assert response.json()["data"] == []
    return found


async def _rename(w: World, p: dict[str, str]) -> list[httpx.Response]:
    return [
        await w.client.post("/sessions/s-bob/rename", params=p, json={"session_name": "pwned"}, headers=ALICE)
    ]


async def _update(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    body = {"session_name": "pwned", "session_state": {"owned": True}, "metadata": {"by": "alice"}}
    return [
        await c.patch("/sessions/s-bob", params=p, json=body, headers=ALICE),
        await c.patch("/sessions/s-bob", params={**p, "user_id": "bob"}, json=body, headers=ALICE),
        await c.patch("/sessions/s-bob", params=p, json=body, headers={**ALICE, "If-Match": '"1"'}),
    ]


async def _delete(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    return [
        await c.delete("/sessions/s-bob", params=p, headers=ALICE),
        await c.delete("/sessions/s-bob", params={**p, "user_id": "bob"}, headers=ALICE),
        await c.delete("/sessions/s-bob", params=p, headers={**ALICE, "If-Match": '"1"'}),
    ]


async def _bulk_delete(w: World, p: dict[str, str]) -> list[httpx.Response]:
    body = {"session_ids": ["s-bob", "s-alice"], "session_types": ["agent", "agent"]}
    response = await w.client.request(
        "DELETE", "/sessions", params={**p, "user_id": "bob"}, json=body, headers=ALICE
    )
    assert response.status_code == 204
    # alice's own session went; bob's stayed (checked after every attempt).
    assert (await w.client.get("/sessions/s-alice", params=p, headers=ALICE)).status_code == 404
    return [response]


async def _create_over(w: World, p: dict[str, str]) -> list[httpx.Response]:
    body = {"session_id": "s-bob", "user_id": "alice", "session_name": "pwned"}
    return [await w.client.post("/sessions", params={"db_id": p["db_id"]}, json=body, headers=ALICE)]


async def _run_into(w: World, p: dict[str, str]) -> list[httpx.Response]:
    if p["db_id"] != "main":
        return []  # the agent stores into its own database, the main one
    c = w.client
    return [
        await c.post(
            "/agents/helper/runs",
            data={"message": "mine now", "stream": "false", "session_id": "s-bob"},
            headers=ALICE,
        ),
        await c.post(
            "/agents/helper/runs",
            data={"message": "as bob", "stream": "false", "session_id": "s-bob", "user_id": "bob"},
            headers=ALICE,
        ),
        await c.post(
            "/agents/helper/runs", data={"message": "streamed", "session_id": "s-bob"}, headers=ALICE
        ),
    ]


async def _export_import(w: World, p: dict[str, str]) -> list[httpx.Response]:
    # Export and import act on every user's sessions, so they are an admin's only (issue 18).
    c = w.client
    line = b'{"session_id":"s-bob","session_type":"agent","user_id":"bob","metadata":{"by":"alice"}}'
    body = b'{"format":"sessiondb-export","format_version":1}\n' + line + b"\n"
    ndjson = {**ALICE, "content-type": "application/x-ndjson"}
    return [
        await c.get("/export", params=p, headers=ALICE),
        await c.get("/export", params={**p, "user_id": "bob"}, headers=ALICE),
        await c.post("/import", params={**p, "on_conflict": "replace"}, content=body, headers=ndjson),
    ]


async def _history(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    return [
        await c.get("/sessions/s-bob/history", params={**p, "max_tokens": "10000"}, headers=ALICE),
        await c.get(
            "/sessions/s-bob/history", params={**p, "max_tokens": "10000", "user_id": "bob"}, headers=ALICE
        ),
    ]


async def _fork(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    responses = [
        await c.post("/sessions/s-bob/fork", params=p, json={"session_id": "stolen"}, headers=ALICE),
        await c.post("/sessions/s-bob/fork", params={**p, "user_id": "bob"}, headers=ALICE),
    ]
    if p["db_id"] == "main":  # the agent stores into the main database
        path = "/agents/helper/sessions/s-bob/fork"
        responses.append(await c.post(path, params={"user_id": "bob"}, headers=ALICE))
    assert (await c.get("/sessions", params=p, headers=ALICE)).json()["meta"]["total_count"] == 1
    return responses


async def _list_metadata(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    return [
        await c.get("/sessions", params={**p, "metadata": "{}", "user_id": "bob"}, headers=ALICE),
        await c.get("/sessions", params={**p, "metadata": '{"by": "alice"}'}, headers=ALICE),
    ]


async def _console(w: World, p: dict[str, str]) -> list[httpx.Response]:
    # The web console authenticates as the API does (here with the same bearer header).
    c, q = w.client, {"db_id": p["db_id"]}
    pages = [
        await c.get(path, params={**q, **extra}, headers=ALICE)
        for path in ("/ui/sessions/s-bob", "/ui/sessions/s-bob/delete", "/ui/sessions/s-bob/export")
        for extra in ({}, {"user": "bob"})
    ]
    posts = [
        await c.post("/ui/sessions/s-bob/rename", params=q, data={"session_name": "pwned"}, headers=ALICE),
        await c.post("/ui/sessions/s-bob/fork", params={**q, "user": "bob"}, headers=ALICE),
    ]
    for response in pages + posts:
        assert response.status_code == 404, (response.request.url, response.text)
    deleted = await c.post("/ui/sessions/s-bob/delete", params={**q, "user": "bob"}, headers=ALICE)
    assert deleted.status_code == 303  # as DELETE /sessions/{id}: nothing of alice's to delete
    listing = await c.get("/ui", params={**q, "user": "bob"}, headers=ALICE)
    assert listing.status_code == 200 and "s-alice" in listing.text and "s-bob" not in listing.text
    return [*pages, *posts, deleted, listing]


async def _trash(w: World, p: dict[str, str]) -> list[httpx.Response]:
    c = w.client
    restores = [
        await c.post("/sessions/s-bob/restore", params=p, headers=ALICE),
        await c.post("/sessions/s-bob/restore", params={**p, "user_id": "bob"}, headers=ALICE),
    ]
    listing = await c.get("/sessions", params={**p, "deleted": "true", "user_id": "bob"}, headers=ALICE)
    assert listing.status_code == 200 and listing.json()["data"] == []
    # The same through the web console (tests/console/test_console_trash.py has bob's session
    # in the trash itself).
    q = {"db_id": p["db_id"]}
    restores += [
        await c.post("/ui/sessions/s-bob/restore", params={**q, **extra}, headers=ALICE)
        for extra in ({}, {"user": "bob"})
    ]
    page = await c.get("/ui", params={**q, "deleted": "true", "user": "bob"}, headers=ALICE)
    assert page.status_code == 200 and "s-bob" not in page.text
    # GET /changes is a stream: its isolation is tested over a real server (test_changes_feed.py).
    return restores


ATTEMPTS: dict[str, tuple[Attempt, set[int]]] = {
    "read": (_read, {404}),
    "list": (_list, {200}),
    "search": (_search, {200}),
    "rename": (_rename, {404}),
    "update": (_update, {404, 412}),
    "delete": (_delete, {204, 412}),
    "bulk-delete": (_bulk_delete, {204}),
    "create-over": (_create_over, {409}),
    "run-endpoint": (_run_into, {404}),
    "export-import": (_export_import, {403}),
    "history": (_history, {404}),
    "fork": (_fork, {404}),
    "list-metadata": (_list_metadata, {200}),
    "console": (_console, {200, 303, 404}),
    "trash": (_trash, {404}),
}


def _bob_as_stored(db: SessionStore) -> tuple[Any, ...]:
    session = db.get_session("s-bob")
    runs = [(run.run_id, run.content) for run in db.get_runs("s-bob")]
    return session.user_id, session.version, session.session_data, session.metadata, runs


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
@pytest.mark.parametrize("db", ["main", "second"])
async def test_alice_cannot_reach_bobs_session(world: World, attempt: str, db: str) -> None:
    before = {name: _bob_as_stored(store) for name, store in (("main", world.main), ("second", world.second))}
    run, allowed = ATTEMPTS[attempt]

    responses = await run(world, world.params(db))

    for response in responses:
        assert response.status_code in allowed, (attempt, response.request.url, response.text)
        assert BOB_SECRET not in response.text
        assert "another user" not in response.text
    assert {
        name: _bob_as_stored(store) for name, store in (("main", world.main), ("second", world.second))
    } == before


async def test_the_matrix_is_not_vacuous_bob_reaches_his_own(world: World) -> None:
    bob = bearer("bob")
    for db in ("main", "second"):
        p = world.params(db)
        read = await world.client.get("/sessions/s-bob/runs/rb", params=p, headers=bob)
        renamed = await world.client.post(
            "/sessions/s-bob/rename", params=p, json={"session_name": "mine"}, headers=bob
        )
        listed = await world.client.get("/sessions", params=p, headers=bob)
        searched = await world.client.get("/search", params={**p, "q": "secret plans"}, headers=bob)

        assert BOB_SECRET in read.text
        assert renamed.status_code == 200
        assert [s["session_id"] for s in listed.json()["data"]] == ["s-bob"]
        assert [hit["run_id"] for hit in searched.json()["data"]] == ["rb"]
    ran = await world.client.post(
        "/agents/helper/runs", data={"message": "more", "stream": "false", "session_id": "s-bob"}, headers=bob
    )
    assert ran.status_code == 200, ran.text
    runs = world.main.get_runs("s-bob")
    assert len(runs) == 2 and runs[0].run_id == "rb"
