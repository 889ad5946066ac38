"""The session-name rule of spec §4: explicit name, else derived from the first run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sessiondb.run._text import to_text

if TYPE_CHECKING:
    from sessiondb.session.base import BaseSession


def explicit_session_name(session: BaseSession) -> str | None:
    """The name stored in ``session_data['session_name']``, if any."""
    name = (session.session_data or {}).get("session_name")
    return name if isinstance(name, str) else None


def derive_name_from_run(session_type: str, run: Any, workflow_name: str | None = None) -> str:
    """The name a session gets from its first run when it has no explicit name."""
    if session_type == "workflow":
        text = to_text(getattr(run, "input", None))
        if text:
            return text
        return f"New {workflow_name} Session" if workflow_name else ""
    for message in run.messages or []:
        if message.role == "user" and message.content:
            return message.get_content_string()
    run_input = getattr(run, "input", None)
    if run_input is not None and run_input.input_content is not None:
        return run_input.input_content_string()
    return ""


def first_named_run(session: BaseSession) -> Any | None:
    """The run the derived name comes from: the first run (team sessions skip member runs)."""
    for run in session.runs or []:
        if session.session_type == "team" and getattr(run, "agent_id", None):
            continue
        return run
    return None


def derive_session_name(session: BaseSession) -> str:
    """Explicit name, else derived from the first run held in memory, else ``""``."""
    explicit = explicit_session_name(session)
    if explicit is not None:
        return explicit
    if not session.runs_complete:
        return ""
    run = first_named_run(session)
    workflow_name = getattr(session, "workflow_name", None) or (
        (getattr(session, "workflow_data", None) or {}).get("name")
    )
    if run is None:
        return f"New {workflow_name} Session" if session.session_type == "workflow" and workflow_name else ""
    return derive_name_from_run(session.session_type, run, workflow_name)
