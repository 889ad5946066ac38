"""The session reads of the SQL backends: a session row, with its newest runs or all of them.

They run through the driver cursor (:mod:`sessiondb.db._sql.compiled`). The run reads
(``get_run``, ``get_runs``) are in :mod:`sessiondb.db._sql.run_reads`.

Run payloads are selected as text (``CAST(run_data AS TEXT)``): the store keeps that text as
the loaded state of each run, and decodes it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    Text,
    bindparam,
    cast,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)

from sessiondb.db._sql.compiled import compiled_for, fetch, fetch_mapping
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
        session_windows: ``by user`` → the session row left-joined to the newest ``:limit``
            history runs, one row per run (see :func:`session_with_window`).
        whole_sessions: ``by user`` → the session row, then one row per run of it (see
            :func:`whole_session`).
        session_json_columns: the session columns these statements select as JSON text.
        run_window: the newest ``:limit`` history runs of ``:session_id``, newest first, as
            ``(run_id, JSON text, run_index)``: the window of ``session_windows`` on its own,
            for a read that selects the session row separately in the same snapshot (see
            :mod:`sessiondb.db._sql.driver_reads`).
    """

    session_rows: dict[tuple[bool, bool], Select[Any]]
    session_windows: dict[bool, Select[Any]]
    whole_sessions: dict[bool, CompoundSelect[Any]]
    session_json_columns: tuple[str, ...]
    run_window: Select[Any]

    @classmethod
    def build(cls, tables: Tables) -> ReadStatements:
        """Build the statements for ``tables``."""
        sessions, runs = tables.sessions, tables.runs
        rows: dict[tuple[bool, bool], Select[Any]] = {}
        for by_user in (False, True):
            for lock in (False, True):
                query = select(sessions).where(
                    sessions.c.session_id == bindparam("session_id"), sessions.c.deleted_at.is_(None)
                )
                if by_user:
                    query = query.where(sessions.c.user_id == bindparam("user_id"))
                rows[(by_user, lock)] = query.with_for_update() if lock else query
        json_columns = tuple(column.name for column in sessions.c if isinstance(column.type, JSON))
        # The session's JSON columns come as text and are decoded once, from the first row:
        # every row of the join repeats them, and the driver would decode each copy.
        session_columns = [
            cast(column, Text).label(column.name) if column.name in json_columns else column
            for column in sessions.c
        ]
        run_window = (
            select(
                runs.c.run_id.label(WINDOW_RUN_ID),
                cast(runs.c.run_data, Text).label(WINDOW_RUN_TEXT),
                runs.c.run_index.label(WINDOW_RUN_INDEX),
            )
            .where(runs.c.session_id == bindparam("session_id"), history_only(tables))
            .order_by(runs.c.run_index.desc())
            .limit(bindparam("limit", type_=runs.c.run_index.type))
        )
        window = run_window.subquery("window")
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
                .where(sessions.c.session_id == bindparam("session_id"), sessions.c.deleted_at.is_(None))
            )
            if by_user:
                query = query.where(sessions.c.user_id == bindparam("user_id"))
            # No ORDER BY: the caller sorts the few rows by run_index (SQLite would sort them
            # through a temporary B-tree).
            windows[by_user] = query
        return cls(
            rows,
            windows,
            _whole_sessions(tables, session_columns),
            json_columns,
            run_window,
        )


def _whole_sessions(tables: Tables, session_columns: list[Any]) -> dict[bool, CompoundSelect[Any]]:
    """The session row ``UNION ALL`` its runs' rows: one statement, so one snapshot.

    Both branches have the window statement's columns: the first the session's (its runs'
    columns NULL), the others a run's (the session's columns NULL). The runs are those of the
    session the first branch finds: with a ``user_id`` that does not own it, neither finds any.
    """
    sessions, runs = tables.sessions, tables.runs
    run_columns = (
        runs.c.run_id.label(WINDOW_RUN_ID),
        cast(runs.c.run_data, Text).label(WINDOW_RUN_TEXT),
        runs.c.run_index.label(WINDOW_RUN_INDEX),
    )
    no_session = [null().cast(column.type).label(column.name) for column in session_columns]
    no_run = [null().cast(column.type).label(column.name) for column in run_columns]
    whole: dict[bool, CompoundSelect[Any]] = {}
    for by_user in (False, True):
        # A session in the trash (deleted_at set) is not found, nor are its runs.
        owner = [sessions.c.session_id == bindparam("session_id"), sessions.c.deleted_at.is_(None)]
        if by_user:
            owner.append(sessions.c.user_id == bindparam("user_id"))
        row = select(*session_columns, *no_run).where(*owner)
        # Joined to the session row (a primary-key lookup) so that the owner check holds here too.
        its_runs = (
            select(*no_session, *run_columns)
            .select_from(runs.join(sessions, runs.c.session_id == sessions.c.session_id))
            .where(*owner)
        )
        whole[by_user] = union_all(row, its_runs)
    return whole


