"""Sessions of every type for the transfer tests, and how to compare two stores' answers."""

from __future__ import annotations

from typing import Any

from sessiondb.db.base import SessionStore
from sessiondb.run import Message, RunInput, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, Session, SessionSummary, TeamSession, WorkflowSession

T0 = 1_700_000_000


def agent_run(run_id: str, text: str, *, parent: str | None = None, status: str = "COMPLETED") -> RunOutput:
    """A finished agent run: ``text`` in, ``text.upper()`` out."""
    return RunOutput(
        run_id=run_id,
        agent_id="agent-1",
        status=RunStatus(status),
        parent_run_id=parent,
        created_at=T0,
        input=RunInput(input_content=text),
        content=text.upper(),
        messages=[
            Message(id=f"{run_id}-m0", role="user", content=text, created_at=T0),
            Message(id=f"{run_id}-m1", role="assistant", content=text.upper(), created_at=T0),
        ],
    )


def mixed_sessions(count: int = 6) -> list[Session]:
    """``count`` agent sessions (with state, metadata, a summary, child and cancelled runs), a team
    session with a member run and a workflow session."""
    sessions: list[Session] = []
    for k in range(count):
        session = AgentSession(
            session_id=f"agent-{k:03d}",
            agent_id="agent-1",
            user_id=f"user-{k % 2}",
            created_at=T0 + k,
            session_data={"session_state": {"step": k}},
            metadata={"tags": ["a", "b"], "n": k},
            summary=SessionSummary(summary=f"summary {k}", topics=["t"]),
        )
        for index in range(k % 4 + 1):
            session.upsert_run(agent_run(f"agent-{k:03d}-r{index}", f"message {k}.{index} ünïcode\n"))
        session.upsert_run(agent_run(f"agent-{k:03d}-child", "tool", parent=f"agent-{k:03d}-r0"))
        session.upsert_run(agent_run(f"agent-{k:03d}-cancelled", "stop", status="CANCELLED"))
        sessions.append(session)
    team = TeamSession(session_id="team-000", team_id="team-1", user_id="user-0", created_at=T0)
    member = agent_run("team-000-member", "member speaks")
    member.agent_id = "member-1"
    team.upsert_run(member)
    team.upsert_run(
        TeamRunOutput(
            run_id="team-000-lead",
            team_id="team-1",
            status=RunStatus.COMPLETED,
            messages=[
                Message(id="team-m0", role="user", content="team question", created_at=T0),
                Message(id="team-m1", role="assistant", content="answer", created_at=T0),
            ],
        )
    )
    flow = WorkflowSession(
        session_id="workflow-000", workflow_id="wf-1", workflow_name="Flow", user_id="user-1", created_at=T0
    )
    flow.upsert_run(
        WorkflowRunOutput(run_id="workflow-000-r0", workflow_id="wf-1", input="go", content="done")
    )
    return [*sessions, team, flow]


def answers(session: Session) -> dict[str, Any]:
    """What a session answers: its messages, chat history, state, metadata and summary."""
    # A workflow session answers get_messages for one of its agents or teams.
    messages = (
        session.get_messages(agent_id="agent-1")
        if isinstance(session, WorkflowSession)
        else session.get_messages()
    )
    return {
        "messages": [message.to_dict() for message in messages],
        "history": [
            item.to_dict() if hasattr(item, "to_dict") else item for item in session.get_chat_history()
        ],
        "state": (session.session_data or {}).get("session_state"),
        "metadata": session.metadata,
        "summary": summary.to_dict() if (summary := session.get_session_summary()) is not None else None,
        "runs": [run.to_dict() for run in session.runs or []],
        "created_at": session.created_at,
    }


def all_answers(store: SessionStore, ids: list[str]) -> dict[str, dict[str, Any]]:
    """:func:`answers` of each of ``ids`` in ``store``."""
    return {session_id: answers(store.get_session(session_id)) for session_id in ids}
