"""``SqlStore``: the one implementation of the storage contract in SQL, shared by every dialect.

A backend (``SqliteDb``, ``PostgresDb``) supplies the engine, its ``INSERT ... ON CONFLICT``
construct and how to take the migration lock; everything else is here, in SQLAlchemy Core.

Each public call is one transaction on its own connection. Writes run with the execution
option ``sessiondb_write`` (SQLite begins them with ``BEGIN IMMEDIATE``); reads may set
backend-specific options (PostgreSQL reads at ``REPEATABLE READ``, so a session row and its
runs come from one snapshot). Read-modify-write calls lock the session row first
(``SELECT ... FOR UPDATE``; SQLite has one writer at a time anyway).
"""

from __future__ import annotations

import abc
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Table,
    delete,
    select,
    update,
)

from sessiondb.db import consistency, leases
from sessiondb.db._sql import migrate as migrations
from sessiondb.db._sql import run_lease
from sessiondb.db._sql.bulk import save_sessions
from sessiondb.db._sql.changes import ChangeLog, record_changes
from sessiondb.db._sql.codec import decode_run, decode_session_runs, listed_page, session_from_row
from sessiondb.db._sql.commit import commit_run
from sessiondb.db._sql.compiled import fetch
from sessiondb.db._sql.copy import can_copy, driver_can_copy, stored_ids
from sessiondb.db._sql.driver_reads import Window, may_read_on_driver, window_on_driver
from sessiondb.db._sql.errors import MIGRATE_HINT, VANISHED_HINT, Fault, translated_errors
from sessiondb.db._sql.export import export_page
from sessiondb.db._sql.fork import ForkRequest, fork_session_rows
from sessiondb.db._sql.fork import new_session_id as fresh_session_id
from sessiondb.db._sql.history import HistoryReads
from sessiondb.db._sql.lifecycle import SqlLifecycle
from sessiondb.db._sql.listing import ListingStatements
from sessiondb.db._sql.names import Names, settle_names
from sessiondb.db._sql.raw_reads import RawReads
from sessiondb.db._sql.reads import (
    ReadStatements,
    session_row,
    session_with_window,
    whole_session,
)
from sessiondb.db._sql.replicas import ReplicaSet, primary_position
from sessiondb.db._sql.run_cancel import request_cancel, requested
from sessiondb.db._sql.run_reads import RunReads, RunsFilter, one_run_result, runs_result
from sessiondb.db._sql.search import index_fork, unindex_run
from sessiondb.db._sql.search_query import search_page
from sessiondb.db._sql.tables import TableNames, build_tables
from sessiondb.db._sql.writes import (
    PreparedRun,
    PreparedSave,
    Saved,
    UpsertInsert,
    WriteStatements,
    append_run,
    save_session,
    touch_session,
)
from sessiondb.db._tracking import mark_saved
from sessiondb.db.base import UNSET, SessionDataMerge, SessionStore, Unset
from sessiondb.db.changes import DEFAULT_CHANGES_WINDOW, saved_changes
from sessiondb.db.errors import (
    DatabaseCorrupt,
    InvalidQuery,
    SchemaNotReady,
    SessionNotFound,
    VersionConflict,
)
from sessiondb.db.history import HistoryQuery, collect_history
from sessiondb.db.query import Page, SessionQuery, run_count_ids
from sessiondb.db.search import SearchHit, SearchQuery
from sessiondb.db.timeouts import Timeouts
from sessiondb.db.transfer import EXPORT_PAGE, ExportedSession, ExportFilter
from sessiondb.run.workflow import AnyRun
from sessiondb.session import Session, SessionSummary, SessionType
from sessiondb.session.base import StoreToken
from sessiondb.session.history_budget import History

_T = TypeVar("_T")

logger = logging.getLogger("sessiondb.db")

WRITE_OPTION = "sessiondb_write"
"""Execution option set on the connection of a write transaction."""
_WRITE_OPTIONS: dict[str, Any] = {WRITE_OPTION: True}

