"""The change feed in SQL: recording each write's changes in its transaction, reading and pruning them.

Every write path collects its changes in a :class:`ChangeLog`; the store records them with
:func:`record_changes` as the **last statement** of the write's transaction, so they commit (or
roll back) with it.

Why positions never commit out of order. A reader that has handed out change N must never
later see a change below N commit. SQLite has one writer at a time, so ids are taken in commit
order. On PostgreSQL ids come from a sequence, and two transactions may commit in the other
order than they took their ids. So :func:`record_changes` first takes a transaction-level
advisory lock, one per changes table, and only then inserts (taking ids): the lock is held
until the transaction commits, so the next writer takes its ids only after this one's are
visible. The cost is that the commits of concurrent writers are serialised for the span of
one ``INSERT`` and the ``COMMIT``; taking the lock last, after every row lock, also means a
writer never waits for the feed while holding it, so no deadlock can involve it. (The
alternative, handing out only changes below the oldest running transaction, needs no lock
but would stall every feed behind any long transaction on the database, including other
applications'.)

The same statement that takes the lock sends ``NOTIFY`` on the table's channel: PostgreSQL
delivers it at commit, and the feed readers of every process wake (:mod:`.listen`); the
table stays the truth, the notification only says "look".
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Insert, Select, Table, bindparam, delete, func, insert, select

from sessiondb.db._sql.built_once import built_once
from sessiondb.db._sql.compiled import driver_cursor, execute_many, fetch, fetch_each
from sessiondb.db._sql.copy import can_copy
from sessiondb.db._sql.tables import TableNames, Tables
from sessiondb.db.changes import Change, ChangeKind, Changes

PRUNE_BATCH = 10_000
"""Changes deleted per statement when pruning, so no delete holds its locks for long."""


def _digest(names: TableNames) -> bytes:
    return hashlib.sha1(f"{names.schema}.{names.changes}".encode()).digest()


def notify_channel(names: TableNames) -> str:
    """The PostgreSQL ``LISTEN``/``NOTIFY`` channel of a changes table (under 63 characters)."""
    return f"sessiondb_changes_{_digest(names).hex()[:24]}"


def lock_key(names: TableNames) -> int:
    """The advisory-lock key (a signed 64-bit integer) that orders a changes table's writers."""
    return int.from_bytes(_digest(names)[8:16], "big", signed=True)


@dataclass
class ChangeLog:
    """The changes of one write transaction, recorded together at its end.

    Attributes:
        now: the write's time (unix seconds), stamped on each change.
    """

    now: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    runs_of: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: ChangeKind, row: Mapping[Any, Any], *, run_id: str | None = None) -> None:
        """Note a change of the session whose row (or returned columns) is ``row``.

        ``row`` must hold ``session_id``, ``session_type``, ``user_id`` and ``version``.
        """
        self.rows.append(
            {
                "kind": kind,
                "session_id": row["session_id"],
                "run_id": run_id,
                "session_type": row["session_type"],
                "user_id": row["user_id"],
                "version": row["version"],
                "at": self.now,
            }
        )

    def add_runs_of(self, kind: ChangeKind, row: Mapping[Any, Any]) -> None:
        """Note a ``kind`` change for every run the session of ``row`` holds, in run order.

        Recorded set-based (one ``INSERT ... SELECT`` from the runs table, after the changes
        :meth:`add` noted): a fork copies thousands of runs inside the database, and their
        ids never need to come to Python.
        """
        self.runs_of.append(
            {
                "kind": kind,
                "session_id": row["session_id"],
                "session_type": row["session_type"],
                "user_id": row["user_id"],
                "version": row["version"],
                "at": self.now,
            }
        )


@dataclass(frozen=True)
class ChangeStatements:
    """The statements that record changes, built once per changes table (bound parameters).

    Attributes:
        insert: insert one change, returning its id.
        record: insert one change, returning nothing (what :func:`record_changes` sends on
            SQLite and for a lone change: nobody reads the ids back).
        lock: PostgreSQL's advisory lock and ``NOTIFY`` (see the module docstring).
        runs_of: insert one change per run of ``:session_id``, in run order (``add_runs_of``).
    """

    insert: Insert
    record: Insert
    lock: Select[Any]
    runs_of: Insert


def change_statements(tables: Tables) -> ChangeStatements:
    """The :class:`ChangeStatements` of ``tables``, built on first use."""
    return built_once(tables.changes, "change_statements", lambda: _build_change_statements(tables))


