"""The read queries of the SQL backends: a session row, its runs, one run.

The reads every agent turn makes (the session row, its runs) run through the driver cursor
(:mod:`sessiondb.db._sql.compiled`); the others go through SQLAlchemy.

Run payloads are selected as text (``CAST(run_data AS TEXT)``): the store keeps that text as
the loaded state of each run, and decodes it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    or_,
    select,
)

from sessiondb.db._sql.compiled import fetch, fetch_mapping
from sessiondb.db._sql.tables import Tables
from sessiondb.db._tracking import HISTORY_SKIP_VALUES
from sessiondb.db.errors import SessionNotFound


def _sql_string(value: str) -> ColumnElement[Any]:
    return literal_column("'" + value.replace("'", "''") + "'")


def history_only(tables: Tables) -> ColumnElement[bool]:
    """Runs that count for history: no parent, and a status outside the history-skip set.

    The skip set is a constant, so it is rendered into the SQL text rather than bound as an
    expanding ``IN`` parameter, which SQLAlchemy would re-render at every execution.
    """
    runs = tables.runs
    skipped = [_sql_string(value) for value in sorted(HISTORY_SKIP_VALUES)]
    return runs.c.parent_run_id.is_(None) & or_(runs.c.status.is_(None), runs.c.status.not_in(skipped))


@dataclass(frozen=True)
class ReadStatements:
    """The hot read statements of one store, built once with bound parameters.

    Building a Core statement (coercion, cache key) costs more than running it from
    SQLAlchemy's compiled cache, so the reads every agent turn makes are built here once.

    Attributes:
        session_rows: ``(by user, locked)`` → the session row by ``:session_id`` (and ``:user_id``).
        all_runs: ``(run_id, JSON text)`` of every run of ``:session_id``, in order.
        newest_history: the same for the newest ``:limit`` history runs, newest first.
    """

    session_rows: dict[tuple[bool, bool], Select[Any]]
    all_runs: Select[Any]
    newest_history: Select[Any]

    @classmethod
    def build(cls, tables: Tables) -> ReadStatements:
        """Build the statements for ``tables``."""
        sessions, runs = tables.sessions, tables.runs
        rows: dict[tuple[bool, bool], Select[Any]] = {}
        for by_user in (False, True):
            for lock in (False, True):
                query = select(sessions).where(sessions.c.session_id == bindparam("session_id"))
                if by_user:
                    query = query.where(sessions.c.user_id == bindparam("user_id"))
                rows[(by_user, lock)] = query.with_for_update() if lock else query
        loaded = select(runs.c.run_id, cast(runs.c.run_data, Text)).where(
            runs.c.session_id == bindparam("session_id")
        )
        newest = (
            loaded.where(history_only(tables))
            .order_by(runs.c.run_index.desc())
            .limit(bindparam("limit", type_=runs.c.run_index.type))
        )
        return cls(rows, loaded.order_by(runs.c.run_index), newest)


def session_row(
    conn: Connection, reads: ReadStatements, session_id: str, user_id: str | None, *, lock: bool = False
) -> dict[str, Any]:
    """The session's row as a dict by column name, locked for the transaction when ``lock`` (a
    no-op on SQLite), read through the driver cursor (see :mod:`sessiondb.db._sql.compiled`).

    Raises:
        SessionNotFound: no such session (for this user).
    """
    by_user = user_id is not None
    params = {"session_id": session_id, "user_id": user_id} if by_user else {"session_id": session_id}
    row = fetch_mapping(conn, reads.session_rows[(by_user, lock)], params)
    if row is None:
        raise SessionNotFound(session_id)
    return row


def _newest(query: Select[Any], tables: Tables, last_n: int | None) -> Select[Any]:
    # The newest last_n are taken in descending order; the caller reverses them.
    index = tables.runs.c.run_index
    if last_n is None:
        return query.order_by(index)
    return query.order_by(index.desc()).limit(max(last_n, 0))


def session_runs(
    conn: Connection, reads: ReadStatements, session_id: str, runs_limit: int | None
) -> list[tuple[str, str]]:
    """``(run_id, JSON text)`` of the runs in order: all, or the newest ``runs_limit`` history runs."""
    if runs_limit is None:
        return [(run_id, text) for run_id, text in fetch(conn, reads.all_runs, {"session_id": session_id})]
    params = {"session_id": session_id, "limit": max(runs_limit, 0)}
    loaded = [(run_id, text) for run_id, text in fetch(conn, reads.newest_history, params)]
    loaded.reverse()
    return loaded


def filtered_runs(
    conn: Connection,
    tables: Tables,
    session_id: str,
    *,
    statuses: Sequence[str] | None,
    created_after: int | None,
    created_before: int | None,
    last_n: int | None,
    history: bool,
) -> list[str]:
    """JSON texts of a session's runs that pass the filters of ``get_runs``, oldest first."""
    runs = tables.runs
    query = select(cast(runs.c.run_data, Text)).where(runs.c.session_id == session_id)
    if statuses is not None:
        query = query.where(func.upper(runs.c.status).in_([str(status).upper() for status in statuses]))
    if created_after is not None:
        query = query.where(runs.c.created_at >= created_after)
    if created_before is not None:
        query = query.where(runs.c.created_at <= created_before)
    if history:
        query = query.where(history_only(tables))
    texts = list(conn.execute(_newest(query, tables, last_n)).scalars())
    if last_n is not None:
        texts.reverse()
    return texts


def one_run(
    conn: Connection, tables: Tables, run_id: str, session_id: str | None, user_id: str | None
) -> tuple[str, str] | None:
    """``(run_type, JSON text)`` of a run (in that session, of a session of that user), or ``None``."""
    runs, sessions = tables.runs, tables.sessions
    query = select(runs.c.run_type, cast(runs.c.run_data, Text)).where(runs.c.run_id == run_id)
    if session_id is not None:
        query = query.where(runs.c.session_id == session_id)
    if user_id is not None:
        owned = sessions.c.session_id == runs.c.session_id
        query = query.join(sessions, owned).where(sessions.c.user_id == user_id)
    found = conn.execute(query).one_or_none()
    return (found[0], found[1]) if found is not None else None
