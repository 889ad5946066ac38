"""A GIN index on the sessions' metadata, for the listing's metadata filter (PostgreSQL only).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

``GET /sessions?metadata={...}`` lists the sessions whose metadata contains an object, which
PostgreSQL answers with ``metadata @> ...``. A ``jsonb_path_ops`` GIN index serves exactly that
operator and is smaller and faster to update than the default ``jsonb_ops``. SQLite has no
index that serves a JSON containment test; it checks each row of the filtered listing.

The index is built with a plain ``CREATE INDEX``, which blocks writes to the sessions table
while it runs (seconds per million sessions).
"""

from __future__ import annotations

from typing import Any

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def upgrade() -> None:
    """Create the index on PostgreSQL."""
    if op.get_context().dialect.name != "postgresql":
        return
    names = _names()
    op.create_index(
        f"idx_{names.sessions}_metadata",
        names.sessions,
        ["metadata"],
        schema=names.schema,
        postgresql_using="gin",
        postgresql_ops={"metadata": "jsonb_path_ops"},
    )


def downgrade() -> None:
    """Drop the index on PostgreSQL."""
    if op.get_context().dialect.name != "postgresql":
        return
    names = _names()
    op.drop_index(f"idx_{names.sessions}_metadata", table_name=names.sessions, schema=names.schema)
