"""The model/tool loop of one run: ask the model, run the tools it calls, ask again.

Every assistant reply and every tool result is appended to the run's messages, so tool calls
are recorded as messages (an assistant message with ``tool_calls``, then one ``tool``
message per call). A tool that fails, is unknown, or gets bad arguments produces a ``tool``
message with ``tool_call_error=True`` and the loop goes on: the model sees the error.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sessiondb.agent._effects import CallModel, Emit, Steps, call
from sessiondb.agent.events import EventFactory
from sessiondb.models.base import Model, ModelResponse, ToolCall
from sessiondb.models.tools import Function, ToolArgumentsError, tool_result_text
from sessiondb.run.message import Message
from sessiondb.run.metrics import MessageMetrics, RunMetrics


@dataclass
class LoopResult:
    """What the loop produced: the last reply, the tool executions and the summed usage."""

    response: ModelResponse
    tools: list[dict[str, Any]] = field(default_factory=list)
    usage: MessageMetrics = field(default_factory=MessageMetrics)
    time_to_first_token: float | None = None


def model_loop(
    *,
    model: Model,
    messages: list[Message],
    functions: Mapping[str, Function],
    tool_context: Mapping[str, Any],
    events: EventFactory,
    stream: bool,
    tool_call_limit: int | None = None,
) -> Steps[LoopResult]:
    """Run the loop until the model answers without calling tools; ``messages`` grows in place."""
    result = LoopResult(ModelResponse())
    definitions = [function.definition for function in functions.values()]
    calls_made = 0
    while True:
        limit_reached = tool_call_limit is not None and calls_made >= tool_call_limit
        response: ModelResponse = yield CallModel(
            model,
            list(messages),
            [] if limit_reached else definitions,
            on_delta=events.content if stream else None,
        )
        result.response = response
        result.usage.add(response.usage)
        if result.time_to_first_token is None:
            result.time_to_first_token = response.usage.time_to_first_token or response.usage.duration
        messages.append(response.to_message())
        if not response.tool_calls:
            return result
        for tool_call in response.tool_calls:
            calls_made += 1
            over_limit = tool_call_limit is not None and calls_made > tool_call_limit
            execution = yield from _run_tool(functions, tool_call, tool_context, events, over_limit)
            result.tools.append(execution)
            messages.append(
                Message(
                    role="tool",
                    tool_call_id=tool_call.id,
                    tool_name=tool_call.name,
                    tool_args=execution["tool_args"],
                    content=execution["result"],
                    tool_call_error=execution["tool_call_error"],
                )
            )


def _run_tool(
    functions: Mapping[str, Function],
    tool_call: ToolCall,
    context: Mapping[str, Any],
    events: EventFactory,
    over_limit: bool,
) -> Steps[dict[str, Any]]:
    execution: dict[str, Any] = {
        "tool_call_id": tool_call.id,
        "tool_name": tool_call.name,
        "tool_args": _decoded_args(tool_call.arguments),
        "tool_call_error": False,
        "created_at": int(time.time()),
    }
    yield Emit(events.make("ToolCallStarted", tool=dict(execution)))
    started = time.perf_counter()
    function = functions.get(tool_call.name)
    try:
        if over_limit:
            raise ToolArgumentsError(f"tool call limit reached; {tool_call.name!r} was not run")
        if function is None:
            raise ToolArgumentsError(f"there is no tool named {tool_call.name!r}")
        bound = function.bind(tool_call.arguments, context)
        if function.effectful:
            value = yield from bound()
        else:
            value = yield from call(bound, is_async=function.is_async)
        execution["result"] = tool_result_text(value)
    except Exception as exc:  # a failing tool is reported to the model, which may recover
        execution["result"] = f"Error: {exc}"
        execution["tool_call_error"] = True
    execution["metrics"] = {"duration": time.perf_counter() - started}
    yield Emit(events.make("ToolCallCompleted", tool=dict(execution), content=execution["result"]))
    return execution


def _decoded_args(arguments: str) -> Any:
    import orjson

    try:
        return orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        return arguments


def run_metrics(model: Model, loop: LoopResult, started: float) -> RunMetrics:
    """The run's metrics: summed tokens, duration, time to first token and per-model details."""
    usage = loop.usage
    tokens = usage.to_dict()
    for key in ("duration", "time_to_first_token"):
        tokens.pop(key, None)
    metrics = RunMetrics.model_validate(tokens)
    metrics.duration = time.perf_counter() - started
    metrics.time_to_first_token = loop.time_to_first_token
    metrics.details = {"model": [{"id": model.id, "provider": model.provider, **tokens}]}
    return metrics


__all__ = ["LoopResult", "model_loop", "run_metrics"]
