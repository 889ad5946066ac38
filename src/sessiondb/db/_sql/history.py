"""The read ``get_history`` repeats: the next older batch of a session's candidate runs.

One statement returns the session's type and summary (so an unknown session, or another
user's, is told apart from one without runs) left-joined to at most ``:size`` runs before
``:before``, newest first, that pass the filters of a :class:`~sessiondb.db.history.RunRows`. Statements are
built once per filter shape.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    Text,
    bindparam,
    cast,
    func,
    or_,
    select,
    true,
)

from sessiondb.db._sql.compiled import fetch
from sessiondb.db._sql.tables import Tables
from sessiondb.db.errors import SessionNotFound
from sessiondb.db.history import Batch, RunRows
from sessiondb.session import SessionSummary

_Shape = tuple[int, bool, bool, bool, bool, bool, int, bool, bool, bool]


def _shape(rows: RunRows, before: int | None, user_id: str | None) -> _Shape:
    """What a batch statement's SQL depends on (the values are bound)."""
    return (
        len(rows.skipped),
        rows.only_status is not None,
        rows.top_level,
        rows.run_type is not None,
        rows.agent_id is not None,
        rows.team_id is not None,
        len(rows.member_ids),
        rows.members_of_team is not None,
        before is not None,
        user_id is not None,
    )


class HistoryReads:
    """The batch statements of one store's tables."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._built: dict[_Shape, Select[Any]] = {}
        self._lock = threading.Lock()

    def _statement(self, shape: _Shape) -> Select[Any]:
        found = self._built.get(shape)
        if found is None:
            found = self._build(shape)
            with self._lock:
                found = self._built.setdefault(shape, found)
        return found

    def _build(self, shape: _Shape) -> Select[Any]:
        skipped, only, top_level, by_type, by_agent, by_team, members, of_team, before, by_user = shape
        runs, sessions = self._tables.runs, self._tables.sessions
        conditions: list[ColumnElement[bool]] = [runs.c.session_id == bindparam("session_id")]
        if top_level:
            conditions.append(runs.c.parent_run_id.is_(None))
        if skipped:
            wanted = [bindparam(f"skip_{i}", type_=Text) for i in range(skipped)]
            conditions.append(or_(runs.c.status.is_(None), func.upper(runs.c.status).not_in(wanted)))
        if only:
            conditions.append(func.upper(runs.c.status) == bindparam("only_status", type_=Text))
        if by_type:
            conditions.append(runs.c.run_type == bindparam("run_type", type_=Text))
        if by_agent:
            conditions.append(runs.c.agent_id == bindparam("agent_id"))
        if by_team:
            conditions.append(runs.c.team_id == bindparam("team_id"))
        if members:
            ids = [bindparam(f"member_{i}", type_=Text) for i in range(members)]
            conditions.append(runs.c.agent_id.in_(ids))
        if of_team:
            parents = runs.alias("parents")
            team_runs = select(parents.c.run_id).where(
                parents.c.session_id == bindparam("session_id"),
                parents.c.team_id == bindparam("members_of_team"),
            )
            conditions.append(runs.c.parent_run_id.in_(team_runs))
        if before:
            conditions.append(runs.c.run_index < bindparam("before", type_=BigInteger))
        batch = (
            select(cast(runs.c.run_data, Text).label("run_text"), runs.c.run_index.label("run_index"))
            .where(*conditions)
            .order_by(runs.c.run_index.desc())
            .limit(bindparam("size", type_=BigInteger))
            .subquery("batch")
        )
        query = (
            select(sessions.c.session_type, sessions.c.summary, batch.c.run_text, batch.c.run_index)
            .select_from(sessions.outerjoin(batch, true()))
            # A session in the trash has no history to read: it is not found.
            .where(sessions.c.session_id == bindparam("session_id"), sessions.c.deleted_at.is_(None))
            .order_by(batch.c.run_index.desc())
        )
        if by_user:
            query = query.where(sessions.c.user_id == bindparam("user_id"))
        return query

    def read(
        self,
        conn: Connection,
        session_id: str,
        user_id: str | None,
        rows: RunRows,
        before: int | None,
        size: int,
    ) -> Batch:
        """The session's type and summary, and the batch: ``(index, JSON text)`` newest first.

        Raises:
            SessionNotFound: no such session (for this user).
        """
        values: dict[str, Any] = {"session_id": session_id, "size": size, "before": before}
        values.update({f"skip_{i}": status for i, status in enumerate(rows.skipped)})
        values.update({f"member_{i}": member for i, member in enumerate(rows.member_ids)})
        values.update(
            only_status=rows.only_status,
            run_type=rows.run_type,
            agent_id=rows.agent_id,
            team_id=rows.team_id,
            members_of_team=rows.members_of_team,
            user_id=user_id,
        )
        found = fetch(conn, self._statement(_shape(rows, before, user_id)), values)
        if not found:
            raise SessionNotFound(session_id)
        stored: Mapping[str, Any] | None = found[0][1]
        summary = SessionSummary.from_dict(dict(stored)) if stored else None
        return found[0][0], summary, [(row[3], row[2]) for row in found if row[2] is not None]
