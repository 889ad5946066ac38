"""An agent records its runs: session created, run stored RUNNING then final, history, errors."""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import calls, echo_model, roles, scripted

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest, TestModel
from sessiondb.run import RunOutput, RunStatus
from sessiondb.run.message import Message
from sessiondb.session import AgentSession


def test_first_run_creates_the_session_and_stores_the_run(store: SessionStore) -> None:
    agent = Agent(name="Helper", model=echo_model(), db=store, session_id="s1", user_id="u1")
    result = agent.run("hello")
    session = store.get_session("s1")
    assert isinstance(session, AgentSession)
    assert (session.agent_id, session.user_id) == ("helper", "u1")
    assert session.agent_data == {
        "name": "Helper",
        "agent_id": "helper",
        "model": {"name": "FunctionModel", "id": "function-model", "provider": "Function"},
    }
    assert [run.run_id for run in session.runs or []] == [result.run_id]
    stored = session.runs[0] if session.runs else None
    assert isinstance(stored, RunOutput)
    assert stored.status == RunStatus.completed
    assert stored.content == "echo: hello"
    assert (stored.agent_id, stored.agent_name, stored.session_id, stored.user_id) == (
        "helper",
        "Helper",
        "s1",
        "u1",
    )
    assert stored.input is not None and stored.input.input_content == "hello"
    assert roles(stored.messages) == [("user", "hello", False), ("assistant", "echo: hello", False)]
    assert (stored.model, stored.model_provider) == ("function-model", "Function")


def test_the_run_is_stored_as_running_before_the_model_answers(store: SessionStore) -> None:
    seen: list[Any] = []

    def answer(messages: list[Message], request: ModelRequest) -> str:
        runs = store.get_session("s1").runs or []
        seen.append([(run.status, run.content) for run in runs])
        return "done"

    agent = Agent(model=FunctionModel(function=answer), db=store, session_id="s1")
    agent.run("hi")
    assert seen == [[(RunStatus.running, None)]]
    assert [run.status for run in store.get_session("s1").runs or []] == [RunStatus.completed]


def test_history_is_replayed_as_marked_copies_and_not_stored_again(store: SessionStore) -> None:
    model = echo_model()
    agent = Agent(model=model, db=store, session_id="s1", add_history_to_context=True, instructions="be kind")
    agent.run("first")
    second = agent.run("second")
    sent = model.requests[-1].messages
    assert roles(sent) == [
        ("system", "<instructions>\nbe kind\n</instructions>", False),
        ("user", "first", True),
        ("assistant", "echo: first", True),
        ("user", "second", False),
    ]
    assert roles(second.messages)[1:3] == [("user", "first", True), ("assistant", "echo: first", True)]
    stored = store.get_run(second.run_id)
    assert roles(stored.messages) == [
        ("system", "<instructions>\nbe kind\n</instructions>", False),
        ("user", "second", False),
        ("assistant", "echo: second", False),
    ]
    # The copies are new messages; the stored originals keep from_history=False.
    first_stored = store.get_session("s1").runs[0]  # type: ignore[index]
    assert [m.from_history for m in first_stored.messages or []] == [False, False, False]


def test_store_history_messages_keeps_the_copies(store: SessionStore) -> None:
    agent = Agent(
        model=echo_model(),
        db=store,
        session_id="s1",
        add_history_to_context=True,
        store_history_messages=True,
    )
    agent.run("first")
    second = agent.run("second")
    assert [m.from_history for m in store.get_run(second.run_id).messages or []] == [True, True, False, False]


def test_num_history_runs_defaults_to_three(store: SessionStore) -> None:
    model = echo_model()
    agent = Agent(model=model, db=store, session_id="s1", add_history_to_context=True)
    assert agent.num_history_runs == 3
    for n in range(5):
        agent.run(f"q{n}")
    agent.run("last")
    history_users = [m.content for m in model.requests[-1].messages if m.role == "user" and m.from_history]
    assert history_users == ["q2", "q3", "q4"]


def test_num_history_messages_limits_messages_instead(store: SessionStore) -> None:
    model = echo_model()
    agent = Agent(model=model, db=store, session_id="s1", add_history_to_context=True, num_history_messages=3)
    assert agent.num_history_runs is None
    for n in range(3):
        agent.run(f"q{n}")
    agent.run("last")
    history = [(m.role, m.content) for m in model.requests[-1].messages if m.from_history]
    assert history == [("assistant", "echo: q1"), ("user", "q2"), ("assistant", "echo: q2")]


def test_history_is_off_by_default(store: SessionStore) -> None:
    model = echo_model()
    agent = Agent(model=model, db=store, session_id="s1")
    agent.run("first")
    agent.run("second")
    assert roles(model.requests[-1].messages) == [("user", "second", False)]


def test_a_failed_run_is_stored_as_error_and_the_error_propagates(store: SessionStore) -> None:
    def broken(messages: list[Message], request: ModelRequest) -> str:
        raise ConnectionError("model is down")

    agent = Agent(model=FunctionModel(function=broken), db=store, session_id="s1")
    with pytest.raises(ConnectionError, match="model is down"):
        agent.run("hi")
    (run,) = store.get_session("s1").runs or []
    assert (run.status, run.content) == (RunStatus.error, "model is down")


