"""Finding the sessiondb table sets a database holds, without writing anything.

A store's tables are recorded where Alembic records every migrated table set: each pair of
tables has its version table ``<sessions>_version`` next to it (see
:mod:`sessiondb.db._sql.migrate`). A table set is therefore a table ``T`` with a sibling
``T_version`` and a runs table whose foreign key points at ``T``; on PostgreSQL every schema
the connection may see is searched. Nothing needs registering, so the sets a program created
with any ``session_table`` or ``db_schema`` are found.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, MetaData, Table, inspect, select
from sqlalchemy.engine.interfaces import ReflectedForeignKeyConstraint

from sessiondb.db._sql.tables import TableNames

VERSION_SUFFIX = "_version"
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}


@dataclass(frozen=True)
class TableSet:
    """One store's tables in a database, as found there.

    Attributes:
        names: the sessions, runs and version tables and their schema.
        revision: the migration revision the version table records (``None``: never migrated).
    """

    names: TableNames
    revision: str | None

    @property
    def qualified(self) -> str:
        """``schema.sessions`` on PostgreSQL, ``sessions`` on SQLite."""
        names = self.names
        return f"{names.schema}.{names.sessions}" if names.schema else names.sessions

    def matches(self, table: str) -> bool:
        """Whether ``table`` names this set: its sessions table, bare or schema-qualified."""
        return table in (self.names.sessions, self.qualified)


def _runs_table(
    sessions: str, tables: set[str], foreign_keys: dict[str, list[ReflectedForeignKeyConstraint]]
) -> str | None:
    """The table whose foreign key points at ``sessions``, ``<sessions>_runs`` first."""
    candidates = sorted(tables, key=lambda name: name != f"{sessions}_runs")
    for table in candidates:
        if any(fk["referred_table"] == sessions for fk in foreign_keys.get(table, [])):
            return table
    return None


def _schemas(conn: Connection, schema: str | None) -> list[str | None]:
    if schema is not None:
        return [schema]
    if conn.dialect.name != "postgresql":
        return [None]
    names = inspect(conn).get_schema_names()
    return [name for name in sorted(names) if name not in _SYSTEM_SCHEMAS and not name.startswith("pg_")]


def _revision(conn: Connection, names: TableNames) -> str | None:
    version = Table(names.version, MetaData(schema=names.schema), autoload_with=conn)
    return conn.execute(select(version.c.version_num)).scalar()


def discover(conn: Connection, schema: str | None = None) -> list[TableSet]:
    """The table sets in the database ``conn`` reaches (in ``schema`` only, when given).

    Reads the catalog and each version table; creates nothing. Sorted by schema, then name.
    """
    inspector = inspect(conn)
    found: list[TableSet] = []
    for current in _schemas(conn, schema):
        tables = set(inspector.get_table_names(schema=current))
        sessions_tables = sorted(
            name[: -len(VERSION_SUFFIX)]
            for name in tables
            if name.endswith(VERSION_SUFFIX) and name[: -len(VERSION_SUFFIX)] in tables
        )
        if not sessions_tables:
            continue
        foreign_keys = {table: inspector.get_foreign_keys(table, schema=current) for table in tables}
        for sessions in sessions_tables:
            runs = _runs_table(sessions, tables, foreign_keys)
            if runs is None:
                continue
            names = TableNames(sessions, runs, f"{sessions}{VERSION_SUFFIX}", current)
            found.append(TableSet(names, _revision(conn, names)))
    return found
