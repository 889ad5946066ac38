"""A team delegates through a tool; member runs land in the team session with parent_run_id."""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import calls, echo_model, roles, scripted, stored_state

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest, ModelResponse
from sessiondb.run import RunOutput, RunStatus, TeamRunOutput
from sessiondb.run.message import Message
from sessiondb.session import TeamSession
from sessiondb.team import Team


def make_team(store: SessionStore, *replies: Any, **options: Any) -> tuple[Team, Agent]:
    member = Agent(
        name="Researcher", role="finds facts", model=echo_model("fact"), **options.pop("member", {})
    )
    team = Team(name="Crew", members=[member], model=scripted(*replies), db=store, session_id="t1", **options)
    return team, member


def test_delegation_stores_the_member_run_in_the_team_session(store: SessionStore) -> None:
    team, _ = make_team(
        store, calls("delegate_task_to_member", member_id="researcher", task="find x"), "x is 1"
    )
    result = team.run("what is x?")
    assert isinstance(result, TeamRunOutput)
    assert (result.team_id, result.team_name, result.content) == ("crew", "Crew", "x is 1")
    (member_run,) = result.member_responses
    assert isinstance(member_run, RunOutput)
    assert (member_run.agent_id, member_run.parent_run_id, member_run.session_id) == (
        "researcher",
        result.run_id,
        "t1",
    )
    assert member_run.content == "fact: find x"

    session = store.get_session("t1")
    assert isinstance(session, TeamSession) and session.team_id == "crew"
    kinds = [(type(run).__name__, run.parent_run_id, run.status) for run in session.runs or []]
    assert kinds == [
        ("TeamRunOutput", None, RunStatus.completed),
        ("RunOutput", result.run_id, RunStatus.completed),
    ]
    stored_team_run = session.runs[0] if session.runs else None
    assert isinstance(stored_team_run, TeamRunOutput)
    assert [m.run_id for m in stored_team_run.member_responses] == [member_run.run_id]


def test_team_session_messages_honour_member_ids_and_skip_member_messages(store: SessionStore) -> None:
    team, _ = make_team(
        store, calls("delegate_task_to_member", member_id="researcher", task="find x"), "x is 1"
    )
    team.run("what is x?")
    session = store.get_session("t1")
    assert isinstance(session, TeamSession)
    member_messages = session.get_messages(member_ids=["researcher"])
    assert [(m.role, m.content) for m in member_messages] == [
        ("user", "find x"),
        ("assistant", "fact: find x"),
    ]
    team_messages = session.get_messages(skip_roles=["system"])
    assert [m.role for m in team_messages] == ["user", "assistant", "tool", "assistant"]
    assert "find x" not in [m.content for m in team_messages]
    assert [(m.role, m.content) for m in team.get_chat_history()] == [
        ("user", "what is x?"),
        ("assistant", None),
        ("assistant", "x is 1"),
    ]


def test_the_coordinator_sees_the_members_and_gets_their_answer(store: SessionStore) -> None:
    team, _ = make_team(store, calls("delegate_task_to_member", member_id="Researcher", task="t"), "done")
    team.run("go")
    coordinator = team.model
    assert isinstance(coordinator, FunctionModel)
    first = coordinator.requests[0]
    assert first.tool_names == ["delegate_task_to_member"]
    system = str(first.messages[0].content)
    assert "   - ID: researcher\n   - Name: Researcher\n   - Role: finds facts" in system
    tool_message = coordinator.requests[1].messages[-1]
    assert (tool_message.role, tool_message.content) == ("tool", "fact: t")


def test_unknown_member_is_a_tool_error(store: SessionStore) -> None:
    team, _ = make_team(store, calls("delegate_task_to_member", member_id="ghost", task="t"), "sorry")
    result = team.run("go")
    tool = next(m for m in result.messages or [] if m.role == "tool")
    assert tool.tool_call_error is True and "no member with ID 'ghost'" in str(tool.content)
    assert result.member_responses == []


def test_members_share_the_team_state(store: SessionStore) -> None:
    def note(session_state: dict[str, Any]) -> str:
        """Take a note."""
        session_state["notes"] = [*session_state.get("notes", []), "member was here"]
        return "noted"

    member = Agent(name="Scribe", model=scripted(calls("note"), "ok"), tools=[note])
    team = Team(
        members=[member],
        model=scripted(calls("delegate_task_to_member", member_id="scribe", task="note it"), "done"),
        db=store,
        session_id="t1",
        session_state={"notes": []},
    )
    result = team.run("go")
    assert result.session_state == {"notes": ["member was here"]}
    assert stored_state(store, "t1") == {"notes": ["member was here"]}


def test_team_history_leaves_member_messages_out(store: SessionStore) -> None:
    team, _ = make_team(
        store,
        calls("delegate_task_to_member", member_id="researcher", task="find x"),
        "x is 1",
        add_history_to_context=True,
    )
    team.run("what is x?")
    team.run("and y?")
    coordinator = team.model
    assert isinstance(coordinator, FunctionModel)
    history = [(m.role, m.content) for m in coordinator.requests[-1].messages if m.from_history]
    assert ("user", "what is x?") in history
    assert ("user", "find x") not in history


def test_members_with_history_see_their_own_earlier_runs(store: SessionStore) -> None:
    member_model = echo_model("fact")
    member = Agent(name="Researcher", model=member_model, add_history_to_context=True)

    def coordinate(messages: list[Message], request: ModelRequest) -> str | ModelResponse:
        # Delegate on every new user turn, answer once the member replied.
        if messages[-1].role == "user":
            return calls("delegate_task_to_member", member_id="researcher", task="task")
        return "done"

    team = Team(members=[member], model=FunctionModel(function=coordinate), db=store, session_id="t1")
    assert team._runs_limit() is None
    team.run("first")
    team.run("second")
    assert roles(member_model.requests[-1].messages) == [
        ("user", "task", True),
        ("assistant", "fact: task", True),
        ("user", "task", False),
    ]


def test_team_streams_member_events_inside_its_own(store: SessionStore) -> None:
    team, _ = make_team(store, calls("delegate_task_to_member", member_id="researcher", task="t"), "final")
    events = list(team.run("go", stream=True))
    assert [e.event for e in events] == [
        "TeamRunStarted",
        "TeamToolCallStarted",
        "RunStarted",
        "RunContent",
        "RunContent",
        "RunCompleted",
        "TeamToolCallCompleted",
        "TeamRunContent",
        "TeamRunCompleted",
    ]
    member_events = [e for e in events if e.agent_id == "researcher"]
    assert {e.parent_run_id for e in member_events} == {events[-1].run_id}


async def test_team_arun_and_a_failing_member_model(store: SessionStore) -> None:
    def broken(messages: list[Message], request: ModelRequest) -> str:
        raise RuntimeError("member down")

    member = Agent(name="Flaky", model=FunctionModel(function=broken))
    team = Team(
        members=[member],
        model=scripted(calls("delegate_task_to_member", member_id="flaky", task="t"), "handled"),
        db=store,
        session_id="t1",
    )
    result = await team.arun("go")
    assert result.content == "handled"
    tool = next(m for m in result.messages or [] if m.role == "tool")
    assert tool.tool_call_error is True and tool.content == "Error: member down"


def test_team_run_errors_are_stored(store: SessionStore) -> None:
    team, _ = make_team(store, "unused")
    team.model = None
    with pytest.raises(ValueError, match="has no model"):
        team.run("go")
