"""A session's runs as the console shows them: newest first, member runs under their team run,
messages in order with each tool call folded together with its result.

Pure data shaping, no I/O: the router reads the runs with the store's ``get_runs`` and hands
them here; the templates only lay out what this module returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from sessiondb.run.base import RunBase
from sessiondb.run.message import Message


def as_text(value: Any) -> str:
    """Text to show for any stored value: strings as they are, anything else as indented JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, RunBase | Message) or hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", exclude_none=True)
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(value)


@dataclass
class ToolCall:
    """One tool call and, once its result message is seen, the result."""

    call_id: str | None
    name: str
    arguments: str
    result: str | None = None
    failed: bool = False


@dataclass
class Turn:
    """One message of a run: who spoke, what was said, and the tool calls it made."""

    role: str
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass
class RunView:
    """One run as shown: its facts, its turns and its member runs."""

    run_id: str
    label: str
    status: str
    created_at: int
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    duration: float | None
    turns: list[Turn]
    members: list[RunView] = field(default_factory=list)
    parent_run_id: str | None = None


def _tool_call(raw: dict[str, Any]) -> ToolCall:
    # OpenAI's shape ({"id", "function": {"name", "arguments"}}) or a flat {"name", "arguments"}.
    function = raw.get("function") if isinstance(raw.get("function"), dict) else raw
    assert isinstance(function, dict)
    arguments = function.get("arguments", function.get("args"))
    if isinstance(arguments, str):
        try:
            arguments = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            pass
    return ToolCall(
        call_id=raw.get("id") if isinstance(raw.get("id"), str) else None,
        name=str(function.get("name") or raw.get("tool_name") or "tool"),
        arguments=as_text(arguments),
    )


def turns_of(messages: Sequence[Message]) -> list[Turn]:
    """The turns of a run's own messages (history copies left out), tool results folded in.

    A ``tool`` message whose ``tool_call_id`` matches an earlier call becomes that call's
    result; one that matches none is shown as a turn of its own.
    """
    turns: list[Turn] = []
    open_calls: dict[str, ToolCall] = {}
    for message in messages:
        if message.from_history:
            continue
        if message.role == "tool":
            call = open_calls.get(message.tool_call_id or "")
            if call is not None:
                call.result = as_text(message.content)
                call.failed = bool(message.tool_call_error)
                continue
            name = message.tool_name or "tool"
            orphan = ToolCall(
                message.tool_call_id, name, as_text(message.tool_args), as_text(message.content)
            )
            turns.append(Turn(role="tool", text="", tool_calls=[orphan]))
            continue
        calls = [_tool_call(raw) for raw in message.tool_calls or [] if isinstance(raw, dict)]
        for call in calls:
            if call.call_id:
                open_calls[call.call_id] = call
        turns.append(Turn(role=message.role, text=as_text(message.content), tool_calls=calls))
    return turns


def _label(run: RunBase) -> str:
    for attribute in ("agent_name", "team_name", "workflow_name", "agent_id", "team_id", "workflow_id"):
        value = getattr(run, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(run).__name__


def run_view(run: RunBase) -> RunView:
    """One run, without its members."""
    messages = run.messages or []
    turns = turns_of(messages)
    if not turns:
        # A run stored without messages (a workflow run, or a runtime that keeps none):
        # its input and its output still say what happened.
        run_input = getattr(run, "input", None)
        asked = getattr(run_input, "input_content", None) if run_input is not None else None
        if asked is not None:
            turns.append(Turn(role="user", text=as_text(asked)))
        if run.content is not None:
            turns.append(Turn(role="assistant", text=as_text(run.content)))
    metrics = getattr(run, "metrics", None)
    duration = getattr(metrics, "duration", None)
    return RunView(
        run_id=run.run_id,
        label=_label(run),
        status=str(getattr(run.status, "value", run.status)),
        created_at=run.created_at,
        model=getattr(run, "model", None),
        input_tokens=getattr(metrics, "input_tokens", None),
        output_tokens=getattr(metrics, "output_tokens", None),
        total_tokens=getattr(metrics, "total_tokens", None),
        duration=duration if isinstance(duration, int | float) else None,
        turns=turns,
        parent_run_id=run.parent_run_id,
    )


def transcript(runs: Sequence[RunBase]) -> list[RunView]:
    """Runs (as ``get_runs`` returns them, oldest first) newest first, members under their parent.

    A member run whose parent is not among ``runs`` (it fell off the loaded window) is shown
    on its own, still marked with its parent's id.
    """
    views = [run_view(run) for run in runs]
    by_id = {view.run_id: view for view in views}
    top: list[RunView] = []
    for view in views:
        parent = by_id.get(view.parent_run_id or "")
        if parent is not None and parent is not view:
            parent.members.append(view)
        else:
            top.append(view)
    top.reverse()
    return top
