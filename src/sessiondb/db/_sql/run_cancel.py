"""Cancel requests in SQL: flag a run in progress, and read the flags of the runs a process executes.

``request_run_cancel`` is one ``UPDATE`` of the run row (the session row is not locked: the run
row alone holds the flag); the executing process reads the flags with one ``SELECT`` by primary
key before each model call. See migration 0005.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, or_, select, update

from sessiondb.db._sql.tables import Tables
from sessiondb.run.status import IN_PROGRESS_STATUSES


def request_cancel(
    conn: Connection,
    tables: Tables,
    run_id: str,
    *,
    runtime_id: str | None,
    user_id: str | None,
    now: int,
) -> bool:
    """Flag ``run_id`` if it is a top-level run in progress that the filters keep; whether it was.

    A flag only: it records no change in the change feed (the session's version and data are
    unchanged; the run's own end is recorded when it is stored).
    """
    runs, sessions = tables.runs, tables.sessions
    conditions: list[ColumnElement[bool]] = [
        runs.c.run_id == run_id,
        runs.c.parent_run_id.is_(None),
        runs.c.status.in_(sorted(status.value for status in IN_PROGRESS_STATUSES)),
    ]
    if runtime_id is not None:
        conditions.append(
            or_(runs.c.agent_id == runtime_id, runs.c.team_id == runtime_id, runs.c.workflow_id == runtime_id)
        )
    # A run of a session in the trash is not found, as by every other read (memory's twin too).
    owned = select(sessions.c.session_id).where(sessions.c.deleted_at.is_(None))
    if user_id is not None:
        owned = owned.where(sessions.c.user_id == user_id)
    conditions.append(runs.c.session_id.in_(owned))
    flagged = conn.execute(update(runs).where(*conditions).values(cancel_requested_at=now))
    return bool(flagged.rowcount)


def requested(conn: Connection, tables: Tables, run_ids: Sequence[str]) -> set[str]:
    """Those of ``run_ids`` whose cancel was requested."""
    runs = tables.runs
    query = select(runs.c.run_id).where(
        runs.c.run_id.in_(list(run_ids)), runs.c.cancel_requested_at.is_not(None)
    )
    return set(conn.execute(query).scalars())


__all__ = ["request_cancel", "requested"]
