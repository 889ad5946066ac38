"""One run logic, two drivers: how agents, teams and workflows run both sync and async.

A run is written once, as a generator that *yields effects* (store a row, call the model,
run a tool, emit an event) and receives their results. :func:`drive` performs the effects
with blocking calls; :func:`adrive` performs them with ``await`` (blocking work goes to a
worker thread). Both yield the run's events as they happen and end with :class:`Finished`.
Nesting is plain ``yield from``: a team's delegation tool drives its member's run inside its
own, so member events flow through the team's stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio.to_thread
from pydantic import BaseModel

from sessiondb.models.base import Model, ModelResponse, StreamItem, TextDelta
from sessiondb.models.tools import ToolDefinition
from sessiondb.run.message import Message

T = TypeVar("T")


@dataclass
class Blocking:
    """Run a blocking callable (store I/O, a sync tool); its return value is sent back."""

    fn: Callable[[], Any]


@dataclass
class Async:
    """Await a coroutine made by ``factory`` (an async tool or step); its result is sent back."""

    factory: Callable[[], Awaitable[Any]]


@dataclass
class CallModel:
    """Ask a model for a reply; the :class:`ModelResponse` is sent back.

    When ``on_delta`` is given the reply is streamed and every text piece becomes the event it
    returns (``None`` drops the piece).
    """

    model: Model
    messages: Sequence[Message]
    tools: Sequence[ToolDefinition] = ()
    response_format: type[BaseModel] | None = None
    on_delta: Callable[[str], Any] | None = None


@dataclass
class Emit:
    """Hand an event to whoever is consuming the run's stream."""

    event: Any


Effect = Blocking | Async | CallModel | Emit
Steps = Generator[Effect, Any, T]
"""A run's logic: yields effects, receives their results, returns ``T``."""


@dataclass
class Finished(Generic[T]):
    """The last item of a driven run: its result."""

    result: T


def call(fn: Callable[[], Any], *, is_async: bool = False) -> Steps[Any]:
    """Run ``fn`` as the right effect (``is_async``: it returns an awaitable); return its result."""
    if is_async:
        return (yield Async(fn))
    return (yield Blocking(fn))


def drive(steps: Steps[T]) -> Iterator[Any]:
    """Perform ``steps`` with blocking calls; yield their events, then :class:`Finished`."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            yield Finished(stop.value)
            return
        value, error = None, None
        try:
            if isinstance(effect, Emit):
                yield effect.event
            elif isinstance(effect, Blocking):
                value = effect.fn()
            elif isinstance(effect, Async):
                value = _run_coroutine(effect.factory)
            elif effect.on_delta is None:
                value = effect.model.response(
                    effect.messages, tools=effect.tools, response_format=effect.response_format
                )
            else:
                stream = effect.model.response_stream(
                    effect.messages, tools=effect.tools, response_format=effect.response_format
                )
                value = yield from _relay(stream, effect.on_delta)
        except Exception as exc:  # handed back to the run logic (via throw), which decides
            error = exc


async def adrive(steps: Steps[T]) -> AsyncIterator[Any]:
    """Perform ``steps`` with ``await``; yield their events, then :class:`Finished`."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as stop:
            yield Finished(stop.value)
            return
        value, error = None, None
        try:
            if isinstance(effect, Emit):
                yield effect.event
            elif isinstance(effect, Blocking):
                value = await anyio.to_thread.run_sync(effect.fn)
            elif isinstance(effect, Async):
                value = await effect.factory()
            elif effect.on_delta is None:
                value = await effect.model.aresponse(
                    effect.messages, tools=effect.tools, response_format=effect.response_format
                )
            else:
                final: ModelResponse | None = None
                async for item in effect.model.aresponse_stream(
                    effect.messages, tools=effect.tools, response_format=effect.response_format
                ):
                    if isinstance(item, TextDelta):
                        event = effect.on_delta(item.text)
                        if event is not None:
                            yield event
                    else:
                        final = item
                value = _require_final(final)
        except Exception as exc:  # handed back to the run logic (via throw), which decides
            error = exc


def _relay(
    stream: Iterator[StreamItem], on_delta: Callable[[str], Any]
) -> Generator[Any, None, ModelResponse]:
    final: ModelResponse | None = None
    for item in stream:
        if isinstance(item, TextDelta):
            event = on_delta(item.text)
            if event is not None:
                yield event
        else:
            final = item
    return _require_final(final)


def _require_final(final: ModelResponse | None) -> ModelResponse:
    if final is None:
        raise RuntimeError("the model's stream ended without a final ModelResponse")
    return final


def _run_coroutine(factory: Callable[[], Awaitable[Any]]) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:

        async def main() -> Any:
            return await factory()

        return asyncio.run(main())
    raise RuntimeError("an async tool or step cannot run inside a running event loop with run(); use arun()")


def result_of(items: Iterator[Any]) -> Any:
    """Drain a driven run, dropping its events, and return its result."""
    for item in items:
        if isinstance(item, Finished):
            return item.result
    raise RuntimeError("the run ended without a result")


async def aresult_of(items: AsyncIterator[Any]) -> Any:
    """Async twin of :func:`result_of`."""
    async for item in items:
        if isinstance(item, Finished):
            return item.result
    raise RuntimeError("the run ended without a result")


__all__ = [
    "Async",
    "Blocking",
    "CallModel",
    "Effect",
    "Emit",
    "Finished",
    "Steps",
    "adrive",
    "aresult_of",
    "call",
    "drive",
    "result_of",
]