DEFER_ENCODING_FROM = 1_000
"""Runs in an ``upsert_sessions`` batch from which encoding them inside ``COPY`` pays for its lookup.

Measured on PostgreSQL (deferred ÷ encoded first, medians of 10): 1.26 at 20 runs, 1.08 at 200,
1.00-1.05 at 400, 0.99-1.06 at 1,000, 0.94-0.98 at 2,000, 0.83-0.88 at 4,000. The lookup is a
round trip; the overlap it buys grows with the batch."""

IDS_PER_STATEMENT = 1_000
"""Ids bound in one ``IN (...)`` of a bulk delete: SQLite allows 32,766 parameters per
statement and PostgreSQL (its protocol) 65,535, so a larger list is sent in several statements."""

NO_TRANSACTION_OPTION = "sessiondb_no_transaction"
"""Execution option of a connection that must not begin a transaction (SQLite; see ``_one_statement``)."""


def _now() -> int:
    return int(time.time())


def _explicit_name(session_data: Mapping[str, Any] | None) -> str | None:
    name = (session_data or {}).get("session_name")
    return name if isinstance(name, str) else None


def _log_saved(log: ChangeLog, saved: Saved) -> None:
    session = saved.session
    row = {
        "session_id": session.session_id,
        "session_type": session.session_type,
        "user_id": session.user_id,
        "version": saved.version,
    }
    for kind, run_id in saved_changes(saved.version, saved.written, saved.replaced):
        log.add(kind, row, run_id=run_id)


def _apply(saved: Saved, store: StoreToken) -> None:
    saved.session.created_at = saved.created_at
    saved.session.updated_at = saved.updated_at
    mark_saved(
        saved.session,
        store=store,
        version=saved.version,
        written=saved.written,
        stored_name=saved.name,
        fields=saved.fields,
    )


