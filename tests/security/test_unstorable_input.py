"""Input no store can hold, and lists longer than a statement takes: a 4xx or success, never a 5xx.

Every backend, through the HTTP API: lone surrogates (``"\\ud800"``) and non-finite numbers
(``NaN``, ``1e400``) in JSON bodies, cursors holding integers past 64 bits signed, and bulk
deletes of more ids than one SQL statement may bind. Bodies are sent as raw bytes: a JSON
encoder would refuse to write these values.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from api_seed import agent_run, seed_agent_session
from api_support import asgi_client

from sessiondb.api import create_app
from sessiondb.api.schemas.sessions import MAX_BULK_DELETE_IDS
from sessiondb.db.base import SessionStore
from sessiondb.db.query import SessionQuery

JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def client(store: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """The API over a store holding session ``s`` (one run) of alice."""
    seed_agent_session(store, "s", user_id="alice", runs=[agent_run("r1", "hello")])
    async for c in asgi_client(create_app(dbs=[store])):
        yield c


def _names_field(response: httpx.Response, *loc: str | int) -> None:
    assert response.status_code == 422, response.text
    assert [item["loc"] for item in response.json()["detail"]] == [["body", *loc]]


SURROGATE_BODIES = [
    ("POST", "/sessions", b'{"session_id": "s\\ud800"}', ("session_id",)),
    ("POST", "/sessions", b'{"session_name": "n\\udfff"}', ("session_name",)),
    ("POST", "/sessions", b'{"session_state": {"k": ["ok", "v\\ud800"]}}', ("session_state", "k", 1)),
    ("POST", "/sessions", b'{"metadata": {"\\ud800": 1}}', ("metadata",)),
    ("PATCH", "/sessions/s", b'{"session_state": {"k": "v\\ud800"}}', ("session_state", "k")),
    ("PATCH", "/sessions/s", b'{"session_name": "\\ud800"}', ("session_name",)),
    ("POST", "/sessions/s/rename", b'{"session_name": "x\\ud800"}', ("session_name",)),
    ("DELETE", "/sessions", b'{"session_ids": ["s\\ud800"], "session_types": ["agent"]}', ("session_ids", 0)),
]


@pytest.mark.parametrize(("method", "path", "body", "loc"), SURROGATE_BODIES)
async def test_a_lone_surrogate_is_a_422_naming_the_field(
    store: SessionStore,
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: bytes,
    loc: tuple[str | int, ...],
) -> None:
    response = await client.request(method, path, content=body, headers=JSON)
    _names_field(response, *loc)
    assert "lone surrogate" in response.json()["detail"][0]["msg"]
    stored = store.get_session("s")
    assert (stored.get_session_name(), stored.session_data or {}) == ("hello", {})
    assert [session.session_id for session in store.get_sessions(SessionQuery()).items] == ["s"]


@pytest.mark.parametrize("number", [b"NaN", b"-Infinity", b"Infinity", b"1e400", b"-1e400"])
async def test_a_number_json_cannot_hold_is_a_422_and_nothing_is_stored(
    store: SessionStore, client: httpx.AsyncClient, number: bytes
) -> None:
    patch = await client.patch(
        "/sessions/s", content=b'{"session_state": {"ok": 1.5, "bad": ' + number + b"}}", headers=JSON
    )
    create = await client.post(
        "/sessions", content=b'{"session_id": "n", "metadata": {"x": [' + number + b"]}}"
    )

    _names_field(patch, "session_state", "bad")
    assert "finite" in patch.json()["detail"][0]["msg"]
    _names_field(create, "metadata", "x", 0)
    assert (store.get_session("s").session_data or {}).get("session_state") is None
    assert [session.session_id for session in store.get_sessions(SessionQuery()).items] == ["s"]


def _cursor(value: int) -> str:
    # Written by hand: orjson refuses to write integers past 64 bits unsigned, as a client need not.
    raw = f'["created_at","desc",{value},"s"]'.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("value", [2**63, 2**64 - 1, -(2**63) - 1])
async def test_a_cursor_past_64_bits_signed_is_a_422(client: httpx.AsyncClient, value: int) -> None:
    token = _cursor(value)
    response = await client.get("/sessions", params={"cursor": token})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_the_largest_cursor_value_still_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/sessions", params={"cursor": _cursor(2**63 - 1)})
    assert response.status_code == 200, response.text
    assert [item["session_id"] for item in response.json()["data"]] == ["s"]


# -- the last page of a cursor walk ------------------------------------------------------------


@pytest.mark.parametrize("count", [4, 5, 6])
async def test_a_cursor_walk_ends_on_its_last_page_even_when_that_page_is_full(
    store: SessionStore, client: httpx.AsyncClient, count: int
) -> None:
    for n in range(1, count):
        seed_agent_session(store, f"t{n}", created_at=1_700_000_000 + n)
    seen: list[str] = []
    pages = 0
    params: dict[str, str | int] = {"limit": 2, "sort_by": "created_at"}
    while True:
        body = (await client.get("/sessions", params=params)).json()
        pages += 1
        seen += [item["session_id"] for item in body["data"]]
        assert body["data"], "a next_cursor led to an empty page"
        if body["meta"]["next_cursor"] is None:
            break
        params["cursor"] = body["meta"]["next_cursor"]
    assert sorted(seen) == sorted(["s", *(f"t{n}" for n in range(1, count))])
    assert pages == -(-count // 2)


async def test_a_page_by_number_past_the_end_has_no_cursor(client: httpx.AsyncClient) -> None:
    one = (await client.get("/sessions", params={"limit": 1})).json()
    past = (await client.get("/sessions", params={"limit": 1, "page": 2})).json()
    assert (len(one["data"]), one["meta"]["next_cursor"]) == (1, None)
    assert (past["data"], past["meta"]["next_cursor"]) == ([], None)


# -- bulk delete of more ids than one statement binds ---------------------------------------------


@pytest.mark.parametrize("count", [MAX_BULK_DELETE_IDS + 1, 65_536, 300_000])
async def test_a_bulk_delete_over_the_limit_is_a_422_naming_it(
    store: SessionStore, client: httpx.AsyncClient, count: int
) -> None:
    body = orjson.dumps({"session_ids": ["s"] * count, "session_types": ["agent"] * count})
    response = await client.request("DELETE", "/sessions", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert errors[0]["loc"] == ["body", "session_ids"]
    assert f"at most {MAX_BULK_DELETE_IDS} items" in errors[0]["msg"]
    assert errors[0]["input"] is None  # not echoed back: megabytes, for nothing
    assert store.get_session("s").session_id == "s"


async def test_a_bulk_delete_at_the_limit_succeeds(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "keep")
    ids = [f"id-{n}" for n in range(MAX_BULK_DELETE_IDS)]
    ids[-1] = "s"
    body = orjson.dumps({"session_ids": ids, "session_types": ["agent"] * len(ids)})
    response = await client.request("DELETE", "/sessions", content=body, headers=JSON)
    assert response.status_code == 204, response.text
    assert [session.session_id for session in store.get_sessions(SessionQuery()).items] == ["keep"]


def test_the_store_deletes_more_ids_than_one_statement_may_bind(store: SessionStore) -> None:
    # 65,536: over SQLite's 32,766 parameters and PostgreSQL's 65,535 per statement.
    for session_id in ("a", "m", "z"):
        seed_agent_session(store, session_id, runs=[agent_run(f"run-{session_id}", "hi")])
    ids = [f"id-{n:05}" for n in range(65_533)] + ["a", "z", "a"]
    assert store.delete_sessions(ids) == 2
    assert [session.session_id for session in store.get_sessions(SessionQuery()).items] == ["m"]
    assert [run.run_id for run in store.get_runs("m")] == ["run-m"]
