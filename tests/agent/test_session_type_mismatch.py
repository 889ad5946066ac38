"""A runtime refuses a session another kind of runtime created, before it writes anything.

An agent run into a workflow's session used to fail deep inside with a pydantic
ValidationError; a team or workflow run into an agent's session went through and left a
session no reader could load. Each now raises :class:`SessionTypeMismatch`, naming the
session, its stored type and the expected one.
"""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import echo_model

from sessiondb.agent import Agent, _persist
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionTypeMismatch
from sessiondb.session import AgentSession, WorkflowSession
from sessiondb.team import Team
from sessiondb.workflow import Step, Workflow


def _agent(store: SessionStore) -> Agent:
    return Agent(id="helper", name="Helper", model=echo_model(), db=store)


def _team(store: SessionStore) -> Team:
    member = Agent(name="Member", model=echo_model("member"), role="helps")
    return Team(id="crew", name="Crew", model=echo_model("lead"), db=store, members=[member])


def _workflow(store: SessionStore) -> Workflow:
    writer = Agent(name="Writer", model=echo_model("draft"))
    return Workflow(id="flow", name="Flow", db=store, steps=[Step(name="Write", agent=writer)])


def _snapshot(store: SessionStore, session_id: str) -> dict[str, Any]:
    return store.get_session(session_id).to_dict()


def _assert_names_the_clash(error: SessionTypeMismatch, stored: str, expected: str) -> None:
    assert (error.session_id, error.stored_type, error.expected_type) == ("shared", stored, expected)
    assert "'shared'" in str(error)
    assert f"'{stored}'" in str(error) and f"'{expected}'" in str(error)


def test_an_agent_refuses_a_workflow_session(store: SessionStore) -> None:
    _workflow(store).run("topic", session_id="shared")
    before = _snapshot(store, "shared")

    with pytest.raises(SessionTypeMismatch) as raised:
        _agent(store).run("hello", session_id="shared")

    _assert_names_the_clash(raised.value, "workflow", "agent")
    assert _snapshot(store, "shared") == before


def test_a_team_refuses_an_agent_session(store: SessionStore) -> None:
    _agent(store).run("hello", session_id="shared")
    before = _snapshot(store, "shared")

    with pytest.raises(SessionTypeMismatch) as raised:
        _team(store).run("plan", session_id="shared")

    _assert_names_the_clash(raised.value, "agent", "team")
    after = store.get_session("shared")
    assert isinstance(after, AgentSession)
    assert after.to_dict() == before


def test_a_workflow_refuses_an_agent_session(store: SessionStore) -> None:
    _agent(store).run("hello", session_id="shared")
    before = _snapshot(store, "shared")

    with pytest.raises(SessionTypeMismatch) as raised:
        _workflow(store).run("topic", session_id="shared")

    _assert_names_the_clash(raised.value, "agent", "workflow")
    assert _snapshot(store, "shared") == before


async def test_the_async_and_streaming_runs_refuse_it_too(store: SessionStore) -> None:
    _workflow(store).run("topic", session_id="shared")
    before = _snapshot(store, "shared")
    agent = _agent(store)

    with pytest.raises(SessionTypeMismatch):
        await agent.arun("hello", session_id="shared")
    with pytest.raises(SessionTypeMismatch):
        list(agent.run_stream("hello", session_id="shared"))
    with pytest.raises(SessionTypeMismatch):
        async for _ in agent.arun_stream("hello", session_id="shared"):
            pass

    assert _snapshot(store, "shared") == before


def test_a_runtime_of_the_same_kind_still_continues_the_session(store: SessionStore) -> None:
    # The check compares types; it must not refuse a session of the right one.
    _agent(store).run("first", session_id="shared")
    _agent(store).run("second", session_id="shared")

    assert len(store.get_session("shared").runs or []) == 2


def test_a_session_of_another_kind_created_in_the_race_window_is_refused(store: SessionStore) -> None:
    # The read found nothing; before our insert, a workflow created the session. The insert
    # then fails as taken, and the re-read must apply the same check.
    def racing_new_session() -> AgentSession:
        store.create_session(WorkflowSession(session_id="shared", workflow_id="flow"))
        return AgentSession(session_id="shared", agent_id="helper")

    with pytest.raises(SessionTypeMismatch) as raised:
        _persist.read_or_create(
            store,
            session_id="shared",
            user_id=None,
            session_type="agent",
            new_session=racing_new_session,
        )

    _assert_names_the_clash(raised.value, "workflow", "agent")
    assert isinstance(store.get_session("shared"), WorkflowSession)


def test_reading_another_kinds_session_through_a_runtime_names_the_clash(store: SessionStore) -> None:
    # The read helpers (get_session, get_session_name, ...) load through the same check as a run,
    # so they give the same clear error rather than a pydantic ValidationError from the wrong class.
    _workflow(store).run("topic", session_id="shared")
    agent = _agent(store)

    with pytest.raises(SessionTypeMismatch) as raised:
        agent.get_session("shared")
    _assert_names_the_clash(raised.value, "workflow", "agent")
    with pytest.raises(SessionTypeMismatch):
        agent.get_session_name("shared")
    assert agent.get_session("missing") is None
