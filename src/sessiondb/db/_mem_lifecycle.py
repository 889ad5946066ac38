"""``InMemoryDb``'s trash, retention and change feed (the SQL twins are in ``db/_sql``).

A mixin, so that ``memory.py`` keeps to sessions and runs; it works on the store's rows under
the store's lock.
"""

from __future__ import annotations

import abc
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sessiondb.db._mem_rows import MemTables, StoredSession
from sessiondb.db._mem_rows import now as now_seconds
from sessiondb.db.changes import Change, ChangeKind, Changes, check_changes_args
from sessiondb.db.errors import SessionNotFound
from sessiondb.db.retention import PurgeReport, RetentionPolicy, RetentionPreview, RetentionReport
from sessiondb.session import Session


@dataclass
class MemFeed:
    """The recorded changes, oldest first; ids only grow, even past pruning."""

    items: list[Change] = field(default_factory=list)
    last_id: int = 0

    def record(self, kind: ChangeKind, row: StoredSession, at: int, *, run_id: str | None = None) -> None:
        """Record a change of ``row`` as it is now."""
        self.last_id += 1
        self.items.append(
            Change(self.last_id, kind, row.session_id, run_id, row.session_type, row.user_id, row.version, at)
        )

    def rollback(self, length: int) -> None:
        """Forget the changes recorded since there were ``length`` (a write that failed)."""
        del self.items[length:]

    def read(self, after: int, user_id: str | None, limit: int) -> Changes:
        """The changes after ``after`` (of ``user_id``), at most ``limit``, as ``SqlStore`` reads them."""
        found = [
            change
            for change in self.items
            if change.change_id > after and (user_id is None or change.user_id == user_id)
        ][:limit]
        if limit > 0 and len(found) == limit:
            return Changes(found, found[-1].change_id)
        newest = self.items[-1].change_id if self.items else 0
        return Changes(found, max(after, newest))

    def prune(self, before: int) -> int:
        """Forget the changes recorded before ``before``; how many went."""
        kept = [change for change in self.items if change.at >= before]
        pruned = len(self.items) - len(kept)
        self.items = kept
        return pruned


def policy_selects(row: StoredSession, policy: RetentionPolicy, now: int) -> bool:
    """Whether ``policy`` removes the live session ``row`` at ``now``."""
    if row.deleted_at is not None:
        return False
    column, cutoff = policy.cutoff(now)
    if (row.created_at if column == "created_at" else row.updated_at) >= cutoff:
        return False
    if policy.session_type is not None and row.session_type != policy.session_type:
        return False
    if policy.user_id is not None and row.user_id != policy.user_id:
        return False
    if policy.component_id is None:
        return True
    by_type = {"agent": row.agent_id, "team": row.team_id, "workflow": row.workflow_id}
    if policy.session_type is not None:
        return by_type[policy.session_type] == policy.component_id
    return policy.component_id in by_type.values()


class MemLifecycle(abc.ABC):
    """Soft delete and restore, purge, retention and the change feed of ``InMemoryDb``.

    Attributes:
        soft_delete: how long deleted sessions stay in the trash; ``None``: deletes are hard.
        changes_window: how long recorded changes are kept.
    """

    soft_delete: timedelta | None
    changes_window: timedelta
    _lock: threading.Lock
    _tables: MemTables
    _feed: MemFeed

    @abc.abstractmethod
    def _built(self, row: StoredSession) -> Session:
        """A fresh session object (without runs) from a stored row."""

    def _delete(self, row: StoredSession) -> None:
        """Delete a live session: into the trash with ``soft_delete``, else for good."""
        if self.soft_delete is not None:
            row.deleted_at = now_seconds()
            row.version += 1
            self._feed.record("session.deleted", row, row.deleted_at)
        else:
            self._tables.drop(row)
            self._feed.record("session.deleted", row, now_seconds())

    def restore_session(self, session_id: str, *, user_id: str | None = None) -> Session:
        """Take a session out of the trash as it was, with a new version (see the contract)."""
        with self._lock:
            row = self._tables.sessions.get(session_id)
            if row is None or row.deleted_at is None or (user_id is not None and row.user_id != user_id):
                raise SessionNotFound(session_id)
            row.deleted_at = None
            row.version += 1
            self._feed.record("session.restored", row, now_seconds())
            return self._built(row)

    def purge(self, *, now: int | None = None) -> PurgeReport:
        """Delete sessions whose time in the trash is up, and changes older than the window."""
        at = now_seconds() if now is None else now
        with self._lock:
            expired: list[StoredSession] = []
            if self.soft_delete is not None:
                cutoff = at - int(self.soft_delete.total_seconds())
                expired = [
                    row
                    for row in self._tables.sessions.values()
                    if row.deleted_at is not None and row.deleted_at <= cutoff
                ]
            runs = sum(len(row.runs) for row in expired)
            for row in expired:
                self._tables.drop(row)
            pruned = self._feed.prune(at - int(self.changes_window.total_seconds()))
            return PurgeReport(sessions=len(expired), runs=runs, changes=pruned)

    def preview_retention(
        self, policy: RetentionPolicy, *, now: int | None = None, limit: int = 100
    ) -> RetentionPreview:
        """What :meth:`apply_retention` would remove now (see the contract)."""
        at = now_seconds() if now is None else now
        with self._lock:
            rows = sorted(
                (row for row in self._tables.sessions.values() if policy_selects(row, policy, at)),
                key=lambda row: row.session_id,
            )
            ids = [row.session_id for row in rows[: max(limit, 0)]]
            return RetentionPreview(len(rows), sum(len(row.runs) for row in rows), ids)

    def apply_retention(
        self, policy: RetentionPolicy, *, now: int | None = None, batch_size: int = 500
    ) -> RetentionReport:
        """Delete what ``policy`` selects (one lock hold: memory has no long transactions)."""
        at = now_seconds() if now is None else now
        soft = self.soft_delete is not None and not policy.hard
        with self._lock:
            rows = sorted(
                (row for row in self._tables.sessions.values() if policy_selects(row, policy, at)),
                key=lambda row: row.session_id,
            )
            runs = sum(len(row.runs) for row in rows)
            for row in rows:
                if soft:
                    self._delete(row)
                else:
                    self._tables.drop(row)
                    self._feed.record("session.deleted", row, now_seconds())
            return RetentionReport(len(rows), runs, soft)

    def changes(self, after: int | None = None, *, user_id: str | None = None, limit: int = 100) -> Changes:
        """The changes after ``after`` (see the contract)."""
        check_changes_args(after, limit)
        with self._lock:
            return self._feed.read(after or 0, user_id, limit)
