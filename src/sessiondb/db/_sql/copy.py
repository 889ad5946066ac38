"""The runs of sessions new to a batch, written with PostgreSQL's binary ``COPY``.

A bulk import mostly writes sessions that had no stored run yet (their run indexes start at
0). Such a run cannot meet a stored run of its own session, so it needs no upsert: ``COPY``
inserts it without a statement per row, without the speculative insertion ``ON CONFLICT``
costs and without returning a row, and the index it gets is the one reserved for it. Only a
run id stored in *another* session could collide; those are looked up first (one primary-key
probe per run), and if any is found the batch takes the upsert path, which reports it exactly
as a one-by-one save would. A run id that another transaction commits between the lookup and
the ``COPY`` fails the batch with the same :class:`~sessiondb.db.errors.InvalidQuery`.

Only on psycopg, and only when nothing watches the statements (listeners and SQL logging see
SQLAlchemy's execution, not a ``COPY``) and no ``schema_translate_map`` is set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import set_json_dumps
from sqlalchemy import JSON, BigInteger, Column, Connection, Integer, String, Table, any_, bindparam, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from sessiondb.db._sql.compiled import driver_cursor, fetch, may_bypass
from sessiondb.db._sql.tables import run_write_columns
from sessiondb.db.errors import InvalidQuery


def driver_can_copy(dialect: Dialect) -> bool:
    """Whether the driver behind ``dialect`` has ``COPY`` at all (psycopg); SQLite's has not."""
    return dialect.driver == "psycopg"


def can_copy(conn: Connection) -> bool:
    """Whether runs may go through ``COPY`` on ``conn`` (see the module docstring)."""
    return driver_can_copy(conn.dialect) and may_bypass(conn.engine, conn.get_execution_options())


def stored_ids(conn: Connection, key: Column[str], ids: Sequence[str]) -> set[str]:
    """The ones of ``ids`` that ``key``'s table holds already (the runs' ``run_id``, the sessions'
    ``session_id``): one ``= ANY`` probe of its primary key."""
    if not ids:
        return set()
    query = select(key).where(key == any_(bindparam("ids", type_=ARRAY(String()))))
    return {found for (found,) in fetch(conn, query, {"ids": list(ids)})}


def _copy_type(column_type: TypeEngine[Any], dialect: Dialect) -> str:
    """The PostgreSQL type a binary ``COPY`` sends a column's values as."""
    column_type = column_type.dialect_impl(dialect)
    if isinstance(column_type, JSONB):
        return "jsonb"
    if isinstance(column_type, JSON):
        return "json"
    return "int8" if isinstance(column_type, BigInteger | Integer) else "text"


def _json_text(value: Any) -> Any:
    # run_data arrives as the JSON text PreparedRun made; the JSON dumper must not encode it again.
    return value


def copy_runs(conn: Connection, runs: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (values by column name, ``run_data`` as JSON text) into ``runs`` with ``COPY``.

    ``rows`` may be a generator: each row is made as it is sent, while the server stores the
    rows before it. An error raised by the generator ends the ``COPY`` and passes through.

    Raises:
        InvalidQuery: a run id is stored already (by a transaction that committed after
            :func:`stored_ids` looked), or a value cannot be stored.
    """
    written = run_write_columns(runs)
    names = [column.name for column in written]
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    sql = f"COPY {quote.format_table(runs)} ({columns}) FROM STDIN (FORMAT BINARY)"
    types = [_copy_type(column.type, conn.dialect) for column in written]
    try:
        with driver_cursor(conn, sql, None) as cursor:
            set_json_dumps(_json_text, cursor)
            with cursor.copy(sql) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row([row[name] for name in names])
    except sa_exc.IntegrityError as error:
        if isinstance(error.orig, psycopg.errors.UniqueViolation):
            detail = error.orig.diag.message_detail or str(error.orig)
            raise InvalidQuery("run_id", f"a run is stored in another session: {detail}") from error
        raise
