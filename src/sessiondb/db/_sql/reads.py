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

import orjson
from sqlalchemy import (
    JSON,
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
    true,
)

from sessiondb.db._sql.compiled import fetch, fetch_mapping, fetch_mappings
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


WINDOW_RUN_ID = "window_run_id"
WINDOW_RUN_TEXT = "window_run_text"
WINDOW_RUN_INDEX = "window_run_index"


@dataclass(frozen=True)
class ReadStatements:
    """The hot read statements of one store, built once with bound parameters.

    Building a Core statement (coercion, cache key) costs more than running it from
    SQLAlchemy's compiled cache, so the reads every agent turn makes are built here once.

    Attributes:
        session_rows: ``(by user, locked)`` → the session row by ``:session_id`` (and ``:user_id``).
        all_runs: ``(run_id, JSON text)`` of every run of ``:session_id``, in order.
        session_windows: ``by user`` → the session row left-joined to the newest ``:limit``
            history runs, one row per run (see :func:`session_with_window`).
        session_json_columns: the session columns that statement selects as JSON text.
    """

    session_rows: dict[tuple[bool, bool], Select[Any]]
    all_runs: Select[Any]
    session_windows: dict[bool, Select[Any]]
    session_json_columns: tuple[str, ...]

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
        json_columns = tuple(column.name for column in sessions.c if isinstance(column.type, JSON))
        # The session's JSON columns come as text and are decoded once, from the first row:
        # every row of the join repeats them, and the driver would decode each copy.
        session_columns = [
            cast(column, Text).label(column.name) if column.name in json_columns else column
            for column in sessions.c
        ]
        window = (
            select(
                runs.c.run_id.label(WINDOW_RUN_ID),
                cast(runs.c.run_data, Text).label(WINDOW_RUN_TEXT),
                runs.c.run_index.label(WINDOW_RUN_INDEX),
            )
            .where(runs.c.session_id == bindparam("session_id"), history_only(tables))
            .order_by(runs.c.run_index.desc())
            .limit(bindparam("limit", type_=runs.c.run_index.type))
            .subquery("window")
        )
        windows: dict[bool, Select[Any]] = {}
        for by_user in (False, True):
            query = (
                select(
                    *session_columns,
                    window.c[WINDOW_RUN_ID],
                    window.c[WINDOW_RUN_TEXT],
                    window.c[WINDOW_RUN_INDEX],
                )
                .select_from(sessions.outerjoin(window, true()))
                .where(sessions.c.session_id == bindparam("session_id"))
            )
            if by_user:
                query = query.where(sessions.c.user_id == bindparam("user_id"))
            # No ORDER BY: the caller sorts the few rows by run_index (SQLite would sort them
            # through a temporary B-tree).
            windows[by_user] = query
        return cls(rows, loaded.order_by(runs.c.run_index), windows, json_columns)


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


def _run_index(row: dict[str, Any]) -> int:
    index: int = row[WINDOW_RUN_INDEX]
    return index


def session_with_window(
    conn: Connection, reads: ReadStatements, session_id: str, user_id: str | None, runs_limit: int
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The session's row and ``(run_id, JSON text)`` of its newest ``runs_limit`` history runs.

    One statement (the row left-joined to the window), so it reads one snapshot without a
    transaction: on PostgreSQL one round trip instead of four (BEGIN, two SELECTs, COMMIT).

    Returns:
        The row as :func:`session_row` gives it, and the runs oldest first.

    Raises:
        SessionNotFound: no such session (for this user).
    """
    by_user = user_id is not None
    params: dict[str, Any] = {"session_id": session_id, "limit": max(runs_limit, 0)}
    if by_user:
        params["user_id"] = user_id
    rows = fetch_mappings(conn, reads.session_windows[by_user], params)
    if not rows:
        raise SessionNotFound(session_id)
    row = rows[0]
    for name in reads.session_json_columns:
        text = row[name]
        row[name] = None if text is None else orjson.loads(text)
    # A session without history runs is one row whose window columns are NULL.
    window = sorted((found for found in rows if found[WINDOW_RUN_ID] is not None), key=_run_index)
    loaded = [(found[WINDOW_RUN_ID], found[WINDOW_RUN_TEXT]) for found in window]
    return row, loaded


def _newest(query: Select[Any], tables: Tables, last_n: int | None) -> Select[Any]:
    # The newest last_n are taken in descending order; the caller reverses them.
    index = tables.runs.c.run_index
    if last_n is None:
        return query.order_by(index)
    return query.order_by(index.desc()).limit(max(last_n, 0))


def session_runs(conn: Connection, reads: ReadStatements, session_id: str) -> list[tuple[str, str]]:
    """``(run_id, JSON text)`` of all the session's runs in order (for a window, see
    :func:`session_with_window`)."""
    return [(run_id, text) for run_id, text in fetch(conn, reads.all_runs, {"session_id": session_id})]


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
