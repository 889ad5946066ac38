"""Data lifecycle: the trash (``deleted_at`` on sessions) and the change feed's outbox table.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

``deleted_at`` is NULL for every live session; a soft delete sets it, a restore clears it, and
every read skips the rows that have it. Adding a nullable column without a default rewrites
nothing on either engine; the nine listing indexes are rebuilt with it as their last column
(about as long as building them on a copy of the table takes: plan it for a quiet moment on a
large store).

``<sessions>_changes`` records one row per write, in the write's transaction (see
:mod:`sessiondb.db._sql.changes`). On SQLite it is ``AUTOINCREMENT`` so that an id is never
reused once pruning has emptied the table.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def _key_type() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


_LISTING_INDEXES = (
    ("created", ["created_at", "session_id"]),
    ("updated", ["updated_at", "session_id"]),
    ("user_created", ["user_id", "created_at", "session_id"]),
    ("user_updated", ["user_id", "updated_at", "session_id"]),
    ("type_created", ["session_type", "created_at", "session_id"]),
    ("type_updated", ["session_type", "updated_at", "session_id"]),
    ("user_type_created", ["user_id", "session_type", "created_at", "session_id"]),
    ("user_type_updated", ["user_id", "session_type", "updated_at", "session_id"]),
    ("name", ["session_name", "session_id"]),
)
"""The listing indexes; the upgrade rebuilds each with ``deleted_at`` last."""


def _rebuild_listing_indexes(names: Any, *, with_deleted: bool) -> None:
    for suffix, columns in _LISTING_INDEXES:
        name = f"idx_{names.sessions}_{suffix}"
        op.drop_index(name, table_name=names.sessions, schema=names.schema)
        wanted = [*columns, "deleted_at"] if with_deleted else columns
        op.create_index(name, names.sessions, wanted, schema=names.schema)


def upgrade() -> None:
    """Add ``deleted_at`` (and its index), end the listing indexes with it, create the changes table."""
    names = _names()
    op.add_column(names.sessions, sa.Column("deleted_at", sa.BigInteger()), schema=names.schema)
    # A listing skips the trash: with deleted_at in each listing index, a count still reads
    # the index alone (SQLite otherwise read every matching row to check it).
    _rebuild_listing_indexes(names, with_deleted=True)
    # Partial: only the trash is indexed (for the purge); live reads never pick it.
    in_trash = sa.text("deleted_at IS NOT NULL")
    op.create_index(
        f"idx_{names.sessions}_deleted",
        names.sessions,
        ["deleted_at"],
        schema=names.schema,
        sqlite_where=in_trash,
        postgresql_where=in_trash,
    )
    changes = f"{names.sessions}_changes"
    op.create_table(
        changes,
        sa.Column(
            "change_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("session_id", _key_type(), nullable=False),
        sa.Column("run_id", sa.String()),
        sa.Column("session_type", sa.String(), nullable=False),
        sa.Column("user_id", sa.String()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        schema=names.schema,
        sqlite_autoincrement=True,
    )
    op.create_index(f"idx_{changes}_user", changes, ["user_id", "change_id"], schema=names.schema)
    op.create_index(f"idx_{changes}_at", changes, ["at"], schema=names.schema)


def downgrade() -> None:
    """Drop the changes table and ``deleted_at`` (sessions in the trash come back)."""
    names = _names()
    op.drop_table(f"{names.sessions}_changes", schema=names.schema)
    op.drop_index(f"idx_{names.sessions}_deleted", table_name=names.sessions, schema=names.schema)
    _rebuild_listing_indexes(names, with_deleted=False)
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35): a batch copy of the table would
    # drop the old one, and its foreign-key cascade would delete every run.
    op.drop_column(names.sessions, "deleted_at", schema=names.schema)
