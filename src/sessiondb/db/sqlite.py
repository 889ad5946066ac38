"""``SqliteDb``: sessions in a SQLite file, safe for several processes at once.

The connection is set up for concurrent use: WAL journal (readers never block the writer),
a busy timeout (a writer waits its turn instead of failing), foreign keys on, and the
durability the store was given (``synchronous``: ``NORMAL`` by default, see
:class:`SqliteDb`). pysqlite's own transaction handling is switched off and every
transaction is begun explicitly, ``BEGIN IMMEDIATE`` for writes, so a read-modify-write
holds the write lock from its first read (SQLAlchemy's documented "serializable isolation /
savepoints" recipe).
"""

from __future__ import annotations

import copy
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import orjson
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.base import OptionEngine
from sqlalchemy.pool import ConnectionPoolEntry, Pool, StaticPool

from sessiondb.db._sql.codec import dumps
from sessiondb.db._sql.store import NO_TRANSACTION_OPTION, WRITE_OPTION, SqlStore
from sessiondb.db._sql.tables import TableNames
from sessiondb.db._sqlite_file import FileIdentity, database_path
from sessiondb.db._sqlite_version import DataVersion
from sessiondb.db.changes import DEFAULT_CHANGES_WINDOW
from sessiondb.db.errors import StoreError
from sessiondb.db.timeouts import SQLITE_DEFAULT_LOCK_S, Timeouts

Synchronous = Literal["NORMAL", "FULL"]
"""SQLite's durability levels a store may use (``PRAGMA synchronous``)."""

DEFAULT_DB_FILE = "sessiondb.db"
BUSY_TIMEOUT_MS = round(SQLITE_DEFAULT_LOCK_S * 1000)
"""The default wait for the write lock (``Timeouts.lock_s`` sets another per store)."""

_ENGINE_BUSY_MS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def _busy_ms(engine: Engine) -> int:
    # A store's writes run on a view of its engine (an OptionEngine) that shares its pool:
    # the wait configured for the engine it proxies counts.
    while engine not in _ENGINE_BUSY_MS and isinstance(engine, OptionEngine):
        engine = engine._proxied
    return _ENGINE_BUSY_MS.get(engine, BUSY_TIMEOUT_MS)


