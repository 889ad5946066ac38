"""Helpers for runtime tests: scripted model replies and store inspection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest, ModelResponse, ToolCall
from sessiondb.run.message import Message


def scripted(*replies: str | ModelResponse) -> FunctionModel:
    """A model that answers ``replies`` in order (the last one repeats)."""

    def answer(messages: list[Message], request: ModelRequest) -> str | ModelResponse:
        return replies[min(request.index, len(replies) - 1)]

    return FunctionModel(function=answer)


def calls(name: str, **arguments: Any) -> ModelResponse:
    """A reply that calls one tool."""
    import orjson

    return ModelResponse(tool_calls=[ToolCall(name=name, arguments=orjson.dumps(arguments).decode())])


def echo_model(prefix: str = "echo") -> FunctionModel:
    """Replies ``"<prefix>: <last user message>"``."""
    return FunctionModel(function=lambda messages, request: f"{prefix}: {request.last_user_text()}")


def roles(messages: list[Message] | None) -> list[tuple[str, Any, bool]]:
    """``(role, content, from_history)`` of each message, for compact assertions."""
    return [(m.role, m.content, m.from_history) for m in messages or []]


def stored_state(store: SessionStore, session_id: str) -> dict[str, Any]:
    """The ``session_state`` as stored."""
    data = store.get_session(session_id).session_data or {}
    state = data.get("session_state")
    assert isinstance(state, dict)
    return state


def on_call(fn: Callable[[list[Message], ModelRequest], Any]) -> FunctionModel:
    """A FunctionModel from a plain function (readability helper)."""
    return FunctionModel(function=fn)
