"""Running the Alembic migrations of :mod:`sessiondb.db.migrations` from code.

The table names and schema are handed to ``env.py`` and the revisions through
``Config.attributes``, so one set of migrations serves every store, whatever its names.
Each pair of tables has its own version table (``<sessions>_version``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from sessiondb.db._sql.tables import TableNames

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def _config(conn: Connection | None = None, names: TableNames | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    config.attributes["names"] = names
    return config


@cache
def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the migrations directory has no revision"
    return head


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Keep Alembic's INFO lines (its context, each revision) out: the store logs one line."""
    alembic_logger = logging.getLogger("alembic.runtime.migration")
    level = alembic_logger.level
    alembic_logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        alembic_logger.setLevel(level)


def current_revision(conn: Connection, names: TableNames) -> str | None:
    """The revision the database is at for these tables; ``None`` when they were never migrated."""
    with _quiet_alembic():
        context = MigrationContext.configure(
            conn, opts={"version_table": names.version, "version_table_schema": names.schema}
        )
        return context.get_current_revision()


def upgrade(conn: Connection, names: TableNames) -> None:
    """Upgrade the tables ``names`` to the head revision on ``conn``, inside its transaction.

    The caller holds the transaction (and whatever lock keeps two migrators apart), so the
    whole upgrade commits or rolls back as one.
    """
    with _quiet_alembic():
        command.upgrade(_config(conn, names), "head")
