"""``OpenAIChat``: the Chat Completions API through the official ``openai`` SDK.

Works with OpenAI and with any OpenAI-compatible server (vLLM, Ollama, llama.cpp) by
``base_url``. Request building and reply parsing are shared by the sync and async paths; only
the client call differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
from pydantic import BaseModel

from sessiondb.models.base import Model, ModelResponse, Stopwatch, StreamItem, TextDelta, ToolCall
from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message
from sessiondb.run.metrics import MessageMetrics


@dataclass(kw_only=True)
class OpenAIChat(Model):
    """A chat model served by OpenAI or an OpenAI-compatible endpoint.

    Attributes:
        id: the model name (``"gpt-4o-mini"``, or whatever the compatible server serves).
        api_key: defaults to ``OPENAI_API_KEY`` (read by the SDK).
        base_url: defaults to ``OPENAI_BASE_URL`` or OpenAI itself (read by the SDK).
        temperature / max_tokens: sent when set.
        native_structured_outputs: ask for ``json_schema`` replies when a schema is wanted;
            when False, ask for ``json_object`` (for servers without schema support).
        request_params: any other Chat Completions parameters, sent as they are.
    """

    id: str = "gpt-4o"
    name: str = "OpenAIChat"
    provider: str = "OpenAI"
    api_key: str | None = None
    base_url: str | None = None
    organization: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    native_structured_outputs: bool = True
    request_params: dict[str, Any] = field(default_factory=dict)
    client: openai.OpenAI | None = None
    async_client: openai.AsyncOpenAI | None = None
    # The async client is tied to the event loop it was first used on; a new loop gets a new one.
    _async_loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)

    # -- clients ---------------------------------------------------------------------------

    def _client_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "api_key": self.api_key,
            "base_url": self.base_url,
            "organization": self.organization,
            "timeout": self.timeout,
        }
        if self.max_retries is not None:
            params["max_retries"] = self.max_retries
        return {key: value for key, value in params.items() if value is not None}

    def get_client(self) -> openai.OpenAI:
        """The synchronous SDK client, created on first use."""
        if self.client is None:
            self.client = openai.OpenAI(**self._client_params())
        return self.client

    def get_async_client(self) -> openai.AsyncOpenAI:
        """The asynchronous SDK client for the running event loop."""
        loop = asyncio.get_running_loop()
        if self.async_client is None or (self._async_loop is not None and self._async_loop is not loop):
            self.async_client = openai.AsyncOpenAI(**self._client_params())
            self._async_loop = loop
        return self.async_client

    # -- requests --------------------------------------------------------------------------

    def request_kwargs(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDefinition],
        response_format: type[BaseModel] | None,
        *,
        stream: bool,
    ) -> dict[str, Any]:
        """The keyword arguments of one ``chat.completions.create`` call."""
        kwargs: dict[str, Any] = {"model": self.id, "messages": [to_openai_message(m) for m in messages]}
        if tools:
            kwargs["tools"] = [tool.to_openai() for tool in tools]
        if response_format is not None:
            kwargs["response_format"] = self._response_format(response_format)
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_tokens is not None:
            kwargs["max_tokens"] = self.max_tokens
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        kwargs.update(self.request_params)
        return kwargs

    def _response_format(self, schema: type[BaseModel]) -> dict[str, Any]:
        if not self.native_structured_outputs:
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema(), "strict": False},
        }

    # -- sync ------------------------------------------------------------------------------

    def response(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Ask for one reply (see :meth:`Model.response`)."""
        watch = Stopwatch()
        completion = self.get_client().chat.completions.create(
            **self.request_kwargs(messages, tools, response_format, stream=False)
        )
        return parse_completion(completion, watch)

    def response_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> Iterator[StreamItem]:
        """Stream a reply over server-sent events (see :meth:`Model.response_stream`)."""
        acc = _StreamAccumulator()
        stream = self.get_client().chat.completions.create(
            **self.request_kwargs(messages, tools, response_format, stream=True)
        )
        for chunk in stream:
            delta = acc.add(chunk)
            if delta:
                yield TextDelta(delta)
        yield acc.finish()

    # -- async -----------------------------------------------------------------------------

    async def aresponse(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Async twin of :meth:`response`."""
        watch = Stopwatch()
        completion = await self.get_async_client().chat.completions.create(
            **self.request_kwargs(messages, tools, response_format, stream=False)
        )
        return parse_completion(completion, watch)

    async def aresponse_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Async twin of :meth:`response_stream`."""
        acc = _StreamAccumulator()
        stream = await self.get_async_client().chat.completions.create(
            **self.request_kwargs(messages, tools, response_format, stream=True)
        )
        async for chunk in stream:
            delta = acc.add(chunk)
            if delta:
                yield TextDelta(delta)
        yield acc.finish()


def to_openai_message(message: Message) -> dict[str, Any]:
    """A sessiondb message in the Chat Completions wire shape."""
    role = "assistant" if message.role == "model" else message.role
    data: dict[str, Any] = {"role": role, "content": message.content}
    if role == "assistant" and message.tool_calls:
        data["tool_calls"] = message.tool_calls
    if role == "tool":
        data["tool_call_id"] = message.tool_call_id
        data["content"] = message.get_content_string()
    if message.name and role in ("user", "system"):
        data["name"] = message.name
    return data


def usage_metrics(usage: Any) -> MessageMetrics:
    """Token counts from an SDK ``CompletionUsage`` (or ``None``)."""
    metrics = MessageMetrics()
    if usage is None:
        return metrics
    metrics.input_tokens = usage.prompt_tokens or 0
    metrics.output_tokens = usage.completion_tokens or 0
    metrics.total_tokens = usage.total_tokens or metrics.input_tokens + metrics.output_tokens
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    if prompt_details is not None:
        metrics.cache_read_tokens = getattr(prompt_details, "cached_tokens", None) or 0
        metrics.audio_input_tokens = getattr(prompt_details, "audio_tokens", None) or 0
    completion_details = getattr(usage, "completion_tokens_details", None)
    if completion_details is not None:
        metrics.reasoning_tokens = getattr(completion_details, "reasoning_tokens", None) or 0
        metrics.audio_output_tokens = getattr(completion_details, "audio_tokens", None) or 0
    metrics.audio_total_tokens = metrics.audio_input_tokens + metrics.audio_output_tokens
    return metrics


def parse_completion(completion: Any, watch: Stopwatch) -> ModelResponse:
    """A :class:`ModelResponse` from an SDK ``ChatCompletion``."""
    message = completion.choices[0].message
    calls = [
        ToolCall(name=call.function.name, arguments=call.function.arguments or "{}", id=call.id)
        for call in message.tool_calls or []
        if getattr(call, "function", None) is not None
    ]
    return ModelResponse(
        content=message.content,
        tool_calls=calls,
        usage=watch.stamp(usage_metrics(completion.usage)),
        reasoning_content=getattr(message, "reasoning_content", None),
    )


class _StreamAccumulator:
    """Assembles streamed chunks into one reply: text, tool calls by index, and usage."""

    def __init__(self) -> None:
        self.watch = Stopwatch()
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.usage: Any = None

    def add(self, chunk: Any) -> str:
        """Take one chunk; return the text it adds (maybe empty)."""
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        if not chunk.choices:
            return ""
        delta = chunk.choices[0].delta
        for call in delta.tool_calls or []:
            self.watch.first_token()
            slot = self.calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            if call.id:
                slot["id"] = call.id
            if call.function is not None:
                slot["name"] += call.function.name or ""
                slot["arguments"] += call.function.arguments or ""
        text: str = delta.content or ""
        if text:
            self.watch.first_token()
            self.text.append(text)
        return text

    def finish(self) -> ModelResponse:
        """The complete reply."""
        calls = [
            ToolCall(name=slot["name"], arguments=slot["arguments"] or "{}", id=slot["id"] or f"call_{index}")
            for index, slot in sorted(self.calls.items())
        ]
        return ModelResponse(
            content="".join(self.text) if self.text else None,
            tool_calls=calls,
            usage=self.watch.stamp(usage_metrics(self.usage)),
        )


__all__ = ["OpenAIChat", "parse_completion", "to_openai_message", "usage_metrics"]
