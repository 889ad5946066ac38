"""Keeping the name columns of a session row right, inside the transaction that writes it.

The name shown for a session (spec §4) is its explicit name, else the name derived from its
first run. The derived name is stored together with the id of the run it came from, and is
recomputed (one indexed read of the first run) only when that run is rewritten or deleted,
or when the session had no naming run yet, so a write costs the same at run 10,000 as at run 1.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, Text, cast, func, select, update

from sessiondb.db._sql.codec import decode_session_runs
from sessiondb.db._sql.tables import Tables
from sessiondb.session import SessionType
from sessiondb.session.naming import derive_name_from_run

NAME_COLUMNS: tuple[str, ...] = (
    "explicit_name",
    "derived_name",
    "name_run_id",
    "session_name",
    "name_search",
)


@dataclass(frozen=True)
class Names:
    """What the name columns of one session row hold."""

    explicit: str | None
    derived: str
    run_id: str | None

    @property
    def shown(self) -> str:
        """The session name: the explicit one, else the derived one."""
        return self.explicit if self.explicit is not None else self.derived

    def columns(self) -> dict[str, Any]:
        """The values of :data:`NAME_COLUMNS`."""
        return {
            "explicit_name": self.explicit,
            "derived_name": self.derived,
            "name_run_id": self.run_id,
            "session_name": self.shown,
            # Lower-cased here rather than by the database, so the name filter folds case
            # exactly as Python (and InMemoryDb) does on every backend.
            "name_search": self.shown.lower(),
        }


def _derived_name(session_type: SessionType, first_run: Any | None, workflow_name: str | None) -> str:
    if first_run is None:
        return f"New {workflow_name} Session" if session_type == "workflow" and workflow_name else ""
    return derive_name_from_run(session_type, first_run, workflow_name)


def _first_naming_run(
    conn: Connection, tables: Tables, session_id: str, session_type: SessionType
) -> Any | None:
    runs = tables.runs
    query = select(cast(runs.c.run_data, Text)).where(runs.c.session_id == session_id)
    if session_type == "team":
        # Team sessions are named by their own runs, never by a member's agent run.
        query = query.where(runs.c.agent_id.is_(None))
    elif session_type == "workflow":
        query = query.where(runs.c.run_type == "workflow")
    text = conn.execute(query.order_by(runs.c.run_index).limit(1)).scalar_one_or_none()
    if text is None:
        return None
    decoded = decode_session_runs(session_type, [text])
    return decoded[0] if decoded else None


def _stored_workflow_name(conn: Connection, tables: Tables, session_id: str) -> str | None:
    sessions = tables.sessions
    name = func.coalesce(sessions.c.workflow_name, sessions.c.workflow_data["name"].as_string())
    value = conn.execute(select(name).where(sessions.c.session_id == session_id)).scalar_one_or_none()
    return str(value) if value else None


def settle_names(
    conn: Connection,
    tables: Tables,
    row: RowMapping | Mapping[str, Any],
    *,
    explicit: str | None,
    rewritten: Collection[str],
    workflow_name: str | None = None,
) -> Names:
    """Bring the name columns of a just-written session row up to date.

    Args:
        conn: the connection of the write transaction (the session row is locked by it).
        tables: the store's tables.
        row: the session row as the write returned it (session id and type, name columns).
        explicit: the explicit name the session has now.
        rewritten: ids of the runs this transaction wrote or deleted.
        workflow_name: the workflow's name for the ``"New <name> Session"`` fallback, when the
            caller has the session object; otherwise it is read from the row if needed.

    Returns:
        The names now stored.
    """
    session_id, session_type = row["session_id"], row["session_type"]
    derived, run_id = row["derived_name"], row["name_run_id"]
    if run_id is None or run_id in rewritten:
        first = _first_naming_run(conn, tables, session_id, session_type)
        if first is None and session_type == "workflow" and workflow_name is None:
            workflow_name = _stored_workflow_name(conn, tables, session_id)
        derived = _derived_name(session_type, first, workflow_name)
        run_id = first.run_id if first is not None else None
    names = Names(explicit, derived, run_id)
    values = names.columns()
    if any(row[column] != values[column] for column in NAME_COLUMNS):
        sessions = tables.sessions
        conn.execute(update(sessions).where(sessions.c.session_id == session_id).values(values))
    return names