def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    # Stop pysqlite from issuing BEGIN itself; _on_begin does it, in the right mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _busy_setter(busy_ms: int | None) -> Callable[[sqlite3.Connection, ConnectionPoolEntry], None]:
    def set_busy_timeout(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        wait_ms = BUSY_TIMEOUT_MS if busy_ms is None else busy_ms
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
            _use_wal(cursor, wait_ms)
        finally:
            cursor.close()

    return set_busy_timeout


_BUSY_SETTERS: dict[int | None, Callable[[sqlite3.Connection, ConnectionPoolEntry], None]] = {}
"""One listener per wait, so that configuring an engine twice alike registers it once."""


def _use_wal(cursor: sqlite3.Cursor, wait_ms: int) -> None:
    """Switch the file to WAL, waiting out other connections doing the same.

    Changing the journal mode needs an exclusive lock, and SQLite answers BUSY at once there
    rather than calling the busy handler, so several first connections to a new file would
    fail "database is locked" now and then. A file already in WAL needs no switch at all.
    """
    deadline = time.monotonic() + wait_ms / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                raise
        time.sleep(random.uniform(0.0005, 0.005))


def _synchronous_setter(level: Synchronous) -> Callable[[sqlite3.Connection, ConnectionPoolEntry], None]:
    def set_synchronous(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.execute(f"PRAGMA synchronous = {level}")

    return set_synchronous


# One listener per level, so that configuring an engine twice registers it once.
_SYNCHRONOUS_SETTERS = {level: _synchronous_setter(level) for level in get_args(Synchronous)}
_ENGINE_SYNCHRONOUS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _begin_immediate(conn: Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock in steps of about a millisecond.

    SQLite's own busy handler backs off to sleeps of 25-100 ms, so under contention a writer
    sleeps long after the lock was freed (eight processes appending to one session ran at a
    third of the speed). This polls instead, up to the same timeout; the last attempt goes
    through SQLAlchemy so that a timeout surfaces as its ``OperationalError``.
    """
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    wait_ms = _busy_ms(conn.engine)
    deadline = time.monotonic() + wait_ms / 1000
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                # The code may be an extended one (SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT,
                # seen while another connection sets up the WAL): its low byte is still BUSY.
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
            time.sleep(random.uniform(0.0002, 0.002))
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout = {wait_ms}")


def _on_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get(WRITE_OPTION):
        _begin_immediate(conn)
        return
    if options.get(NO_TRANSACTION_OPTION):
        # The driver is in autocommit mode (isolation_level None): each statement is its own
        # transaction, and a single-statement read needs no other.
        return
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, sqlite3.Connection)
    try:
        # Straight through the driver: exec_driver_sql costs about 100 µs per transaction.
        raw.execute("BEGIN DEFERRED")
    except sqlite3.Error:
        # Again through SQLAlchemy, so that the error surfaces wrapped, as any other does.
        conn.exec_driver_sql("BEGIN DEFERRED")


def configure_engine(engine: Engine, synchronous: Synchronous = "NORMAL", busy_ms: int | None = None) -> None:
    """Install the connection set-up and transaction handling described in the module docstring.

    Safe to call again on the same engine (two stores may share one): SQLAlchemy registers a
    listener once however often it is added.

    Args:
        engine: the engine to configure.
        synchronous: the durability of its connections.
        busy_ms: how long a connection waits for the write lock (``None``: :data:`BUSY_TIMEOUT_MS`).

    Raises:
        ValueError: the engine was already configured with another ``synchronous`` level or wait.
    """
    configured = _ENGINE_SYNCHRONOUS.setdefault(engine, synchronous)
    if configured != synchronous:
        raise ValueError(f"this engine's connections already use synchronous={configured}, not {synchronous}")
    if busy_ms is not None:
        waits = _ENGINE_BUSY_MS.setdefault(engine, busy_ms)
        if waits != busy_ms:
            raise ValueError(
                f"this engine's connections already wait {waits} ms for the write lock, not {busy_ms}"
            )
    setter = _BUSY_SETTERS.setdefault(busy_ms, _busy_setter(busy_ms))
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "connect", setter)
    event.listen(engine, "connect", _SYNCHRONOUS_SETTERS[synchronous])
    event.listen(engine, "begin", _on_begin)


def _in_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _engine_for(url: URL, poolclass: type[Pool] | None = None, pool_timeout: float | None = None) -> Engine:
    options: dict[str, Any] = {
        "json_serializer": dumps,
        "json_deserializer": orjson.loads,
        # Connections are used from worker threads (the async twins); the pool hands each
        # one to a single thread at a time.
        "connect_args": {"check_same_thread": False},
    }
    if _in_memory(url):
        # An in-memory database exists once per connection; share one so that every call
        # sees the same data (fine for tests, not for concurrent use).
        options["poolclass"] = StaticPool
    elif poolclass is not None:
        options["poolclass"] = poolclass
    elif pool_timeout is not None:
        options["pool_timeout"] = pool_timeout
    return create_engine(url, **options)


LOOP_READER_THREADS = 4
"""Threads at most that hold a connection of their own for reads on their event loop."""


class _LoopReaders:
    """Views of a store whose reads run on the calling event-loop thread, one per thread.

    Each view reads through an engine of its own holding exactly one connection (``StaticPool``),
    used by that thread alone, so a read there never waits for a pooled connection: writers hold
    the store's pooled connections while they poll for the write lock, up to the busy timeout.
    The engines get the store's connection set-up from :func:`configure_engine`.

    At most :data:`LOOP_READER_THREADS` live threads get one (those of threads that ended are
    closed first); other threads keep reading through worker threads.
    """

    def __init__(self, url: URL, synchronous: Synchronous) -> None:
        self._url = url
        self._synchronous: Synchronous = synchronous
        self._lock = threading.Lock()
        self._views: dict[threading.Thread, SqliteDb] = {}
        self._closed = False

    def view(self, store: SqliteDb) -> SqliteDb | None:
        """The calling thread's view of ``store``, made on first use; ``None`` once closed or full."""
        thread = threading.current_thread()
        with self._lock:
            found = self._views.get(thread)
            if found is not None:
                return found
            if self._closed:
                return None
            for ended in [other for other in self._views if not other.is_alive()]:
                self._views.pop(ended)._engine.dispose()
            if len(self._views) >= LOOP_READER_THREADS:
                return None
            # create_engine connects lazily, so nothing here waits on the database.
            engine = _engine_for(self._url, poolclass=StaticPool)
            configure_engine(engine, self._synchronous)
            view = copy.copy(store)
            # The view shares the store's tables, statements and schema state; only the engine
            # differs, and only the store disposes of it.
            view._engine = engine
            view._owns_engine = False
            view._loop_readers = None
            view._owns_connection = True
            self._views[thread] = view
            return view

    def close(self) -> None:
        """Close every view's connection; no view is handed out afterwards."""
        with self._lock:
            self._closed = True
            views, self._views = list(self._views.values()), {}
        for view in views:
            view._engine.dispose()


class SqliteDb(SqlStore):
    """Sessions and runs in a SQLite database file.

    Args:
        db_file: path of the database file (created, with its directory, if missing).
        db_url: a SQLAlchemy URL (``sqlite:///path``) instead of ``db_file``.
        db_engine: an engine to use instead; its connections get the same set-up.
        session_table: the sessions table (default ``"sessiondb_sessions"``).
        runs_table: the runs table (default ``"<session_table>_runs"``).
        id: the ``db_id`` the HTTP API serves this store under (default ``"sqlite"``).
        auto_migrate: create or upgrade the schema on first use (logged at INFO); when False,
            a missing or old schema raises :class:`~sessiondb.db.errors.SchemaNotReady`.
        soft_delete: keep deleted sessions in the trash this long, restorable
            (:meth:`restore_session`), until :meth:`purge`; ``None`` (the default) deletes at once.
        changes_window: how long the change feed keeps its changes (pruned by :meth:`purge`).
        synchronous: SQLite's ``PRAGMA synchronous`` for the store's connections.
            ``"NORMAL"`` (the default) with the WAL journal never corrupts the database and
            never loses a committed transaction when the process crashes or is killed, but
            the last transactions committed before a power loss or OS crash may roll back
            (they were not yet fsynced). ``"FULL"`` fsyncs at every commit, so a commit
            survives power loss too, at the cost of one fsync per write.
        timeouts: the bounds on waiting for a pooled connection (``pool_s``) and for the
            write lock (``lock_s``, default 30 s); see :class:`~sessiondb.db.timeouts.Timeouts`.
            The others do not apply to a local file.

    Raises:
        ValueError: ``db_engine`` is already used by a store with another ``synchronous``
            or another lock wait.

    With none of ``db_file``, ``db_url`` and ``db_engine``, the file ``sessiondb.db`` in the
    working directory is used.
    """

    def __init__(
        self,
        db_file: str | Path | None = None,
        db_url: str | None = None,
        db_engine: Engine | None = None,
        session_table: str | None = None,
        runs_table: str | None = None,
        id: str | None = None,
        auto_migrate: bool = True,
        synchronous: Synchronous = "NORMAL",
        timeouts: Timeouts | None = None,
        soft_delete: timedelta | None = None,
        changes_window: timedelta = DEFAULT_CHANGES_WINDOW,
    ) -> None:
        owns_engine = db_engine is None
        timeouts = timeouts or Timeouts()
        busy_ms = None if timeouts.lock_s is None else timeouts.milliseconds(timeouts.lock_s)
        # Reads on the event loop need connections of their own, opened like the store's; an
        # engine the caller passed in may connect in ways its URL does not say, so it has none.
        self._loop_readers: _LoopReaders | None = None
        # Versions for the HTTP API's read cache; none for the same reasons (and in memory, the
        # one shared connection's own commits would not move it).
        self._data_version: DataVersion | None = None
        if db_engine is None:
            if db_url is not None:
                url = make_url(db_url)
            else:
                path = Path(db_file if db_file is not None else DEFAULT_DB_FILE)
                path.parent.mkdir(parents=True, exist_ok=True)
                url = URL.create("sqlite", database=str(path))
            db_engine = _engine_for(url, pool_timeout=timeouts.pool_s)
            if not _in_memory(url):
                self._loop_readers = _LoopReaders(url, synchronous)
                version_engine = _engine_for(url, poolclass=StaticPool)
                configure_engine(version_engine, synchronous)
                self._data_version = DataVersion(version_engine)
        configure_engine(db_engine, synchronous, busy_ms)
        db_path = database_path(db_engine.url)
        # Whether this store's connections are one thread's alone (True for event-loop views).
        self._owns_connection = False
        # Shared with the event-loop views (copies of the store).
        self._file = FileIdentity(db_path) if db_path is not None else None
        super().__init__(
            engine=db_engine,
            names=TableNames.build(session_table, runs_table, None),
            id=id if id is not None else "sqlite",
            auto_migrate=auto_migrate,
            owns_engine=owns_engine,
            timeouts=timeouts,
            soft_delete=soft_delete,
            changes_window=changes_window,
        )

    _statement_options: ClassVar[dict[str, Any]] = {NO_TRANSACTION_OPTION: True}
    # Reads the first page, so a file that is not a database fails here (SELECT 1 reads nothing).
    _PING_SQL: ClassVar[str] = "SELECT 1 FROM sqlite_master LIMIT 1"

    def _reads_on_driver(self) -> bool:
        """The driver is in autocommit mode, so a read needs nothing the pool does not do; but the
        driver read opens a transaction of its own, so not on a connection that other threads
        may be using at the same moment: a ``StaticPool``'s one connection (an in-memory
        database, a caller's engine), unless it is an event-loop view's, which one thread owns."""
        return self._owns_connection or not isinstance(self._engine.pool, StaticPool)

    def _check_file(self) -> None:
        if self._file is not None:
            self._file.check(self._where)

    def _insert(self, table: Table) -> sqlite.Insert:
        return sqlite.insert(table)

    @property
    def in_memory(self) -> bool:
        """Whether the database lives in this process's memory (``sqlite://``, ``:memory:``):
        gone when the store closes, and invisible to any other process."""
        return _in_memory(self._engine.url)

    def event_loop_reader(self) -> SqliteDb | None:
        """A view of this store for reads on the calling thread, once the schema is ready.

        In WAL mode a read never waits for a writer, and the view's connection is this
        thread's alone. Before the schema is known to be ready a read may have to migrate it
        (a write that waits for the lock), so it goes to a worker thread; so do reads of an
        in-memory database (one connection shared by every call) and of a store built on a
        caller's engine.
        """
        if self._loop_readers is None or not self._schema_ready:
            return None
        return self._loop_readers.view(self)

    async def aread_version(self) -> int | None:
        """See :meth:`RawReads.aread_version`: ``PRAGMA data_version`` on a connection that never
        writes (:mod:`sessiondb.db._sqlite_version`), asked on the calling thread (a few µs).

        ``None`` for an in-memory database, a store on a caller's engine, before the schema is
        known to be ready, and when the file was replaced or the store met a damaged database
        (the read then raises as usual).
        """
        if self._data_version is None or not self._schema_ready:
            return None
        try:
            self._check_usable()
        except StoreError:
            return None
        return self._data_version.read()

    @contextmanager
    def maintenance_lock(self) -> Iterator[bool]:
        """See :meth:`SessionStore.maintenance_lock`: an exclusive ``flock`` on ``<database>.maintenance``
        (released by the OS if this process dies); an in-memory database is one process's."""
        # The file's own path: a URI filename (``file:...?mode=ro``) names it with a prefix and
        # a query, which would otherwise end up in the lock file's name.
        database = database_path(self._engine.url)
        if self.in_memory or database is None:
            yield True
            return
        import fcntl  # here, not at the top: Unix only, and nothing else in this module needs it

        with open(f"{database}.maintenance", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the event-loop threads' connections, then as :meth:`SqlStore.close`."""
        if self._loop_readers is not None:
            self._loop_readers.close()
        if self._data_version is not None:
            self._data_version.close()
        super().close()
