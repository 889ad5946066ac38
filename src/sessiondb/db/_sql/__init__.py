"""The SQL implementation shared by ``SqliteDb`` and ``PostgresDb`` (SQLAlchemy Core)."""

from sessiondb.db._sql.store import SqlStore

__all__ = ["SqlStore"]
