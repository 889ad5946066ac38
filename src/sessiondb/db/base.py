"""The storage contract every backend implements, and its async twins.

A store keeps sessions (one row each) and their runs (one row per run, ordered by a
per-session index assigned atomically). Writes are transactional: a call either lands whole or
not at all. Errors are the domain errors of :mod:`sessiondb.db.errors`, never ``None``.

Every method is synchronous; each has an ``a``-prefixed async twin that runs it in a worker
thread, so an event loop is never blocked by the driver. The read twins run on the event loop
itself when the store offers an :meth:`SessionStore.event_loop_reader` (its reads never wait
there), saving the thread hop; a backend with an async driver overrides them (PostgreSQL).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Final, Literal, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar

from sessiondb.db.changes import Changes, ChangeWatch
from sessiondb.db.history import HistoryQuery
from sessiondb.db.query import Page, SessionQuery
from sessiondb.db.retention import PurgeReport, RetentionPolicy, RetentionPreview, RetentionReport
from sessiondb.db.search import SearchHit, SearchQuery
from sessiondb.db.transfer import EXPORT_PAGE, ExportedSession, ExportFilter
from sessiondb.run.status import RunStatus
from sessiondb.run.workflow import AnyRun
from sessiondb.session import Session, SessionSummary, SessionType
from sessiondb.session.base import StoreToken
from sessiondb.session.history_budget import History

_T = TypeVar("_T")

READ_THREADS = 2
"""Worker threads that may run a loop's offloaded store reads at once (per event loop).

A store call is mostly Python work under the GIL, so more threads only fight over it: with
anyio's default 40, the event loop waits for the GIL on every ``send`` and latency under load
grows tenfold. Two still overlap one read's round trips with another's work; with four, the
PostgreSQL list of the HTTP API at 32 clients had a p99 of 111-128 ms against 45 ms with two
(and 738-866 against 870-1,003 req/s).
"""

_read_limiter: RunVar[CapacityLimiter] = RunVar("sessiondb_read_limiter")


def read_limiter() -> CapacityLimiter:
    """The running event loop's limiter of offloaded store calls (made on first use)."""
    try:
        return _read_limiter.get()
    except LookupError:
        limiter = CapacityLimiter(READ_THREADS)
        _read_limiter.set(limiter)
        return limiter


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""Marks an ``update_session`` field that is left as it is (``None`` would clear it)."""

Unset = Literal[_Unset.UNSET]

SessionDataMerge = Callable[[dict[str, Any]], dict[str, Any]]
"""Given a session's stored ``session_data`` (a copy), return the ``session_data`` to store."""


