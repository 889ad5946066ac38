"""What the console tests share: the sessions they store (chats with tool calls, a team with
member runs) and an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from sessiondb.db.base import SessionStore
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.metrics import RunMetrics
from sessiondb.run.team import TeamRunOutput
from sessiondb.session import AgentSession, TeamSession

HOSTILE = '<script>alert("x")</script>'
"""What a user could type to run a script in a page that forgets to escape it."""


def chat_run(run_id: str, asked: str, answer: str, *, created_at: int = 1_700_000_000) -> RunOutput:
    """An agent run: a question, a tool call with its result, an answer."""
    return RunOutput(
        run_id=run_id,
        agent_id="helper",
        status="completed",
        created_at=created_at,
        model="gpt-test",
        metrics=RunMetrics(input_tokens=12, output_tokens=30, total_tokens=42, duration=1.25),
        messages=[
            Message(role="user", content=asked),
            Message(
                role="assistant",
                tool_calls=[
                    {
                        "id": f"call-{run_id}",
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"q": "weather"}'},
                    }
                ],
            ),
            Message(role="tool", tool_call_id=f"call-{run_id}", tool_name="lookup", content="sunny, 21 C"),
            Message(role="assistant", content=answer),
        ],
    )


def agent_session(
    session_id: str,
    *,
    name: str | None = None,
    user_id: str | None = "alice",
    agent_id: str = "helper",
    created_at: int = 1_700_000_000,
    runs: list[RunOutput] | None = None,
) -> AgentSession:
    """An agent session, named when ``name`` is given."""
    data = {"session_name": name} if name is not None else {}
    return AgentSession(
        session_id=session_id,
        agent_id=agent_id,
        user_id=user_id,
        session_data=data or None,
        created_at=created_at,
        updated_at=created_at,
        runs=runs or [],
    )


def team_session(session_id: str, *, user_id: str = "alice") -> TeamSession:
    """A team session: one team run with two member runs under it."""
    members = [
        RunOutput(
            run_id=f"{session_id}-m{index}",
            agent_id=f"member-{index}",
            agent_name=f"Member {index}",
            parent_run_id=f"{session_id}-t",
            status="completed",
            messages=[
                Message(role="user", content=f"task {index}"),
                Message(role="assistant", content=f"done {index}"),
            ],
        )
        for index in (1, 2)
    ]
    team_run = TeamRunOutput(
        run_id=f"{session_id}-t",
        team_id="crew",
        team_name="The crew",
        status="completed",
        messages=[
            Message(role="user", content="plan the trip"),
            Message(role="assistant", content="planned"),
        ],
    )
    return TeamSession(
        session_id=session_id,
        team_id="crew",
        user_id=user_id,
        session_data={"session_name": "Team trip"},
        created_at=1_700_000_500,
        updated_at=1_700_000_500,
        runs=[team_run, *members],
    )


def seed(store: SessionStore) -> None:
    """Three agent sessions (two users) and one team session."""
    store.create_session(
        agent_session(
            "s-old", name="Old chat", created_at=1_700_000_000, runs=[chat_run("r-old", "hello", "hi there")]
        )
    )
    store.create_session(agent_session("s-mid", name="Report draft", user_id="bob", created_at=1_700_000_100))
    store.create_session(agent_session("s-new", name="Newest", agent_id="writer", created_at=1_700_000_200))
    store.create_session(team_session("s-team"))


async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``app`` in process, as a browser on the same origin would."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
