"""``PostgresDb``: sessions in PostgreSQL through psycopg 3.

PostgreSQL keeps the session's JSON fields as JSONB and run payloads as ``json`` (the text as
written: they are only ever read back whole, see ``payload_json_type``), and sorts names and
ids with the ``"C"`` collation (by code point, as the other backends do). A session and its
runs are read by one statement (one snapshot); reads of several statements run at
``REPEATABLE READ``; concurrent migrations are serialised by an advisory lock.

The async read twins (``aget_session``, ``aget_sessions``, ``aget_run``, ``aget_runs``) run on
the event loop through psycopg's ``AsyncConnection`` (:mod:`sessiondb.db._sql.aio`), not in a worker thread.

Pooled connections are not pinged before use (that would be one more round trip per call):
after the server drops connections, the next call on each backend fails once with
:class:`~sessiondb.db.errors.StoreUnavailable`, and the calls after it reconnect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any, ClassVar

import orjson
import psycopg
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Table,
    cast,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.schema import CreateSchema
from sqlalchemy.sql.expression import ClauseElement

from sessiondb.db._sql.aio import AsyncReadPool, afetch
from sessiondb.db._sql.changes import lock_key, notify_channel
from sessiondb.db._sql.codec import decode_run, decode_session_runs, dumps, listed_page
from sessiondb.db._sql.compiled import Row, compiled_for, may_bypass
from sessiondb.db._sql.deadline import WATCHDOG
from sessiondb.db._sql.listen import ChangeListener
from sessiondb.db._sql.listing import page_result
from sessiondb.db._sql.raw_reads import StoredRun, listed_rows, run_dicts
from sessiondb.db._sql.reads import (
    whole_session_query,
    whole_session_result,
    window_query,
    window_result,
)
from sessiondb.db._sql.replicas import ReplicaSet, primary_position
from sessiondb.db._sql.run_reads import RunsFilter, one_run_result, runs_result
from sessiondb.db._sql.shared_read import SharedRead
from sessiondb.db._sql.store import SqlStore
from sessiondb.db._sql.tables import DEFAULT_SEARCH_CONFIG, TableNames
from sessiondb.db.changes import DEFAULT_CHANGES_WINDOW, ChangeWatch
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.query import Page, SessionQuery, run_count_ids
from sessiondb.db.timeouts import DEFAULT_LOCK_S, Timeouts
from sessiondb.run.workflow import AnyRun
from sessiondb.session import Session, SessionType


def _silent(seconds: float) -> str:
    return (
        f"the database did not answer within {seconds:g} s (the statement bound plus 1 s); "
        "the connection was closed"
    )


@contextmanager
def _deadline(conn: Connection, seconds: float, where: str) -> Iterator[None]:
    """The :data:`~sessiondb.db._sql.deadline.WATCHDOG` bound on ``conn`` for the block."""
    raw = conn.connection.dbapi_connection
    fileno = raw.fileno() if isinstance(raw, psycopg.Connection) else None
    if fileno is None:
        yield
        return
    with WATCHDOG.watch(fileno, seconds) as watched:
        try:
            yield
        except Exception as error:
            if watched.fired:
                raise StoreUnavailable(f"{where}: {_silent(seconds)}") from error
            raise


DEFAULT_SCHEMA = "ai"
MAINTENANCE_KEY_BITS = 0x5E55_10DB
"""Mixed into the changes table's lock key: the maintenance lock is another lock on the same tables."""
POOL_RECYCLE_S = 1800
"""Pooled connections older than this (seconds) are replaced when next checked out."""
_CONFIG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?")
"""A text search configuration name, optionally schema-qualified (what ``regconfig`` reads)."""


def _names_several_hosts(url: URL) -> bool:
    hosts = url.query.get("host")
    if isinstance(hosts, tuple):
        return len(hosts) > 1
    return isinstance(hosts, str) and "," in hosts


def bounded_connect_args(url: URL, timeouts: Timeouts) -> dict[str, Any]:
    """Connection arguments bounding the connect and, server-side, each lock wait and statement.

    ``lock_timeout`` and ``statement_timeout`` go in the startup packet (``options``), so
    they cost no round trip; options the URL already gives are kept, and come first. A
    ``connect_timeout`` in the URL wins over ``timeouts.connect_s``.
    """
    given = url.query.get("options")
    in_url = url.query.get("connect_timeout")
    settings = (
        f"-c lock_timeout={timeouts.milliseconds(timeouts.lock_or(DEFAULT_LOCK_S))} "
        f"-c statement_timeout={timeouts.milliseconds(timeouts.statement_s)}"
    )
    options = f"{given} {settings}" if isinstance(given, str) and given else settings
    # libpq takes whole seconds and treats anything below 2 as 2.
    connect_timeout = in_url if isinstance(in_url, str) else max(2, math.ceil(timeouts.connect_s))
    return {"connect_timeout": connect_timeout, "options": options}


