"""The trash in SQL: soft delete, restore, purge, and hard delete, each recording its changes.

A session in the trash keeps its row and runs untouched, with ``deleted_at`` set; every read,
listing and write skips such rows (their statements say ``deleted_at IS NULL``), so it is
gone for everyone until restored. Its id stays taken: a write naming it is refused with
:class:`~sessiondb.db.errors.SessionInTrash` rather than starting a new session over it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from sessiondb.db._sql.changes import ChangeLog
from sessiondb.db._sql.search import unindex_sessions
from sessiondb.db._sql.tables import Tables
from sessiondb.db.errors import (
    SessionAlreadyExists,
    SessionInTrash,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    StoreError,
)


def refusal(conn: Connection, tables: Tables, session_id: str, *, create: bool) -> StoreError:
    """Why a session-row write returned no row: the session is in the trash, its id is taken
    (``create``), or it belongs to another user. Read only on this failure path."""
    sessions = tables.sessions
    found = conn.execute(select(sessions.c.deleted_at).where(sessions.c.session_id == session_id)).first()
    if found is not None and found[0] is not None:
        return SessionInTrash(session_id)
    return SessionAlreadyExists(session_id) if create else SessionOwnedByAnotherUser(session_id)


def count_runs(conn: Connection, tables: Tables, session_ids: Sequence[str]) -> int:
    """How many runs the sessions ``session_ids`` hold."""
    if not session_ids:
        return 0
    runs = tables.runs
    query = select(func.count()).select_from(runs).where(runs.c.session_id.in_(list(session_ids)))
    return int(conn.execute(query).scalar_one())


def hard_delete(
    conn: Connection, tables: Tables, rows: Sequence[Mapping[Any, Any]], log: ChangeLog | None
) -> None:
    """Delete the sessions of ``rows`` (their locked rows) and their runs for good."""
    session_ids = [row["session_id"] for row in rows]
    if not session_ids:
        return
    # The foreign key cascades too; deleting runs explicitly keeps this right even on an
    # engine (passed in by the caller) whose SQLite connections do not enforce foreign keys.
    runs, sessions = tables.runs, tables.sessions
    unindex_sessions(conn, tables, session_ids)
    conn.execute(delete(runs).where(runs.c.session_id.in_(session_ids)))
    conn.execute(delete(sessions).where(sessions.c.session_id.in_(session_ids)))
    if log is not None:
        for row in rows:
            log.add("session.deleted", row)


def soft_delete(conn: Connection, tables: Tables, session_ids: Sequence[str], log: ChangeLog) -> None:
    """Move live sessions to the trash: ``deleted_at`` now, a new version; nothing else changes."""
    if not session_ids:
        return
    sessions = tables.sessions
    statement = (
        update(sessions)
        .where(sessions.c.session_id.in_(list(session_ids)), sessions.c.deleted_at.is_(None))
        .values(deleted_at=log.now, version=sessions.c.version + 1)
        .returning(sessions.c.session_id, sessions.c.session_type, sessions.c.user_id, sessions.c.version)
    )
    for row in sorted(conn.execute(statement).mappings(), key=lambda found: str(found["session_id"])):
        log.add("session.deleted", row)


def restore(
    conn: Connection, tables: Tables, session_id: str, user_id: str | None, log: ChangeLog
) -> Mapping[Any, Any]:
    """Take a session out of the trash as it was (with a new version); returns its row.

    Raises:
        SessionNotFound: no such session in the trash (for this user).
    """
    sessions = tables.sessions
    conditions = [sessions.c.session_id == session_id, sessions.c.deleted_at.is_not(None)]
    if user_id is not None:
        conditions.append(sessions.c.user_id == user_id)
    statement = (
        update(sessions)
        .where(*conditions)
        .values(deleted_at=None, version=sessions.c.version + 1)
        .returning(*sessions.c)
    )
    row = conn.execute(statement).mappings().one_or_none()
    if row is None:
        raise SessionNotFound(session_id)
    log.add("session.restored", row)
    return row


def expired(conn: Connection, tables: Tables, cutoff: int, limit: int) -> list[Mapping[Any, Any]]:
    """Up to ``limit`` sessions put in the trash at or before ``cutoff``, locked, oldest first."""
    sessions = tables.sessions
    query = (
        select(sessions.c.session_id, sessions.c.session_type, sessions.c.user_id, sessions.c.version)
        .where(sessions.c.deleted_at.is_not(None), sessions.c.deleted_at <= cutoff)
        .order_by(sessions.c.deleted_at, sessions.c.session_id)
        .limit(limit)
        .with_for_update()
    )
    return list(conn.execute(query).mappings())
