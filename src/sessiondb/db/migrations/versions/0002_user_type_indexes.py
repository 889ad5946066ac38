"""Indexes for one user's sessions of one type: (user_id, session_type, sort column, session_id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The AgentOS API always filters a listing by type, and its clients by user too. With only the
``(user_id, ...)`` and ``(session_type, ...)`` indexes, SQLite (which keeps no statistics unless
``ANALYZE`` is run) picked the type index for ``user_id = ? AND session_type = ?`` and walked
every session of that type: 11 ms instead of 1 ms per page among 10,000 sessions. An index on
both equality columns followed by the sort key serves the filter, the order and the count.
"""

from __future__ import annotations

from typing import Any

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXES = (
    ("user_type_created", ["user_id", "session_type", "created_at", "session_id"]),
    ("user_type_updated", ["user_id", "session_type", "updated_at", "session_id"]),
)


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def upgrade() -> None:
    """Create the two indexes."""
    names = _names()
    for suffix, columns in _INDEXES:
        op.create_index(f"idx_{names.sessions}_{suffix}", names.sessions, columns, schema=names.schema)


def downgrade() -> None:
    """Drop the two indexes."""
    names = _names()
    for suffix, _columns in _INDEXES:
        op.drop_index(f"idx_{names.sessions}_{suffix}", table_name=names.sessions, schema=names.schema)
