"""Alembic environment: migrate the tables named in ``config.attributes`` on the given connection.

Only the programmatic path is supported (``sessiondb.db._sql.migrate``): the caller passes an
open connection, already inside a transaction, and the table names.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes["connection"]
names = config.attributes["names"]
if connection is None or names is None:
    raise RuntimeError("sessiondb migrations run through SqlStore.migrate(), not the alembic CLI")

context.configure(
    connection=connection,
    version_table=names.version,
    version_table_schema=names.schema,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
