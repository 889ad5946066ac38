"""Streaming events, print_response, the built-in tools, and OpenAIChat end to end."""

from __future__ import annotations

import io
from collections.abc import Iterator

import orjson
import pytest
from rich.console import Console
from runtime_support import calls, echo_model, scripted

from sessiondb.agent import Agent, RunEvent
from sessiondb.db.base import SessionStore
from sessiondb.models import OpenAIChat, TestModel
from sessiondb.models.fake_server import FakeOpenAIServer
from sessiondb.run import RunOutput, RunStatus


def names(events: list[RunEvent]) -> list[str]:
    return [event.event for event in events]


def test_stream_yields_events_and_stores_the_run(store: SessionStore) -> None:
    def lookup(term: str) -> str:
        """Look a term up."""
        return f"{term} means x"

    agent = Agent(model=scripted(calls("lookup", term="foo"), "foo means x indeed"), db=store, tools=[lookup])
    events = list(agent.run("what is foo?", stream=True))
    assert names(events) == [
        "RunStarted",
        "ToolCallStarted",
        "ToolCallCompleted",
        "RunContent",
        "RunContent",
        "RunContent",
        "RunContent",
        "RunCompleted",
    ]
    assert "".join(str(e.content) for e in events if e.event == "RunContent") == "foo means x indeed"
    assert events[1].tool is not None and events[1].tool["tool_args"] == {"term": "foo"}
    assert events[2].content == "foo means x"
    completed = events[-1]
    assert isinstance(completed.run, RunOutput) and completed.run is agent.last_run
    assert {e.run_id for e in events} == {completed.run.run_id}
    assert store.get_run(completed.run.run_id).status == RunStatus.completed


def test_events_serialise_to_dicts_and_server_sent_events(store: SessionStore) -> None:
    agent = Agent(name="Echo", model=echo_model(), db=store, session_id="s1")
    completed = list(agent.run_stream("hi"))[-1]
    data = completed.to_dict()
    assert (data["event"], data["content"], data["agent_id"], data["session_id"]) == (
        "RunCompleted",
        "echo: hi",
        "echo",
        "s1",
    )
    assert "run" not in data
    event_line, data_line, *_ = completed.to_sse().split("\n")
    assert event_line == "event: RunCompleted"
    assert orjson.loads(data_line.removeprefix("data: ")) == data


def test_a_failing_stream_ends_with_run_error(store: SessionStore) -> None:
    agent = Agent(model=echo_model(), db=store, session_id="s1")
    agent.model = None
    with pytest.raises(ValueError, match="has no model"):
        list(agent.run("hi", stream=True))

    def broken(messages: object, request: object) -> str:
        raise RuntimeError("nope")

    agent.model = scripted("unused")
    agent.model.function = broken  # type: ignore[union-attr]
    seen: list[RunEvent] = []
    with pytest.raises(RuntimeError):
        for event in agent.run("hi", stream=True):
            seen.append(event)
    assert names(seen) == ["RunStarted", "RunError"]
    assert seen[-1].content == "nope"


async def test_async_stream(store: SessionStore) -> None:
    agent = Agent(model=TestModel(reply="a b"), db=store, session_id="s1")
    stream = await agent.arun("hi", stream=True)
    events = [event async for event in stream]
    assert names(events) == ["RunStarted", "RunContent", "RunContent", "RunCompleted"]
    assert store.get_session("s1").runs is not None


def test_print_response_streams_into_the_console(store: SessionStore) -> None:
    out = io.StringIO()
    agent = Agent(model=TestModel(reply="The answer is 42."), db=store)
    result = agent.print_response("question?", console=Console(file=out, width=80))
    printed = out.getvalue()
    assert "Message" in printed and "question?" in printed
    assert "Response" in printed and "The answer is 42." in printed
    assert result is not None and result.content == "The answer is 42."
    out2 = io.StringIO()
    agent.print_response("again", stream=False, markdown=True, console=Console(file=out2, width=80))
    assert "The answer is 42." in out2.getvalue()


def test_read_chat_history_tool(store: SessionStore) -> None:
    model = scripted("first answer", calls("get_chat_history", num_chats=2), "summarised")
    agent = Agent(model=model, db=store, session_id="s1", read_chat_history=True)
    agent.run("first")
    result = agent.run("what did I say?")
    tool_message = next(m for m in result.messages or [] if m.role == "tool")
    history = orjson.loads(str(tool_message.content))
    assert [(m["role"], m["content"]) for m in history] == [("user", "first"), ("assistant", "first answer")]


def test_search_and_read_past_sessions(store: SessionStore) -> None:
    old = Agent(name="Bot", model=echo_model(), db=store, session_id="old", user_id="u1")
    old.run("remember the password is swordfish")
    model = scripted(calls("search_past_sessions"), calls("read_past_session", session_id="old"), "found it")
    agent = Agent(
        name="Bot", model=model, db=store, session_id="new", user_id="u1", search_past_sessions=True
    )
    result = agent.run("what was the password?")
    search, read = [m.content for m in result.messages or [] if m.role == "tool"]
    previews = orjson.loads(str(search))
    assert [p["session_id"] for p in previews] == ["old"]
    assert previews[0]["runs"] == [
        {
            "user": "remember the password is swordfish",
            "assistant": "echo: remember the password is swordfish",
        }
    ]
    assert (
        read
        == "User: remember the password is swordfish\nAssistant: echo: remember the password is swordfish"
    )


def test_async_tools_run_under_arun(store: SessionStore) -> None:
    async def fetch(url: str) -> str:
        """Fetch a URL."""
        return f"<html>{url}</html>"

    agent = Agent(model=scripted(calls("fetch", url="x.org"), "fetched"), db=store, tools=[fetch])
    import anyio

    result = anyio.run(lambda: agent.arun("get it"))
    assert [m.content for m in result.messages or [] if m.role == "tool"] == ["<html>x.org</html>"]


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key="sk-test") as server:
        yield server


@pytest.mark.parametrize("stream", [False, True])
def test_agent_over_openai_chat_records_tool_calls(
    store: SessionStore, openai_server: FakeOpenAIServer, stream: bool
) -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    openai_server.model = TestModel(call_tools=["add"], tool_args={"add": {"a": 2, "b": 3}})
    model = OpenAIChat(id="fake", base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    agent = Agent(model=model, db=store, session_id="s1", tools=[add], add_history_to_context=True)
    if stream:
        events = list(agent.run("2+3?", stream=True))
        result = events[-1].run
        assert "RunContent" in names(events)
    else:
        result = agent.run("2+3?")
    assert isinstance(result, RunOutput)
    assert result.content == '{"add":"5"}'
    stored = store.get_run(result.run_id)
    assert [m.role for m in stored.messages or []] == ["user", "assistant", "tool", "assistant"]
    assert result.metrics is not None and result.metrics.total_tokens > 0
    agent.run("again")
    sent = openai_server.requests[-2]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "user"]


async def test_agent_arun_over_openai_chat(store: SessionStore, openai_server: FakeOpenAIServer) -> None:
    openai_server.model = TestModel(reply="async hello")
    model = OpenAIChat(id="fake", base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    agent = Agent(model=model, db=store, session_id="s1")
    result = await agent.arun("hi")
    assert result.content == "async hello"
    assert store.get_run(result.run_id).content == "async hello"
