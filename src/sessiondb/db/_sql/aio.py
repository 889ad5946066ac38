"""Reads on the event loop itself through psycopg's ``AsyncConnection`` (PostgreSQL).

The async read twins of a store otherwise run the sync read in a worker thread. On
PostgreSQL that hop was the largest cost of an API read under load: the worker and the event
loop fight over the GIL on every send, and a read that waits on the server holds a thread.
Here the statement the sync path would send (compiled once per dialect, see
:mod:`sessiondb.db._sql.compiled`) is sent on an ``AsyncConnection`` instead, and the event
loop serves other requests while the server works.

:class:`AsyncReadPool` keeps a few connections per event loop (an asyncio connection must
not be shared between loops), opened like the engine's own (same connect arguments, same JSON
adapters). A connection that met any error, or whose read was cancelled, is closed rather
than reused. Connections are closed without awaiting (``PGconn.finish`` is synchronous), so
:meth:`AsyncReadPool.close` works from any thread, even once their loop is gone; those of a
loop that was closed are closed the next time any loop asks for a connection.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import ClauseElement

from sessiondb.db._sql.compiled import Row, compiled_for

ASYNC_READ_CONNECTIONS = 4
"""Connections at most per event loop; more reads wait for one to be returned.

Measured over HTTP (32 clients, one server process, two runs): 4 served as many list and
detail requests as 2 and 5-15% more than 8 or 16, whose p99 doubled (45-80 ms against
103-135 ms): the process is CPU-bound, so more reads in flight only queue longer.
"""


def _finish(conn: psycopg.AsyncConnection[Any]) -> None:
    # What AsyncConnection.close() does, minus the await: closing sends nothing to wait for.
    if not conn.closed:
        conn.pgconn.finish()


@dataclass(eq=False)
class _LoopConnections:
    """The connections of one event loop: the idle ones, and a slot per connection in use."""

    slots: asyncio.Semaphore
    idle: list[tuple[psycopg.AsyncConnection[Any], float]] = field(default_factory=list)
    """Idle connections, each with when it was opened (``time.monotonic``), for recycling."""
    retired: bool = False
    """Set by :meth:`AsyncReadPool.close` (or when the loop closed): returned connections are closed."""

    def retire(self) -> None:
        self.retired = True
        idle, self.idle = self.idle, []
        for conn, _born in idle:
            _finish(conn)


class AsyncReadPool:
    """A few ``AsyncConnection`` per event loop for a store's reads.

    Args:
        connect_args: keyword arguments of ``psycopg.AsyncConnection.connect`` (the engine's
            dialect gives them: ``create_connect_args``).
        size: connections at most per event loop.
        recycle_s: a connection older than this (seconds) is closed instead of reused, as the
            engine's ``pool_recycle`` does, before an idle timeout between here and the server
            silently cuts it; ``None`` keeps connections however old.
        wait_s: how long a read waits for one of the loop's connections when all are in use
            (``None``: as long as it takes), as the engine's ``pool_timeout``.
    """

    def __init__(
        self,
        connect_args: Mapping[str, Any],
        size: int = ASYNC_READ_CONNECTIONS,
        recycle_s: float | None = None,
        wait_s: float | None = None,
    ) -> None:
        self._wait_s = wait_s
        self._connect_args = dict(connect_args)
        self._size = size
        self._recycle_s = recycle_s
        self._lock = threading.Lock()
        self._loops: dict[asyncio.AbstractEventLoop, _LoopConnections] = {}
        # A store dropped without close() must not leave open connections to warn about.
        weakref.finalize(self, _retire_all, self._loops, self._lock)

    def _for_running_loop(self) -> _LoopConnections:
        loop = asyncio.get_running_loop()
        with self._lock:
            for ended in [other for other in self._loops if other.is_closed()]:
                self._loops.pop(ended).retire()
            found = self._loops.get(loop)
            if found is None:
                found = self._loops[loop] = _LoopConnections(asyncio.Semaphore(self._size))
            return found

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        # Autocommit: a single statement is its own snapshot, as in the sync path's one-statement
        # reads; a read of several statements opens a transaction, at REPEATABLE READ.
        conn = await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args)
        await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)
        return conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection of the running loop's, for the block alone.

        Raises:
            sqlalchemy.exc.DBAPIError: a driver error, while connecting or in the block (see
                :func:`as_sqlalchemy_error`).
        """
        pool = self._for_running_loop()
        try:
            if pool.slots.locked():
                async with asyncio.timeout(self._wait_s):
                    await pool.slots.acquire()
            else:
                await pool.slots.acquire()  # free: no timer needed
        except TimeoutError:
            # The class SQLAlchemy's pool raises, so that it is translated the same way.
            raise sa_exc.TimeoutError(
                f"all {self._size} event-loop read connections stayed in use for {self._wait_s:g} s"
            ) from None
        try:
            try:
                conn, born = self._reusable(pool) or (await self._connect(), time.monotonic())
            except psycopg.Error as error:
                raise as_sqlalchemy_error(error) from error
            try:
                yield conn
            except BaseException as error:
                # An error or a cancellation may leave the connection mid-statement.
                _finish(conn)
                if isinstance(error, psycopg.Error):
                    raise as_sqlalchemy_error(error) from error
                raise
            if pool.retired or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
                _finish(conn)
            else:
                pool.idle.append((conn, born))
        finally:
            pool.slots.release()

    def _reusable(self, pool: _LoopConnections) -> tuple[psycopg.AsyncConnection[Any], float] | None:
        """The newest idle connection young enough to reuse (older ones are closed), or ``None``."""
        while pool.idle:
            conn, born = pool.idle.pop()
            if self._recycle_s is None or time.monotonic() - born < self._recycle_s:
                return conn, born
            _finish(conn)
        return None

    def close(self) -> None:
        """Close every idle connection now, and every connection in use when it is returned.

        The pool stays usable: a later read opens new connections (as a disposed engine does).
        """
        _retire_all(self._loops, self._lock)


def _retire_all(loops: dict[asyncio.AbstractEventLoop, _LoopConnections], lock: threading.Lock) -> None:
    with lock:
        retired = list(loops.values())
        loops.clear()
    for connections in retired:
        connections.retire()


def as_sqlalchemy_error(error: psycopg.Error, sql: str | None = None, parameters: Any = None) -> Exception:
    """``error`` in the class SQLAlchemy's own execution wraps it in (``OperationalError``, ...),
    so that ``translated_errors`` turns it into the same domain error as on the sync path."""
    return sa_exc.DBAPIError.instance(sql, parameters, error, psycopg.Error)


async def afetch(
    conn: psycopg.AsyncConnection[Any], dialect: Dialect, statement: ClauseElement, values: Mapping[str, Any]
) -> list[Row]:
    """Run ``statement`` (a ``SELECT``) with ``values`` on ``conn``, as
    :func:`~sessiondb.db._sql.compiled.fetch` does.

    Raises:
        sqlalchemy.exc.DBAPIError: a driver error, in the class SQLAlchemy's own execution
            wraps it in, so that ``translated_errors`` turns it into the same domain error.
    """
    compiled = compiled_for(statement, dialect)
    parameters = compiled.parameters(values)
    try:
        async with conn.cursor() as cursor:
            await cursor.execute(compiled.sql, parameters)
            # Every statement here returns rows; asking cursor.description first would build
            # a Column object per column of every query (~20 µs for a session row).
            rows = await cursor.fetchall()
    except psycopg.Error as error:
        raise as_sqlalchemy_error(error, compiled.sql, parameters) from error
    return compiled.decode(rows)
