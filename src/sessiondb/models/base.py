"""The model interface every runtime talks to: one request in, one reply (or a stream) out.

A model receives the conversation as :class:`~sessiondb.run.message.Message` objects plus the
tools it may call, and answers with a :class:`ModelResponse`: text, tool calls and token usage.
Streaming yields :class:`TextDelta` pieces and ends with the complete :class:`ModelResponse`,
so a caller never has to reassemble tool calls or usage itself.
"""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from pydantic import BaseModel

from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message
from sessiondb.run.metrics import MessageMetrics


@dataclass
class ToolCall:
    """A call the model asked for: which tool, with which JSON-encoded arguments."""

    name: str
    arguments: str = "{}"
    id: str = field(default_factory=lambda: f"call_{uuid4().hex[:24]}")

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI wire shape stored in ``Message.tool_calls``."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolCall:
        """Parse the OpenAI wire shape (the inverse of :meth:`to_dict`)."""
        function = data.get("function") or {}
        return cls(
            name=str(function.get("name", "")),
            arguments=str(function.get("arguments") or "{}"),
            id=str(data.get("id") or f"call_{uuid4().hex[:24]}"),
        )


@dataclass
class ModelResponse:
    """One complete reply of a model.

    Attributes:
        content: the text, or ``None`` when the model only called tools.
        tool_calls: the tools the model wants run before it answers.
        usage: token counts and timing of this reply.
        reasoning_content: the model's reasoning text, when the provider returns one.
    """

    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: MessageMetrics = field(default_factory=MessageMetrics)
    reasoning_content: str | None = None

    def to_message(self) -> Message:
        """The assistant message that records this reply in a run."""
        return Message(
            role="assistant",
            content=self.content,
            tool_calls=[call.to_dict() for call in self.tool_calls] or None,
            reasoning_content=self.reasoning_content,
            metrics=self.usage.model_copy(),
        )


@dataclass
class TextDelta:
    """A piece of streamed reply text."""

    text: str


StreamItem = TextDelta | ModelResponse
"""What a stream yields: text pieces, then exactly one final :class:`ModelResponse`."""


class Model(abc.ABC):
    """A chat model: synchronous, asynchronous and streaming replies, with tool calls and usage.

    Subclasses implement :meth:`response` and :meth:`aresponse`. The streaming methods have
    defaults that deliver the whole reply as one piece, for models that cannot stream.

    Attributes:
        id: the model name sent to the provider (``"gpt-4o-mini"``).
        name: the class-level display name stored in ``agent_data.model.name``.
        provider: who serves the model, stored in ``RunOutput.model_provider``.
    """

    id: str
    name: str = "Model"
    provider: str = "unknown"

    @abc.abstractmethod
    def response(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Ask the model for one reply.

        Args:
            messages: the conversation so far, oldest first.
            tools: the tools the model may call.
            response_format: when given, the reply's content must be JSON matching this schema.
        """

    @abc.abstractmethod
    async def aresponse(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Async twin of :meth:`response`."""

    def response_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> Iterator[StreamItem]:
        """Stream a reply: :class:`TextDelta` pieces, then the complete :class:`ModelResponse`."""
        reply = self.response(messages, tools=tools, response_format=response_format)
        if reply.content:
            yield TextDelta(reply.content)
        yield reply

    async def aresponse_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Async twin of :meth:`response_stream`."""
        reply = await self.aresponse(messages, tools=tools, response_format=response_format)
        if reply.content:
            yield TextDelta(reply.content)
        yield reply

    def to_dict(self) -> dict[str, Any]:
        """What a session stores about the model: ``{name, id, provider}``."""
        return {"name": self.name, "id": self.id, "provider": self.provider}


class Stopwatch:
    """Measures a reply's duration and time to first token into its :class:`MessageMetrics`."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._first: float | None = None

    def first_token(self) -> None:
        """Note that the first piece of output arrived (only the first call counts)."""
        if self._first is None:
            self._first = time.perf_counter() - self._start

    def stamp(self, usage: MessageMetrics) -> MessageMetrics:
        """Write the elapsed time (and time to first token, if seen) into ``usage``; return it."""
        usage.duration = time.perf_counter() - self._start
        if self._first is not None:
            usage.time_to_first_token = self._first
        return usage


__all__ = ["Model", "ModelResponse", "Stopwatch", "StreamItem", "TextDelta", "ToolCall"]