def _engine_for(db_url: str, timeouts: Timeouts) -> Engine:
    url = make_url(db_url)
    if url.drivername == "postgresql":
        # A bare postgresql:// URL would pick psycopg2; sessiondb ships with psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    if _names_several_hosts(url) and "target_session_attrs" not in url.query:
        # libpq's default ("any") takes the first host that answers, which after a failover
        # may be a replica: every write would then fail for good. A store writes, so it asks
        # for the primary unless the URL says otherwise.
        url = url.update_query_dict({"target_session_attrs": "read-write"})
    # No pool_pre_ping: it costs a round trip at the start of every transaction. A pooled
    # connection the server dropped instead fails the call it is used for, which surfaces as
    # StoreUnavailable (as any outage does); SQLAlchemy then discards the whole pool, so the
    # next call connects afresh. pool_recycle replaces connections before idle-timeouts in
    # proxies and firewalls between here and the server would silently cut them.
    engine = create_engine(
        url.difference_update_query(["options", "connect_timeout"]),
        pool_recycle=POOL_RECYCLE_S,
        pool_timeout=timeouts.pool_s,
        connect_args=bounded_connect_args(url, timeouts),
        json_serializer=dumps,
        json_deserializer=orjson.loads,
    )
    event.listen(engine, "handle_error", _demoted_server_is_a_disconnect)
    return engine


READ_ONLY_SQL_TRANSACTION = "25006"


def _demoted_server_is_a_disconnect(context: ExceptionContext) -> None:
    """Treat "cannot execute ... in a read-only transaction" as a lost connection.

    A primary demoted to a replica under a failover or switchover keeps the connections it
    had, and refuses every write on them. Marked as a disconnect, SQLAlchemy discards the
    connection and the pool, the call fails with ``StoreUnavailable`` (a 503), and the next
    call connects afresh, to the new primary (through HAProxy, or ``target_session_attrs``).
    """
    if getattr(context.original_exception, "sqlstate", None) == READ_ONLY_SQL_TRANSACTION:
        context.is_disconnect = True


_SNAPSHOT = "SELECT pg_current_snapshot()::text"

_VERSION_DEADLINE_S = 0.5
"""How long the read cache's version check may wait before the request reads the database."""


