"""The export read of the SQL backends: a keyset page of session rows, then every run of them.

Two statements in one read transaction (one snapshot on PostgreSQL, whose reads run at
``REPEATABLE READ``; SQLite reads a snapshot per transaction anyway): the page of sessions by
``session_id > :after`` (the primary key's order), then their runs ordered by
``(session_id, run_index)``, which the runs' unique index serves. Run payloads are selected
as text, as the store keeps them, so an export never decodes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, cast, false, or_, select

from sessiondb.db._sql.codec import session_from_row
from sessiondb.db._sql.tables import Tables
from sessiondb.db._tracking import UNSTORED
from sessiondb.db.query import SESSION_TYPES
from sessiondb.db.transfer import ExportedSession, ExportFilter


def _conditions(tables: Tables, filter: ExportFilter, after: str | None) -> list[ColumnElement[bool]]:
    sessions = tables.sessions
    # The trash (soft-deleted sessions) is gone for every read, exports included.
    conditions: list[ColumnElement[bool]] = [sessions.c.deleted_at.is_(None)]
    if after is not None:
        conditions.append(sessions.c.session_id > after)
    if filter.session_ids is not None:
        ids = list(filter.session_ids)
        conditions.append(sessions.c.session_id.in_(ids) if ids else false())
    if filter.user_id is not None:
        conditions.append(sessions.c.user_id == filter.user_id)
    if filter.session_type is not None:
        conditions.append(sessions.c.session_type == filter.session_type)
    if filter.component_id is not None:
        kinds = [filter.session_type] if filter.session_type is not None else list(SESSION_TYPES)
        conditions.append(or_(*(sessions.c[f"{kind}_id"] == filter.component_id for kind in kinds)))
    if filter.updated_since is not None:
        conditions.append(sessions.c.updated_at >= filter.updated_since)
    if filter.updated_until is not None:
        conditions.append(sessions.c.updated_at < filter.updated_until)
    return conditions


def export_page(
    conn: Connection, tables: Tables, filter: ExportFilter, *, after: str | None, limit: int
) -> list[ExportedSession]:
    """The page :meth:`~sessiondb.db.base.SessionStore.export_sessions` describes, read on ``conn``."""
    sessions, runs = tables.sessions, tables.runs
    page = (
        select(*sessions.c)
        .where(*_conditions(tables, filter, after))
        .order_by(sessions.c.session_id)
        .limit(limit)
    )
    rows = conn.execute(page).mappings().all()
    if not rows:
        return []
    ids = [row["session_id"] for row in rows]
    texts: dict[str, list[str]] = {session_id: [] for session_id in ids}
    run_rows: Any = conn.execute(
        select(runs.c.session_id, cast(runs.c.run_data, Text()))
        .where(runs.c.session_id.in_(ids))
        .order_by(runs.c.session_id, runs.c.run_index)
    )
    for session_id, text in run_rows:
        texts[session_id].append(text)
    return [
        ExportedSession(
            # An exported copy is new to every store, this one included (a restore recreates it).
            session_from_row(row, store=UNSTORED, session_type=None, runs=None, complete=False),
            texts[row["session_id"]],
        )
        for row in rows
    ]