class SqlStore(SqlLifecycle, RawReads, SessionStore):
    """The storage contract over a SQLAlchemy engine; subclasses add only what their dialect needs.

    Args:
        engine: the engine to use.
        names: table names and schema.
        id: the ``db_id`` the HTTP API serves this store under.
        auto_migrate: migrate the schema on first use (logged at INFO) instead of raising
            :class:`~sessiondb.db.errors.SchemaNotReady`.
        owns_engine: whether :meth:`close` disposes the engine (not when the caller passed it).
        timeouts: the bounds on waits for the database (defaults of :class:`Timeouts`).
        soft_delete: keep deleted sessions in the trash this long (see
            :meth:`SessionStore.restore_session`); ``None`` deletes for good at once.
        changes_window: how long recorded changes are kept (pruned by :meth:`purge`).
    """

    _PING_SQL: ClassVar[str] = "SELECT 1"
    """What :meth:`ping` runs: the cheapest statement that proves the database answers."""
    _read_options: ClassVar[dict[str, Any]] = {}
    _statement_options: ClassVar[dict[str, Any]] = {}
    """Execution options that keep a connection out of any transaction (see ``_one_statement``)."""

    def __init__(
        self,
        *,
        engine: Engine,
        names: TableNames,
        id: str,
        auto_migrate: bool,
        owns_engine: bool,
        timeouts: Timeouts | None = None,
        soft_delete: timedelta | None = None,
        changes_window: timedelta = DEFAULT_CHANGES_WINDOW,
    ) -> None:
        self.id = id
        self._timeouts = timeouts or Timeouts()
        self.soft_delete = soft_delete
        self.changes_window = changes_window
        self._engine = engine
        self._write_view: tuple[Engine, Engine] | None = None
        self._tables = build_tables(names, engine.dialect.name)
        self._statements = WriteStatements.build(self._tables, self._insert, self._json_text)
        self._reads = ReadStatements.build(self._tables)
        self._run_reads = RunReads(self._tables)
        self._listing = ListingStatements(self._tables)
        self._history_reads = HistoryReads(self._tables)
        self._auto_migrate = auto_migrate
        self._owns_engine = owns_engine
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._where = engine.url.render_as_string(hide_password=True)
        self._replicas: ReplicaSet | None = None
        """Read replicas (PostgreSQL only; set by the backend), or ``None``: every read on ``engine``."""
        self.store_token = StoreToken(f"{self._where} table {names.sessions!r}")
        self._fault = Fault()
        # Views of the store (SqliteDb's event-loop readers) share these by reference.
        self._errors = functools.partial(
            translated_errors, self._where, VANISHED_HINT if auto_migrate else MIGRATE_HINT, self._fault
        )

    @property
    def session_table_name(self) -> str:
        """The sessions table (Agno's attribute name); the HTTP API's ``table`` parameter matches it."""
        return self._tables.names.sessions

    @property
    def reads_from_replicas(self) -> bool:
        """See :attr:`SessionStore.reads_from_replicas`."""
        return self._replicas is not None

    @property
    def table_names(self) -> TableNames:
        """The store's tables and their schema."""
        return self._tables.names

    # -- dialect hooks -----------------------------------------------------------------------

    @abc.abstractmethod
    def _insert(self, table: Table) -> UpsertInsert:
        """The dialect's ``INSERT`` construct (with ``on_conflict_do_update``)."""

    def _json_text(self, text: BindParameter[str]) -> ColumnElement[Any]:
        """A JSON column's value given as JSON text (SQLite stores JSON as that text)."""
        return text

    def _prepare_migration(self, conn: Connection) -> None:
        """Run at the start of the migration transaction: take a lock, create the schema."""

    def _check_file(self) -> None:
        """Raise :class:`StoreUnavailable` when the database is no longer where it was opened;
        nothing by default (a server database cannot be swapped under its connections)."""

    def _check_usable(self) -> None:
        """Refuse a call on a store that met a damaged database, or whose file is gone.

        Raises:
            DatabaseCorrupt: an earlier call found the database damaged.
            StoreUnavailable: see :meth:`_check_file`.
        """
        if self._fault.message is not None:
            raise DatabaseCorrupt(self._fault.message)
        self._check_file()

    def _bounded(self, conn: Connection) -> AbstractContextManager[object]:
        """Bound the block's wait on ``conn``'s server, client-side (see :mod:`.deadline`);
        nothing by default (SQLite has no server to wait for)."""
        return nullcontext()

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        self._check_usable()
        self._ensure_schema()
        # A write's connection comes from the engine's view with the write option set: no
        # execution_options call per write (it cost ~9 µs of a ~140 µs write transaction).
        engine = self._write_engine() if write else self._engine
        options = None if write else self._read_options
        with self._errors(), engine.connect() as conn, self._bounded(conn):
            if options:
                # Skipped when empty (SQLite reads): the call costs more than the BEGIN it precedes.
                conn.execution_options(**options)
            with conn.begin():
                yield conn
                if write:
                    # Checked again just before the commit: a write is never acknowledged into
                    # a file that is no longer the database (it is rolled back instead).
                    self._check_file()
            if write:
                self._note_write(conn)

    def _write_engine(self) -> Engine:
        """``self._engine`` with the write option set (an ``OptionEngine``: same pool, same
        listeners), made once per engine (a view of the store may hold another engine)."""
        cached = self._write_view
        if cached is None or cached[0] is not self._engine:
            cached = self._write_view = (self._engine, self._engine.execution_options(**_WRITE_OPTIONS))
        return cached[1]

    def _note_write(self, conn: Connection) -> None:
        # With replicas, the request's later reads (and the client's, through the token the
        # API hands out) must see this commit: record the primary's position after it.
        state = consistency.current.get()
        if self._replicas is not None and state is not None:
            state.wrote(primary_position(conn))

    @contextmanager
    def _writing(self) -> Iterator[tuple[Connection, ChangeLog]]:
        """A write transaction and the log of its changes, recorded as its last statement
        (see :mod:`sessiondb.db._sql.changes`: nothing may be written after them)."""
        with self._transaction(write=True) as conn:
            log = ChangeLog(_now())
            yield conn, log
            record_changes(conn, self._tables, log)

    @contextmanager
    def _one_statement(self, *, replica: bool = False) -> Iterator[Connection]:
        """A connection for a read made of a single statement, outside any transaction.

        One statement reads one snapshot on every backend, so such a read needs no
        transaction at all; running it without one saves the BEGIN and the COMMIT (two
        round trips on PostgreSQL).

        Args:
            replica: the read may be served by a read replica that has caught up with the
                request's consistency floor (see :mod:`sessiondb.db._sql.replicas`). Only the
                contract's reads ask for it, never a read that a write depends on.
        """
        self._check_usable()
        self._ensure_schema()
        with self._errors():
            if replica and self._replicas is not None:
                with self._replicas.connection(self._statement_options) as replica_conn:
                    if replica_conn is not None:
                        with self._bounded(replica_conn):
                            yield replica_conn
                        return
            with self._engine.connect() as conn, self._bounded(conn):
                conn.execution_options(**self._statement_options)
                yield conn

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            names = self._tables.names
            with self._errors(), self._engine.connect() as conn:
                current = migrations.current_revision(conn, names)
            head = migrations.head_revision()
            if current != head:
                if not self._auto_migrate:
                    state = "missing" if current is None else f"at revision {current!r}, not {head!r}"
                    raise SchemaNotReady(
                        f"{self._where}: the schema of table {names.sessions!r} is {state}; {MIGRATE_HINT}"
                    )
                self._migrate()
            self._schema_ready = True

    def _migrate(self) -> None:
        self._check_usable()
        names = self._tables.names
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                self._prepare_migration(conn)
                before = migrations.current_revision(conn, names)
                migrations.upgrade(conn, names)
        head = migrations.head_revision()
        if before != head:
            # One line per migration: Alembic's own lines are kept at WARNING (see migrate.upgrade).
            table = f"{names.schema}.{names.sessions}" if names.schema else names.sessions
            logger.info(
                "migrated table %s in %s from %s to revision %s",
                table,
                self._where,
                "nothing" if before is None else f"revision {before}",
                head,
            )

    # -- sessions ----------------------------------------------------------------------------

    def upsert_session(self, session: Session) -> Session:
        """See :meth:`SessionStore.upsert_session`."""
        prepared = PreparedSave.of(session, self.store_token)
        with self._writing() as (conn, log):
            saved = save_session(conn, self._tables, self._statements, prepared, create=False, now=log.now)
            _log_saved(log, saved)
        # Its prepared runs refer to the runs just written: gone, they do not count as runs
        # the caller still holds (see sessiondb.session._runs).
        del prepared
        _apply(saved, self.store_token)
        return session

    def upsert_sessions(
        self, sessions: Sequence[Session], *, preserve_updated_at: bool = False
    ) -> list[Session]:
        """See :meth:`SessionStore.upsert_sessions`."""
        # Rows are locked in session-id order so two concurrent batches cannot deadlock.
        in_order = sorted(sessions, key=lambda s: s.session_id)
        encode_runs = not self._all_new_for_copy(in_order)
        ordered = [
            PreparedSave.of(
                session, self.store_token, encode_runs=encode_runs, preserve_updated_at=preserve_updated_at
            )
            for session in in_order
        ]
        with self._writing() as (conn, log):
            saves = save_sessions(conn, self._tables, self._statements, ordered, now=log.now)
            for saved in saves:
                _log_saved(log, saved)
        del ordered  # as in upsert_session
        for saved in saves:
            _apply(saved, self.store_token)
        return list(sessions)

    def _all_new_for_copy(self, sessions: Sequence[Session]) -> bool:
        """Whether the batch's runs may be encoded inside its transaction, by ``COPY``.

        Only when ``COPY`` will write them and none of the sessions is stored: the rows the
        transaction then locks are new, so nobody waits while the runs are encoded (see
        :mod:`sessiondb.db._sql.copy`). A session stored in between is still written
        correctly; its runs are then encoded inside the transaction. A small batch is not worth
        the extra round trip.
        """
        if not driver_can_copy(self._engine.dialect):
            return False  # SQLite: no need to check out a connection to learn that
        if sum(len(session.runs or ()) for session in sessions) < DEFER_ENCODING_FROM:
            return False
        with self._one_statement() as conn:
            if not can_copy(conn):
                return False
            return not stored_ids(conn, self._tables.sessions.c.session_id, [s.session_id for s in sessions])

    def create_session(self, session: Session) -> Session:
        """See :meth:`SessionStore.create_session`."""
        prepared = PreparedSave.of(session, self.store_token, create=True)
        with self._writing() as (conn, log):
            saved = save_session(conn, self._tables, self._statements, prepared, create=True, now=log.now)
            _log_saved(log, saved)
        del prepared  # as in upsert_session
        _apply(saved, self.store_token)
        return session

    def get_session(
        self,
        session_id: str,
        *,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        runs_limit: int | None = None,
    ) -> Session:
        """See :meth:`SessionStore.get_session`."""
        if runs_limit is not None:
            # An agent turn's read: the row and a small window, one statement.
            found = self._window_on_driver(session_id, user_id, runs_limit)
            if found is not None:
                return self._loaded_session(*found, session_type, complete=False)
            with self._one_statement(replica=True) as conn:
                row, loaded = session_with_window(conn, self._reads, session_id, user_id, runs_limit)
            return self._loaded_session(row, loaded, session_type, complete=False)
        with self._one_statement(replica=True) as conn:
            row, loaded = whole_session(conn, self._reads, session_id, user_id)
        return self._loaded_session(row, loaded, session_type, complete=True)

    def _reads_on_driver(self) -> bool:
        """Whether a windowed ``get_session`` may run on the pool's driver connection (see
        :mod:`sessiondb.db._sql.driver_reads`): only where a single-statement read needs no
        transaction and no per-connection set-up beyond the pool's. None by default."""
        return False

    def _window_on_driver(self, session_id: str, user_id: str | None, runs_limit: int) -> Window | None:
        """The windowed read on a pooled driver connection (see :mod:`sessiondb.db._sql.driver_reads`),
        for stores whose single-statement reads need no transaction (:meth:`_reads_on_driver`);
        ``None``: read through :meth:`_one_statement` instead."""
        if not self._reads_on_driver() or not may_read_on_driver(self._engine):
            return None
        self._check_usable()
        self._ensure_schema()
        with self._errors():
            return window_on_driver(self._engine, self._reads, session_id, user_id, runs_limit)

    def _loaded_session(
        self,
        row: Mapping[str, Any],
        loaded: Sequence[tuple[str, str]],
        session_type: SessionType | None,
        *,
        complete: bool,
    ) -> Session:
        """The session a ``get_session`` read built from its row and runs (sync and async twins):
        this store's, its runs decoded lazily unless :attr:`lazy_runs` is off; ``complete`` says
        whether ``loaded`` holds every run or only a window."""
        return session_from_row(
            row,
            store=self.store_token,
            session_type=session_type,
            runs=loaded,
            complete=complete,
            lazy=self.lazy_runs,
        )

    async def _read_raw(self, call: Callable[[RawReads], _T]) -> _T:
        """:meth:`_read` for the :class:`RawReads` methods: the reader is this store or a view of it."""
        return await self._read(lambda store: call(cast(RawReads, store)))

    def get_sessions(self, query: SessionQuery) -> Page[Session]:
        """See :meth:`SessionStore.get_sessions`."""
        with self._one_statement(replica=True) as conn:
            listing = self._listing.select_page(conn, query)
        return listed_page(query, listing, self.store_token)

    def _modify(
        self,
        session_id: str,
        user_id: str | None,
        expected_version: int | None,
        change: Callable[[Mapping[str, Any]], dict[str, Any]],
    ) -> Session:
        """Lock a session row, check its version and write ``change``'s column values.

        Returns:
            The updated session, without runs.
        """
        sessions = self._tables.sessions
        with self._writing() as (conn, log):
            row = session_row(conn, self._reads, session_id, user_id, lock=True)
            if expected_version is not None and row["version"] != expected_version:
                raise VersionConflict(session_id, expected_version, row["version"])
            values = change(row)
            explicit = _explicit_name(values.get("session_data", row["session_data"]))
            names = Names(explicit, row["derived_name"], row["name_run_id"])
            statement = (
                update(sessions)
                .where(sessions.c.session_id == session_id)
                .values(**values, **names.columns(), updated_at=log.now, version=sessions.c.version + 1)
                .returning(*sessions.c)
            )
            updated = conn.execute(statement).mappings().one()
            log.add("session.updated", updated)
        return session_from_row(updated, store=self.store_token, session_type=None, runs=None, complete=False)

    def rename_session(
        self,
        session_id: str,
        *,
        session_name: str,
        user_id: str | None = None,
        expected_version: int | None = None,
    ) -> Session:
        """See :meth:`SessionStore.rename_session`."""

        def rename(row: Mapping[str, Any]) -> dict[str, Any]:
            return {"session_data": {**(row["session_data"] or {}), "session_name": session_name}}

        return self._modify(session_id, user_id, expected_version, rename)

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
        """See :meth:`SessionStore.update_session`."""

        def update_fields(row: Mapping[str, Any]) -> dict[str, Any]:
            workflow = row["session_type"] == "workflow"
            if isinstance(summary, SessionSummary) and workflow:
                raise InvalidQuery("summary", "workflow sessions have no summary")
            session_data = dict(row["session_data"] or {})
            if session_name is not UNSET:
                session_data["session_name"] = session_name
            if session_state is not UNSET:
                session_data["session_state"] = session_state
            if session_metrics is not UNSET:
                session_data["session_metrics"] = session_metrics
            values: dict[str, Any] = {"session_data": session_data}
            if metadata is not UNSET:
                values["metadata"] = metadata
            if summary is not UNSET and not workflow:
                values["summary"] = summary.to_dict() if summary is not None else None
            return values

        return self._modify(session_id, user_id, expected_version, update_fields)

    def delete_session(
        self, session_id: str, *, user_id: str | None = None, expected_version: int | None = None
    ) -> bool:
        """See :meth:`SessionStore.delete_session`."""
        with self._writing() as (conn, log):
            try:
                row = session_row(conn, self._reads, session_id, user_id, lock=True)
            except SessionNotFound:
                return False
            if expected_version is not None and row["version"] != expected_version:
                raise VersionConflict(session_id, expected_version, row["version"])
            self._delete_rows(conn, log, [row])
        return True

    def delete_sessions(self, session_ids: Sequence[str], *, user_id: str | None = None) -> int:
        """See :meth:`SessionStore.delete_sessions`.

        Any number of ids, in one transaction: they are bound :data:`IDS_PER_STATEMENT` at a
        time (both databases cap the parameters of one statement), in sorted order, so two
        overlapping batches lock their rows in the same order and cannot deadlock.
        """
        ordered = sorted(set(session_ids))
        deleted = 0
        with self._writing() as (conn, log):
            for start in range(0, len(ordered), IDS_PER_STATEMENT):
                found = self._live_rows(conn, ordered[start : start + IDS_PER_STATEMENT], user_id)
                self._delete_rows(conn, log, found)
                deleted += len(found)
        return deleted

    def export_sessions(
        self, filter: ExportFilter, *, after: str | None = None, limit: int = EXPORT_PAGE
    ) -> list[ExportedSession]:
        """See :meth:`SessionStore.export_sessions`."""
        if limit < 1:
            raise InvalidQuery("limit", f"must be at least 1, not {limit}")
        # Always the primary, never a read replica: an import checks what is stored right before
        # it writes, and a copy checks its target, so a lagging copy would mislead both.
        with self._transaction(write=False) as conn:
            return export_page(conn, self._tables, filter, after=after, limit=limit)

    def fork_session(
        self,
        session_id: str,
        *,
        at_run_id: str | None = None,
        new_session_id: str | None = None,
        session_name: str | None = None,
        user_id: str | None = None,
    ) -> Session:
        """See :meth:`SessionStore.fork_session`."""
        target = new_session_id if new_session_id is not None else fresh_session_id()
        request = ForkRequest(session_id, target, at_run_id, session_name, user_id)
        with self._writing() as (conn, log):
            source = session_row(conn, self._reads, session_id, user_id, lock=True)
            row = fork_session_rows(conn, self._tables, self._insert, source, request, log)
            index_fork(conn, self._tables, session_id, request.target_id)
        return session_from_row(row, store=self.store_token, session_type=None, runs=None, complete=False)

    def _history(self, session_id: str, user_id: str | None, query: HistoryQuery) -> History:
        """See :meth:`SessionStore.get_history`.

        The batches are single statements outside a transaction (no BEGIN, no COMMIT: two
        round trips fewer on PostgreSQL, where most calls need one batch). Each batch reads the
        runs before the previous one's oldest index, and a stored run's index never changes,
        so the batches never overlap or skip a run; a run appended meanwhile has a higher
        index and is simply not part of this answer. A read replica may serve them, as it
        serves ``get_runs``, once it has caught up with the request's consistency floor.
        """
        with self._one_statement(replica=True) as conn:
            reads = self._history_reads
            return collect_history(
                query, lambda rows, before, size: reads.read(conn, session_id, user_id, rows, before, size)
            )

    # -- runs --------------------------------------------------------------------------------

    def upsert_run(self, session_id: str, run: AnyRun, *, lease_s: float | None = None) -> int:
        """See :meth:`SessionStore.upsert_run`."""
        # The lease goes in the run's own upsert: no statement more for the start of a run.
        until = None
        if lease_s is not None and run.status_value in leases.IN_PROGRESS_VALUES:
            until = leases.lease_until(lease_s)
        prepared = PreparedRun(run, lease_until=until)
        with self._writing() as (conn, log):
            return append_run(conn, self._tables, self._statements, session_id, prepared, log.now, log)

    def commit_run(
        self,
        session_id: str,
        run: AnyRun,
        *,
        merge_data: SessionDataMerge,
        user_id: str | None = None,
        summary: SessionSummary | Unset = UNSET,
    ) -> Session:
        """See :meth:`SessionStore.commit_run` (and :mod:`sessiondb.db._sql.commit`)."""
        prepared = PreparedRun(run)
        with self._writing() as (conn, log):
            row = commit_run(
                conn,
                self._tables,
                self._reads,
                self._statements,
                session_id=session_id,
                user_id=user_id,
                run=prepared,
                merge_data=merge_data,
                summary=summary,
                log=log,
            )
        return session_from_row(row, store=self.store_token, session_type=None, runs=None, complete=False)

    def request_run_cancel(
        self, run_id: str, *, runtime_id: str | None = None, user_id: str | None = None
    ) -> bool:
        """See :meth:`SessionStore.request_run_cancel`."""
        with self._transaction(write=True) as conn:
            return request_cancel(
                conn, self._tables, run_id, runtime_id=runtime_id, user_id=user_id, now=_now()
            )

    def cancel_requested(self, run_ids: Sequence[str]) -> set[str]:
        """See :meth:`SessionStore.cancel_requested`."""
        if not run_ids:
            return set()
        with self._one_statement() as conn:
            return requested(conn, self._tables, run_ids)

    def renew_run_leases(self, run_ids: Sequence[str], *, seconds: float) -> set[str]:
        """See :meth:`SessionStore.renew_run_leases` (and :mod:`sessiondb.db._sql.run_lease`)."""
        until = leases.lease_until(seconds)
        if not run_ids:
            return set()
        with self._transaction(write=True) as conn:
            return run_lease.renew(conn, self._tables, run_ids, until)

    def expire_run_leases(self, *, now_ms: int | None = None) -> list[str]:
        """See :meth:`SessionStore.expire_run_leases`."""
        now = leases.now_ms() if now_ms is None else now_ms
        with self._one_statement() as conn:
            found = run_lease.expired(conn, self._tables, now, leases.MAX_EXPIRED_PER_SWEEP)
        ended: list[str] = []
        for run_id, session_id, lease in found:
            with self._writing() as (conn, log):
                try:
                    # The order every write takes: the session row, then its run.
                    session_row(conn, self._reads, session_id, None, lock=True)
                except SessionNotFound:
                    continue  # deleted (or in the trash) since: nothing of it may change
                run = run_lease.still_abandoned(conn, self._tables, run_id, lease)
                if run is None:
                    continue  # it ended, or its process renewed the lease, meanwhile
                message = leases.abandoned_message(run_id, lease)
                ended_run = PreparedRun(run_lease.mark_abandoned(run, message))
                append_run(conn, self._tables, self._statements, session_id, ended_run, log.now, log)
            ended.append(run_id)
        return ended

    def get_run(self, run_id: str, *, session_id: str | None = None, user_id: str | None = None) -> AnyRun:
        """See :meth:`SessionStore.get_run`."""
        statement, values = self._run_reads.one_run_query(run_id, session_id, user_id)
        with self._one_statement(replica=True) as conn:
            rows = fetch(conn, statement, values)
        return decode_run(*one_run_result(run_id, session_id, rows))

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
        """See :meth:`SessionStore.get_runs`."""
        filters = RunsFilter.of(
            statuses=statuses,
            created_after=created_after,
            created_before=created_before,
            last_n=last_n,
            history=history_only,
        )
        statement, values = self._run_reads.runs_query(session_id, user_id, filters)
        with self._one_statement(replica=True) as conn:
            rows = fetch(conn, statement, values)
        return decode_session_runs(*runs_result(session_id, rows))

    def run_counts(
        self, session_ids: Sequence[str], *, user_id: str | None = None, deleted: bool = False
    ) -> dict[str, int]:
        """See :meth:`SessionStore.run_counts`."""
        wanted = run_count_ids(session_ids)
        if not wanted:
            return {}
        statement, values = self._run_reads.run_counts_query(wanted, user_id, deleted)
        with self._one_statement(replica=True) as conn:
            rows = fetch(conn, statement, values)
        return {session_id: int(count) for session_id, count in rows}

    def delete_run(self, run_id: str, *, session_id: str | None = None) -> bool:
        """See :meth:`SessionStore.delete_run`."""
        runs = self._tables.runs
        owner_query = select(runs.c.session_id).where(runs.c.run_id == run_id)
        if session_id is not None:
            owner_query = owner_query.where(runs.c.session_id == session_id)
        with self._writing() as (conn, log):
            owner = conn.execute(owner_query).scalar_one_or_none()
            if owner is None:
                return False
            # Lock the session row before touching its runs, the order every write uses.
            try:
                session_row(conn, self._reads, owner, None, lock=True)
            except SessionNotFound:
                return False  # its session is in the trash: nothing there may change
            unindex_run(conn, self._tables, owner, run_id)
            gone = conn.execute(delete(runs).where(runs.c.run_id == run_id, runs.c.session_id == owner))
            if gone.rowcount == 0:
                return False
            row = touch_session(conn, self._statements, owner, now=log.now)
            settle_names(conn, self._tables, row, explicit=row["explicit_name"], deleted={run_id})
            log.add("session.updated", row)
        return True

    # -- search ------------------------------------------------------------------------------

    def _search(self, query: SearchQuery) -> tuple[list[SearchHit], str | None]:
        """One statement over the engine's full-text index (see :mod:`sessiondb.db._sql.search`)."""
        with self._one_statement() as conn:
            return search_page(conn, self._tables, query)

    # -- lifecycle ---------------------------------------------------------------------------

    def migrate(self) -> None:
        """Create the schema or upgrade it to the head revision (Alembic). Safe to repeat, and to
        run from several processes at once: the migration takes a lock first."""
        self._migrate()
        self._schema_ready = True

    def ping(self) -> None:
        """See :meth:`SessionStore.ping`."""
        self._check_usable()
        with self._errors(), self._engine.connect() as conn, self._bounded(conn):
            conn.exec_driver_sql(self._PING_SQL)

    def close(self) -> None:
        """Dispose of the engine's connections, unless the caller passed the engine in."""
        if self._owns_engine:
            self._engine.dispose()
