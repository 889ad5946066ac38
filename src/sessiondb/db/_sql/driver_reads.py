"""The windowed ``get_session`` read on the pooled driver connection, without a SQLAlchemy ``Connection``.

An agent turn reads its session with ``get_session(session_id, runs_limit=N)``: one statement
(:func:`~sessiondb.db._sql.reads.session_with_window`) that SQLite answers in microseconds.
Checking a ``Connection`` out of the engine, setting its options, autobeginning (a no-op for a
single-statement read on SQLite) and closing it cost about as much again. Here the pool's own
connection (``Engine.raw_connection``: the same pool, the same connect-time set-up, the same
reset on return) runs the statement SQLAlchemy compiled once (:func:`compiled_for`), on the
driver's cursor; the driver caches the prepared statement.

What stays exactly as on the plain path (``SqlStore._one_statement`` then
:func:`session_with_window`): the store's checks before the read, the SQL text, its values and
the result processors, the rows' meaning (:func:`window_rows_result`), and every error. A
SQLAlchemy error while checking out (a pool timeout) goes through the store's translation as
before; a driver error during the statement abandons this path (the connection goes back to
the pool, invalidated when the dialect says the error is a disconnect) and the caller runs
the plain path, which meets the same error and raises it as it always did. Nothing is read
twice otherwise.

Which stores use it: those whose single-statement reads run outside any transaction on their
pooled connections (``SqliteDb``: the driver is in autocommit mode). A PostgreSQL read goes
through its ``Connection`` (autocommit, replicas, the client-side deadline), not here. Nothing
watching the engine's statements (:func:`observed`) and no ``schema_translate_map`` either:
then the plain path runs, so listeners see every statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from sessiondb.db._sql.compiled import compiled_for, may_bypass
from sessiondb.db._sql.reads import ReadStatements, owner_params
from sessiondb.db.errors import SessionNotFound

Window = tuple[dict[str, Any], list[tuple[str, str]]]
"""A session row and ``(run_id, JSON text)`` of its window, as :func:`session_with_window` gives them."""


def may_read_on_driver(engine: Engine) -> bool:
    """Whether :func:`window_on_driver` may serve ``engine``'s reads (see the module docstring)."""
    return may_bypass(engine, engine.get_execution_options())


def window_on_driver(
    engine: Engine, reads: ReadStatements, session_id: str, user_id: str | None, runs_limit: int
) -> Window | None:
    """The session's row and window, read on a pooled driver connection; ``None`` on a driver error.

    Two statements in one read transaction (``BEGIN`` ... ``COMMIT``, so one snapshot): the
    session row by its key, then the window of its runs. On SQLite that is cheaper than the
    plain path's single statement, which materialises the window (copying each run's text
    into a temporary table) and repeats the session's columns on every run row.

    The caller has made the store's checks, and wraps the call in its error translation (the
    checkout may time out). ``None`` tells it to read through the plain path instead, which
    raises the error as it always has.

    Raises:
        SessionNotFound: no such session (for this user).
    """
    dialect = engine.dialect
    row_read = compiled_for(reads.session_rows[(user_id is not None, False)], dialect)
    runs_read = compiled_for(reads.run_window, dialect)
    row_values = row_read.parameters(owner_params(session_id, user_id))
    runs_values = runs_read.parameters({"session_id": session_id, "limit": max(runs_limit, 0)})
    pooled = engine.raw_connection()
    try:
        cursor = pooled.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute("BEGIN")
            cursor.execute(row_read.sql, row_values)
            found = cursor.fetchall()
            runs = []
            if found:
                cursor.execute(runs_read.sql, runs_values)
                runs = cursor.fetchall()
            cursor.execute("COMMIT")
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as error:
        # The pool's reset on return rolls back a transaction the error left open.
        if dialect.is_disconnect(error, pooled.dbapi_connection, None):
            pooled.invalidate(error)
        return None
    except BaseException:
        # Interrupted inside the driver: the connection's state is unknown, so it is not reused.
        pooled.invalidate()
        raise
    finally:
        pooled.close()
    if not found:
        raise SessionNotFound(session_id)
    row = dict(zip(row_read.keys, row_read.decode(found)[0], strict=True))
    # Newest first from the statement; the session's runs are oldest first.
    loaded = [(run[0], run[1]) for run in reversed(runs_read.decode(runs))]
    return row, loaded
