"""What a run sends the model: a fresh system message, the history copies, the new input.

Order (spec §5): system, then history, then the new user message. History messages are
*copies* of stored messages marked ``from_history=True``; old system messages are never
replayed (the run builds its own).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from sessiondb.run.message import Message
from sessiondb.session import SessionSummary


def build_system_message(
    *,
    system_message: str | None = None,
    description: str | None = None,
    instructions: str | Sequence[str] | None = None,
    extra_sections: Sequence[str] = (),
    summary: SessionSummary | None = None,
    session_state: Mapping[str, Any] | None = None,
) -> Message | None:
    """The run's system message, or ``None`` when there is nothing to say.

    Args:
        system_message: used as it is, instead of building one.
        description: the first paragraph.
        instructions: one string or a list, wrapped in ``<instructions>`` tags.
        extra_sections: further paragraphs (a team's member list, for example).
        summary: added inside ``<summary_of_previous_interactions>`` tags.
        session_state: added inside ``<session_state>`` tags.
    """
    if system_message is not None:
        return Message(role="system", content=system_message)
    parts: list[str] = []
    if description:
        parts.append(description)
    items = [instructions] if isinstance(instructions, str) else list(instructions or [])
    if len(items) == 1:
        parts.append(f"<instructions>\n{items[0]}\n</instructions>")
    elif items:
        parts.append("<instructions>\n" + "\n".join(f"- {item}" for item in items) + "\n</instructions>")
    parts.extend(extra_sections)
    if summary is not None:
        parts.append(
            "Here is a brief summary of your previous interactions:\n\n"
            f"<summary_of_previous_interactions>\n{summary.summary}\n</summary_of_previous_interactions>\n\n"
            "Note: this information is from previous interactions and may be outdated. "
            "You should ALWAYS prefer information from this conversation over the past summary."
        )
    if session_state is not None:
        parts.append(f"<session_state>\n{_render_state(session_state)}\n</session_state>")
    if not parts:
        return None
    return Message(role="system", content="\n\n".join(parts))


def _render_state(state: Mapping[str, Any]) -> str:
    return json.dumps(dict(state), indent=2, default=str)


def history_copies(messages: Sequence[Message], *, max_tool_calls: int | None = None) -> list[Message]:
    """Copies of ``messages`` marked ``from_history=True``.

    Args:
        max_tool_calls: keep only this many most recent tool results, and prune the matching
            entries from the assistants' ``tool_calls``.
    """
    copies = [message.model_copy(deep=True, update={"from_history": True}) for message in messages]
    if max_tool_calls is None:
        return copies
    tool_messages = [m for m in copies if m.role == "tool"]
    keep = tool_messages[len(tool_messages) - max_tool_calls :] if max_tool_calls > 0 else []
    kept_ids = {m.tool_call_id for m in keep}
    dropped_ids = {m.tool_call_id for m in tool_messages} - kept_ids
    result: list[Message] = []
    for message in copies:
        if message.role == "tool" and message.tool_call_id in dropped_ids:
            continue
        if message.tool_calls:
            calls = [c for c in message.tool_calls if c.get("id") not in dropped_ids]
            message.tool_calls = calls or None
            if not calls and not message.content:
                continue
        result.append(message)
    return result


def user_message(input: Any) -> Message:
    """The run's new user message (a :class:`Message` input is used as it is)."""
    if isinstance(input, Message):
        return input.model_copy(deep=True)
    if isinstance(input, BaseModel):
        return Message(role="user", content=input.model_dump_json())
    if isinstance(input, dict | list) and not _is_content_parts(input):
        return Message(role="user", content=json.dumps(input, default=str))
    return Message(role="user", content=input)


def _is_content_parts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(part, dict) and "type" in part for part in value)


__all__ = ["build_system_message", "history_copies", "user_message"]
