"""``FunctionModel``: a test double whose reply is computed by a function you pass.

The function receives the messages and a :class:`ModelRequest` (tools offered, schema asked
for, request index) and returns the reply text or a full :class:`ModelResponse` (to call
tools). It may be a coroutine function; then only the async methods can use it.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from sessiondb.models._doubles import ModelRequest, estimate_usage, record, split_for_stream
from sessiondb.models.base import Model, ModelResponse, Stopwatch, StreamItem, TextDelta
from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message

Reply = str | ModelResponse
ReplyFunction = Callable[[list[Message], ModelRequest], Reply | Awaitable[Reply]]
StreamFunction = Callable[[list[Message], ModelRequest], Iterable[str]]


@dataclass(kw_only=True)
class FunctionModel(Model):
    """A model double that answers whatever ``function`` returns.

    Attributes:
        function: computes the reply from ``(messages, request)``; sync or async.
        stream_function: yields the text pieces of a streamed reply; by default the reply of
            ``function`` is streamed word by word.
        requests: every request received, for assertions.
    """

    function: ReplyFunction
    stream_function: StreamFunction | None = None
    id: str = "function-model"
    name: str = "FunctionModel"
    provider: str = "Function"
    requests: list[ModelRequest] = field(default_factory=list)

    def response(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Call ``function`` and wrap its result.

        Raises:
            TypeError: ``function`` is a coroutine function (use the async methods).
        """
        watch = Stopwatch()
        request = record(self.requests, messages, tools, response_format)
        result = self.function(list(request.messages), request)
        if inspect.isawaitable(result):
            # Close the never-awaited coroutine so it does not warn, then explain.
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError("FunctionModel.function is async: call arun/aresponse, not run/response")
        return _as_response(result, messages, watch)

    async def aresponse(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> ModelResponse:
        """Call ``function`` (awaiting it when it is async) and wrap its result."""
        watch = Stopwatch()
        request = record(self.requests, messages, tools, response_format)
        result = self.function(list(request.messages), request)
        if inspect.isawaitable(result):
            result = await result
        return _as_response(result, messages, watch)

    def response_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> Iterator[StreamItem]:
        """Stream ``stream_function``'s pieces, or ``function``'s reply word by word."""
        if self.stream_function is None:
            reply = self.response(messages, tools=tools, response_format=response_format)
            yield from _pieces(reply)
            return
        watch = Stopwatch()
        request = record(self.requests, messages, tools, response_format)
        text = []
        for piece in self.stream_function(list(request.messages), request):
            watch.first_token()
            text.append(piece)
            yield TextDelta(piece)
        yield _as_response("".join(text), messages, watch)

    async def aresponse_stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        response_format: type[BaseModel] | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Async twin of :meth:`response_stream`."""
        if self.stream_function is not None:
            for item in self.response_stream(messages, tools=tools, response_format=response_format):
                yield item
            return
        reply = await self.aresponse(messages, tools=tools, response_format=response_format)
        for item in _pieces(reply):
            yield item


def _as_response(result: Reply, messages: Sequence[Message], watch: Stopwatch) -> ModelResponse:
    if isinstance(result, ModelResponse):
        if not result.usage.total_tokens:
            result.usage = estimate_usage(messages, result.content)
        watch.stamp(result.usage)
        return result
    return ModelResponse(content=result, usage=watch.stamp(estimate_usage(messages, result)))


def _pieces(reply: ModelResponse) -> Iterator[StreamItem]:
    for piece in split_for_stream(reply.content or ""):
        yield TextDelta(piece)
    yield reply


__all__ = ["FunctionModel", "ModelRequest"]