class PostgresDb(SqlStore):
    """Sessions and runs in a PostgreSQL database.

    Args:
        db_url: a SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pass@host:5432/db``
            (``postgresql://`` is taken to mean psycopg 3).
        db_engine: an engine to use instead of ``db_url``.
        db_schema: the schema holding the tables (default ``"ai"``; created if missing).
        session_table: the sessions table (default ``"sessiondb_sessions"``).
        runs_table: the runs table (default ``"<session_table>_runs"``).
        id: the ``db_id`` the HTTP API serves this store under (default ``"postgres"``).
        auto_migrate: create or upgrade the schema on first use (logged at INFO); when False,
            a missing or old schema raises :class:`~sessiondb.db.errors.SchemaNotReady`.
        read_replica_urls: streaming replicas of the same database to serve reads
            (``get_session``, ``get_sessions``, ``get_run``, ``get_runs``) in turn; writes and
            the reads a write depends on stay on the primary. A read is served by a replica
            only when that replica has replayed the request's consistency floor (see
            :mod:`sessiondb.db.consistency`), else by the primary; a replica that does not
            answer is skipped. With replicas, reads run in worker threads, not on the event loop.
        search_config: the text search configuration of full-text search (default
            ``"simple"``: words lower-cased, no stemming, no stop words). For accent folding,
            create one with ``unaccent`` (see ``docs/search.md``). Changing it on a store with
            data needs the index rewritten:
            ``UPDATE <schema>.<session_table>_search SET tsv = to_tsvector('<config>', body)``.
        timeouts: the bounds on connecting, waiting for a pooled connection, for a lock and
            for a statement (see :class:`~sessiondb.db.timeouts.Timeouts` for the defaults).
            A wait that runs out raises :class:`~sessiondb.db.errors.StoreUnavailable`. With
            ``db_engine``, the engine's own connect and pool settings apply instead; the
            client-side bound on a silent connection still does. Replicas get the same bounds.
        soft_delete: keep deleted sessions in the trash this long, restorable
            (:meth:`restore_session`), until :meth:`purge`; ``None`` (the default) deletes at once.
        changes_window: how long the change feed keeps its changes (pruned by :meth:`purge`).

    Raises:
        ValueError: neither ``db_url`` nor ``db_engine`` was given, or ``search_config`` is not
            a (optionally schema-qualified) identifier.
    """

    _read_options: ClassVar[dict[str, Any]] = {"isolation_level": "REPEATABLE READ"}
    _statement_options: ClassVar[dict[str, Any]] = {"isolation_level": "AUTOCOMMIT"}

    def __init__(
        self,
        db_url: str | None = None,
        db_engine: Engine | None = None,
        db_schema: str | None = None,
        session_table: str | None = None,
        runs_table: str | None = None,
        id: str | None = None,
        auto_migrate: bool = True,
        read_replica_urls: Sequence[str] = (),
        search_config: str = DEFAULT_SEARCH_CONFIG,
        timeouts: Timeouts | None = None,
        soft_delete: timedelta | None = None,
        changes_window: timedelta = DEFAULT_CHANGES_WINDOW,
    ) -> None:
        if not _CONFIG_NAME.fullmatch(search_config):
            raise ValueError(f"search_config must be a text search configuration name, not {search_config!r}")
        owns_engine = db_engine is None
        timeouts = timeouts or Timeouts()
        if db_engine is None:
            if db_url is None:
                raise ValueError("PostgresDb needs db_url or db_engine")
            db_engine = _engine_for(db_url, timeouts)
        super().__init__(
            engine=db_engine,
            names=TableNames.build(session_table, runs_table, db_schema or DEFAULT_SCHEMA, search_config),
            id=id if id is not None else "postgres",
            auto_migrate=auto_migrate,
            owns_engine=owns_engine,
            timeouts=timeouts,
            soft_delete=soft_delete,
            changes_window=changes_window,
        )
        # Async reads open connections as the engine does; an engine the caller passed in may
        # connect in ways its URL does not say (a creator, connect events), so it gets none.
        if read_replica_urls:
            self._replicas = ReplicaSet.of([_engine_for(url, timeouts) for url in read_replica_urls])
        self._async_reads: AsyncReadPool | None = None
        self._shared_snapshot = SharedRead(self._snapshot)
        # The change feed's readers wake on NOTIFY (on the primary: a replica cannot LISTEN),
        # listening as the engine connects; a caller's engine gets polling watches.
        self._listener: ChangeListener | None = None
        if owns_engine:
            _args, connect_args = db_engine.dialect.create_connect_args(db_engine.url)
            self._listener = ChangeListener(connect_args, notify_channel(self._tables.names))
        if owns_engine and not read_replica_urls:
            _args, connect_args = db_engine.dialect.create_connect_args(db_engine.url)
            connect_args.update(bounded_connect_args(make_url(db_url or ""), timeouts))
            self._async_reads = AsyncReadPool(connect_args, recycle_s=POOL_RECYCLE_S, wait_s=timeouts.pool_s)

    def _insert(self, table: Table) -> postgresql.Insert:
        return postgresql.insert(table)

    def _json_text(self, text: BindParameter[str]) -> ColumnElement[Any]:
        return cast(text, postgresql.JSON)

    def _prepare_migration(self, conn: Connection) -> None:
        names = self._tables.names
        # One migrator at a time per table set; the lock is released when the transaction ends.
        key = f"sessiondb:{names.schema}.{names.sessions}"
        # A migration may wait for another process's and may take long on a large table: the
        # bounds meant for a call do not apply to it (SET LOCAL ends with the transaction).
        conn.exec_driver_sql("SET LOCAL lock_timeout = 0")
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
        conn.execute(CreateSchema(names.schema or DEFAULT_SCHEMA, if_not_exists=True))

    def _bounded(self, conn: Connection) -> AbstractContextManager[object]:
        """Shut the connection's socket down if the block waits on it past the call deadline."""
        return _deadline(conn, self._timeouts.call_deadline_s, self._where)

    # -- reads on the event loop (see sessiondb.db._sql.aio) -------------------------------

    def _event_loop_pool(self) -> AsyncReadPool | None:
        """The async connections to read with now, or ``None``: then reads take a worker thread.

        Not before the schema is known to be ready (the first read may have to migrate it), nor
        while anything watches the engine's statements (listeners and SQL logging see only
        SQLAlchemy's execution), nor with a ``schema_translate_map``.
        """
        if self._async_reads is None or not self._schema_ready:
            return None
        return self._async_reads if may_bypass(self._engine, self._engine.get_execution_options()) else None

    async def _fetch_on_loop(
        self, pool: AsyncReadPool, statement: ClauseElement, values: Mapping[str, Any]
    ) -> list[Row]:
        """``statement``'s rows, read on one of ``pool``'s connections; driver errors become
        the domain errors the sync path raises."""
        deadline = self._timeouts.call_deadline_s
        with self._errors():
            async with pool.connection() as conn:
                # The watchdog, not a cancellation: psycopg answers a cancelled read by asking
                # the server to cancel it, and waits for that too when the server is silent.
                with WATCHDOG.watch(conn.pgconn.socket, deadline) as watched:
                    try:
                        return await afetch(conn, self._engine.dialect, statement, values)
                    except sa_exc.DBAPIError as error:
                        if watched.fired:
                            raise StoreUnavailable(f"{self._where}: {_silent(deadline)}") from error
                        raise

    async def _fetch_mappings_on_loop(
        self, pool: AsyncReadPool, statement: ClauseElement, values: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The rows :meth:`_fetch_on_loop` returns, each as a dict by column name."""
        keys = compiled_for(statement, self._engine.dialect).keys
        rows = await self._fetch_on_loop(pool, statement, values)
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def aread_version(self) -> str | None:
        """See :meth:`RawReads.aread_version`: ``pg_current_snapshot()``, one round trip on an
        event-loop connection.

        The snapshot (the oldest running transaction, the next id, the ids running in
        between) is what a read's visibility is made of: a commit takes its id out of the
        running ones, so any commit between two snapshots makes them differ, including one
        whose WAL record was written before the first snapshot but which became visible after
        it (so the WAL position, ``pg_current_wal_lsn()``, would not do). Transaction ids are
        the server's, not the database's: a write to any database of the server moves it too.

        Concurrent requests share one round trip, sent after each of them asked
        (:mod:`sessiondb.db._sql.shared_read`).

        ``None`` when reads take worker threads (a caller's engine, or read replicas: a
        replica's answer is as old as its replay, which the primary's snapshot does not tell),
        and when the server does not answer (the read then fails as usual).
        """
        if self._event_loop_pool() is None or self._replicas is not None or self._fault.message is not None:
            return None
        return await self._shared_snapshot()

    async def _snapshot(self) -> str | None:
        """``pg_current_snapshot()`` now, or ``None`` when it cannot be read."""
        pool = self._event_loop_pool()
        if pool is None:
            return None
        # Short: a version that is late only means the request reads the database instead, and
        # that read has the call's whole bound; the two waits must not add up to twice the bound.
        deadline = min(self._timeouts.call_deadline_s, _VERSION_DEADLINE_S)
        try:
            async with pool.connection() as conn:
                with WATCHDOG.watch(conn.pgconn.socket, deadline):
                    cursor = await conn.execute(_SNAPSHOT)
                    row = await cursor.fetchone()
        except (TimeoutError, psycopg.Error, sa_exc.SQLAlchemyError):
            return None
        return str(row[0]) if row is not None else None

    async def aget_session(
        self,
        session_id: str,
        *,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        runs_limit: int | None = None,
    ) -> Session:
        """Async twin of :meth:`get_session`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().aget_session(
                session_id, session_type=session_type, user_id=user_id, runs_limit=runs_limit
            )
        reads = self._reads
        if runs_limit is not None:
            window, params = window_query(reads, session_id, user_id, runs_limit)
            rows = await self._fetch_mappings_on_loop(pool, window, params)
            row, loaded = window_result(reads, session_id, rows)
            return self._loaded_session(row, loaded, session_type, complete=False)
        statement, params = whole_session_query(reads, session_id, user_id)
        found = await self._fetch_on_loop(pool, statement, params)
        keys = compiled_for(statement, self._engine.dialect).keys
        row, loaded = whole_session_result(reads, session_id, keys, found)
        return self._loaded_session(row, loaded, session_type, complete=True)

    async def aget_sessions(self, query: SessionQuery) -> Page[Session]:
        """Async twin of :meth:`get_sessions`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().aget_sessions(query)
        statement, params = self._listing.page_query(query)
        rows = await self._fetch_mappings_on_loop(pool, statement, params)
        return listed_page(query, page_result(query, rows), self.store_token)

    async def aget_run(
        self, run_id: str, *, session_id: str | None = None, user_id: str | None = None
    ) -> AnyRun:
        """Async twin of :meth:`get_run`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().aget_run(run_id, session_id=session_id, user_id=user_id)
        statement, values = self._run_reads.one_run_query(run_id, session_id, user_id)
        rows = await self._fetch_on_loop(pool, statement, values)
        return decode_run(*one_run_result(run_id, session_id, rows))

    async def arun_counts(
        self, session_ids: Sequence[str], *, user_id: str | None = None, deleted: bool = False
    ) -> dict[str, int]:
        """Async twin of :meth:`run_counts`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().arun_counts(session_ids, user_id=user_id, deleted=deleted)
        wanted = run_count_ids(session_ids)
        if not wanted:
            return {}
        statement, values = self._run_reads.run_counts_query(wanted, user_id, deleted)
        rows = await self._fetch_on_loop(pool, statement, values)
        return {session_id: int(count) for session_id, count in rows}

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
        """Async twin of :meth:`get_runs`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().aget_runs(
                session_id,
                user_id=user_id,
                statuses=statuses,
                created_after=created_after,
                created_before=created_before,
                last_n=last_n,
                history_only=history_only,
            )
        filters = RunsFilter.of(
            statuses=statuses,
            created_after=created_after,
            created_before=created_before,
            last_n=last_n,
            history=history_only,
        )
        statement, values = self._run_reads.runs_query(session_id, user_id, filters)
        rows = await self._fetch_on_loop(pool, statement, values)
        return decode_session_runs(*runs_result(session_id, rows))

    async def aget_session_rows(self, query: SessionQuery) -> Page[dict[str, Any]]:
        """Async twin of :meth:`get_session_rows`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().aget_session_rows(query)
        statement, params = self._listing.page_query(query)
        rows = await self._fetch_mappings_on_loop(pool, statement, params)
        return listed_rows(query, page_result(query, rows))

    async def aget_run_dicts(
        self, session_id: str, *, user_id: str | None, filters: RunsFilter
    ) -> list[StoredRun]:
        """Async twin of :meth:`get_run_dicts`, on the event loop (see :mod:`sessiondb.db._sql.aio`)."""
        pool = self._event_loop_pool()
        if pool is None:
            return await super().aget_run_dicts(session_id, user_id=user_id, filters=filters)
        statement, values = self._run_reads.runs_query(session_id, user_id, filters)
        rows = await self._fetch_on_loop(pool, statement, values)
        return run_dicts(*runs_result(session_id, rows))

    def health_details(self) -> dict[str, Any]:
        """With read replicas: each replica's replayed position, its lag behind the primary in
        bytes (both read now) and how many reads went to it and to the primary."""
        if self._replicas is None:
            return {}
        self._replicas.probe()
        with self._errors(), self._engine.connect() as conn, self._bounded(conn):
            position = primary_position(conn)
        return self._replicas.describe(position)

    @contextmanager
    def maintenance_lock(self) -> Iterator[bool]:
        """See :meth:`SessionStore.maintenance_lock`: ``pg_try_advisory_lock`` on a connection held
        for the block (the server releases it if this process dies)."""
        key = lock_key(self._tables.names) ^ MAINTENANCE_KEY_BITS
        with self._errors(), self._engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            mine = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar_one())
            try:
                yield mine
            finally:
                if mine:
                    conn.execute(select(func.pg_advisory_unlock(key)))

    def watch_changes(self) -> ChangeWatch:
        """A watch woken by ``NOTIFY`` as soon as a change commits, in any process
        (see :mod:`sessiondb.db._sql.listen`); a polling one on a caller's engine."""
        return self._listener.watch() if self._listener is not None else ChangeWatch()

    def close(self) -> None:
        """Close the event-loop read connections and the replicas', then as :meth:`SqlStore.close`."""
        if self._async_reads is not None:
            self._async_reads.close()
        if self._replicas is not None:
            self._replicas.dispose()
        super().close()
