"""A run's cancel request, so that a cancel reaches a run executing in another process.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

``runs.cancel_requested_at`` (unix seconds, ``NULL`` when none) is set by
``SessionStore.request_run_cancel`` on a run stored ``RUNNING`` or ``PENDING``; the process
executing the run reads it before each model call and stops the run (issue 15 item 5, issue 21).
Adding a nullable column rewrites nothing on either backend.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def upgrade() -> None:
    """Add ``runs.cancel_requested_at``."""
    names = _names()
    op.add_column(names.runs, sa.Column("cancel_requested_at", sa.BigInteger), schema=names.schema)


def downgrade() -> None:
    """Drop ``runs.cancel_requested_at``."""
    names = _names()
    with op.batch_alter_table(names.runs, schema=names.schema) as batch:
        batch.drop_column("cancel_requested_at")
