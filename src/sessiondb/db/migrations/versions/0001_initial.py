"""Initial schema: the sessions table and the runs table (one row per run).

Revision ID: 0001
Revises:
Create Date: 2025-01-01

The definitions are written out here rather than imported from ``sessiondb.db._sql.tables``:
a migration must keep meaning what it meant when it shipped.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _key() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def upgrade() -> None:
    """Create both tables and their indexes."""
    names = _names()
    s, r, schema = names.sessions, names.runs, names.schema
    op.create_table(
        s,
        sa.Column("session_id", _key(), primary_key=True),
        sa.Column("session_type", sa.String, nullable=False),
        sa.Column("agent_id", sa.String),
        sa.Column("team_id", sa.String),
        sa.Column("workflow_id", sa.String),
        sa.Column("user_id", sa.String),
        sa.Column("workflow_name", sa.String),
        sa.Column("explicit_name", sa.String),
        sa.Column("derived_name", sa.String, nullable=False),
        sa.Column("name_run_id", sa.String),
        sa.Column("session_name", _key(), nullable=False),
        sa.Column("name_search", sa.String, nullable=False),
        sa.Column("session_data", _json()),
        sa.Column("agent_data", _json()),
        sa.Column("team_data", _json()),
        sa.Column("workflow_data", _json()),
        sa.Column("metadata", _json()),
        sa.Column("summary", _json()),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("next_run_index", sa.BigInteger, nullable=False),
        schema=schema,
    )
    for suffix, columns in (
        ("created", ["created_at", "session_id"]),
        ("updated", ["updated_at", "session_id"]),
        ("user_created", ["user_id", "created_at", "session_id"]),
        ("user_updated", ["user_id", "updated_at", "session_id"]),
        ("type_created", ["session_type", "created_at", "session_id"]),
        ("type_updated", ["session_type", "updated_at", "session_id"]),
        ("name", ["session_name", "session_id"]),
        ("agent_id", ["agent_id"]),
        ("team_id", ["team_id"]),
        ("workflow_id", ["workflow_id"]),
    ):
        op.create_index(f"idx_{s}_{suffix}", s, columns, schema=schema)
    op.create_table(
        r,
        sa.Column("run_id", sa.String, primary_key=True),
        sa.Column(
            "session_id",
            _key(),
            sa.ForeignKey(f"{schema}.{s}.session_id" if schema else f"{s}.session_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("run_index", sa.BigInteger, nullable=False),
        sa.Column("run_type", sa.String, nullable=False),
        sa.Column("agent_id", sa.String),
        sa.Column("team_id", sa.String),
        sa.Column("workflow_id", sa.String),
        sa.Column("user_id", sa.String),
        sa.Column("parent_run_id", sa.String),
        sa.Column("status", sa.String),
        sa.Column("run_data", _json(), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("session_id", "run_index", name=f"uq_{r}_session_index"),
        schema=schema,
    )


def downgrade() -> None:
    """Drop both tables (and with them every session and run)."""
    names = _names()
    op.drop_table(names.runs, schema=names.schema)
    op.drop_table(names.sessions, schema=names.schema)
