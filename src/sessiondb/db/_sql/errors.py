"""Driver errors turned into the domain errors of :mod:`sessiondb.db.errors`, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic.util.exc import CommandError
from sqlalchemy import exc as sa_exc

from sessiondb.db.errors import InvalidQuery, SchemaNotReady, StoreError, StoreUnavailable

MIGRATE_HINT = "run `migrate()` on the store (or construct it with auto_migrate=True)"


def _too_large(error: sa_exc.DBAPIError) -> bool:
    # SQLSTATE class 54 (program_limit_exceeded), e.g. a name or id too long for a btree index
    # entry: the value can never be stored, so it is the caller's error, not an outage.
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("54")


def _missing_table(error: sa_exc.DBAPIError) -> bool:
    # SQLite reports a missing table as an OperationalError with this text; PostgreSQL raises
    # UndefinedTable (SQLSTATE 42P01), a ProgrammingError.
    return "no such table" in str(error.orig) or getattr(error.orig, "sqlstate", None) == "42P01"


@contextmanager
def translated_errors(where: str) -> Iterator[None]:
    """Re-raise driver errors met inside the block as domain errors.

    Args:
        where: what the store is talking to, for the messages (a URL without its password).

    Raises:
        InvalidQuery: the database refused a value, e.g. a NUL character (``\\u0000``) in
            JSON, which PostgreSQL's JSONB cannot hold, or a key too long for an index; or a
            value cannot be encoded as JSON at all (nested too deeply).
        SchemaNotReady: a table is missing, or the database has a schema revision this code
            does not know.
        StoreUnavailable: the database cannot be reached, dropped the connection, or stayed
            locked longer than the busy timeout.
    """
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.ProgrammingError) as error:
        if _missing_table(error):
            raise SchemaNotReady(f"{where}: the sessiondb tables are missing; {MIGRATE_HINT}") from error
        if isinstance(error, sa_exc.ProgrammingError):
            raise
        if _too_large(error):
            message = str(error.orig).splitlines()[0]
            raise InvalidQuery("data", f"a value is too large for the database: {message}") from error
        raise StoreUnavailable(f"{where}: {error.orig}") from error
    except sa_exc.InternalError as error:
        # A connection the engine marked as lost (e.g. a primary demoted under us, see
        # PostgresDb) is an outage the next call recovers from, not a bug.
        if error.connection_invalidated:
            raise StoreUnavailable(f"{where}: {error.orig}") from error
        raise
    except sa_exc.DataError as error:
        raise InvalidQuery("data", f"the database refused a value: {error.orig}") from error
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
