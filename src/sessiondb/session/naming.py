"""The session-name rule of spec §4: explicit name, else derived from the session's first run.

The derived name is what Agno's AgentOS shows for a session without an explicit name:

- workflow: the first run's input (a string as it is, a dict as JSON), else
  ``"New <workflow name> Session"``;
- agent: the first run's first user message with content, else its input rendered as text;
- team: the same, from the first run without ``agent_id`` (member runs are skipped).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from sessiondb.run.agent import RunInput
from sessiondb.run.message import Message
from sessiondb.session._runs import quietly

if TYPE_CHECKING:
    from sessiondb.session.base import BaseSession


def explicit_session_name(session: BaseSession) -> str | None:
    """The name stored in ``session_data['session_name']``, if any."""
    name = (session.session_data or {}).get("session_name")
    return name if isinstance(name, str) else None


def stringify_input(value: Any) -> str:
    """Render a run input as text, the way AgentOS does for session names and run inputs.

    Strings stay as they are; a dict becomes indented JSON; a message becomes its JSON dict; a
    list of messages becomes a JSON list, except that a list of stored message dicts that
    starts with a user message gives that message's content; anything else uses ``str()``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Message):
        return json.dumps(value.to_dict())
    if isinstance(value, dict):
        return json.dumps(value, indent=2, default=str)
    if isinstance(value, list) and value:
        first = value[0]
        if isinstance(first, Message):
            return json.dumps([m.to_dict() if isinstance(m, Message) else m for m in value], default=str)
        if isinstance(first, dict) and first.get("role") == "user":
            content = first.get("content", str(value))
            return content if isinstance(content, str) else str(content)
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"))
    return str(value)


def derive_name_from_run(session_type: str, run: Any, workflow_name: str | None = None) -> str:
    """The name a session without an explicit name gets from its first run (spec §4).

    Args:
        session_type: ``"agent"``, ``"team"`` or ``"workflow"``.
        run: the session's first run (for a team, its first run without ``agent_id``).
        workflow_name: the workflow's name, for the ``"New <name> Session"`` fallback.

    Returns:
        Workflow: the run's input when it is a string, JSON when it is a dict, else
        ``"New <workflow name> Session"`` (``""`` without a name). Agent and team: the content of
        the first user message with content, else the run's ``input_content`` as text, else ``""``.
        Any U+0000 is left out (Agno keeps it): PostgreSQL's text columns cannot hold it, so a
        session whose first message held one could not be stored there at all.
    """
    return _derived_name(session_type, run, workflow_name).replace("\x00", "")


def _derived_name(session_type: str, run: Any, workflow_name: str | None) -> str:
    if session_type == "workflow":
        run_input = getattr(run, "input", None)
        if isinstance(run_input, str):
            return run_input
        if isinstance(run_input, dict):
            return json.dumps(run_input, default=str)
        return f"New {workflow_name} Session" if workflow_name else ""
    messages: list[Message] = getattr(run, "messages", None) or []
    for message in messages:
        if message.role == "user" and message.content:
            return message.get_content_string()
    run_input = getattr(run, "input", None)
    if isinstance(run_input, RunInput) and run_input.input_content is not None:
        return stringify_input(run_input.input_content)
    return ""


def first_named_run(session: BaseSession) -> Any | None:
    """The run the derived name comes from: the first run (team sessions skip member runs)."""
    for run in quietly(session.runs):
        if session.session_type == "team" and getattr(run, "agent_id", None):
            continue
        return run
    return None


def derive_session_name(session: BaseSession) -> str:
    """Explicit name, else the name derived from the first run held in memory, else ``""``.

    When the store loaded only the newest runs (``runs_complete`` is False) the first run is not
    at hand, so ``""`` is returned and the caller falls back to the stored name column.
    """
    explicit = explicit_session_name(session)
    if explicit is not None:
        return explicit
    if not session.runs_complete:
        return ""
    workflow_name = getattr(session, "workflow_name", None) or (
        (getattr(session, "workflow_data", None) or {}).get("name")
    )
    run = first_named_run(session)
    if run is None:
        return f"New {workflow_name} Session" if session.session_type == "workflow" and workflow_name else ""
    return derive_name_from_run(session.session_type, run, workflow_name)
