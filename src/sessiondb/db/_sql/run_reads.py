"""The run reads of the SQL backends (``get_run``, ``get_runs``, ``run_counts``): one statement each.

Each read is a single statement, so it sees one snapshot without a transaction: on
PostgreSQL one round trip where ``get_runs`` used to take four (``BEGIN``, the session row,
the runs, ``COMMIT``). Statements are built once per *shape* of the filters (which filters
are given, how many statuses), never per call, so the driver-cursor path compiles each shape
once (:mod:`sessiondb.db._sql.compiled`) and the async path (:mod:`sessiondb.db._sql.aio`)
can send the same text.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, Text, bindparam, cast, false, func, select, true

from sessiondb.db._sql.reads import history_only
from sessiondb.db._sql.tables import Tables
from sessiondb.db.errors import RunNotFound, SessionNotFound
from sessiondb.db.query import SQL_INT_MAX, check_time_bounds
from sessiondb.session import SessionType

MAX_CACHED_SHAPES = 256
"""Filter shapes whose statement a store keeps; a rarer shape is built for its call alone."""


@dataclass(frozen=True)
class RunsFilter:
    """The filters of one ``get_runs`` call, normalised.

    Attributes:
        statuses: the upper-cased statuses to keep, without repeats; ``None`` keeps every status.
        created_after: keep runs created at or after this time (unix seconds).
        created_before: keep runs created at or before this time.
        last_n: keep only the newest N runs left after the other filters.
        history: keep only the runs that count for history (no parent, not skipped).
    """

    statuses: tuple[str, ...] | None = None
    created_after: int | None = None
    created_before: int | None = None
    last_n: int | None = None
    history: bool = False

    @classmethod
    def of(
        cls,
        *,
        statuses: Sequence[Any] | None,
        created_after: int | None,
        created_before: int | None,
        last_n: int | None,
        history: bool,
    ) -> RunsFilter:
        """Normalise ``get_runs``'s arguments.

        Raises:
            InvalidQuery: a time bound outside the 64-bit range, naming it.
        """
        check_time_bounds(created_after, created_before)
        upper = None if statuses is None else tuple(dict.fromkeys(str(status).upper() for status in statuses))
        # No session holds 2**63 runs: a larger N asks for all of them, and must not overflow
        # the LIMIT's integer.
        newest = None if last_n is None else min(max(last_n, 0), SQL_INT_MAX)
        return cls(upper, created_after, created_before, newest, history)

    @property
    def shape(self) -> tuple[int | None, bool, bool, bool, bool]:
        """What the statement depends on: which filters are set, not their values."""
        return (
            None if self.statuses is None else len(self.statuses),
            self.created_after is not None,
            self.created_before is not None,
            self.last_n is not None,
            self.history,
        )

    def values(self) -> dict[str, Any]:
        """The bound values of the filters the statement has."""
        values: dict[str, Any] = {f"status_{i}": status for i, status in enumerate(self.statuses or ())}
        for name in ("created_after", "created_before", "last_n"):
            value = getattr(self, name)
            if value is not None:
                values[name] = value
        return values


class RunReads:
    """The ``get_run``, ``get_runs`` and ``run_counts`` statements of one store's tables."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._one_runs = {
            (by_session, by_user): self._one_run(by_session, by_user)
            for by_session in (False, True)
            for by_user in (False, True)
        }
        self._by_shape: dict[tuple[bool, tuple[Any, ...]], Select[Any]] = {}
        self._counts_by_shape: dict[tuple[int, bool, bool], Select[Any]] = {}
        self._lock = threading.Lock()

    def one_run_query(
        self, run_id: str, session_id: str | None, user_id: str | None
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The statement and values of ``get_run``: ``(run_type, JSON text)`` of the run, if any."""
        values = {"run_id": run_id}
        if session_id is not None:
            values["session_id"] = session_id
        if user_id is not None:
            values["user_id"] = user_id
        return self._one_runs[(session_id is not None, user_id is not None)], values

    def runs_query(
        self, session_id: str, user_id: str | None, filters: RunsFilter
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The statement and values of ``get_runs`` (see :func:`runs_result`)."""
        key = (user_id is not None, filters.shape)
        statement = self._by_shape.get(key)
        if statement is None:
            statement = self._runs(*key)
            with self._lock:
                if len(self._by_shape) < MAX_CACHED_SHAPES:
                    statement = self._by_shape.setdefault(key, statement)
        values = {"session_id": session_id, **filters.values()}
        if user_id is not None:
            values["user_id"] = user_id
        return statement, values

    def run_counts_query(
        self, session_ids: Sequence[str], user_id: str | None, deleted: bool
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The statement and values of ``run_counts``: ``(session_id, count)`` rows.

        Built once per shape (how many ids, whether by user, live or trash), so that both the
        driver-cursor path and the async path send a statement compiled once.
        """
        key = (len(session_ids), user_id is not None, deleted)
        statement = self._counts_by_shape.get(key)
        if statement is None:
            statement = self._run_counts(*key)
            with self._lock:
                if len(self._counts_by_shape) < MAX_CACHED_SHAPES:
                    statement = self._counts_by_shape.setdefault(key, statement)
        values: dict[str, Any] = {f"id_{i}": session_id for i, session_id in enumerate(session_ids)}
        if user_id is not None:
            values["user_id"] = user_id
        return statement, values

    def _run_counts(self, ids: int, by_user: bool, deleted: bool) -> Select[Any]:
        """The runs counted per session first (from the runs' ``(session_id, run_index)``
        index), then joined to the session rows for the owner and trash checks: one primary-key
        lookup per session counted rather than one per run."""
        runs, sessions = self._tables.runs, self._tables.sessions
        counted = (
            select(runs.c.session_id.label("session_id"), func.count().label("runs"))
            .where(
                runs.c.session_id.in_(
                    [bindparam(f"id_{i}", type_=runs.c.session_id.type) for i in range(ids)]
                )
            )
            .group_by(runs.c.session_id)
            .subquery("counted")
        )
        in_trash = sessions.c.deleted_at.is_not(None) if deleted else sessions.c.deleted_at.is_(None)
        query = (
            select(counted.c.session_id, counted.c.runs)
            .join(sessions, sessions.c.session_id == counted.c.session_id)
            .where(in_trash)
        )
        if by_user:
            query = query.where(sessions.c.user_id == bindparam("user_id"))
        return query

    def _one_run(self, by_session: bool, by_user: bool) -> Select[Any]:
        runs, sessions = self._tables.runs, self._tables.sessions
        query = select(runs.c.run_type, cast(runs.c.run_data, Text)).where(
            runs.c.run_id == bindparam("run_id")
        )
        if by_session:
            query = query.where(runs.c.session_id == bindparam("session_id"))
        # Joined to its session row (a primary-key lookup): a run of a session in the trash is
        # not found, and with a user the owner check is the session's.
        owned = sessions.c.session_id == runs.c.session_id
        query = query.join(sessions, owned).where(sessions.c.deleted_at.is_(None))
        if by_user:
            query = query.where(sessions.c.user_id == bindparam("user_id"))
        return query

    def _runs(self, by_user: bool, shape: tuple[int | None, bool, bool, bool, bool]) -> Select[Any]:
        """The session's type left-joined to its runs that pass a filter of ``shape``.

        A session without a matching run is one row whose run columns are NULL; no row means
        no such session (for this user). The owner check is the session row's, as in
        ``get_session``.
        """
        runs, sessions = self._tables.runs, self._tables.sessions
        statuses, after, before, newest, history = shape
        conditions: list[ColumnElement[bool]] = [runs.c.session_id == bindparam("session_id")]
        if statuses is not None:
            wanted = [bindparam(f"status_{i}", type_=Text) for i in range(statuses)]
            conditions.append(func.upper(runs.c.status).in_(wanted) if wanted else false())
        if after:
            conditions.append(runs.c.created_at >= bindparam("created_after"))
        if before:
            conditions.append(runs.c.created_at <= bindparam("created_before"))
        if history:
            conditions.append(history_only(self._tables))
        matching = select(
            cast(runs.c.run_data, Text).label("run_text"), runs.c.run_index.label("run_index")
        ).where(*conditions)
        if newest:
            matching = matching.order_by(runs.c.run_index.desc()).limit(bindparam("last_n", type_=BigInteger))
        found = matching.subquery("matching")
        query = (
            select(sessions.c.session_type, found.c.run_text, found.c.run_index)
            .select_from(sessions.outerjoin(found, true()))
            .where(sessions.c.session_id == bindparam("session_id"), sessions.c.deleted_at.is_(None))
        )
        if by_user:
            query = query.where(sessions.c.user_id == bindparam("user_id"))
        # No ORDER BY: runs_result sorts the rows by run_index.
        return query


def one_run_result(run_id: str, session_id: str | None, rows: Sequence[Sequence[Any]]) -> tuple[str, str]:
    """``(run_type, JSON text)`` from the rows of :meth:`RunReads.one_run_query`'s statement.

    Raises:
        RunNotFound: no row.
    """
    if not rows:
        raise RunNotFound(run_id, session_id)
    return rows[0][0], rows[0][1]


def runs_result(session_id: str, rows: Sequence[Sequence[Any]]) -> tuple[SessionType, list[str]]:
    """The session's type and its runs' JSON texts, oldest first, from the rows of
    :meth:`RunReads.runs_query`'s statement.

    Raises:
        SessionNotFound: no row, so no such session (for this user).
    """
    if not rows:
        raise SessionNotFound(session_id)
    texts = [(row[2], row[1]) for row in rows if row[1] is not None]
    texts.sort(key=itemgetter(0))
    session_type: SessionType = rows[0][0]
    return session_type, [text for _index, text in texts]
