"""Small builders of runs and sessions for the store tests."""

from __future__ import annotations

from typing import Any

from sessiondb.run import Message, RunInput, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, TeamSession, WorkflowSession


def agent_run(
    run_id: str,
    text: str = "hello",
    *,
    status: RunStatus | str = RunStatus.COMPLETED,
    parent_run_id: str | None = None,
    created_at: int = 1_700_000_000,
    agent_id: str = "agent-1",
) -> RunOutput:
    """A finished agent run: ``text`` in, ``text.upper()`` out."""
    return RunOutput(
        run_id=run_id,
        agent_id=agent_id,
        status=status,
        parent_run_id=parent_run_id,
        created_at=created_at,
        input=RunInput(input_content=text),
        content=text.upper(),
        messages=[Message(role="user", content=text), Message(role="assistant", content=text.upper())],
    )


def team_run(
    run_id: str, text: str = "team hello", *, members: list[RunOutput] | None = None
) -> TeamRunOutput:
    """A finished team run with optional member runs."""
    return TeamRunOutput(
        run_id=run_id,
        team_id="team-1",
        status=RunStatus.COMPLETED,
        messages=[Message(role="user", content=text)],
        member_responses=members or [],
    )


def workflow_run(run_id: str, text: str = "do the thing") -> WorkflowRunOutput:
    """A finished workflow run whose input is ``text``."""
    return WorkflowRunOutput(
        run_id=run_id, workflow_id="wf-1", input=text, content="done", status="COMPLETED"
    )


def agent_session(
    session_id: str = "s1", *, user_id: str | None = "u1", runs: int = 0, **fields: Any
) -> AgentSession:
    """An agent session with ``runs`` runs ``{session_id}-r0``, ``-r1``, ... added via ``upsert_run``."""
    session = AgentSession(session_id=session_id, user_id=user_id, agent_id="agent-1", **fields)
    for index in range(runs):
        session.upsert_run(
            agent_run(f"{session_id}-r{index}", f"message {index}", created_at=1_700_000_000 + index)
        )
    return session


def team_session(session_id: str = "t1", *, user_id: str | None = "u1", **fields: Any) -> TeamSession:
    """An empty team session."""
    return TeamSession(session_id=session_id, user_id=user_id, team_id="team-1", **fields)


def workflow_session(session_id: str = "w1", *, user_id: str | None = "u1", **fields: Any) -> WorkflowSession:
    """An empty workflow session named ``Flow``."""
    return WorkflowSession(
        session_id=session_id, user_id=user_id, workflow_id="wf-1", workflow_name="Flow", **fields
    )
