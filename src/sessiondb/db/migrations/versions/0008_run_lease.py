"""A run's lease, so that a run left in progress by a process that died is recognised.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

``runs.lease_expires_at`` (unix milliseconds, ``NULL`` for a run nobody holds) is set by
``SessionStore.renew_run_leases``: the process executing a run renews it while the run is in
progress, and ``SessionStore.expire_run_leases`` stores ``ERROR`` every run in progress whose
lease ran out (issue 15 item 5; see ``sessiondb.db.leases``). The partial index holds only the
leased runs in progress, so the sweep reads what is at stake, never the whole table. Adding a
nullable column rewrites nothing on either backend; the index starts empty.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_IN_PROGRESS = "status IN ('PENDING', 'RUNNING') AND lease_expires_at IS NOT NULL"


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def upgrade() -> None:
    """Add ``runs.lease_expires_at`` and its partial index."""
    names = _names()
    op.add_column(names.runs, sa.Column("lease_expires_at", sa.BigInteger), schema=names.schema)
    op.create_index(
        f"idx_{names.runs}_lease",
        names.runs,
        ["lease_expires_at"],
        schema=names.schema,
        sqlite_where=sa.text(_IN_PROGRESS),
        postgresql_where=sa.text(_IN_PROGRESS),
    )


def downgrade() -> None:
    """Drop the index and ``runs.lease_expires_at``."""
    names = _names()
    op.drop_index(f"idx_{names.runs}_lease", table_name=names.runs, schema=names.schema)
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), as in 0007: a batch copy would
    # recreate the runs table and lose the search index's foreign keys to it.
    op.drop_column(names.runs, "lease_expires_at", schema=names.schema)
