"""POST /sessions/{id}/fork on every backend: the fork's detail, the cut, errors and isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_seed import agent_run, seed_agent_session
from jwt_support import headers_of, jwt_client_of

from sessiondb.db.base import SessionStore


@pytest.fixture
def seeded(store: SessionStore) -> SessionStore:
    runs = [agent_run(f"r{n}", f"question {n}") for n in range(3)]
    seed_agent_session(store, "src", runs=runs, metadata={"k": "v"}, session_data={"session_state": {"n": 1}})
    seed_agent_session(store, "bob-1", user_id="bob", runs=[agent_run("rb", "bob's")])
    return store


async def test_a_fork_answers_201_with_the_new_sessions_detail(
    seeded: SessionStore, client: httpx.AsyncClient
) -> None:
    response = await client.post("/sessions/src/fork")
    assert response.status_code == 201, response.text
    body = response.json()
    new_id = body["session_id"]
    assert new_id != "src" and response.headers["Location"] == f"/sessions/{new_id}"
    assert body["forked_from_session_id"] == "src" and "forked_from_run_id" not in body
    assert body["session_state"] == {"n": 1} and body["metadata"] == {"k": "v"}
    source = (await client.get("/sessions/src")).json()
    assert body["chat_history"] == source["chat_history"]
    assert (await client.get(f"/sessions/{new_id}")).json()["forked_from_session_id"] == "src"
    runs = (await client.get(f"/sessions/{new_id}/runs")).json()
    assert len(runs) == 3 and not {run["run_id"] for run in runs} & {"r0", "r1", "r2"}


async def test_a_fork_at_a_run_with_an_id_and_a_name(seeded: SessionStore, client: httpx.AsyncClient) -> None:
    body = {"run_id": "r1", "session_id": "plan-b", "session_name": "Plan B"}
    response = await client.post("/sessions/src/fork", json=body)
    assert response.status_code == 201, response.text
    detail = response.json()
    assert (detail["session_id"], detail["session_name"]) == ("plan-b", "Plan B")
    assert detail["forked_from_run_id"] == "r1"
    assert [m["content"] for m in detail["chat_history"] if m["role"] == "user"] == [
        "question 0",
        "question 1",
    ]


@pytest.mark.parametrize(
    ("path", "body", "code", "named"),
    [
        ("/sessions/src/fork", {"run_id": "nope"}, 404, "nope"),
        ("/sessions/src/fork", {"run_id": "rb"}, 404, "rb"),
        ("/sessions/src/fork", {"session_id": "bob-1"}, 409, "bob-1"),
        ("/sessions/missing/fork", None, 404, "missing"),
        ("/sessions/src/fork", {"run_id": ""}, 422, "run_id"),
        ("/sessions/src/fork", {"session_id": 5}, 422, "session_id"),
        ("/sessions/src/fork", [1, 2], 422, "body"),
    ],
)
async def test_bad_forks_answer_4xx_naming_the_problem_and_write_nothing(
    seeded: SessionStore, client: httpx.AsyncClient, path: str, body: object, code: int, named: str
) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == code, response.text
    assert named in response.text
    assert (await client.get("/sessions")).json()["meta"]["total_count"] == 2


@pytest.fixture
async def jwt_client(seeded: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    async for client in jwt_client_of(seeded):
        yield client


async def test_a_jwt_caller_forks_only_its_own_sessions_and_owns_the_fork(
    seeded: SessionStore, jwt_client: httpx.AsyncClient
) -> None:
    alice = headers_of("alice")
    stolen = await jwt_client.post("/sessions/bob-1/fork", headers=alice, params={"user_id": "bob"})
    assert stolen.status_code == 404
    own = await jwt_client.post("/sessions/src/fork", headers=alice, params={"user_id": "bob"})
    assert own.status_code == 201 and own.json()["user_id"] == "alice"
    readonly = await jwt_client.post("/sessions/src/fork", headers=headers_of("alice", ["sessions:read"]))
    assert readonly.status_code == 403
    assert seeded.get_session(own.json()["session_id"]).user_id == "alice"
