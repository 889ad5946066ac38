"""Keys that shard by ``session_id`` (Citus): every primary key and unique constraint holds it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

A sharded PostgreSQL (Citus) places each row by one column, here ``session_id``, and can only
enforce a key on the node holding the row: every primary key and unique constraint of a
distributed table must include that column. Before this revision three did not (PostgreSQL
only; SQLite is never sharded and is left as it is):

- ``<runs>``: ``PRIMARY KEY (run_id)`` becomes ``(session_id, run_id)``. A run id stays in one
  session on one server by ``uq_<runs>_run_id``, a unique index on ``run_id`` alone, the one
  index sharding drops (docs/scale-out.md says what that costs).
- ``<sessions>_search``: ``PRIMARY KEY (doc_id)`` and ``UNIQUE (run_id)`` become
  ``PRIMARY KEY (session_id, run_id)`` and the foreign key to the run takes both columns.
  ``doc_id`` (SQLite's FTS5 rowid, unused here) and the index on ``session_id`` (the key's
  prefix now) go.
- ``<sessions>_changes``: ``PRIMARY KEY (change_id)`` becomes ``(change_id, session_id)``,
  still led by ``change_id`` so the feed reads it in order.

Each step rebuilds one index from its table (about as long as a ``CREATE INDEX``); the tables
are locked meanwhile: plan it for a quiet moment on a large store. Servers of an earlier
version cannot write runs once it has run (their search-index upsert names ``run_id`` alone,
no longer a key): stop them, migrate, start the new version.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def _postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _constraint(kind: str, table: str, schema: str | None, columns: list[str] | None = None) -> str:
    """The name PostgreSQL gave a constraint created without one (it truncates long names)."""
    inspector = sa.inspect(op.get_bind())
    if kind == "pk":
        name = inspector.get_pk_constraint(table, schema=schema)["name"]
    elif kind == "fk":
        name = next(fk["name"] for fk in inspector.get_foreign_keys(table, schema=schema))
    else:
        uniques = inspector.get_unique_constraints(table, schema=schema)
        name = next(u["name"] for u in uniques if u["column_names"] == columns)
    assert name is not None
    return name


def upgrade() -> None:
    """Re-key the runs, search and changes tables by ``session_id`` (PostgreSQL only)."""
    if not _postgres():
        return
    names = _names()
    runs, search, changes, schema = names.runs, names.search, names.changes, names.schema
    # The search rows' foreign key depends on the runs' primary key: it goes first.
    op.drop_constraint(_constraint("fk", search, schema), search, type_="foreignkey", schema=schema)
    op.drop_constraint(_constraint("pk", runs, schema), runs, type_="primary", schema=schema)
    op.create_primary_key(f"{runs}_pkey", runs, ["session_id", "run_id"], schema=schema)
    op.create_index(f"uq_{runs}_run_id", runs, ["run_id"], unique=True, schema=schema)

    op.drop_constraint(
        _constraint("unique", search, schema, ["run_id"]), search, type_="unique", schema=schema
    )
    op.drop_index(f"ix_{search}_session_id", table_name=search, schema=schema)
    op.drop_column(search, "doc_id", schema=schema)  # its primary key goes with it
    op.create_primary_key(f"{search}_pkey", search, ["session_id", "run_id"], schema=schema)
    op.create_foreign_key(
        f"{search}_run_fkey",
        search,
        runs,
        ["session_id", "run_id"],
        ["session_id", "run_id"],
        source_schema=schema,
        referent_schema=schema,
        ondelete="CASCADE",
    )

    op.drop_constraint(_constraint("pk", changes, schema), changes, type_="primary", schema=schema)
    op.create_primary_key(f"{changes}_pkey", changes, ["change_id", "session_id"], schema=schema)


def downgrade() -> None:
    """Restore the single-column keys (fails if a run id is stored in two sessions)."""
    if not _postgres():
        return
    names = _names()
    runs, search, changes, schema = names.runs, names.search, names.changes, names.schema
    op.drop_constraint(f"{changes}_pkey", changes, type_="primary", schema=schema)
    op.create_primary_key(f"{changes}_pkey", changes, ["change_id"], schema=schema)

    op.drop_constraint(f"{search}_run_fkey", search, type_="foreignkey", schema=schema)
    op.drop_constraint(f"{search}_pkey", search, type_="primary", schema=schema)
    # A BIGSERIAL column added to a filled table numbers its rows.
    op.execute(sa.text(f"ALTER TABLE {_qualified(search, schema)} ADD COLUMN doc_id BIGSERIAL"))
    op.create_primary_key(f"{search}_pkey", search, ["doc_id"], schema=schema)
    op.create_unique_constraint(f"{search}_run_id_key", search, ["run_id"], schema=schema)
    op.create_index(f"ix_{search}_session_id", search, ["session_id"], schema=schema)

    op.drop_index(f"uq_{runs}_run_id", table_name=runs, schema=schema)
    op.drop_constraint(f"{runs}_pkey", runs, type_="primary", schema=schema)
    op.create_primary_key(f"{runs}_pkey", runs, ["run_id"], schema=schema)
    op.create_foreign_key(
        f"{search}_run_id_fkey",
        search,
        runs,
        ["run_id"],
        ["run_id"],
        source_schema=schema,
        referent_schema=schema,
        ondelete="CASCADE",
    )


def _qualified(table: str, schema: str | None) -> str:
    preparer = op.get_context().dialect.identifier_preparer
    return preparer.quote(table) if schema is None else f"{preparer.quote(schema)}.{preparer.quote(table)}"
