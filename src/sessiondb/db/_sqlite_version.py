"""The version of a SQLite database's data, from ``PRAGMA data_version`` on a connection of its own.

SQLite documents that two ``PRAGMA data_version`` answers of one connection differ whenever
another connection, of this process or any other, committed a change in between; a commit of
the asking connection itself does not count. So :class:`DataVersion` asks on a connection
that never writes: every commit through the store's pool, its event-loop readers or another
process moves it. The pragma begins a read transaction (the connection is in autocommit
mode), which is where SQLite notices another connection's commit: in WAL mode, by the
wal-index header it also reads the data by, so a commit a later read sees has always moved
the version first. One call costs a few microseconds (no I/O when nothing changed).
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import PoolProxiedConnection


class DataVersion:
    """``PRAGMA data_version`` of one database, asked on a dedicated, read-only-used connection.

    Args:
        engine: an engine opening the database as the store does (one connection, kept).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._conn: PoolProxiedConnection | None = None
        self._closed = False

    def read(self) -> int | None:
        """The data version now, or ``None`` once closed or when the database cannot be asked."""
        with self._lock:
            if self._closed:
                return None
            try:
                if self._conn is None:
                    self._conn = self._engine.raw_connection()
                cursor = self._conn.cursor()
                try:
                    cursor.execute("PRAGMA data_version")
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            except (sqlite3.Error, sa_exc.SQLAlchemyError):
                self._drop()
                return None
            return int(row[0]) if row is not None else None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    def close(self) -> None:
        """Close the connection; :meth:`read` answers ``None`` afterwards."""
        with self._lock:
            self._closed = True
            self._drop()
        self._engine.dispose()