def _build_change_statements(tables: Tables) -> ChangeStatements:
    changes = tables.changes
    values = {column.name: bindparam(column.name, type_=column.type) for column in changes.c}
    del values["change_id"]
    runs = tables.runs
    constant = {name: bindparam(name, type_=changes.c[name].type) for name in values if name != "run_id"}
    # Ordered by run index: on both engines the ids are then taken in the runs' order.
    of_runs = (
        select(*(constant[name] if name != "run_id" else runs.c.run_id for name in values))
        .where(runs.c.session_id == bindparam("session_id"))
        .order_by(runs.c.run_index)
    )
    return ChangeStatements(
        insert(changes).values(values).returning(changes.c.change_id),
        insert(changes).values(values),
        select(func.pg_advisory_xact_lock(bindparam("key")), func.pg_notify(bindparam("channel"), "")),
        insert(changes).from_select(list(values), of_runs),
    )


def record_changes(conn: Connection, tables: Tables, log: ChangeLog) -> None:
    """Insert ``log``'s changes; must be the last statement of the write's transaction.

    On PostgreSQL it first takes the table's advisory lock and sends ``NOTIFY`` (see the
    module docstring). Through the driver cursor (:mod:`sessiondb.db._sql.compiled`): every
    append records one change.
    """
    if not log.rows and not log.runs_of:
        return
    statements = change_statements(tables)
    if conn.dialect.name == "postgresql":
        names = tables.names
        fetch(conn, statements.lock, {"key": lock_key(names), "channel": notify_channel(names)})
    if len(log.rows) == 1:
        fetch(conn, statements.record, log.rows[0])
    elif conn.dialect.driver != "psycopg" and len(log.rows) <= FEW_CHANGES:
        # SQLite, in process: one executemany of the insert without RETURNING on the driver
        # cursor (one prepared statement for every row). SQLAlchemy's executemany with
        # RETURNING ("insertmanyvalues") cost ~0.4 ms of CPU for the two changes of a
        # seeds'-pattern save (a session and its new run), five times the inserts.
        execute_many(conn, statements.record, log.rows)
    elif len(log.rows) >= COPY_FROM and can_copy(conn):
        _copy(conn, tables.changes, log.rows)
    elif log.rows:
        fetch_each(conn, statements.insert, log.rows)
    for entry in log.runs_of:
        conn.execute(statements.runs_of, entry)


FEW_CHANGES = 4
"""Changes a SQLite write inserts by the driver cursor's own executemany (each ~10 µs) rather than
through SQLAlchemy's executemany with RETURNING (~0.4 ms of set-up whatever the count): a save's
session and its new runs; a bulk import's many changes still go as one statement."""

COPY_FROM = 16
"""Changes in one transaction from which PostgreSQL gets them by ``COPY`` (a bulk import records
one per session and one per run). Measured on 100 sessions of 20 runs: the pipelined insert of
their 2,100 changes doubled the batch's time; ``COPY`` costs a fraction of it."""


def _copy(conn: Connection, changes: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` into ``changes`` with ``COPY`` (text format: psycopg renders each value)."""
    names = [column.name for column in changes.c if column.name != "change_id"]
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(name) for name in names)
    sql = f"COPY {quote.format_table(changes)} ({columns}) FROM STDIN"
    with driver_cursor(conn, sql, None) as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _page_statement(tables: Tables, by_user: bool) -> Select[Any]:
    changes = tables.changes
    query = select(changes).where(changes.c.change_id > bindparam("after"))
    if by_user:
        query = query.where(changes.c.user_id == bindparam("user_id"))
    return query.order_by(changes.c.change_id).limit(bindparam("limit"))


def read_changes(conn: Connection, tables: Tables, after: int, user_id: str | None, limit: int) -> Changes:
    """The changes after ``after`` (of ``user_id``'s sessions when given), at most ``limit``.

    Run in one snapshot (a transaction at ``REPEATABLE READ`` on PostgreSQL): the newest
    position read with the page then covers exactly what the page could see.
    """
    items: list[Change] = []
    if limit > 0:
        values: dict[str, Any] = {"after": after, "limit": limit}
        if user_id is not None:
            values["user_id"] = user_id
        for row in conn.execute(_page_statement(tables, user_id is not None), values).mappings():
            items.append(
                Change(
                    change_id=row["change_id"],
                    kind=row["kind"],
                    session_id=row["session_id"],
                    run_id=row["run_id"],
                    session_type=row["session_type"],
                    user_id=row["user_id"],
                    version=row["version"],
                    at=row["at"],
                )
            )
    if limit > 0 and len(items) == limit:
        return Changes(items, items[-1].change_id)
    newest = conn.execute(select(func.max(tables.changes.c.change_id))).scalar_one_or_none()
    return Changes(items, max(after, newest or 0))


def prune_changes(conn: Connection, tables: Tables, before: int) -> int:
    """Delete up to :data:`PRUNE_BATCH` of the oldest changes recorded before ``before``; how many went."""
    changes = tables.changes
    oldest = (
        select(changes.c.change_id)
        .where(changes.c.at < before)
        .order_by(changes.c.change_id)
        .limit(PRUNE_BATCH)
    )
    return conn.execute(delete(changes).where(changes.c.change_id.in_(oldest))).rowcount
