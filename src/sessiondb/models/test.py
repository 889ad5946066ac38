"""``TestModel``: a deterministic test double that needs no network and no API key.

It answers every request the same way for the same input, so runtime tests and offline demos
can assert exact results:

* With ``call_tools``, its first reply in a turn calls those tools (arguments from
  ``tool_args``, or generated from the tool's schema); once the tool results are in, it answers
  with them as JSON.
* With a ``response_format`` it answers JSON built from the schema (or ``structured``).
* Otherwise it answers ``reply``; else, asked to name a conversation, a short title made from
  its first user message; else ``"TestModel reply to: <last user message>"``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel

from sessiondb.models._doubles import ModelRequest, estimate_usage, record, split_for_stream
from sessiondb.models.base import Model, ModelResponse, Stopwatch, StreamItem, TextDelta, ToolCall
from sessiondb.models.naming_prompt import is_naming_prompt, short_name
from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message


@dataclass(kw_only=True)
class TestModel(Model):
    """A deterministic model for tests and offline examples (a test double, not a real model).

    Attributes:
        reply: the fixed text of every plain reply; by default the reply echoes the last user
            message.
        call_tools: ``"all"`` or the names of the tools to call at the start of each turn.
        tool_args: arguments per tool name; tools not listed get arguments generated from
            their schema.
        structured: the object to answer when a ``response_format`` is asked for; generated
            from the schema when ``None``.
        requests: every request received, for assertions.
    """

    __test__ = False  # tells pytest this is not a test class despite its name

    id: str = "test-model"
    name: str = "TestModel"
    provider: str = "Test"
    reply: str | None = None
    call_tools: Sequence[str] | Literal["all"] = ()
    tool_args: dict[str, dict[str, Any]] = field(default_factory=dict)
    structured: dict[str, Any] | None = None
    requests: list[ModelRequest] = field(default_factory=list)

    def response(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Answer deterministically (see the module docstring)."""
        watch = Stopwatch()
        request = record(self.requests, messages, tools, response_format)
        calls = self._tool_calls(request)
        if calls:
            extra = sum(len(call.arguments.split()) for call in calls)
            return ModelResponse(tool_calls=calls, usage=watch.stamp(estimate_usage(messages, None, extra)))
        content = self._content(request)
        return ModelResponse(content=content, usage=watch.stamp(estimate_usage(messages, content)))

    async def aresponse(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Async twin of :meth:`response` (no I/O, so it simply answers)."""
        return self.response(messages, tools=tools, response_format=response_format)

    def response_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> Iterator[StreamItem]:
        """Stream the same reply word by word, then the complete reply."""
        reply = self.response(messages, tools=tools, response_format=response_format)
        for piece in split_for_stream(reply.content or ""):
            yield TextDelta(piece)
        yield reply

    async def aresponse_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Async twin of :meth:`response_stream`."""
        for item in self.response_stream(messages, tools=tools, response_format=response_format):
            yield item

    # -- behaviour -------------------------------------------------------------------------

    def _tool_calls(self, request: ModelRequest) -> list[ToolCall]:
        # Tools are called once per turn: only when no tool result follows the last user message.
        if _turn_has_tool_results(request.messages):
            return []
        offered = {tool.name: tool for tool in request.tools}
        wanted = list(offered) if self.call_tools == "all" else [n for n in self.call_tools if n in offered]
        return [
            ToolCall(
                name=name,
                arguments=orjson.dumps(
                    self.tool_args.get(name) or example_for_schema(offered[name].parameters)
                ).decode(),
                id=f"call_{request.index}_{position}",
            )
            for position, name in enumerate(wanted)
        ]

    def _content(self, request: ModelRequest) -> str:
        if request.response_format is not None:
            data = self.structured or example_for_schema(request.response_format.model_json_schema())
            return orjson.dumps(data).decode()
        results = _turn_tool_results(request.messages)
        if results:
            return orjson.dumps(results).decode()
        if self.reply is not None:
            return self.reply
        last = request.last_user_text()
        if is_naming_prompt(last):
            # Asked to name the session: a short title, as a real model gives, so offline demos
            # look like the real thing (not "TestModel reply to: Conversation ...").
            return short_name(last)
        return f"TestModel reply to: {last}"


def _turn_tool_results(messages: Sequence[Message]) -> dict[str, str]:
    results: dict[str, str] = {}
    for message in reversed(messages):
        if message.role == "user":
            break
        if message.role == "tool":
            results[message.tool_name or message.tool_call_id or "tool"] = message.get_content_string()
    return dict(reversed(results.items()))


def _turn_has_tool_results(messages: Sequence[Message]) -> bool:
    return bool(_turn_tool_results(messages))


def example_for_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None, key: str = "value") -> Any:
    """A small deterministic value that fits a JSON schema (object, array, scalar or ``$ref``)."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_for_schema(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, key)
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"] or schema["anyOf"]
        return example_for_schema(options[0], defs, key)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", properties))
        return {
            name: example_for_schema(prop, defs, name)
            for name, prop in properties.items()
            if name in required
        }
    if kind == "array":
        return [example_for_schema(schema.get("items", {}), defs, key)]
    return {"integer": 0, "number": 0.0, "boolean": False, "null": None}.get(kind, f"test {key}")


__all__ = ["TestModel", "example_for_schema"]
