"""``get_history`` with every ``get_messages`` filter, and over workflow sessions, on every backend.

Each case compares the store's budgeted read (runs read newest first, from their rows) with
the session's own ``get_messages`` / ``get_workflow_history`` on the whole loaded session, the
plain twin, under a budget that holds everything; then a tight budget keeps the newest.
"""

from __future__ import annotations

from typing import Any

import pytest
from db_builders import agent_run, team_run, team_session, workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.run import Message, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import TeamSession, WorkflowSession
from sessiondb.session.tokens import count_message_tokens

BIG = 100_000
NO_SYSTEM = ["system"]


def _contents(messages: list[Message]) -> list[Any]:
    return [m.content for m in messages]


def _team_session(store: SessionStore) -> TeamSession:
    """t1: two team runs, each with member runs stored as rows of their own (and nested), one
    member run that failed, and a run of a sub-team nested as a member."""
    session = team_session()
    for turn in range(2):
        team_id = f"t{turn}"
        members = [
            agent_run(f"{team_id}-a", f"alpha {turn}", agent_id="alpha", parent_run_id=team_id),
            agent_run(f"{team_id}-b", f"beta {turn}", agent_id="beta", parent_run_id=team_id),
        ]
        if turn == 1:
            members.append(
                agent_run("t1-x", "alpha failed", agent_id="alpha", parent_run_id=team_id, status="ERROR")
            )
        session.upsert_run(team_run(team_id, f"team turn {turn}", members=members))
        for member in members:
            session.upsert_run(member)
    sub = TeamRunOutput(
        run_id="sub",
        team_id="sub-team",
        parent_run_id="t1",
        status=RunStatus.COMPLETED,
        messages=[Message(role="user", content="sub-team work")],
    )
    session.upsert_run(sub)
    store.upsert_session(session)
    return store.get_session("t1")  # type: ignore[return-value]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"member_ids": ["alpha"]},
        {"member_ids": ["alpha", "beta"], "last_n_runs": 3},
        {"member_ids": ["alpha"], "skip_statuses": []},
        {"team_id": "sub-team"},
        {"team_id": "team-1"},
        {"team_id": "team-1", "member_ids": ["beta"]},
        {"skip_member_messages": False},
        {"skip_member_messages": False, "limit": 3},
    ],
    ids=lambda filters: ",".join(f"{k}={v}" for k, v in filters.items()) or "default",
)
def test_team_filters_give_what_get_messages_gives(store: SessionStore, filters: dict[str, Any]) -> None:
    session = _team_session(store)
    expected = _contents(session.get_messages(skip_roles=NO_SYSTEM, **filters))
    history = store.get_history("t1", max_tokens=BIG, skip_roles=NO_SYSTEM, **filters)
    assert _contents(history.messages) == expected and expected
    assert not history.truncated or "limit" in filters or "last_n_runs" in filters


def test_member_runs_are_left_out_by_default_and_a_tight_budget_keeps_the_newest(store: SessionStore) -> None:
    _team_session(store)
    assert "alpha 0" not in _contents(store.get_history("t1", max_tokens=BIG).messages)
    alphas = store.get_history("t1", max_tokens=BIG, member_ids=["alpha"])
    assert _contents(alphas.messages) == ["alpha 0", "ALPHA 0", "alpha 1", "ALPHA 1"]
    newest = alphas.messages[-2:]
    tight = store.get_history(
        "t1", max_tokens=sum(count_message_tokens(m) for m in newest), member_ids=["alpha"]
    )
    assert _contents(tight.messages) == ["alpha 1", "ALPHA 1"] and tight.truncated


def _workflow_session(store: SessionStore) -> WorkflowSession:
    """w1: three workflow runs whose steps ran agent ``writer`` (and team ``editors``); the
    second workflow run failed, the third has a failed step run."""
    session = workflow_session()
    for turn in range(3):
        steps: list[Any] = [agent_run(f"w{turn}-s0", f"draft {turn}", agent_id="writer")]
        steps.append(
            TeamRunOutput(
                run_id=f"w{turn}-s1",
                team_id="editors",
                status=RunStatus.COMPLETED,
                messages=[Message(role="user", content=f"edit {turn}")],
            )
        )
        if turn == 2:
            steps.append(agent_run("w2-s2", "draft again", agent_id="writer", status="ERROR"))
        session.upsert_run(
            WorkflowRunOutput(
                run_id=f"w{turn}",
                workflow_id="wf-1",
                input=f"write about {turn}",
                content=f"article {turn}",
                status="ERROR" if turn == 1 else "COMPLETED",
                step_executor_runs=steps,
            )
        )
    store.upsert_session(session)
    return store.get_session("w1")  # type: ignore[return-value]


@pytest.mark.parametrize(
    "filters",
    [
        {"agent_id": "writer"},
        {"agent_id": "writer", "last_n_runs": 2},
        {"agent_id": "writer", "skip_statuses": ["ERROR"]},
        {"team_id": "editors"},
        {"team_id": "editors", "limit": 1},
    ],
    ids=lambda filters: ",".join(f"{k}={v}" for k, v in filters.items()),
)
def test_a_workflow_sessions_step_history_is_get_messages(
    store: SessionStore, filters: dict[str, Any]
) -> None:
    session = _workflow_session(store)
    expected = _contents(session.get_messages(**filters))
    history = store.get_history("w1", max_tokens=BIG, **filters)
    assert _contents(history.messages) == expected and expected
    assert history.summary is None


def test_a_workflow_sessions_own_history_is_its_completed_runs_as_turns(store: SessionStore) -> None:
    session = _workflow_session(store)
    pairs = session.get_workflow_history()
    expected = [text for pair in pairs for text in pair]
    history = store.get_history("w1", max_tokens=BIG)
    assert (
        _contents(history.messages)
        == expected
        == ["write about 0", "article 0", "write about 2", "article 2"]
    )
    assert [m.role for m in history.messages] == ["user", "assistant", "user", "assistant"]
    newest = store.get_history("w1", max_tokens=BIG, last_n_runs=1)
    assert _contents(newest.messages) == ["write about 2", "article 2"]
    with_failed = store.get_history("w1", max_tokens=BIG, skip_statuses=[])
    assert "write about 1" in _contents(with_failed.messages)
    tight = store.get_history("w1", max_tokens=sum(count_message_tokens(m) for m in history.messages[-2:]))
    assert _contents(tight.messages) == ["write about 2", "article 2"] and tight.truncated
