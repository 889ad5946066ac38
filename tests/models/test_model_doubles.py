"""TestModel and FunctionModel: deterministic replies, tool calls, structured output, streaming."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from pydantic import BaseModel

from sessiondb.models import FunctionModel, ModelRequest, ModelResponse, TestModel, TextDelta, ToolCall
from sessiondb.models.test import example_for_schema
from sessiondb.models.tools import Function
from sessiondb.run.message import Message


def lookup(term: str, limit: int = 3) -> str:
    """Look something up."""
    return term


LOOKUP = Function.from_callable(lookup).definition
USER = [Message(role="user", content="find the answer")]


def test_test_model_echoes_by_default_and_counts_words() -> None:
    model = TestModel()
    reply = model.response(USER)
    assert reply.content == "TestModel reply to: find the answer"
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.total_tokens) == (3, 6, 9)
    assert model.requests[0].last_user_text() == "find the answer"
    assert TestModel(reply="fixed").response(USER).content == "fixed"


def test_test_model_calls_tools_once_per_turn_then_reports_results() -> None:
    model = TestModel(call_tools="all")
    first = model.response(USER, tools=[LOOKUP])
    assert [(c.name, orjson.loads(c.arguments)) for c in first.tool_calls] == [
        ("lookup", {"term": "test term"})
    ]
    follow = [*USER, first.to_message(), Message(role="tool", tool_name="lookup", content="42")]
    second = model.response(follow, tools=[LOOKUP])
    assert (second.tool_calls, second.content) == ([], '{"lookup":"42"}')


def test_test_model_only_calls_listed_and_offered_tools() -> None:
    model = TestModel(call_tools=["lookup", "absent"], tool_args={"lookup": {"term": "x", "limit": 1}})
    reply = model.response(USER, tools=[LOOKUP])
    assert [c.arguments for c in reply.tool_calls] == ['{"term":"x","limit":1}']


def test_test_model_structured_output() -> None:
    class Summary(BaseModel):
        summary: str
        topics: list[str]
        score: int | None = None

    reply = TestModel().response(USER, response_format=Summary)
    assert Summary.model_validate_json(reply.content or "") == Summary(
        summary="test summary", topics=["test topics"]
    )
    fixed = TestModel(structured={"summary": "s", "topics": []}).response(USER, response_format=Summary)
    assert fixed.content == '{"summary":"s","topics":[]}'


def test_example_for_schema_handles_refs_enums_and_scalars() -> None:
    schema = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["a", "b"]},
            "child": {"$ref": "#/$defs/Child"},
            "flag": {"type": "boolean"},
            "n": {"anyOf": [{"type": "null"}, {"type": "number"}]},
        },
        "$defs": {"Child": {"type": "object", "properties": {"x": {"type": "integer"}}}},
    }
    assert example_for_schema(schema) == {"kind": "a", "child": {"x": 0}, "flag": False, "n": 0.0}


def test_test_model_streams_word_pieces() -> None:
    items = list(TestModel(reply="a b  c").response_stream(USER))
    assert [i.text for i in items if isinstance(i, TextDelta)] == ["a ", "b  ", "c"]
    assert isinstance(items[-1], ModelResponse) and items[-1].content == "a b  c"

    async def collect() -> list[object]:
        return [item async for item in TestModel(reply="x y").aresponse_stream(USER)]

    assert len(asyncio.run(collect())) == 3


def test_function_model_replies_with_the_function_result() -> None:
    def answer(messages: list[Message], request: ModelRequest) -> str | ModelResponse:
        if request.index == 0:
            return ModelResponse(tool_calls=[ToolCall(name="lookup", arguments="{}", id="c1")])
        return f"{len(messages)} messages, tools {request.tool_names}"

    model = FunctionModel(function=answer)
    assert model.response(USER, tools=[LOOKUP]).tool_calls[0].id == "c1"
    reply = model.response(USER, tools=[LOOKUP])
    assert reply.content == "1 messages, tools ['lookup']"
    assert reply.usage.total_tokens == 3 + 4  # "1 messages, tools ['lookup']" is four words


def test_function_model_async_function_needs_the_async_path() -> None:
    async def answer(messages: list[Message], request: ModelRequest) -> str:
        return "async!"

    model = FunctionModel(function=answer)
    assert asyncio.run(model.aresponse(USER)).content == "async!"
    with pytest.raises(TypeError, match="is async"):
        model.response(USER)


def test_function_model_custom_stream_function() -> None:
    model = FunctionModel(function=lambda m, r: "unused", stream_function=lambda m, r: iter(["he", "llo"]))
    items = list(model.response_stream(USER))
    assert [i.text for i in items if isinstance(i, TextDelta)] == ["he", "llo"]
    final = items[-1]
    assert isinstance(final, ModelResponse) and final.content == "hello"
    assert final.usage.time_to_first_token is not None

    async def collect() -> list[object]:
        return [item async for item in FunctionModel(function=lambda m, r: "p q").aresponse_stream(USER)]

    assert [i.text for i in asyncio.run(collect()) if isinstance(i, TextDelta)] == ["p ", "q"]


def test_tool_call_wire_shape_round_trips() -> None:
    call = ToolCall(name="f", arguments='{"a":1}', id="x")
    assert ToolCall.from_dict(call.to_dict()) == call
    message = ModelResponse(tool_calls=[call]).to_message()
    assert message.role == "assistant" and message.tool_calls == [call.to_dict()]


def test_test_model_names_a_conversation_with_a_short_title() -> None:
    from sessiondb.agent.naming import name_request
    from sessiondb.run import RunOutput
    from sessiondb.run.status import RunStatus
    from sessiondb.session import AgentSession

    session = AgentSession(session_id="s", agent_id="a")
    question = Message(role="user", content="Tell me a new interesting fact about space")
    # Completed, as a run is when the runtime names its session: a run still RUNNING is not
    # history (issue 15), so it would leave nothing to name.
    answered = [question, Message(role="assistant", content="ok")]
    session.upsert_run(RunOutput(agent_id="a", messages=answered, status=RunStatus.COMPLETED))

    reply = TestModel().response(name_request(session))

    assert reply.content == "Interesting Fact About Space"
