"""GET /sessions/{id}/history on every backend: the budget, the filters, errors and isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_seed import agent_run, seed_agent_session
from jwt_support import headers_of, jwt_client_of

from sessiondb.db.base import SessionStore
from sessiondb.run import Message, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import SessionSummary, TeamSession, WorkflowSession
from sessiondb.session.tokens import count_message_tokens


@pytest.fixture
def seeded(store: SessionStore) -> SessionStore:
    runs = [agent_run(f"r{n}", f"question {n}") for n in range(4)]
    runs.append(agent_run("bad", "went wrong", status=RunStatus.ERROR))
    summary = SessionSummary(summary="they asked questions")
    seed_agent_session(store, "s1", runs=runs, summary=summary)
    seed_agent_session(store, "bob-1", user_id="bob", runs=[agent_run("rb", "bob's secret")])
    return store


async def test_the_newest_messages_that_fit_with_the_summary(
    seeded: SessionStore, client: httpx.AsyncClient
) -> None:
    messages = seeded.get_session("s1").get_messages()
    budget = sum(count_message_tokens(m) for m in messages[-2:])
    response = await client.get("/sessions/s1/history", params={"max_tokens": budget})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["content"] for m in body["messages"]] == [m.content for m in messages[-2:]]
    assert body["tokens"] == budget and body["truncated"] is True
    assert body["summary"] == {"summary": "they asked questions"}
    everything = (await client.get("/sessions/s1/history", params={"max_tokens": 100_000})).json()
    assert len(everything["messages"]) == len(messages) and everything["truncated"] is False


async def test_the_filters_of_get_messages_apply(seeded: SessionStore, client: httpx.AsyncClient) -> None:
    async def contents(**params: object) -> list[str]:
        query = {"max_tokens": 100_000, "skip_roles": ["system"], **params}
        response = await client.get("/sessions/s1/history", params=query)
        assert response.status_code == 200, response.text
        return [m["content"] for m in response.json()["messages"]]

    assert await contents(last_n_runs=1) == ["question 3", "answer to question 3"]
    assert await contents(last_n_runs=1, skip_statuses=["PAUSED"]) == ["went wrong", "answer to went wrong"]
    assert await contents(last_n_runs=2, skip_roles=["assistant", "system"]) == ["question 2", "question 3"]
    assert await contents(last_n_runs=1, skip_roles=[]) == [
        "be brief",
        "question 3",
        "answer to question 3",
    ]
    assert await contents(limit=2) == ["question 3", "answer to question 3"]
    assert await contents(agent_id="nobody") == []
    assert await contents(team_id="team-x") == []


@pytest.mark.parametrize(
    ("params", "code", "named"),
    [
        ({}, 422, "max_tokens"),
        ({"max_tokens": -1}, 422, "max_tokens"),
        ({"max_tokens": "lots"}, 422, "max_tokens"),
        ({"max_tokens": 10**30}, 422, "max_tokens"),
        ({"max_tokens": 10, "limit": -2}, 422, "limit"),
        ({"max_tokens": 10, "last_n_runs": "x"}, 422, "last_n_runs"),
    ],
)
async def test_bad_parameters_are_422s_naming_them(
    seeded: SessionStore, client: httpx.AsyncClient, params: dict[str, object], code: int, named: str
) -> None:
    response = await client.get("/sessions/s1/history", params=params)
    assert response.status_code == code, response.text
    assert named in response.text


async def test_an_unknown_session_is_a_404(seeded: SessionStore, client: httpx.AsyncClient) -> None:
    response = await client.get("/sessions/missing/history", params={"max_tokens": 10})
    assert response.status_code == 404


@pytest.fixture
async def jwt_client(seeded: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    async for client in jwt_client_of(seeded):
        yield client


async def test_a_jwt_caller_reads_only_its_own_history(jwt_client: httpx.AsyncClient) -> None:
    params = {"max_tokens": 1000, "user_id": "bob"}
    peeking = await jwt_client.get("/sessions/bob-1/history", params=params, headers=headers_of("alice"))
    assert peeking.status_code == 404 and "secret" not in peeking.text
    own = await jwt_client.get("/sessions/bob-1/history", params=params, headers=headers_of("bob"))
    assert own.status_code == 200 and own.json()["messages"][1]["content"] == "bob's secret"
    admin = headers_of("root", ["sessions:admin"])
    assert (await jwt_client.get("/sessions/bob-1/history", params=params, headers=admin)).status_code == 200


def _turn(run_id: str, text: str, **fields: Any) -> dict[str, Any]:
    messages = [Message(role="user", content=text), Message(role="assistant", content=text.upper())]
    return {"run_id": run_id, "status": RunStatus.COMPLETED, "messages": messages, **fields}


async def test_member_ids_and_skip_member_messages_reach_member_runs(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    session = TeamSession(session_id="t1", team_id="team-1")
    member = RunOutput(**_turn("m1", "alpha work", agent_id="alpha", parent_run_id="lead"))
    session.upsert_run(
        TeamRunOutput(**_turn("lead", "team turn", team_id="team-1"), member_responses=[member])
    )
    session.upsert_run(member)
    store.upsert_session(session)

    async def contents(**params: object) -> list[str]:
        response = await client.get("/sessions/t1/history", params={"max_tokens": 100_000, **params})
        assert response.status_code == 200, response.text
        return [m["content"] for m in response.json()["messages"]]

    assert await contents() == ["team turn", "TEAM TURN"]
    assert await contents(member_ids=["alpha"]) == ["alpha work", "ALPHA WORK"]
    assert await contents(skip_member_messages="false") == [
        "team turn",
        "TEAM TURN",
        "alpha work",
        "ALPHA WORK",
    ]
    assert await contents(member_ids=["nobody"]) == []


async def test_a_workflow_sessions_history(store: SessionStore, client: httpx.AsyncClient) -> None:
    session = WorkflowSession(session_id="w1", workflow_id="wf-1")
    for turn in range(2):
        step = RunOutput(**_turn(f"s{turn}", f"draft {turn}", agent_id="writer"))
        session.upsert_run(
            WorkflowRunOutput(
                run_id=f"w{turn}",
                workflow_id="wf-1",
                input=f"topic {turn}",
                content=f"article {turn}",
                status=RunStatus.COMPLETED,
                step_executor_runs=[step],
            )
        )
    store.upsert_session(session)
    own = await client.get("/sessions/w1/history", params={"max_tokens": 100_000, "type": "workflow"})
    assert own.status_code == 200, own.text
    assert [(m["role"], m["content"]) for m in own.json()["messages"]] == [
        ("user", "topic 0"),
        ("assistant", "article 0"),
        ("user", "topic 1"),
        ("assistant", "article 1"),
    ]
    steps = await client.get("/sessions/w1/history", params={"max_tokens": 100_000, "agent_id": "writer"})
    assert [m["content"] for m in steps.json()["messages"]] == ["draft 0", "DRAFT 0", "draft 1", "DRAFT 1"]
    both = await client.get(
        "/sessions/w1/history", params={"max_tokens": 10, "agent_id": "writer", "team_id": "editors"}
    )
    assert both.status_code == 422 and "agent_id" in both.text
