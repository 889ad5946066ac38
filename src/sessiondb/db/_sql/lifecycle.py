"""The trash, retention and change feed of :class:`~sessiondb.db._sql.store.SqlStore`.

A mixin, so that the store module keeps to reading and writing sessions and runs: it uses
the store's tables, options and transactions through the hooks declared here. The SQL itself
is in :mod:`.trash`, :mod:`.retention` and :mod:`.changes`.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from sessiondb.db._sql import retention, trash
from sessiondb.db._sql.changes import PRUNE_BATCH, ChangeLog, prune_changes, read_changes
from sessiondb.db._sql.codec import session_from_row
from sessiondb.db._sql.tables import Tables
from sessiondb.db.changes import Changes, check_changes_args
from sessiondb.db.retention import PurgeReport, RetentionPolicy, RetentionPreview, RetentionReport
from sessiondb.session import Session
from sessiondb.session.base import StoreToken

PURGE_BATCH = 500
"""Sessions purged from the trash per transaction: each batch holds its locks briefly."""


def _now() -> int:
    return int(time.time())


class SqlLifecycle(abc.ABC):
    """Soft delete and restore, purge, retention and the change feed, over a store's hooks.

    Attributes:
        soft_delete: how long deleted sessions stay in the trash; ``None``: deletes are hard.
        changes_window: how long recorded changes are kept.
    """

    soft_delete: timedelta | None
    changes_window: timedelta
    _tables: Tables
    store_token: StoreToken

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Connection]:
        """A transaction on a connection of the store's."""

    @abc.abstractmethod
    def _writing(self) -> AbstractContextManager[tuple[Connection, ChangeLog]]:
        """A write transaction whose changes are recorded at its end."""

    def _live_rows(
        self, conn: Connection, session_ids: Sequence[str], user_id: str | None
    ) -> list[Mapping[Any, Any]]:
        """The live sessions among ``session_ids`` (of ``user_id``), locked, in id order."""
        sessions = self._tables.sessions
        query = (
            select(sessions.c.session_id, sessions.c.session_type, sessions.c.user_id, sessions.c.version)
            .where(sessions.c.session_id.in_(list(session_ids)), sessions.c.deleted_at.is_(None))
            .order_by(sessions.c.session_id)
        )
        if user_id is not None:
            query = query.where(sessions.c.user_id == user_id)
        return list(conn.execute(query.with_for_update()).mappings())

    def _delete_rows(self, conn: Connection, log: ChangeLog, rows: Sequence[Mapping[Any, Any]]) -> None:
        """Delete live sessions: into the trash with ``soft_delete``, else for good."""
        if self.soft_delete is not None:
            trash.soft_delete(conn, self._tables, [row["session_id"] for row in rows], log)
        else:
            trash.hard_delete(conn, self._tables, rows, log)

    def restore_session(self, session_id: str, *, user_id: str | None = None) -> Session:
        """See :meth:`SessionStore.restore_session`."""
        with self._writing() as (conn, log):
            row = trash.restore(conn, self._tables, session_id, user_id, log)
        return session_from_row(row, store=self.store_token, session_type=None, runs=None, complete=False)

    def preview_retention(
        self, policy: RetentionPolicy, *, now: int | None = None, limit: int = 100
    ) -> RetentionPreview:
        """See :meth:`SessionStore.preview_retention`."""
        with self._transaction(write=False) as conn:
            return retention.preview(conn, self._tables, policy, _now() if now is None else now, limit)

    def apply_retention(
        self, policy: RetentionPolicy, *, now: int | None = None, batch_size: int = 500
    ) -> RetentionReport:
        """See :meth:`SessionStore.apply_retention`."""
        now = _now() if now is None else now
        soft = self.soft_delete is not None and not policy.hard
        sessions = runs = 0
        while True:
            with self._writing() as (conn, log):
                rows = retention.next_batch(conn, self._tables, policy, now, batch_size)
                runs += trash.count_runs(conn, self._tables, [row["session_id"] for row in rows])
                if soft:
                    trash.soft_delete(conn, self._tables, [row["session_id"] for row in rows], log)
                else:
                    trash.hard_delete(conn, self._tables, rows, log)
            sessions += len(rows)
            if len(rows) < batch_size:
                return RetentionReport(sessions, runs, soft)

    def changes(self, after: int | None = None, *, user_id: str | None = None, limit: int = 100) -> Changes:
        """See :meth:`SessionStore.changes`."""
        check_changes_args(after, limit)
        with self._transaction(write=False) as conn:
            return read_changes(conn, self._tables, after or 0, user_id, limit)

    def purge(self, *, now: int | None = None) -> PurgeReport:
        """See :meth:`SessionStore.purge`: batches of :data:`PURGE_BATCH` sessions, one
        transaction each, then the changes in batches too."""
        now = _now() if now is None else now
        sessions = runs = changes = 0
        if self.soft_delete is not None:
            cutoff = now - int(self.soft_delete.total_seconds())
            while True:
                with self._transaction(write=True) as conn:
                    rows = trash.expired(conn, self._tables, cutoff, PURGE_BATCH)
                    runs += trash.count_runs(conn, self._tables, [row["session_id"] for row in rows])
                    # Their session.deleted was recorded when they went to the trash.
                    trash.hard_delete(conn, self._tables, rows, None)
                sessions += len(rows)
                if len(rows) < PURGE_BATCH:
                    break
        before = now - int(self.changes_window.total_seconds())
        while True:
            with self._transaction(write=True) as conn:
                pruned = prune_changes(conn, self._tables, before)
            changes += pruned
            if pruned < PRUNE_BATCH:
                break
        return PurgeReport(sessions=sessions, runs=runs, changes=changes)
