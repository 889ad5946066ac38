"""``commit_run`` in SQL: store a run and merge its session's data in one transaction.

The end of a run used to be two writes, the run row and then the session's state by
compare-and-set; every run appended meanwhile bumped the session's version, so under a burst of
concurrent runs into one session the compare-and-set lost again and again and a run the model
had finished was stored as an error. Here the session row is locked first (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already admits one writer), the caller's
merge runs on the data as stored, and the run takes the next index, all before the commit: a
concurrent commit waits for the lock and then merges onto this one's result. Nothing to retry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, update

from sessiondb.db._sql.changes import ChangeLog
from sessiondb.db._sql.names import WORKFLOW_NAME_KEY, Names, naming_columns, settle_names
from sessiondb.db._sql.reads import ReadStatements, session_row
from sessiondb.db._sql.tables import Tables
from sessiondb.db._sql.writes import PreparedRun, WriteStatements, upsert_one_run
from sessiondb.db.base import UNSET, SessionDataMerge, Unset
from sessiondb.db.changes import saved_changes
from sessiondb.db.errors import InvalidQuery
from sessiondb.session import SessionSummary


def _explicit_name(session_data: Mapping[str, Any]) -> str | None:
    name = session_data.get("session_name")
    return name if isinstance(name, str) else None


def commit_run(
    conn: Connection,
    tables: Tables,
    reads: ReadStatements,
    statements: WriteStatements,
    *,
    session_id: str,
    user_id: str | None,
    run: PreparedRun,
    merge_data: SessionDataMerge,
    summary: SessionSummary | Unset,
    log: ChangeLog,
) -> dict[str, Any]:
    """Lock the session row, write ``merge_data``'s session data and ``run``; returns the new row.

    The changes (``session.updated``, then ``run.created`` or ``run.updated``) go to ``log``,
    stamped with its time, which is also the write's.

    Raises:
        SessionNotFound: no such session (for this user).
        InvalidQuery: the run is stored in another session, or a summary for a workflow session.
    """
    sessions = tables.sessions
    now = log.now
    row = session_row(conn, reads, session_id, user_id, lock=True)
    if summary is not UNSET and row["session_type"] == "workflow":
        raise InvalidQuery("summary", "workflow sessions have no summary")
    data = merge_data(dict(row["session_data"] or {}))
    explicit = _explicit_name(data)
    # The name columns (explicit_name included) are brought up to date by settle_names below.
    values: dict[str, Any] = {"session_data": data}
    if summary is not UNSET:
        values["summary"] = summary.to_dict()
    workflow_name = [column for column in naming_columns(sessions) if column.name == WORKFLOW_NAME_KEY]
    statement = (
        update(sessions)
        .where(sessions.c.session_id == session_id)
        .values(
            **values,
            updated_at=now,
            version=sessions.c.version + 1,
            next_run_index=sessions.c.next_run_index + 1,
        )
        .returning(*sessions.c, *workflow_name)
    )
    updated = dict(conn.execute(statement).mappings().one())
    reserved = updated["next_run_index"] - 1
    index = upsert_one_run(conn, statements, session_id, run, index=reserved, now=now)
    # A stored run keeps its own index, always lower than the one just reserved.
    replaced = [run.run_id] if index != reserved else []
    names: Names = settle_names(conn, tables, updated, explicit=explicit, replaced=replaced)
    updated.update(names.columns())
    for kind, run_id in saved_changes(updated["version"], [run.run_id], replaced):
        log.add(kind, updated, run_id=run_id)
    return updated


__all__ = ["commit_run"]
