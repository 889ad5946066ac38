"""``PostgresDb``: sessions in PostgreSQL through psycopg 3.

PostgreSQL keeps JSON as JSONB and sorts names and ids with the ``"C"`` collation (by code
point, as the other backends do). Reads run at ``REPEATABLE READ`` so a session row and its
runs come from one snapshot; concurrent migrations are serialised by an advisory lock.

Pooled connections are not pinged before use (that would be one more round trip per call):
after the server drops connections, the next call on each backend fails once with
:class:`~sessiondb.db.errors.StoreUnavailable`, and the calls after it reconnect.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Engine,
    Table,
    cast,
    create_engine,
    func,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateSchema

from sessiondb.db._sql.codec import dumps
from sessiondb.db._sql.store import SqlStore
from sessiondb.db._sql.tables import TableNames

DEFAULT_SCHEMA = "ai"
POOL_RECYCLE_S = 1800
"""Pooled connections older than this (seconds) are replaced when next checked out."""


def _engine_for(db_url: str) -> Engine:
    url = make_url(db_url)
    if url.drivername == "postgresql":
        # A bare postgresql:// URL would pick psycopg2; sessiondb ships with psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    # No pool_pre_ping: it costs a round trip at the start of every transaction. A pooled
    # connection the server dropped instead fails the call it is used for, which surfaces as
    # StoreUnavailable (as any outage does); SQLAlchemy then discards the whole pool, so the
    # next call connects afresh. pool_recycle replaces connections before idle-timeouts in
    # proxies and firewalls between here and the server would silently cut them.
    return create_engine(
        url, pool_recycle=POOL_RECYCLE_S, json_serializer=dumps, json_deserializer=orjson.loads
    )


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

    Raises:
        ValueError: neither ``db_url`` nor ``db_engine`` was given.
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
    ) -> None:
        owns_engine = db_engine is None
        if db_engine is None:
            if db_url is None:
                raise ValueError("PostgresDb needs db_url or db_engine")
            db_engine = _engine_for(db_url)
        super().__init__(
            engine=db_engine,
            names=TableNames.build(session_table, runs_table, db_schema or DEFAULT_SCHEMA),
            id=id if id is not None else "postgres",
            auto_migrate=auto_migrate,
            owns_engine=owns_engine,
        )

    def _insert(self, table: Table) -> postgresql.Insert:
        return postgresql.insert(table)

    def _json_text(self, text: BindParameter[str]) -> ColumnElement[Any]:
        return cast(text, JSONB)

    def _prepare_migration(self, conn: Connection) -> None:
        names = self._tables.names
        # One migrator at a time per table set; the lock is released when the transaction ends.
        key = f"sessiondb:{names.schema}.{names.sessions}"
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
        conn.execute(CreateSchema(names.schema or DEFAULT_SCHEMA, if_not_exists=True))
