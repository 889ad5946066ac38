"""Seed data for the API tests: sessions of each type with runs, written straight to a store."""

from __future__ import annotations

from typing import Any

from sessiondb.db.base import SessionStore
from sessiondb.run import Message, RunInput, RunOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, TeamSession, WorkflowSession


def agent_run(
    run_id: str,
    text: str,
    *,
    agent_id: str = "agent-1",
    status: str = "COMPLETED",
    created_at: int = 1_700_000_000,
    parent_run_id: str | None = None,
    user_id: str | None = None,
) -> RunOutput:
    """A completed agent run: a system, a user and an assistant message."""
    return RunOutput(
        run_id=run_id,
        agent_id=agent_id,
        user_id=user_id,
        parent_run_id=parent_run_id,
        status=status,
        created_at=created_at,
        content=f"answer to {text}",
        input=RunInput(input_content=text),
        messages=[
            Message(role="system", content="be brief"),
            Message(role="user", content=text),
            Message(role="assistant", content=f"answer to {text}"),
        ],
    )


def seed_agent_session(
    store: SessionStore,
    session_id: str,
    *,
    user_id: str | None = "alice",
    agent_id: str = "agent-1",
    runs: list[Any] | None = None,
    created_at: int | None = None,
    **fields: Any,
) -> AgentSession:
    """Store an agent session with ``runs``."""
    session = AgentSession(
        session_id=session_id,
        user_id=user_id,
        agent_id=agent_id,
        runs=runs,
        created_at=created_at,
        updated_at=created_at,
        **fields,
    )
    stored = store.upsert_session(session)
    assert isinstance(stored, AgentSession)
    return stored


def seed_team_session(store: SessionStore, session_id: str, *, user_id: str | None = "alice") -> TeamSession:
    """Store a team session with one team run that delegated to one member run."""
    member = agent_run("member-1", "look it up", agent_id="researcher", parent_run_id="team-run-1")
    team_run = TeamRunOutput(
        run_id="team-run-1",
        team_id="team-1",
        status="COMPLETED",
        content="the team's answer",
        created_at=1_700_000_100,
        messages=[Message(role="user", content="plan a trip"), Message(role="assistant", content="done")],
        member_responses=[member],
    )
    session = TeamSession(session_id=session_id, team_id="team-1", user_id=user_id, runs=[team_run, member])
    stored = store.upsert_session(session)
    assert isinstance(stored, TeamSession)
    return stored


def seed_workflow_session(
    store: SessionStore, session_id: str, *, user_id: str | None = "alice"
) -> WorkflowSession:
    """Store a workflow session with one workflow run whose step made one agent run."""
    step_run = agent_run("step-run-1", "research", agent_id="researcher", parent_run_id="wf-run-1")
    wf_run = WorkflowRunOutput(
        run_id="wf-run-1",
        workflow_id="wf-1",
        workflow_name="Research",
        status="COMPLETED",
        input={"topic": "markets"},
        content="report",
        created_at=1_700_000_200,
        step_executor_runs=[step_run],
    )
    session = WorkflowSession(
        session_id=session_id,
        workflow_id="wf-1",
        user_id=user_id,
        workflow_data={"workflow_id": "wf-1", "name": "Research"},
        runs=[wf_run],
    )
    stored = store.upsert_session(session)
    assert isinstance(stored, WorkflowSession)
    return stored
