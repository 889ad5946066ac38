"""Driver errors turned into the domain errors of :mod:`sessiondb.db.errors`, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from alembic.util.exc import CommandError
from sqlalchemy import exc as sa_exc

from sessiondb.db.errors import DatabaseCorrupt, InvalidQuery, SchemaNotReady, StoreError, StoreUnavailable

MIGRATE_HINT = "run `migrate()` on the store (or construct it with auto_migrate=True)"

VANISHED_HINT = (
    "they existed when this store set up the schema, so they were dropped or the database was "
    "replaced since; auto-migrate creates them only when a store first opens the database: restore "
    "them, or restart to start empty"
)
"""Why tables are missing once an auto-migrating store had checked them (``MIGRATE_HINT`` would
tell the caller to do what the store was told to do itself)."""

_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


@dataclass
class Fault:
    """A damage a store met that makes it refuse every later call (see :class:`DatabaseCorrupt`)."""

    message: str | None = None


def _corrupt(error: sa_exc.DBAPIError) -> bool:
    # SQLite's SQLITE_CORRUPT ("database disk image is malformed") and SQLITE_NOTADB ("file is
    # not a database"), extended codes included; never transient, so never worth a retry.
    code = getattr(error.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _too_large(error: sa_exc.DBAPIError) -> bool:
    # SQLSTATE class 54 (program_limit_exceeded), e.g. a name or id too long for a btree index
    # entry: the value can never be stored, so it is the caller's error, not an outage.
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("54")


_TIMED_OUT = {
    # lock_not_available: lock_timeout ran out (also NOWAIT, which sessiondb never uses).
    "55P03": "another transaction held a lock this call needs for longer than the lock bound (lock_timeout)",
    # query_canceled: statement_timeout ran out (or an operator cancelled the statement).
    "57014": "a statement ran longer than the statement bound (statement_timeout) and was cancelled",
}


def _timed_out(error: sa_exc.DBAPIError) -> str | None:
    sqlstate = getattr(error.orig, "sqlstate", None)
    return _TIMED_OUT.get(sqlstate) if isinstance(sqlstate, str) else None


def _missing_table(error: sa_exc.DBAPIError) -> bool:
    # SQLite reports a missing table as an OperationalError with this text; PostgreSQL raises
    # UndefinedTable (SQLSTATE 42P01), a ProgrammingError.
    return "no such table" in str(error.orig) or getattr(error.orig, "sqlstate", None) == "42P01"


@contextmanager
def translated_errors(
    where: str, migrate_hint: str = MIGRATE_HINT, fault: Fault | None = None
) -> Iterator[None]:
    """Re-raise driver errors met inside the block as domain errors.

    Args:
        where: what the store is talking to, for the messages (a URL without its password).
        migrate_hint: what to do about missing tables, for the message.
        fault: where to record a damaged database, so that the store refuses later calls.

    Raises:
        InvalidQuery: the database refused a value, e.g. a NUL character (``\\u0000``) in
            JSON, which PostgreSQL's JSONB cannot hold, or a key too long for an index; or a
            value cannot be encoded as JSON at all (nested too deeply).
        SchemaNotReady: a table is missing, or the database has a schema revision this code
            does not know.
        DatabaseCorrupt: the database file is damaged (SQLite).
        StoreUnavailable: the database cannot be reached, dropped the connection, or a bounded
            wait ran out (a lock, a statement, a pooled connection: see
            :class:`~sessiondb.db.timeouts.Timeouts`).
    """
    try:
        yield
    except sa_exc.DatabaseError as error:
        translated = _domain_error(error, where, migrate_hint, fault)
        if translated is None:
            raise
        raise translated from error
    except sa_exc.TimeoutError as error:
        # The pool's checkout wait ran out: every connection is in use (by calls that may
        # themselves be waiting on a lock). Not a bug of the caller's: retry later.
        raise StoreUnavailable(
            f"{where}: no database connection came free within the pool bound (pool_timeout): {error}"
        ) from error
    except (sa_exc.InterfaceError, sa_exc.DisconnectionError) as error:
        raise StoreUnavailable(f"{where}: {error}") from error
    except sa_exc.StatementError as error:
        # SQLAlchemy wraps what its parameter processing raises, e.g. the JSON serialiser's
        # InvalidQuery for a value nested too deeply: the domain error is passed on as it is.
        if type(error) is sa_exc.StatementError and isinstance(error.orig, StoreError):
            raise error.orig from error
        raise
    except CommandError as error:
        raise SchemaNotReady(f"{where}: cannot migrate the schema: {error}") from error


def _domain_error(
    error: sa_exc.DatabaseError, where: str, migrate_hint: str, fault: Fault | None
) -> StoreError | None:
    """The domain error a database error means, or ``None`` to let it through (a bug)."""
    if _corrupt(error):
        message = (
            f"{where}: the database file is damaged ({error.orig}); this store refuses every call "
            "until it is reopened. Restore the file from a backup (or run `sqlite3 <file> .recover`)"
        )
        if fault is not None:
            fault.message = message
        return DatabaseCorrupt(message)
    if isinstance(error, sa_exc.DataError):
        return InvalidQuery("data", f"the database refused a value: {error.orig}")
    if isinstance(error, sa_exc.InternalError):
        # A connection the engine marked as lost (e.g. a primary demoted under us, see
        # PostgresDb) is an outage the next call recovers from, not a bug.
        return StoreUnavailable(f"{where}: {error.orig}") if error.connection_invalidated else None
    if not isinstance(error, sa_exc.OperationalError | sa_exc.ProgrammingError):
        return None
    if _missing_table(error):
        return SchemaNotReady(f"{where}: the sessiondb tables are missing; {migrate_hint}")
    if isinstance(error, sa_exc.ProgrammingError):
        return None
    timed_out = _timed_out(error)
    if timed_out is not None:
        return StoreUnavailable(f"{where}: {timed_out}")
    if _too_large(error):
        message = str(error.orig).splitlines()[0]
        return InvalidQuery("data", f"a value is too large for the database: {message}")
    return StoreUnavailable(f"{where}: {error.orig}")
