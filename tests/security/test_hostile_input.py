"""Hostile input on every backend: SQL injection, path-like and unicode ids, huge and deep values.

Each attack goes through the HTTP API to a real store (memory, a SQLite file, a PostgreSQL
schema). Every answer must be a 2xx or a 4xx, the data must be untouched, and a filter must
match its value literally, never as SQL or as a pattern.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client

from sessiondb.api import create_app
from sessiondb.api.field_limits import FieldLimits
from sessiondb.db.base import SessionStore
from sessiondb.db.query import SessionQuery
from sessiondb.session import AgentSession

INJECTIONS = [
    "' OR '1'='1",
    "x' OR 1=1 --",
    "'; DROP TABLE sessiondb_sessions; --",
    '"; DROP SCHEMA public CASCADE; --',
    "' UNION SELECT session_id, session_data FROM sessiondb_sessions --",
    "%",
    "_",
    "%' OR '%'='",
    "\\",
    "\\'; --",
    "1; SELECT pg_sleep(5)",
    "$$; DROP TABLE sessiondb_sessions_runs; $$",
    "sessiondb_sessions.user_id",
    "\x00",
]

UNICODE_IDS = [
    "会话-🚀",
    "é",  # precomposed
    "e\u0301",  # e + combining acute: a different id
    "\u202eevil.txt",  # right-to-left override
    "zero\u200bwidth",
    " spaced ",
    "tab\tand\nnewline",
    "%41",  # not the same id as "A"
    "A",
    "a?b=c&d",
    "a#fragment",
    "a+b c",
    "__proto__",
    "'; DROP TABLE sessiondb_sessions; --",
    "ŝ" * 255,
]


@pytest.fixture
async def client(store: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """The API over a store seeded with one session of alice (with runs) and one of bob."""
    seed_agent_session(store, "s-alice", user_id="alice", runs=[agent_run("ra", "alpha")])
    seed_agent_session(store, "s-bob", user_id="bob", runs=[agent_run("rb", "beta")])
    async for c in asgi_client(create_app(dbs=[store])):
        yield c


def _untouched(store: SessionStore) -> None:
    page = store.get_sessions(SessionQuery(sort_by="session_name", sort_order="asc"))
    assert [(s.session_id, s.get_session_name()) for s in page.items] == [
        ("s-alice", "alpha"),
        ("s-bob", "beta"),
    ]
    assert [run.run_id for run in store.get_runs("s-alice")] == ["ra"]
    assert [run.run_id for run in store.get_runs("s-bob")] == ["rb"]


def _ok_or_client_error(response: httpx.Response, *allowed: int) -> None:
    assert response.status_code < 500, response.text
    if allowed:
        assert response.status_code in allowed, response.text


# -- SQL injection -----------------------------------------------------------------------------
# One store per test, every payload in a loop: the attacks are cheap, a fresh database is not.


@pytest.mark.parametrize("param", ["user_id", "component_id", "session_name"])
async def test_list_filters_match_injections_literally(
    store: SessionStore, client: httpx.AsyncClient, param: str
) -> None:
    for payload in INJECTIONS:
        response = await client.get("/sessions", params={param: payload})

        # A NUL is refused on every backend (PostgreSQL cannot hold it; SQLite's LIKE stops at it).
        _ok_or_client_error(response, 422 if "\x00" in payload else 200)
        if response.status_code == 200:
            assert response.json()["data"] == [], payload
            assert response.json()["meta"]["total_count"] == 0
    _untouched(store)


async def test_typed_list_parameters_refuse_injections(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    for param in [
        "type",
        "sort_by",
        "sort_order",
        "cursor",
        "created_after",
        "created_before",
        "limit",
        "page",
    ]:
        for payload in INJECTIONS:
            _ok_or_client_error(await client.get("/sessions", params={param: payload}), 422)
    _untouched(store)


async def test_database_and_table_selectors_refuse_injections(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    for payload in INJECTIONS:
        _ok_or_client_error(await client.get("/sessions", params={"db_id": payload}), 404)
        _ok_or_client_error(await client.get("/sessions", params={"db_id": store.id, "table": payload}), 404)
    _untouched(store)


async def test_ids_in_paths_and_bodies_name_only_themselves(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    for payload in INJECTIONS:
        path = f"/sessions/{quote(payload, safe='')}"
        responses = [
            await client.get(path),
            await client.get(path, params={"user_id": payload}),
            await client.get(f"{path}/runs"),
            await client.get(f"{path}/run-previews"),
            await client.get(f"/sessions/s-alice/runs/{quote(payload, safe='')}"),
            await client.get("/sessions/s-alice/runs", params={"status": payload}),
            await client.patch(path, json={"session_name": payload}),
            await client.post(f"{path}/rename", json={"session_name": payload}),
        ]
        deleted = await client.delete(path)
        bulk = await client.request(
            "DELETE", "/sessions", json={"session_ids": [payload], "session_types": ["agent"]}
        )

        for response in responses:
            _ok_or_client_error(response, 400, 404, 422)
        _ok_or_client_error(deleted, 204, 422)
        _ok_or_client_error(bulk, 204, 422)
    _untouched(store)


async def test_injections_stored_as_values_come_back_verbatim(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    for number, payload in enumerate(INJECTIONS):
        body = {"session_name": payload, "session_state": {payload: payload}, "metadata": {"note": payload}}
        session_id = f"stored-{number}"

        created = await client.post("/sessions", json={"session_id": session_id, "user_id": "carol", **body})

        if "\x00" in payload and created.status_code == 422:
            continue  # PostgreSQL's refusal of NUL, reported as the caller's error
        assert created.status_code == 201, created.text
        detail = (await client.get(f"/sessions/{session_id}")).json()
        assert (detail["session_name"], detail["session_state"], detail["metadata"]) == (
            payload,
            {payload: payload},
            {"note": payload},
        )
        if "\x00" not in payload:
            listed = await client.get("/sessions", params={"user_id": "carol", "session_name": payload})
            assert session_id in [s["session_id"] for s in listed.json()["data"]]


# -- path-like and unicode ids -------------------------------------------------------------------


async def test_unicode_and_odd_ids_round_trip_through_every_endpoint(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    for session_id in UNICODE_IDS:
        path = f"/sessions/{quote(session_id, safe='')}"

        created = await client.post("/sessions", json={"session_id": session_id, "agent_id": "agent-1"})
        store.upsert_run(session_id, agent_run(f"run-of-{session_id}", "hi"))
        read = await client.get(path)
        renamed = await client.post(f"{path}/rename", json={"session_name": session_id})
        runs = await client.get(f"{path}/runs")
        one_run = await client.get(f"{path}/runs/{quote(f'run-of-{session_id}', safe='')}")
        listed = await client.get("/sessions", params={"session_name": session_id})
        deleted = await client.delete(path)
        gone = await client.get(path)

        assert created.status_code == 201, created.text
        assert created.headers["location"] == path
        assert read.json()["session_id"] == session_id
        assert renamed.json()["session_name"] == session_id
        assert [r["run_id"] for r in runs.json()] == [f"run-of-{session_id}"]
        assert one_run.json()["run_id"] == f"run-of-{session_id}"
        assert session_id in [s["session_id"] for s in listed.json()["data"]]
        assert deleted.status_code == 204 and gone.status_code == 404
    _untouched(store)


async def test_lookalike_ids_stay_distinct(store: SessionStore, client: httpx.AsyncClient) -> None:
    pairs = [("é", "e\u0301"), ("A", "%41"), ("a", "A"), ("x", "x ")]
    for first, second in pairs:
        await client.post("/sessions", json={"session_id": first, "session_name": f"name of {first!r}"})
        await client.post("/sessions", json={"session_id": second, "session_name": f"name of {second!r}"})

    for session_id in {value for pair in pairs for value in pair}:
        detail = (await client.get(f"/sessions/{quote(session_id, safe='')}")).json()
        assert detail["session_name"] == f"name of {session_id!r}"


async def test_a_path_like_id_stored_by_a_runtime_is_never_taken_for_another(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    path_like = ["x/runs", "a/b", "../s-alice", "s-alice/runs"]
    for session_id in path_like:
        # The API refuses to create such ids; a runtime writing straight to the store does not.
        store.upsert_session(AgentSession(session_id=session_id, user_id="alice"))
    for session_id in path_like:
        path = f"/sessions/{quote(session_id, safe='')}"

        responses = [await client.get(path), await client.get(f"{path}/runs"), await client.delete(path)]

        for response in responses:
            # 405 where the decoded path matches a route of another method (DELETE .../runs).
            assert response.status_code in (404, 405), (response.request.url, response.text)
    ids = {s.session_id for s in store.get_sessions(SessionQuery(limit=100)).items}
    assert ids == {"s-alice", "s-bob", *path_like}
    assert [run.run_id for run in store.get_runs("s-alice")] == ["ra"]


# -- huge and deep values -------------------------------------------------------------------------

MEGABYTES = 3


async def test_a_message_of_several_megabytes_is_stored_and_served_whole(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    # Not compressible, so PostgreSQL cannot squeeze it under its index-key limit either.
    text = "".join(f"{n:07x}" for n in range(MEGABYTES * 1024 * 1024 // 7))
    store.upsert_session(AgentSession(session_id="big", user_id="alice", agent_id="agent-1"))
    store.upsert_run("big", agent_run("huge", text))

    listed = await client.get("/sessions", params={"user_id": "alice"})
    detail = await client.get("/sessions/big")
    run = await client.get("/sessions/big/runs/huge")

    names = {s["session_id"]: s["session_name"] for s in listed.json()["data"]}
    assert text.startswith(names["big"])  # the list may show a prefix; the runs keep it all
    assert detail.json()["session_name"] == text
    assert run.json()["run_input"] == text
    assert [m["content"] for m in run.json()["messages"] if m["role"] == "user"] == [text]


async def test_a_name_of_several_megabytes_is_stored_when_the_limit_allows_it(store: SessionStore) -> None:
    name = "".join(f"{n:07x}" for n in range(MEGABYTES * 1024 * 1024 // 7))
    limits = FieldLimits(max_name_chars=len(name))
    async for client in asgi_client(create_app(dbs=[store], field_limits=limits, max_body_bytes=64 << 20)):
        created = await client.post("/sessions", json={"session_id": "named", "session_name": name})
        listed = await client.get("/sessions", params={"session_name": name[-50:]})

        assert created.status_code == 201, created.text[:300]
        assert [s["session_name"] for s in listed.json()["data"]] == [name]


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


async def test_deep_state_within_the_limit_round_trips_and_deeper_is_422(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    deep = _nested(63)

    ok = await client.patch("/sessions/s-alice", json={"session_state": deep})
    refused = await client.patch("/sessions/s-alice", json={"session_state": _nested(150)})

    assert ok.status_code == 200, ok.text
    assert refused.status_code == 422
    assert store.get_session("s-alice").session_data == {"session_state": deep}


@pytest.mark.parametrize("depth", [200, 300])
def test_a_runtime_writing_deep_state_gets_a_value_error_and_nothing_is_written(
    store: SessionStore, depth: int
) -> None:
    seed_agent_session(store, "s-alice", user_id="alice")
    session = AgentSession(session_id="deep", user_id="alice", session_data={"session_state": _nested(depth)})
    if depth == 200:
        store.upsert_session(session)
        assert store.get_session("deep").session_data == {"session_state": _nested(depth)}
        store.update_session("deep", session_state=_nested(depth + 50))
        return
    with pytest.raises(ValueError, match=r"depth|JSON"):
        store.upsert_session(session)
    with pytest.raises(ValueError, match=r"depth|JSON"):
        store.update_session("s-alice", session_state=_nested(depth))
    assert store.get_session("s-alice").session_data is None