def test_error_runs_are_left_out_of_later_history(store: SessionStore) -> None:
    replies: list[str | Exception] = ["ok one", RuntimeError("boom"), "ok three"]
    model_requests: list[list[Message]] = []

    def answer(messages: list[Message], request: ModelRequest) -> str:
        model_requests.append(messages)
        reply = replies[request.index] if request.index < len(replies) else "later"
        if isinstance(reply, Exception):
            raise reply
        return reply

    agent = Agent(
        model=FunctionModel(function=answer), db=store, session_id="s1", add_history_to_context=True
    )
    agent.run("one")
    with pytest.raises(RuntimeError):
        agent.run("two")
    agent.run("three")
    assert [m.content for m in model_requests[-1] if m.from_history] == ["one", "ok one"]


def test_tool_calls_are_recorded_as_messages_and_tool_executions(store: SessionStore) -> None:
    def get_weather(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    agent = Agent(
        model=scripted(calls("get_weather", city="Oslo"), "It is sunny."), db=store, tools=[get_weather]
    )
    result = agent.run("weather?")
    stored = store.get_run(result.run_id)
    assert isinstance(stored, RunOutput)
    assistant_call, tool_result = (stored.messages or [])[1:3]
    assert assistant_call.role == "assistant" and assistant_call.tool_calls is not None
    call = assistant_call.tool_calls[0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
    assert (tool_result.role, tool_result.tool_call_id, tool_result.tool_name) == (
        "tool",
        call["id"],
        "get_weather",
    )
    assert (tool_result.content, tool_result.tool_args, tool_result.tool_call_error) == (
        "sunny in Oslo",
        {"city": "Oslo"},
        False,
    )
    assert roles(stored.messages)[-1] == ("assistant", "It is sunny.", False)
    assert [(t["tool_name"], t["result"]) for t in stored.tools or []] == [("get_weather", "sunny in Oslo")]


def test_failing_and_unknown_tools_are_reported_to_the_model(store: SessionStore) -> None:
    def explode() -> str:
        """Always fails."""
        raise ValueError("kaput")

    agent = Agent(model=scripted(calls("explode"), calls("missing"), "recovered"), db=store, tools=[explode])
    result = agent.run("go")
    tool_messages = [m for m in result.messages or [] if m.role == "tool"]
    assert [(m.tool_call_error, m.content) for m in tool_messages] == [
        (True, "Error: kaput"),
        (True, "Error: there is no tool named 'missing'"),
    ]
    assert result.content == "recovered"


def test_tool_call_limit_stops_running_tools(store: SessionStore) -> None:
    counter: list[int] = []

    def tick() -> str:
        """Count."""
        counter.append(1)
        return "tick"

    model = scripted(calls("tick"), calls("tick"), "done")
    agent = Agent(model=model, db=store, tools=[tick], tool_call_limit=1)
    result = agent.run("go")
    assert counter == [1]
    assert result.content == "done"
    assert model.requests[1].tool_names == []  # tools are no longer offered once the limit is hit


def test_metrics_are_summed_per_run_and_per_session(store: SessionStore) -> None:
    agent = Agent(model=TestModel(reply="two words"), db=store, session_id="s1")
    first = agent.run("one two three")
    assert first.metrics is not None
    assert (first.metrics.input_tokens, first.metrics.output_tokens, first.metrics.total_tokens) == (3, 2, 5)
    assert first.metrics.duration is not None and first.metrics.details is not None
    assert first.metrics.details["model"][0]["id"] == "test-model"
    agent.run("four")
    metrics = agent.get_session_metrics()
    assert metrics is not None and (metrics.input_tokens, metrics.total_tokens) == (4, 8)


def test_metadata_merges_agent_session_and_run(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1", metadata={"team": "a", "env": "dev"})
    first = agent.run("x", metadata={"env": "prod"})
    assert first.metadata == {"team": "a", "env": "prod"}
    assert store.get_session("s1").metadata == {"team": "a", "env": "dev"}


def test_introduction_is_the_first_run_of_a_new_session(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1", introduction="Hi, I am Helper.")
    agent.run("hello")
    runs = store.get_session("s1").runs or []
    assert next(roles(run.messages) for run in runs) == [("assistant", "Hi, I am Helper.", False)]
    assert len(runs) == 2


def test_session_id_and_user_id_can_change_per_run(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store)
    default_session = agent.session_id
    agent.run("a")
    agent.run("b", session_id="other", user_id="u2")
    assert store.get_session("other").user_id == "u2"
    assert default_session is not None and len(store.get_session(default_session).runs or []) == 1


def test_without_a_db_history_lives_in_memory() -> None:
    model = echo_model()
    agent = Agent(model=model, add_history_to_context=True)
    agent.run("first")
    agent.run("second")
    assert [m.content for m in model.requests[-1].messages if m.from_history] == ["first", "echo: first"]
    assert len(agent.get_chat_history()) == 4
