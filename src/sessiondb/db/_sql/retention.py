"""Retention in SQL: selecting the live sessions a policy removes, counting them, deleting them in batches.

A real run deletes ``batch_size`` sessions per transaction (locked in id order, the order of
every batch writer), so no lock is held for long however many sessions go, and a run stopped
halfway has removed whole sessions only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select

from sessiondb.db._sql.tables import Tables
from sessiondb.db.retention import RetentionPolicy, RetentionPreview


def selected(tables: Tables, policy: RetentionPolicy, now: int) -> list[ColumnElement[bool]]:
    """The conditions on the sessions table that pick the live sessions ``policy`` removes at ``now``."""
    sessions = tables.sessions.c
    column, cutoff = policy.cutoff(now)
    conditions: list[ColumnElement[bool]] = [sessions.deleted_at.is_(None), sessions[column] < cutoff]
    if policy.session_type is not None:
        conditions.append(sessions.session_type == policy.session_type)
    if policy.user_id is not None:
        conditions.append(sessions.user_id == policy.user_id)
    if policy.component_id is not None:
        by_type = {"agent": sessions.agent_id, "team": sessions.team_id, "workflow": sessions.workflow_id}
        if policy.session_type is not None:
            conditions.append(by_type[policy.session_type] == policy.component_id)
        else:
            conditions.append(or_(*(column == policy.component_id for column in by_type.values())))
    return conditions


def preview(
    conn: Connection, tables: Tables, policy: RetentionPolicy, now: int, limit: int
) -> RetentionPreview:
    """Count what ``policy`` selects (sessions, their runs) and list the first ``limit`` ids; one snapshot."""
    sessions, runs = tables.sessions, tables.runs
    conditions = selected(tables, policy, now)
    count = conn.execute(select(func.count()).select_from(sessions).where(*conditions)).scalar_one()
    run_count = conn.execute(
        select(func.count())
        .select_from(runs.join(sessions, runs.c.session_id == sessions.c.session_id))
        .where(*conditions)
    ).scalar_one()
    ids = conn.execute(
        select(sessions.c.session_id).where(*conditions).order_by(sessions.c.session_id).limit(max(limit, 0))
    ).scalars()
    return RetentionPreview(int(count), int(run_count), list(ids))


def next_batch(
    conn: Connection, tables: Tables, policy: RetentionPolicy, now: int, size: int
) -> list[Mapping[Any, Any]]:
    """The next ``size`` sessions ``policy`` removes, locked in id order (the columns a change needs)."""
    sessions = tables.sessions
    query = (
        select(sessions.c.session_id, sessions.c.session_type, sessions.c.user_id, sessions.c.version)
        .where(*selected(tables, policy, now))
        .order_by(sessions.c.session_id)
        .limit(size)
        .with_for_update()
    )
    return list(conn.execute(query).mappings())
