"""Run leases in SQL: renew the leases of the runs a process executes, find and end abandoned runs.

A renewal is one ``UPDATE`` of the run rows by primary key (the session row is not locked: the
run row alone holds the lease). The sweep reads the partial index ``idx_<runs>_lease``, which
holds only leased runs in progress, and ends each expired run in a transaction of its own,
under its session's row lock, re-checking the lease there. See :mod:`sessiondb.db.leases`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Select, Text, cast, select, text, update

from sessiondb.db._sql.codec import RUN_CLASSES
from sessiondb.db._sql.tables import LEASED_IN_PROGRESS_SQL, Tables
from sessiondb.run.status import IN_PROGRESS_STATUSES, RunStatus
from sessiondb.run.workflow import AnyRun

_IN_PROGRESS = sorted(status.value for status in IN_PROGRESS_STATUSES)


def renew(conn: Connection, tables: Tables, run_ids: Sequence[str], until: int) -> set[str]:
    """Set ``lease_expires_at = until`` on those of ``run_ids`` in progress; the ids set."""
    runs = tables.runs
    statement = (
        update(runs)
        .where(runs.c.run_id.in_(list(run_ids)), runs.c.status.in_(_IN_PROGRESS))
        .values(lease_expires_at=until)
        .returning(runs.c.run_id)
    )
    return set(conn.execute(statement).scalars())


def expired_query(tables: Tables, *, now: int, limit: int) -> Select[Any]:
    """The sweep's read: up to ``limit`` runs in progress whose lease ran out by ``now``."""
    runs = tables.runs
    # The partial index's predicate, word for word, so that SQLite uses it too.
    return (
        select(runs.c.run_id, runs.c.session_id, runs.c.lease_expires_at)
        .where(text(LEASED_IN_PROGRESS_SQL), runs.c.lease_expires_at <= now)
        .order_by(runs.c.lease_expires_at)
        .limit(limit)
    )


def expired(conn: Connection, tables: Tables, now: int, limit: int) -> list[tuple[str, str, int]]:
    """``(run_id, session_id, lease_expires_at)`` of up to ``limit`` runs whose lease ran out by ``now``."""
    return [(row[0], row[1], row[2]) for row in conn.execute(expired_query(tables, now=now, limit=limit))]


def still_abandoned(conn: Connection, tables: Tables, run_id: str, lease: int) -> AnyRun | None:
    """The run, if it is still in progress with the lease ``lease``; else ``None`` (it moved on)."""
    runs = tables.runs
    query = select(runs.c.run_type, cast(runs.c.run_data, Text)).where(
        runs.c.run_id == run_id,
        runs.c.status.in_(_IN_PROGRESS),
        runs.c.lease_expires_at == lease,
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    data: dict[str, Any] = orjson.loads(row[1])
    run: AnyRun = RUN_CLASSES[row[0]].from_dict(data)
    return run


def mark_abandoned(run: AnyRun, message: str) -> AnyRun:
    """``run`` as stored once abandoned: ``ERROR``, with ``message`` as its content."""
    run.status = RunStatus.error
    run.content = message
    return run


__all__ = ["expired", "expired_query", "mark_abandoned", "renew", "still_abandoned"]
