"""Runs rendered as the dicts the run endpoints send (spec §4 run schemas).

The renderers work on ``run.to_dict()``, the stored form, and read it with the same defaults
Agno's schemas use: empty values become ``""``, ``[]`` or ``{}`` rather than disappearing.
"""

from __future__ import annotations

import json
from typing import Any

from sessiondb.api.responses import iso_utc
from sessiondb.db._sql.raw_reads import RunKind
from sessiondb.run import AnyRun, TeamRunOutput, WorkflowRunOutput

PREVIEW_CHARS = 280
"""How much of a run's input and output a preview keeps."""


def _stringify(value: Any) -> str:
    """Agno's rendering of an input as text: strings as they are, dicts as indented JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, indent=2, default=str)
    if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("role") == "user":
        first = value[0].get("content", str(value))
        return first if isinstance(first, str) else str(first)
    return str(value)


def _last_user_content(messages: Any) -> str | None:
    for message in reversed(messages or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content", "")
            return content if isinstance(content, str) else _stringify(content)
    return None


def run_input_text(run: dict[str, Any], *, workflow: bool = False) -> str:
    """The run's input as text; falls back to the last user message, then ``""``."""
    run_input = run.get("input")
    if workflow:
        if run_input is not None:
            return _stringify(run_input)
        executor_runs = run.get("step_executor_runs") or []
        if executor_runs and isinstance(executor_runs[0], dict):
            found = _last_user_content(executor_runs[0].get("messages"))
            if found is not None:
                return found
    elif isinstance(run_input, dict) and run_input.get("input_content") is not None:
        return _stringify(run_input["input_content"])
    return _last_user_content(run.get("messages")) or ""


def _input_media(run: dict[str, Any]) -> dict[str, list[Any]]:
    run_input = run.get("input")
    source = run_input if isinstance(run_input, dict) else {}
    return {kind: list(source.get(kind) or []) for kind in ("images", "videos", "audios", "files")}


def _shared(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run.get("run_id", ""),
        "user_id": run.get("user_id", ""),
        "status": run.get("status"),
        "cancellation_stage": run.get("cancellation_stage"),
        "content": run.get("content", ""),
        "reasoning_content": run.get("reasoning_content", ""),
        "reasoning_steps": run.get("reasoning_steps", []),
        "metrics": run.get("metrics", {}),
        "created_at": iso_utc(run.get("created_at")),
        "references": run.get("references", []),
        "citations": run.get("citations"),
        "reasoning_messages": run.get("reasoning_messages", []),
        "images": run.get("images", []),
        "videos": run.get("videos", []),
        "audio": run.get("audio", []),
        "files": run.get("files", []),
        "response_audio": run.get("response_audio"),
    }


def _model_run(run: dict[str, Any]) -> dict[str, Any]:
    return {
        **_shared(run),
        "parent_run_id": run.get("parent_run_id", ""),
        "run_input": run_input_text(run),
        "run_response_format": "text" if run.get("content_type", "str") == "str" else "json",
        "messages": run.get("messages") or None,
        "tools": run.get("tools") or None,
        "events": run.get("events") or None,
        "session_state": run.get("session_state"),
        "input_media": _input_media(run),
        "followups": run.get("followups"),
        "forked_from_run_id": run.get("forked_from_run_id"),
        "forked_from_message_index": run.get("forked_from_message_index"),
        "forked_from_session_id": run.get("forked_from_session_id"),
        "regenerated_from": run.get("regenerated_from"),
        "last_checkpoint_at_message_index": run.get("last_checkpoint_at_message_index"),
    }


def _workflow_run(run: dict[str, Any]) -> dict[str, Any]:
    return {
        **_shared(run),
        "run_input": run_input_text(run, workflow=True),
        "events": run.get("events", []),
        "workflow_id": run.get("workflow_id", ""),
        "content_type": run.get("content_type", ""),
        "status": run.get("status", ""),
        "step_results": run.get("step_results", []),
        "step_executor_runs": run.get("step_executor_runs", []),
        "step_requirements": run.get("step_requirements"),
        "pause_kind": run.get("pause_kind"),
        "paused_step_name": run.get("paused_step_name"),
        "paused_step_index": run.get("paused_step_index"),
    }


def run_detail(run: AnyRun, *, include_nulls: bool) -> dict[str, Any]:
    """The run schema matching the run's kind: workflow, team or agent run.

    A run is rendered by what it is, so an agent run stored in a team session shows as an
    agent run and nothing is dropped.
    """
    return stored_run_detail(run_kind(run), run.to_dict(), include_nulls=include_nulls)


def run_kind(run: AnyRun) -> RunKind:
    """``"workflow"``, ``"team"`` or ``"agent"``: which run schema ``run`` is rendered in."""
    if isinstance(run, WorkflowRunOutput):
        return "workflow"
    if isinstance(run, TeamRunOutput):
        return "team"
    return "agent"


def stored_run_detail(kind: RunKind, stored: dict[str, Any], *, include_nulls: bool) -> dict[str, Any]:
    """:func:`run_detail` from a run's stored dict (``run.to_dict()``) and its kind.

    The run endpoints' fast path renders the stored JSON this way without building the run
    (see :mod:`sessiondb.api.fast_reads`).
    """
    if kind == "workflow":
        data = _workflow_run(stored)
    elif kind == "team":
        data = {**_model_run(stored), "team_id": stored.get("team_id", "")}
    else:
        metadata = stored.get("metadata")
        data = {**_model_run(stored), "agent_id": stored.get("agent_id", ""), "metadata": metadata}
    if include_nulls:
        return data
    return {key: value for key, value in data.items() if value is not None}


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:PREVIEW_CHARS]


def run_preview(run: AnyRun) -> dict[str, Any]:
    """A ``SessionRunPreviewSchema``: ids, status, time, and input and output cut to 280 characters."""
    stored = run.to_dict()
    workflow = isinstance(run, WorkflowRunOutput)
    data = {
        "run_id": run.run_id,
        "parent_run_id": run.parent_run_id,
        "agent_id": getattr(run, "agent_id", None),
        "team_id": getattr(run, "team_id", None),
        "workflow_id": run.workflow_id if workflow else None,
        "user_id": run.user_id,
        "status": stored.get("status"),
        "run_input": _preview(run_input_text(stored, workflow=workflow)),
        "content_preview": _preview(stored.get("content")),
        "created_at": iso_utc(run.created_at),
    }
    return {key: value for key, value in data.items() if value is not None}