def session_row(
    conn: Connection, reads: ReadStatements, session_id: str, user_id: str | None, *, lock: bool = False
) -> dict[str, Any]:
    """The session's row as a dict by column name, locked for the transaction when ``lock`` (a
    no-op on SQLite), read through the driver cursor (see :mod:`sessiondb.db._sql.compiled`).

    Raises:
        SessionNotFound: no such session (for this user).
    """
    statement = reads.session_rows[(user_id is not None, lock)]
    row = fetch_mapping(conn, statement, owner_params(session_id, user_id))
    if row is None:
        raise SessionNotFound(session_id)
    return row


def owner_params(session_id: str, user_id: str | None) -> dict[str, Any]:
    """The values of a statement that finds a session by id (and, with ``user_id``, its owner)."""
    return {"session_id": session_id} if user_id is None else {"session_id": session_id, "user_id": user_id}


def _run_index(row: dict[str, Any]) -> int:
    index: int = row[WINDOW_RUN_INDEX]
    return index


def window_query(
    reads: ReadStatements, session_id: str, user_id: str | None, runs_limit: int
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement and values of :func:`session_with_window` (for the async path too)."""
    params = {**owner_params(session_id, user_id), "limit": max(runs_limit, 0)}
    return reads.session_windows[user_id is not None], params


def window_result(
    reads: ReadStatements, session_id: str, rows: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The session row and its window from the rows of :func:`window_query`'s statement.

    Raises:
        SessionNotFound: no row, so no such session (for this user).
    """
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


def window_rows_result(
    reads: ReadStatements, session_id: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """:func:`window_result` from the statement's rows as tuples (``keys`` names their columns).

    One dict for the session row, none per run row: building a dict of all ~26 columns for
    each of the few rows cost more than reading them.

    Raises:
        SessionNotFound: no row, so no such session (for this user).
    """
    if not rows:
        raise SessionNotFound(session_id)
    run_id, text, index = len(keys) - 3, len(keys) - 2, len(keys) - 1
    row = dict(zip(keys[:run_id], rows[0], strict=False))
    for name in reads.session_json_columns:
        value = row[name]
        row[name] = None if value is None else orjson.loads(value)
    # A session without history runs is one row whose window columns are NULL.
    window = sorted((found for found in rows if found[run_id] is not None), key=itemgetter(index))
    return row, [(found[run_id], found[text]) for found in window]


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
    statement, params = window_query(reads, session_id, user_id, runs_limit)
    keys = compiled_for(statement, conn.dialect).keys
    return window_rows_result(reads, session_id, keys, fetch(conn, statement, params))


def whole_session_query(
    reads: ReadStatements, session_id: str, user_id: str | None
) -> tuple[CompoundSelect[Any], dict[str, Any]]:
    """The statement and values of :func:`whole_session` (for the async path too)."""
    return reads.whole_sessions[user_id is not None], owner_params(session_id, user_id)


def whole_session_result(
    reads: ReadStatements, session_id: str, keys: Sequence[str], rows: Sequence[Sequence[Any]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The session row and all its runs from the rows of :func:`whole_session_query`'s statement.

    Args:
        keys: the statement's column names; its last three are the run's id, text and index.
        rows: its rows, as tuples (a dict per run row would cost more than the run's decoding).

    Raises:
        SessionNotFound: no session row (for this user).
    """
    run_id, text, index = len(keys) - 3, len(keys) - 2, len(keys) - 1
    found = [row for row in rows if row[run_id] is None]
    if not found:
        raise SessionNotFound(session_id)
    row = dict(zip(keys[:run_id], found[0], strict=False))
    for name in reads.session_json_columns:
        value = row[name]
        row[name] = None if value is None else orjson.loads(value)
    runs = sorted((found for found in rows if found[run_id] is not None), key=itemgetter(index))
    return row, [(found[run_id], found[text]) for found in runs]


def whole_session(
    conn: Connection, reads: ReadStatements, session_id: str, user_id: str | None
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The session's row and ``(run_id, JSON text)`` of all its runs, in order.

    One statement, so one snapshot without a transaction: one round trip on PostgreSQL, where
    the row and the runs as two statements in a ``REPEATABLE READ`` transaction took four.

    Raises:
        SessionNotFound: no such session (for this user).
    """
    statement, params = whole_session_query(reads, session_id, user_id)
    keys = compiled_for(statement, conn.dialect).keys
    return whole_session_result(reads, session_id, keys, fetch(conn, statement, params))