class SessionStore(abc.ABC):
    """Sessions and runs, durable and safe under concurrent writers.

    Attributes:
        id: the ``db_id`` the HTTP API serves this store under.
        store_token: this store instance's identity, recorded on every session object it loads
            or saves (what an object knows about stored runs holds only for that store).
        soft_delete: how long a deleted session stays in the trash, restorable (see
            :meth:`restore_session`); ``None`` (the default): deletes are for good at once.
        lazy_runs: ``get_session`` hands back runs decoded on first read (True, the default)
            or all decoded at load (False: the plain path, which the tests prove equal).
    """

    id: str
    store_token: StoreToken
    soft_delete: timedelta | None = None
    lazy_runs: bool = True

    # -- sessions --------------------------------------------------------------------------

    @abc.abstractmethod
    def upsert_session(self, session: Session) -> Session:
        """Insert or update a session, and write those of its runs that are new or changed.

        Which runs are written, one row each (the rest of the history is never rewritten):

        - every run, when nothing of the object is stored in *this* store: an object never
          saved, or one loaded from (or saved to) another store, which is new here;
        - otherwise, runs not stored yet (appended after every stored run), runs passed to
          ``session.upsert_run`` or named in ``session.mark_run_changed``, and runs changed in
          place that the caller reached since the last save: through ``session.runs``
          (indexing, slicing, iteration, ``copy``, ``append``/``extend``) or ``get_run``, plus
          any run object the caller still holds after a save. Those are compared with their
          stored text, so a save costs what the caller changed or touched, not the session's
          size. A change made through what ``get_messages``, ``get_chat_history`` or
          ``get_tool_calls`` handed out (the stored objects), or through part of a run (a
          message) kept across a save without the run, is not seen: call
          ``session.mark_run_changed(run_id)``. A plain list assigned to ``session.runs``, or
          one whose shape changed other than by appending (``insert``, ``del``, ``sort``, item
          assignment), makes the next save compare every run.

        The session object is updated in place (``version``, ``created_at``, ``updated_at``)
        and returned.

        Raises:
            SessionOwnedByAnotherUser: the stored session has another non-null ``user_id``.
            SessionDeleted: the object was loaded from or saved to this store and its row has
                been deleted since; nothing is written (``create_session`` stores it again).
        """

    @abc.abstractmethod
    def upsert_sessions(
        self, sessions: Sequence[Session], *, preserve_updated_at: bool = False
    ) -> list[Session]:
        """:meth:`upsert_session` for many sessions in one transaction (all or nothing).

        Args:
            preserve_updated_at: a session that is not stored yet keeps its own ``updated_at``
                (when set) instead of taking its ``created_at``, as an import of exported
                sessions needs; a stored session that is updated gets now, as always.

        Raises:
            SessionOwnedByAnotherUser: a stored session has another non-null ``user_id``.
            SessionDeleted: a session loaded from or saved to this store has been deleted since.
        """

    @abc.abstractmethod
    def create_session(self, session: Session) -> Session:
        """Insert a new session with all its runs (whichever store the object came from).

        Raises:
            SessionAlreadyExists: a session with this id is stored already.
        """

    @abc.abstractmethod
    def get_session(
        self,
        session_id: str,
        *,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        runs_limit: int | None = None,
    ) -> Session:
        """Load a session with its runs in order.

        Args:
            session_type: the class to load it as; detected from the row when ``None``. It is
                not a filter: a stored session of another type still loads (as Agno does).
            user_id: when given, a session of another user is not found.
            runs_limit: load only the newest ``runs_limit`` history-relevant runs (no
                ``parent_run_id``, status not in the history-skip set); ``runs_complete`` is
                then False on the result.

        Runs are decoded from their stored JSON when first read (see :attr:`lazy_runs`), so
        loading a long session to append a run or to read its last few builds only those.

        Raises:
            SessionNotFound: no such session (for this user).
        """

    @abc.abstractmethod
    def get_sessions(self, query: SessionQuery) -> Page[Session]:
        """A page of sessions matching ``query``, without their runs, with the total count
        (the page's own count when ``query.count_total`` is False).

        Items have ``runs`` set to ``None`` and ``runs_complete`` False;
        ``get_session_name()`` still answers from the stored name column.
        """

    @abc.abstractmethod
    def rename_session(
        self,
        session_id: str,
        *,
        session_name: str,
        user_id: str | None = None,
        expected_version: int | None = None,
    ) -> Session:
        """Set ``session_data['session_name']`` and bump ``updated_at``; returns the session without runs.

        Raises:
            SessionNotFound: no such session (for this user).
            VersionConflict: ``expected_version`` was given and the session is at another.
        """

    @abc.abstractmethod
    def update_session(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        expected_version: int | None = None,
        session_name: str | Unset = UNSET,
        session_state: dict[str, Any] | Unset = UNSET,
        metadata: dict[str, Any] | Unset | None = UNSET,
        summary: SessionSummary | Unset | None = UNSET,
        session_metrics: dict[str, Any] | Unset = UNSET,
    ) -> Session:
        """Replace the given fields in one atomic read-modify-write; returns the session without runs.

        Fields left ``UNSET`` are unchanged. ``session_state`` replaces the whole state (no merge).
        ``session_metrics`` replaces ``session_data['session_metrics']`` (the runtimes' running
        token totals, written together with the state by one compare-and-set).

        Raises:
            SessionNotFound: no such session (for this user).
            VersionConflict: ``expected_version`` was given and the session is at another;
                nothing was written.
        """

    @abc.abstractmethod
    def delete_session(
        self, session_id: str, *, user_id: str | None = None, expected_version: int | None = None
    ) -> bool:
        """Delete a session and its runs. Returns False when there was nothing to delete.

        Raises:
            VersionConflict: ``expected_version`` was given and the session is at another.
        """

    @abc.abstractmethod
    def delete_sessions(self, session_ids: Sequence[str], *, user_id: str | None = None) -> int:
        """Delete many sessions and their runs in one transaction; returns how many were deleted."""

    @abc.abstractmethod
    def export_sessions(
        self, filter: ExportFilter, *, after: str | None = None, limit: int = EXPORT_PAGE
    ) -> list[ExportedSession]:
        """A page of the sessions matching ``filter``, each with the stored JSON text of its runs.

        Sessions come in session-id order (code point order, as everywhere), starting after
        ``after``; the next page starts after the last one's id. A page is read from one
        snapshot. The runs' texts are the ones the store keeps, in the session's order (every
        stored run, history-relevant or not): decoding each with its session's class gives the
        runs :meth:`get_session` loads.

        Args:
            filter: which sessions.
            after: only sessions whose id sorts after this one; ``None`` starts at the first.
            limit: at most this many sessions (at least 1).

        Raises:
            InvalidQuery: ``limit`` is below 1.
        """

    @abc.abstractmethod
    def fork_session(
        self,
        session_id: str,
        *,
        at_run_id: str | None = None,
        new_session_id: str | None = None,
        session_name: str | None = None,
        user_id: str | None = None,
    ) -> Session:
        """Copy a session, or its history up to one run, into a new session, in one transaction.

        The fork holds a copy of every run up to and including the top-level run ``at_run_id``
        belongs to (all runs when ``None``), member runs included, in the same order. Each copy
        has a fresh ``run_id`` and the fork's ``session_id``; a member run's ``parent_run_id``
        (and the ids inside a team run's ``member_responses``) point at the copies; each run
        records the session it was first forked from in ``forked_from_session_id`` (kept when
        it has one already). ``session_data`` (state, metrics, name), metadata, summary and the
        component data are copied; ``session_data`` records the origin in
        ``forked_from_session_id`` and, when cut, ``forked_from_run_id``. The source is not
        changed. Runs are copied inside the database, never decoded.

        Args:
            at_run_id: the run to cut at (any run of the session, member runs included).
            new_session_id: the fork's id (a fresh uuid4 when ``None``).
            session_name: the fork's name (else the source's explicit name, if any).
            user_id: when given, the source must belong to this user, and so does the fork.

        Returns:
            The fork, without its runs (``runs`` is ``None``).

        The change feed gets ``session.created`` and one ``run.created`` per copied run, in
        the fork's transaction.

        Raises:
            SessionNotFound: no such session (for this user), or it is in the trash.
            RunNotFound: ``at_run_id`` is not a run of this session.
            SessionAlreadyExists: ``new_session_id`` is taken.
            SessionInTrash: ``new_session_id`` is a session in the trash.
        """

    def get_history(
        self,
        session_id: str,
        *,
        max_tokens: int,
        agent_id: str | None = None,
        team_id: str | None = None,
        member_ids: Sequence[str] | None = None,
        last_n_runs: int | None = None,
        limit: int | None = None,
        skip_roles: Sequence[str] | None = None,
        skip_statuses: Sequence[RunStatus | str] | None = None,
        skip_history_messages: bool = True,
        skip_member_messages: bool = True,
        user_id: str | None = None,
    ) -> History:
        """The newest history messages of a session that fit in ``max_tokens`` tokens.

        The filters are ``get_messages``'s, member runs read from their own rows; a workflow
        session's history is its agent's (team's) step runs, or its completed runs as turns (see
        :class:`~sessiondb.db.history.HistoryQuery`). Messages are never cut, the newest run
        comes whole or not at all, a tool result never without its call, and the system message
        kept is the newest run's (:mod:`sessiondb.session.history_budget`). Tokens are the
        model's own count, else ``cl100k_base``. Runs are read newest first, in growing
        batches, until the budget is full: never the whole session.

        Returns:
            The messages (oldest first), their token count, whether older history was left
            out, and the session's summary.

        Raises:
            SessionNotFound: no such session (for this user).
            InvalidQuery: ``max_tokens`` or ``limit`` is negative, or a workflow session is
                asked with both ``agent_id`` and ``team_id``.
        """
        query = HistoryQuery(
            max_tokens=max_tokens,
            agent_id=agent_id,
            team_id=team_id,
            member_ids=tuple(member_ids) if member_ids is not None else None,
            skip_member_messages=skip_member_messages,
            last_n_runs=last_n_runs,
            limit=limit,
            skip_roles=tuple(skip_roles or ()),
            skip_statuses=skip_statuses,
            skip_history_messages=skip_history_messages,
        )
        return self._history(session_id, user_id, query)

    @abc.abstractmethod
    def _history(self, session_id: str, user_id: str | None, query: HistoryQuery) -> History:
        """:meth:`get_history` for a normalised query (what each backend implements)."""

    # -- trash, retention, change feed --------------------------------------------------------

    @abc.abstractmethod
    def restore_session(self, session_id: str, *, user_id: str | None = None) -> Session:
        """Take a session out of the trash, exactly as it was deleted; returns it without runs.

        With the store's ``soft_delete`` option, ``delete_session(s)`` moves sessions to the
        trash: reads, listings and writes no longer see them (a write naming one raises
        :class:`~sessiondb.db.errors.SessionInTrash`); ``get_sessions(SessionQuery(deleted=True))``
        lists them; :meth:`purge` removes them for good once the grace period is over. A
        restore brings back its runs, state, summary and metadata, with a new version.

        Raises:
            SessionNotFound: no such session in the trash (for this user).
        """

    @abc.abstractmethod
    def purge(self, *, now: int | None = None) -> PurgeReport:
        """Delete for good the sessions in the trash longer than ``soft_delete`` (with their
        runs), and the recorded changes older than ``changes_window``, in bounded batches.

        Args:
            now: the time to measure from (unix seconds; default: now).
        """

    @abc.abstractmethod
    def preview_retention(
        self, policy: RetentionPolicy, *, now: int | None = None, limit: int = 100
    ) -> RetentionPreview:
        """What :meth:`apply_retention` would remove now: counts, and the first ``limit`` session ids."""

    @abc.abstractmethod
    def apply_retention(
        self, policy: RetentionPolicy, *, now: int | None = None, batch_size: int = 500
    ) -> RetentionReport:
        """Delete the live sessions ``policy`` selects, ``batch_size`` per transaction.

        They go to the trash when the store has ``soft_delete`` and the policy is not
        ``hard``, else for good. Each batch records its ``session.deleted`` changes.
        """

    @abc.abstractmethod
    def changes(self, after: int | None = None, *, user_id: str | None = None, limit: int = 100) -> Changes:
        """The changes recorded after position ``after``, oldest first, at most ``limit``.

        Every write records its changes in its own transaction, so a change is readable
        exactly when its write is. Passing back ``Changes.position`` as ``after`` gives what
        came next: nothing missed, nothing twice (positions never commit out of order).

        Args:
            after: the position read up to; ``None`` starts at the oldest change kept.
                ``limit=0`` returns no items and the newest position: where "from now on" starts.
            user_id: only the changes of this user's sessions.

        Raises:
            InvalidQuery: ``after`` is negative or ``limit`` outside ``0..10000``.
        """

    @contextmanager
    def maintenance_lock(self) -> Iterator[bool]:
        """Whether this process may run the scheduled purge and retention now, held for the block.

        Several servers may serve one database; only the one that gets the lock runs them
        (PostgreSQL: an advisory lock; SQLite: a lock on a file beside the database). It never
        waits: ``False`` means another process holds it. The default, for stores that live in
        one process, always says yes.
        """
        yield True

    def watch_changes(self) -> ChangeWatch:
        """What a feed reader waits on between reads (see :class:`~sessiondb.db.changes.ChangeWatch`).

        The default polls; PostgreSQL wakes readers on ``NOTIFY``.
        """
        return ChangeWatch()

    # -- runs ------------------------------------------------------------------------------

    @abc.abstractmethod
    def upsert_run(self, session_id: str, run: AnyRun, *, lease_s: float | None = None) -> int:
        """Append a run to a stored session, or replace the stored run with the same ``run_id``.

        A replaced run keeps its place; a new one gets the next index. Delivering the same
        run twice stores it once. Returns the run's index in the session.

        Args:
            lease_s: a run stored in progress is leased for this long, in the same write (as
                :meth:`renew_run_leases` leases it); ``None`` leaves its lease as it was.

        Raises:
            SessionNotFound: the session is not stored.
        """

    @abc.abstractmethod
    def commit_run(
        self,
        session_id: str,
        run: AnyRun,
        *,
        merge_data: SessionDataMerge,
        user_id: str | None = None,
        summary: SessionSummary | Unset = UNSET,
    ) -> Session:
        """Store a run and change its session's data in one transaction, under the session's row lock.

        The end of a run: the run is stored as :meth:`upsert_run` stores it, and
        ``merge_data(stored_session_data)`` gives the session's new ``session_data``. It is
        called exactly once, with the data as stored while no other writer can change it
        (PostgreSQL locks the row with ``SELECT ... FOR UPDATE``, SQLite writes under
        ``BEGIN IMMEDIATE``), so concurrent commits into one session each see the others'
        changes and none is lost; there is no version check and so no
        :class:`~sessiondb.db.errors.VersionConflict`. Keep ``merge_data`` quick and free of
        I/O: the row stays locked while it runs. ``summary`` replaces the stored summary.
        The change feed gets ``session.updated`` and then the run's ``run.created`` (or
        ``run.updated``), in the same transaction.

        Returns:
            The session as committed, without runs.

        Raises:
            SessionNotFound: no such session (for this user), or it is in the trash (as for
                :meth:`upsert_run`); nothing was written.
            InvalidQuery: the run's id is stored in another session, or ``summary`` was given
                for a workflow session.
        """

    @abc.abstractmethod
    def request_run_cancel(
        self, run_id: str, *, runtime_id: str | None = None, user_id: str | None = None
    ) -> bool:
        """Ask whichever process executes a run to stop it: flag the stored run.

        Only a top-level run stored ``RUNNING`` or ``PENDING`` is flagged (never one of a
        session in the trash); the flag survives the run's own rewrites, and its process reads
        it with :meth:`cancel_requested`. The request records no change in the change feed
        (:meth:`changes`): it is a flag, not a write of the session or its run; the run's end,
        cancelled, is recorded when it is stored.

        Args:
            runtime_id: only a run of this agent, team or workflow.
            user_id: only a run in a session of this user.

        Returns:
            Whether a run was flagged (``False`` for an unknown run, one that has ended, or
            one the filters leave out).
        """

    @abc.abstractmethod
    def cancel_requested(self, run_ids: Sequence[str]) -> set[str]:
        """Those of ``run_ids`` whose cancel was requested (:meth:`request_run_cancel`)."""

    @abc.abstractmethod
    def renew_run_leases(self, run_ids: Sequence[str], *, seconds: float) -> set[str]:
        """Lease those of ``run_ids`` stored in progress for ``seconds`` (``ValueError`` if
        negative); the ids leased. No write of the run: no change, no new version. See
        :mod:`sessiondb.db.leases`."""

    @abc.abstractmethod
    def expire_run_leases(self, *, now_ms: int | None = None) -> list[str]:
        """Store ``ERROR`` the runs in progress whose lease ran out by ``now_ms`` (default now);
        their ids. Each is written as :meth:`upsert_run` writes it, only if still in progress
        with that lease then (see :mod:`sessiondb.db.leases`)."""

    @abc.abstractmethod
    def get_run(self, run_id: str, *, session_id: str | None = None, user_id: str | None = None) -> AnyRun:
        """Load one run.

        Raises:
            RunNotFound: no such run (in that session, for that user).
        """

    @abc.abstractmethod
    def get_runs(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        statuses: Sequence[str] | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
        last_n: int | None = None,
        history_only: bool = False,
    ) -> list[AnyRun]:
        """A session's runs, oldest first.

        Args:
            statuses: keep only runs in these statuses (string values, case-insensitive).
            created_after / created_before: inclusive bounds on the run's ``created_at``.
            last_n: only the newest ``last_n`` matching runs (still returned oldest first).
            history_only: only runs without ``parent_run_id`` whose status is not in the
                history-skip set.

        Raises:
            SessionNotFound: no such session (for this user).
            InvalidQuery: a time bound is outside the 64-bit integer range.
        """

    @abc.abstractmethod
    def delete_run(self, run_id: str, *, session_id: str | None = None) -> bool:
        """Delete one run. Returns False when there was nothing to delete."""

    @abc.abstractmethod
    def run_counts(
        self, session_ids: Sequence[str], *, user_id: str | None = None, deleted: bool = False
    ) -> dict[str, int]:
        """How many runs each of ``session_ids`` holds (member runs included), in one read.

        Meant for a page of a listing (the web console counts the runs of the sessions it
        shows): its cost grows with the runs of those sessions, not with the store.

        Args:
            session_ids: at most :data:`~sessiondb.db.query.MAX_RUN_COUNT_IDS` ids; repeats count once.
            user_id: count only the sessions this user owns.
            deleted: count sessions in the trash instead of live ones (as
                ``SessionQuery.deleted``).

        Returns:
            ``{session_id: count}`` for the sessions found that hold runs; a session without
            runs, not found, another user's, or in the trash (out of it, with ``deleted``) is
            left out, so read a missing id as 0.

        Raises:
            InvalidQuery: more than :data:`~sessiondb.db.query.MAX_RUN_COUNT_IDS` ids.
        """

    # -- search ----------------------------------------------------------------------------

    def search(
        self,
        q: str,
        *,
        user_id: str | None = None,
        session_type: SessionType | None = None,
        component_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page[SearchHit]:
        """Full-text search over the runs' transcripts: one hit per matching run, best first.

        ``q`` is read as described in :mod:`sessiondb.db.search` (every word must match;
        ``"a phrase"``; ``prefix*``); it never reaches the engine as typed. Hits are ranked by
        relevance, ties by the run's recency, and paged by keyset: pass the page's
        ``next_cursor`` to get the next one. ``total_count`` is the number of hits on this page
        (counting every match would cost as much as the search). A run is searchable as soon as
        its write commits, and a deleted run or session is never found (nor one in the trash,
        until it is restored).

        Args:
            q: the query.
            user_id / session_type / component_id: the session filters of
                :class:`~sessiondb.db.query.SessionQuery`.
            limit: hits per page (1 to 100).
            cursor: ``next_cursor`` of the previous page of the same query.

        Raises:
            InvalidQuery: ``q`` has no word, is too long or holds NUL; a filter, the limit or the
                cursor is invalid (naming the field).
        """
        query = SearchQuery(
            q=q,
            user_id=user_id,
            session_type=session_type,
            component_id=component_id,
            limit=limit,
            cursor=cursor,
        )
        hits, next_cursor = self._search(query)
        return Page(hits, len(hits), 1, query.limit, next_cursor)

    @abc.abstractmethod
    def _search(self, query: SearchQuery) -> tuple[list[SearchHit], str | None]:
        """The hits of one page of ``query`` and the cursor to the next page (``None``: last page)."""

    # -- lifecycle -------------------------------------------------------------------------

    @abc.abstractmethod
    def migrate(self) -> None:
        """Create the schema or upgrade it to the version this code needs. Safe to repeat."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Check that the database answers.

        Raises:
            StoreUnavailable: it does not.
        """

    def event_loop_reader(self) -> SessionStore | None:
        """A store to run reads on right now, on the calling (event-loop) thread, or ``None``.

        A store offers one only when its reads there never wait: not for a lock a writer
        holds, a pooled connection or a migration. Only the read methods (``get_session``,
        ``get_sessions``, ``get_run``, ``get_runs``, ``run_counts``) may be called on it, from the thread
        that asked. ``None`` (the default) means: call the store from a worker thread.
        """
        return None

    @property
    def reads_from_replicas(self) -> bool:
        """Whether reads may be served by read replicas (then the HTTP API hands out and honours
        consistency tokens, see :mod:`sessiondb.db.consistency`)."""
        return False

    def health_details(self) -> dict[str, Any]:
        """What ``/health`` shows of this store beyond "ok": e.g. read replicas' lag and
        routing. Empty (the default) for a store with nothing more to say.

        Raises:
            StoreUnavailable: the database does not answer.
        """
        return {}

    def close(self) -> None:  # noqa: B027 - a no-op default is right for stores without connections
        """Release connections. The store must not be used afterwards."""

    # -- async twins -----------------------------------------------------------------------

    async def aupsert_session(self, session: Session) -> Session:
        """Async twin of :meth:`upsert_session`."""
        return await anyio.to_thread.run_sync(self.upsert_session, session)

    async def aupsert_sessions(
        self, sessions: Sequence[Session], *, preserve_updated_at: bool = False
    ) -> list[Session]:
        """Async twin of :meth:`upsert_sessions`."""
        return await anyio.to_thread.run_sync(
            lambda: self.upsert_sessions(sessions, preserve_updated_at=preserve_updated_at)
        )

    async def acreate_session(self, session: Session) -> Session:
        """Async twin of :meth:`create_session`."""
        return await anyio.to_thread.run_sync(self.create_session, session)

    async def _read(self, call: Callable[[SessionStore], _T]) -> _T:
        """Run the read ``call(store)`` on this thread when :meth:`event_loop_reader` offers a
        store, else ``call(self)`` in a worker thread (at most :data:`READ_THREADS` at once)."""
        reader = self.event_loop_reader()
        if reader is not None:
            return call(reader)
        return await anyio.to_thread.run_sync(call, self, limiter=read_limiter())

    async def aget_session(
        self,
        session_id: str,
        *,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        runs_limit: int | None = None,
    ) -> Session:
        """Async twin of :meth:`get_session`."""
        return await self._read(
            lambda store: store.get_session(
                session_id, session_type=session_type, user_id=user_id, runs_limit=runs_limit
            )
        )

    async def aget_sessions(self, query: SessionQuery) -> Page[Session]:
        """Async twin of :meth:`get_sessions`."""
        return await self._read(lambda store: store.get_sessions(query))

    async def arename_session(self, session_id: str, **kwargs: Any) -> Session:
        """Async twin of :meth:`rename_session`."""
        return await anyio.to_thread.run_sync(lambda: self.rename_session(session_id, **kwargs))

    async def aupdate_session(self, session_id: str, **kwargs: Any) -> Session:
        """Async twin of :meth:`update_session`."""
        return await anyio.to_thread.run_sync(lambda: self.update_session(session_id, **kwargs))

    async def adelete_session(self, session_id: str, **kwargs: Any) -> bool:
        """Async twin of :meth:`delete_session`."""
        return await anyio.to_thread.run_sync(lambda: self.delete_session(session_id, **kwargs))

    async def adelete_sessions(self, session_ids: Sequence[str], **kwargs: Any) -> int:
        """Async twin of :meth:`delete_sessions`."""
        return await anyio.to_thread.run_sync(lambda: self.delete_sessions(session_ids, **kwargs))

    async def aexport_sessions(
        self, filter: ExportFilter, *, after: str | None = None, limit: int = EXPORT_PAGE
    ) -> list[ExportedSession]:
        """Async twin of :meth:`export_sessions` (always in a worker thread: a page is large)."""
        return await anyio.to_thread.run_sync(
            lambda: self.export_sessions(filter, after=after, limit=limit), limiter=read_limiter()
        )

    async def afork_session(self, session_id: str, **kwargs: Any) -> Session:
        """Async twin of :meth:`fork_session`."""
        return await anyio.to_thread.run_sync(lambda: self.fork_session(session_id, **kwargs))

    async def aget_history(self, session_id: str, **kwargs: Any) -> History:
        """Async twin of :meth:`get_history`."""
        return await anyio.to_thread.run_sync(
            lambda: self.get_history(session_id, **kwargs), limiter=read_limiter()
        )

    async def arestore_session(self, session_id: str, **kwargs: Any) -> Session:
        """Async twin of :meth:`restore_session`."""
        return await anyio.to_thread.run_sync(lambda: self.restore_session(session_id, **kwargs))

    async def apurge(self, **kwargs: Any) -> PurgeReport:
        """Async twin of :meth:`purge`."""
        return await anyio.to_thread.run_sync(lambda: self.purge(**kwargs))

    async def aapply_retention(self, policy: RetentionPolicy, **kwargs: Any) -> RetentionReport:
        """Async twin of :meth:`apply_retention`."""
        return await anyio.to_thread.run_sync(lambda: self.apply_retention(policy, **kwargs))

    async def achanges(
        self, after: int | None = None, *, user_id: str | None = None, limit: int = 100
    ) -> Changes:
        """Async twin of :meth:`changes` (in a worker thread, sharing the loop's read threads)."""
        return await anyio.to_thread.run_sync(
            lambda: self.changes(after, user_id=user_id, limit=limit), limiter=read_limiter()
        )

    async def aupsert_run(self, session_id: str, run: AnyRun, *, lease_s: float | None = None) -> int:
        """Async twin of :meth:`upsert_run`."""
        return await anyio.to_thread.run_sync(lambda: self.upsert_run(session_id, run, lease_s=lease_s))

    async def acommit_run(
        self,
        session_id: str,
        run: AnyRun,
        *,
        merge_data: SessionDataMerge,
        user_id: str | None = None,
        summary: SessionSummary | Unset = UNSET,
    ) -> Session:
        """Async twin of :meth:`commit_run`."""
        return await anyio.to_thread.run_sync(
            lambda: self.commit_run(session_id, run, merge_data=merge_data, user_id=user_id, summary=summary)
        )

    async def aget_run(
        self, run_id: str, *, session_id: str | None = None, user_id: str | None = None
    ) -> AnyRun:
        """Async twin of :meth:`get_run`."""
        return await self._read(lambda store: store.get_run(run_id, session_id=session_id, user_id=user_id))

    async def aget_runs(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        statuses: Sequence[str] | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
        last_n: int | None = None,
        history_only: bool = False,
    ) -> list[AnyRun]:
        """Async twin of :meth:`get_runs`."""
        return await self._read(
            lambda store: store.get_runs(
                session_id,
                user_id=user_id,
                statuses=statuses,
                created_after=created_after,
                created_before=created_before,
                last_n=last_n,
                history_only=history_only,
            )
        )

    async def arun_counts(
        self, session_ids: Sequence[str], *, user_id: str | None = None, deleted: bool = False
    ) -> dict[str, int]:
        """Async twin of :meth:`run_counts`."""
        return await self._read(lambda store: store.run_counts(session_ids, user_id=user_id, deleted=deleted))

    async def adelete_run(self, run_id: str, **kwargs: Any) -> bool:
        """Async twin of :meth:`delete_run`."""
        return await anyio.to_thread.run_sync(lambda: self.delete_run(run_id, **kwargs))

    async def asearch(
        self,
        q: str,
        *,
        user_id: str | None = None,
        session_type: SessionType | None = None,
        component_id: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> Page[SearchHit]:
        """Async twin of :meth:`search`."""
        return await anyio.to_thread.run_sync(
            lambda: self.search(
                q,
                user_id=user_id,
                session_type=session_type,
                component_id=component_id,
                limit=limit,
                cursor=cursor,
            ),
            limiter=read_limiter(),
        )

    async def aping(self) -> None:
        """Async twin of :meth:`ping`."""
        await anyio.to_thread.run_sync(self.ping)
