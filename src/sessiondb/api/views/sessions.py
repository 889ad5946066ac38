"""Sessions rendered as the dicts the endpoints send (spec §4 schemas).

Pure functions from domain objects to JSON-ready dicts. ``include_nulls`` chooses between
the two wire styles Agno uses: list, create and read leave ``None`` fields out; rename and
PATCH send them. The three component ids are always sent, so ``AgentOSClient`` can tell the
session type from any response (spec, point 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessiondb.api.responses import iso_utc
from sessiondb.session import AgentSession, Session, SessionSummary, TeamSession, WorkflowSession

_ALWAYS_SENT = ("agent_id", "team_id", "workflow_id")


def _finish(data: dict[str, Any], *, include_nulls: bool) -> dict[str, Any]:
    if include_nulls:
        return data
    return {key: value for key, value in data.items() if value is not None or key in _ALWAYS_SENT}


def _agent_metadata(
    metadata: dict[str, Any] | None, agent_data: dict[str, Any] | None
) -> dict[str, Any] | None:
    # External-agent adapters record their SDK in agent_data; Agno surfaces it in metadata.
    sdk = (agent_data.get("sdk") or agent_data.get("framework")) if isinstance(agent_data, dict) else None
    if isinstance(sdk, str) and sdk:
        return {**(metadata or {}), "sdk": sdk}
    return dict(metadata) if metadata is not None else None


def _component_ids(session: Session) -> dict[str, str | None]:
    return {
        "agent_id": getattr(session, "agent_id", None),
        "team_id": getattr(session, "team_id", None),
        "workflow_id": session.workflow_id,
    }


def _summary(session: Session) -> dict[str, Any] | None:
    summary = getattr(session, "summary", None)
    return summary.to_dict() if summary is not None else None


def session_list_item(session: Session) -> dict[str, Any]:
    """A ``SessionSchema`` list item; ``None`` fields are left out except the component ids."""
    session_data = session.session_data or {}
    metrics = session_data.get("session_metrics")
    metadata = session.metadata
    if isinstance(session, AgentSession):
        metadata = _agent_metadata(metadata, session.agent_data)
    data: dict[str, Any] = {
        "session_id": session.session_id,
        "session_name": session.get_session_name(),
        "session_state": session_data.get("session_state"),
        "created_at": iso_utc(session.created_at or 0),
        "updated_at": iso_utc(session.updated_at if session.updated_at is not None else session.created_at),
        "session_type": session.session_type,
        "user_id": session.user_id,
        **_component_ids(session),
        "session_summary": _summary(session),
        "metrics": metrics,
        "total_tokens": metrics.get("total_tokens") if isinstance(metrics, dict) else None,
        "metadata": metadata,
    }
    return _finish(data, include_nulls=False)


def _stored_summary(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    # Through the model, as the plain path reads it: PostgreSQL's jsonb gives the keys back in
    # its own order, and the model drops keys it does not know and normalises updated_at.
    return SessionSummary.from_dict(stored).to_dict() if stored is not None else None


def stored_list_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`session_list_item` from a listed session's stored row, without building the session.

    ``row`` is what :meth:`~sessiondb.db._sql.raw_reads.RawReads.get_session_rows` gives: the
    session's columns by name, JSON decoded. The listing's fast path renders it this way (see
    :mod:`sessiondb.api.fast_reads`); a test proves both give the same bytes.
    """
    session_data = row["session_data"] or {}
    metrics = session_data.get("session_metrics")
    metadata = row["metadata"]
    session_type = row["session_type"]
    if session_type == "agent":
        metadata = _agent_metadata(metadata, row["agent_data"])
    explicit = session_data.get("session_name")
    created_at, updated_at = row["created_at"], row["updated_at"]
    data: dict[str, Any] = {
        "session_id": row["session_id"],
        # A listed session holds no runs, so its name is the explicit one, else the stored one.
        "session_name": (explicit if isinstance(explicit, str) else "") or row["session_name"] or "",
        "session_state": session_data.get("session_state"),
        "created_at": iso_utc(created_at or 0),
        "updated_at": iso_utc(updated_at if updated_at is not None else created_at),
        "session_type": session_type,
        "user_id": row["user_id"],
        "agent_id": row["agent_id"] if session_type == "agent" else None,
        "team_id": row["team_id"] if session_type != "workflow" else None,
        "workflow_id": row["workflow_id"],
        "session_summary": _stored_summary(row["summary"]) if session_type != "workflow" else None,
        "metrics": metrics,
        "total_tokens": metrics.get("total_tokens") if isinstance(metrics, dict) else None,
        "metadata": metadata,
    }
    return _finish(data, include_nulls=False)


def _timestamps(session: Session) -> dict[str, str | None]:
    created = iso_utc(session.created_at) if session.created_at else None
    updated = iso_utc(session.updated_at) if session.updated_at else created
    return {"created_at": created, "updated_at": updated}


def _chat_fields(session: AgentSession | TeamSession) -> dict[str, Any]:
    session_data = session.session_data
    metrics = session_data.get("session_metrics", {}) if session_data else None
    return {
        "session_summary": _summary(session),
        "session_state": session_data.get("session_state") if session_data else None,
        "total_tokens": metrics.get("total_tokens") if isinstance(metrics, dict) else None,
        "metrics": metrics,
        "chat_history": [message.to_dict() for message in session.get_chat_history()],
    }


LINEAGE_KEYS = ("forked_from_session_id", "forked_from_run_id")
"""The ``session_data`` keys a fork records (see ``SessionStore.fork_session``), shown when set."""


def _lineage(session: Session) -> dict[str, Any]:
    data = session.session_data or {}
    return {key: data[key] for key in LINEAGE_KEYS if data.get(key) is not None}


def session_detail(session: Session, *, include_nulls: bool = False) -> dict[str, Any]:
    """The agent, team or workflow detail schema of ``session``, chosen by its type.

    Agent and team details carry ``chat_history``; it is only complete when the session was
    loaded with all its runs.
    """
    base: dict[str, Any] = {
        "session_id": session.session_id,
        "session_name": session.get_session_name(),
        "user_id": session.user_id,
        **_component_ids(session),
        **_lineage(session),
    }
    if isinstance(session, AgentSession):
        data = {
            **base,
            "agent_session_id": session.session_id,
            **_chat_fields(session),
            "agent_data": session.agent_data,
            "metadata": _agent_metadata(session.metadata, session.agent_data),
        }
    elif isinstance(session, TeamSession):
        data = {**base, **_chat_fields(session), "team_data": session.team_data, "metadata": session.metadata}
    else:
        data = {**base, **_workflow_fields(session)}
    data.update(_timestamps(session))
    return _finish(data, include_nulls=include_nulls)


def _workflow_fields(session: WorkflowSession) -> dict[str, Any]:
    session_data = session.session_data
    return {
        "workflow_name": session.workflow_name or (session.workflow_data or {}).get("name"),
        "session_data": session_data,
        "session_state": session_data.get("session_state") if session_data else None,
        "workflow_data": session.workflow_data,
        "metadata": session.metadata,
    }
