"""Stored rows for the HTTP API's fast read paths: listed sessions and a session's runs as data.

The HTTP API renders a listing and a session's runs as JSON. Building pydantic sessions and
runs from the stored JSON only to dump them again cost more than the SQL itself (a page of
20 sessions: ~40% of the request), so :mod:`sessiondb.api.fast_reads` renders these rows
directly. The reads run the same statements as ``get_sessions`` and ``get_runs`` (same
filters, owner check, snapshot and errors); only the decoding into objects is left out.

:meth:`RawReads.aread_version` gives the HTTP API's cache of these answers
(:mod:`sessiondb.api.read_cache`) the version of the data they were read at.

Which code runs when: :class:`RawReads` is mixed into ``SqlStore``. Its async methods go
through ``SessionStore._read`` (SQLite: on the event loop once the schema is ready, else a
worker thread); ``PostgresDb`` overrides them to read on the event loop through its async
pool when it has one. Stores without these reads (``InMemoryDb``) are served by the plain
route.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, TypeVar

import orjson
from sqlalchemy import Connection

from sessiondb.db._sql.compiled import fetch
from sessiondb.db._sql.listing import Listing, ListingStatements
from sessiondb.db._sql.run_reads import RunReads, RunsFilter, runs_result
from sessiondb.db.query import Page, SessionQuery
from sessiondb.run.team import TeamRunOutput
from sessiondb.run.workflow import WorkflowRunOutput
from sessiondb.session import SESSION_CLASSES, SessionType

RunKind = Literal["agent", "team", "workflow"]
"""The class a stored run dict is read as, by name."""

StoredRun = tuple[RunKind, dict[str, Any]]
"""A run as stored: the class it is read as, and its dict (what ``run.to_dict()`` gave)."""

_T = TypeVar("_T")


def listed_rows(query: SessionQuery, listing: Listing) -> Page[dict[str, Any]]:
    """The page ``query`` asked for, each session as its row (columns by name, JSON decoded)."""
    return Page.of(query, [dict(row) for row in listing.rows], listing.total_count, listing.next_cursor)


def _kind(run_class: type[Any]) -> RunKind:
    if issubclass(run_class, WorkflowRunOutput):
        return "workflow"
    return "team" if issubclass(run_class, TeamRunOutput) else "agent"


def run_dicts(session_type: SessionType, texts: Sequence[str]) -> list[StoredRun]:
    """The runs ``get_runs`` would build from ``texts``, as dicts with their kind.

    The session class decides each run's class from its dict, and drops the dicts it does not
    keep, exactly as :func:`~sessiondb.db._sql.codec.decode_session_runs` does.
    """
    session_class = SESSION_CLASSES[session_type]
    kept: list[StoredRun] = []
    for text in texts:
        data = orjson.loads(text)
        run_class = session_class._run_class(data)
        if run_class is not None:
            kept.append((_kind(run_class), data))
    return kept


class RawReads(abc.ABC):
    """``get_sessions`` and ``get_runs`` answering rows and dicts instead of objects."""

    _listing: ListingStatements
    _run_reads: RunReads

    @abc.abstractmethod
    def _one_statement(self, *, replica: bool = False) -> AbstractContextManager[Connection]:
        """A connection for one read statement."""

    @abc.abstractmethod
    def _read_raw(self, call: Callable[[RawReads], _T]) -> Awaitable[_T]:
        """Run ``call`` as the store's async reads run theirs (see ``SessionStore._read``)."""

    def get_session_rows(self, query: SessionQuery) -> Page[dict[str, Any]]:
        """The page :meth:`~sessiondb.db.base.SessionStore.get_sessions` lists, as rows."""
        with self._one_statement(replica=True) as conn:
            listing = self._listing.select_page(conn, query)
        return listed_rows(query, listing)

    def get_run_dicts(self, session_id: str, *, user_id: str | None, filters: RunsFilter) -> list[StoredRun]:
        """The runs :meth:`~sessiondb.db.base.SessionStore.get_runs` returns, as dicts.

        Raises:
            SessionNotFound: no such session (for this user).
        """
        statement, values = self._run_reads.runs_query(session_id, user_id, filters)
        with self._one_statement(replica=True) as conn:
            rows = fetch(conn, statement, values)
        return run_dicts(*runs_result(session_id, rows))

    async def aread_version(self) -> Hashable | None:
        """What the database's data is at now, for a cache of answers to reads: a value that
        is different whenever any commit, by any connection of any process, may have changed
        what a read answers, or ``None`` when the store cannot tell (then nothing is cached).

        Read *before* the read it stands for: a commit in between makes the cached answer
        newer than its version (so it is dropped early), never older. Equal versions mean
        nothing was committed in between; a version may also change when nothing this store
        reads changed (another table's or another database's write). ``None`` by default.
        """
        return None

    async def aget_session_rows(self, query: SessionQuery) -> Page[dict[str, Any]]:
        """Async twin of :meth:`get_session_rows`."""
        return await self._read_raw(lambda store: store.get_session_rows(query))

    async def aget_run_dicts(
        self, session_id: str, *, user_id: str | None, filters: RunsFilter
    ) -> list[StoredRun]:
        """Async twin of :meth:`get_run_dicts`."""
        return await self._read_raw(
            lambda store: store.get_run_dicts(session_id, user_id=user_id, filters=filters)
        )
