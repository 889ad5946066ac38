"""OpenAIChat over real HTTP against the local OpenAI-compatible server double."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import openai
import pytest
from pydantic import BaseModel

from sessiondb.models import (
    FunctionModel,
    ModelRequest,
    ModelResponse,
    OpenAIChat,
    TestModel,
    TextDelta,
    ToolCall,
)
from sessiondb.models.fake_server import FakeOpenAIServer
from sessiondb.models.tools import Function
from sessiondb.run.message import Message


def get_weather(city: str, unit: str = "C") -> str:
    """Return the weather in a city.

    Args:
        city: where.
    """
    return f"sunny in {city} ({unit})"


WEATHER = Function.from_callable(get_weather).definition


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(api_key="sk-test") as running:
        yield running


def chat(server: FakeOpenAIServer) -> OpenAIChat:
    return OpenAIChat(id="fake-1", base_url=server.base_url, api_key="sk-test", max_retries=0)


USER = [Message(role="system", content="be brief"), Message(role="user", content="hello there")]


def test_plain_reply_carries_content_and_usage(server: FakeOpenAIServer) -> None:
    server.model = TestModel(reply="general kenobi")
    reply = chat(server).response(USER)
    assert reply.content == "general kenobi"
    assert reply.tool_calls == []
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.total_tokens) == (4, 2, 6)
    assert reply.usage.duration is not None and reply.usage.duration > 0
    sent = server.requests[0]
    assert sent["model"] == "fake-1"
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello there"},
    ]
    assert "stream" not in sent


def test_tool_call_round_trip_sends_tools_and_parses_calls(server: FakeOpenAIServer) -> None:
    server.model = TestModel(call_tools=["get_weather"], tool_args={"get_weather": {"city": "Oslo"}})
    reply = chat(server).response(USER, tools=[WEATHER])
    assert reply.content is None
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("get_weather", '{"city":"Oslo"}')]
    tools = server.requests[0]["tools"]
    assert tools[0]["function"]["name"] == "get_weather"
    assert tools[0]["function"]["parameters"]["required"] == ["city"]
    # Send the tool result back: the assistant call and the tool message must be in OpenAI shape.
    call = reply.tool_calls[0]
    follow_up = [
        *USER,
        reply.to_message(),
        Message(role="tool", tool_call_id=call.id, content="sunny", tool_name="get_weather"),
    ]
    final = chat(server).response(follow_up, tools=[WEATHER])
    assert final.content == '{"get_weather":"sunny"}'
    sent = server.requests[1]["messages"]
    assert sent[2]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
    assert sent[3] == {"role": "tool", "content": "sunny", "tool_call_id": call.id}


def test_streaming_yields_pieces_then_the_whole_reply(server: FakeOpenAIServer) -> None:
    server.model = TestModel(reply="one two three")
    items = list(chat(server).response_stream(USER))
    pieces = [item.text for item in items if isinstance(item, TextDelta)]
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert pieces == ["one", " two", " three"]
    assert final.content == "one two three"
    assert final.usage.total_tokens == 7
    assert final.usage.time_to_first_token is not None
    assert server.requests[0]["stream"] is True
    assert server.requests[0]["stream_options"] == {"include_usage": True}


def test_streaming_reassembles_tool_call_arguments(server: FakeOpenAIServer) -> None:
    server.model = TestModel(call_tools="all", tool_args={"get_weather": {"city": "Lima", "unit": "F"}})
    items = list(chat(server).response_stream(USER, tools=[WEATHER]))
    final = items[-1]
    assert isinstance(final, ModelResponse)
    assert [call.to_dict() for call in final.tool_calls] == [
        ToolCall(name="get_weather", arguments='{"city":"Lima","unit":"F"}', id="call_0_0").to_dict()
    ]


async def test_async_reply_and_stream(server: FakeOpenAIServer) -> None:
    server.model = TestModel(reply="async works")
    model = chat(server)
    reply = await model.aresponse(USER)
    assert reply.content == "async works"
    items = [item async for item in model.aresponse_stream(USER)]
    assert [i.text for i in items if isinstance(i, TextDelta)] == ["async", " works"]
    assert isinstance(items[-1], ModelResponse) and items[-1].usage.output_tokens == 2


def test_async_client_is_recreated_for_a_new_event_loop(server: FakeOpenAIServer) -> None:
    model = chat(server)
    clients = []

    async def ask() -> str | None:
        reply = await model.aresponse(USER)
        clients.append(model.async_client)
        return reply.content

    # Two asyncio.run calls are two event loops; a client bound to the closed first loop would fail.
    assert asyncio.run(ask()) == asyncio.run(ask())
    assert clients[0] is not clients[1]


def test_structured_output_sends_json_schema(server: FakeOpenAIServer) -> None:
    class Answer(BaseModel):
        summary: str
        topics: list[str] | None = None

    reply = chat(server).response(USER, response_format=Answer)
    assert Answer.model_validate_json(reply.content or "") == Answer(summary="test summary")
    sent = server.requests[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Answer"
    model = chat(server)
    model.native_structured_outputs = False
    model.response(USER, response_format=Answer)
    assert server.requests[1]["response_format"] == {"type": "json_object"}


def test_function_model_behind_the_server_sees_the_conversation(server: FakeOpenAIServer) -> None:
    def answer(messages: list[Message], request: ModelRequest) -> str:
        return f"{len(messages)} messages, last: {messages[-1].content}"

    server.model = FunctionModel(function=answer)
    assert chat(server).response(USER).content == "2 messages, last: hello there"


def test_wrong_api_key_raises_the_sdk_error(server: FakeOpenAIServer) -> None:
    model = OpenAIChat(id="x", base_url=server.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        model.response(USER)


def test_server_errors_surface_as_sdk_errors(server: FakeOpenAIServer) -> None:
    server.error_status = 400
    with pytest.raises(openai.BadRequestError):
        chat(server).response(USER)


def test_models_endpoint_lists_the_wrapped_model(server: FakeOpenAIServer) -> None:
    listed = openai.OpenAI(base_url=server.base_url, api_key="sk-test").models.list()
    assert [m.id for m in listed.data] == ["test-model"]


def test_request_params_and_sampling_options_are_sent(server: FakeOpenAIServer) -> None:
    model = chat(server)
    model.temperature = 0.2
    model.max_tokens = 50
    model.request_params = {"seed": 7}
    model.response(USER)
    sent = server.requests[0]
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.2, 50, 7)
    assert model.to_dict() == {"name": "OpenAIChat", "id": "fake-1", "provider": "OpenAI"}
