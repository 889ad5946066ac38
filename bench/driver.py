"""A thin layer over the raw drivers (sqlite3, psycopg 3) so baselines are written once.

SQL is written with ``?`` placeholders and translated for psycopg. Transactions are explicit:
SQLite writes begin with ``BEGIN IMMEDIATE`` and reads with ``BEGIN`` (as sessiondb's SQLite
backend does); PostgreSQL reads run at ``REPEATABLE READ`` (as sessiondb's PostgreSQL backend
does). Standard library and the drivers only: the Agno peer runner imports this too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout = 30000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)
"""The same connection set-up sessiondb's ``SqliteDb`` uses, so durability costs are equal."""


def psycopg_url(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg://`` → ``postgresql://``)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


class Driver:
    """One raw connection: a SQLite file, or a PostgreSQL database with a search path.

    Attributes:
        dialect: ``"sqlite"`` or ``"postgres"``.
        schema: the PostgreSQL schema the tables live in (``None`` on SQLite).
    """

    def __init__(self, dialect: str, conn: Any, read_conn: Any, schema: str | None) -> None:
        self.dialect = dialect
        self.schema = schema
        self._conn = conn
        # PostgreSQL reads use a second connection fixed at REPEATABLE READ; SQLite uses one.
        self._read_conn = read_conn

    @classmethod
    def sqlite(cls, path: str) -> Driver:
        """Open ``path`` with sessiondb's pragmas and manual transactions."""
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in SQLITE_PRAGMAS:
            conn.execute(pragma)
        return cls("sqlite", conn, conn, None)

    @classmethod
    def postgres(cls, url: str, schema: str) -> Driver:
        """Connect twice (writes at the default isolation, reads at REPEATABLE READ)."""
        import psycopg
        from psycopg.types.json import set_json_loads

        conns = []
        for isolation in (None, psycopg.IsolationLevel.REPEATABLE_READ):
            conn = psycopg.connect(psycopg_url(url), autocommit=False)
            conn.isolation_level = isolation
            # Decode JSON as sessiondb's engine does (orjson), not with the json module.
            set_json_loads(orjson.loads, conn)
            conn.execute(f'SET search_path TO "{schema}"')
            conn.commit()
            conns.append(conn)
        return cls("postgres", conns[0], conns[1], schema)

    def sql(self, statement: str) -> str:
        """``statement`` with its ``?`` placeholders in this driver's style."""
        if self.dialect != "postgres":
            return statement
        return statement.replace("%", "%%").replace("?", "%s")

    @property
    def json_slot(self) -> str:
        """The placeholder for a session's JSON value passed as text (PostgreSQL casts it to JSONB)."""
        return "?::jsonb" if self.dialect == "postgres" else "?"

    @property
    def payload_slot(self) -> str:
        """The placeholder for a run's payload passed as text (``json`` on PostgreSQL, as
        sessiondb stores it since migration 0003)."""
        return "?::json" if self.dialect == "postgres" else "?"

    def table(self, name: str) -> str:
        """A quoted, schema-qualified table name."""
        return f'"{self.schema}"."{name}"' if self.schema else f'"{name}"'

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        """A cursor inside one transaction, committed on success and rolled back on error."""
        conn = self._conn if write else self._read_conn
        if self.dialect == "sqlite":
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            cursor = conn.cursor()
            try:
                yield cursor
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return
        with conn.cursor() as cursor:
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement in a transaction of its own and return all its rows."""
        with self.transaction(write=True) as cursor:
            cursor.execute(self.sql(statement), params)
            return list(cursor.fetchall()) if cursor.description else []

    def columns(self, table: str) -> list[str]:
        """The column names of ``table``, in table order."""
        if self.dialect == "sqlite":
            return [row[1] for row in self.execute(f"PRAGMA table_info({self.table(table)})")]
        query = (
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position"
        )
        return [row[0] for row in self.execute(query, (self.schema, table))]

    def close(self) -> None:
        """Close the connection(s)."""
        self._conn.close()
        if self._read_conn is not self._conn:
            self._read_conn.close()
