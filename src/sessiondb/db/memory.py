"""``InMemoryDb``: the reference backend, kept in process memory.

It implements :class:`~sessiondb.db.base.SessionStore` with the exact semantics of the SQL
backends, using plain dicts and one lock, so it serves as the executable reference in the
conformance suite and as the store double of API and runtime tests.

It keeps serialised copies (orjson text) and never the caller's objects: mutating an object
that was passed in or handed out never changes the store, and every read builds fresh objects.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson

from sessiondb.db import leases
from sessiondb.db._mem_fork import forked_row
from sessiondb.db._mem_lifecycle import MemFeed, MemLifecycle
from sessiondb.db._mem_listing import select_page
from sessiondb.db._mem_rows import MemTables, StoredRun, StoredSession, decode_runs, now
from sessiondb.db._mem_search import search_rows
from sessiondb.db._tracking import (
    UNSTORED,
    encode_json,
    encode_run,
    expects_stored_row,
    fields_unchanged,
    is_history_run,
    mark_loaded,
    mark_saved,
    name_for_store,
    runs_to_write,
    session_fields,
)
from sessiondb.db.base import UNSET, SessionDataMerge, SessionStore, Unset
from sessiondb.db.changes import DEFAULT_CHANGES_WINDOW, saved_changes
from sessiondb.db.errors import (
    InvalidQuery,
    RunNotFound,
    SessionAlreadyExists,
    SessionDeleted,
    SessionInTrash,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    VersionConflict,
)
from sessiondb.db.history import Batch, HistoryQuery, RunRows, collect_history
from sessiondb.db.query import Page, SessionQuery, check_time_bounds, run_count_ids
from sessiondb.db.search import SearchHit, SearchQuery
from sessiondb.db.transfer import EXPORT_PAGE, ExportedSession, ExportFilter
from sessiondb.run.agent import RunOutput
from sessiondb.run.status import IN_PROGRESS_STATUSES, RunStatus, status_value
from sessiondb.run.team import TeamRunOutput
from sessiondb.run.workflow import AnyRun, WorkflowRunOutput
from sessiondb.session import SESSION_CLASSES, Session, SessionSummary, SessionType
from sessiondb.session._runs import quietly
from sessiondb.session.base import StoreToken
from sessiondb.session.history_budget import History
from sessiondb.session.naming import explicit_session_name

IN_PROGRESS_VALUES = frozenset(status.value for status in IN_PROGRESS_STATUSES)


@dataclass(frozen=True)
class _Saved:
    """What one session write produced, applied to the caller's object once the call succeeds."""

    session: Session
    store: StoreToken
    version: int
    created_at: int
    updated_at: int
    written: dict[str, str]
    name: str
    fields: str

    @classmethod
    def of(
        cls, session: Session, store: StoreToken, row: StoredSession, written: dict[str, str], fields: str
    ) -> _Saved:
        """What a write of ``session`` into ``row`` produced."""
        return cls(session, store, row.version, row.created_at, row.updated_at, written, row.name, fields)

    def apply(self) -> None:
        self.session.created_at = self.created_at
        self.session.updated_at = self.updated_at
        mark_saved(
            self.session,
            store=self.store,
            version=self.version,
            written=self.written,
            stored_name=self.name,
            fields=self.fields,
        )


def _encode_fields(fields: dict[str, Any]) -> bytes:
    """A session's stored fields as one JSON document, each field encoded on its own.

    The SQL stores keep each field in its own column, so a value may nest as deep there as
    the encoder allows from that value down; encoding each here with the same function keeps
    the same limit and the same text (non-string keys become strings there too).

    Raises:
        InvalidQuery: a value cannot be encoded (nested too deeply), as the SQL stores say it.
    """
    return orjson.dumps({name: orjson.Fragment(encode_json(value)) for name, value in fields.items()})


def _build(
    row: StoredSession,
    *,
    store: StoreToken,
    session_type: SessionType | None = None,
    runs: list[tuple[str, StoredRun]] | None = None,
    complete: bool = False,
    lazy: bool = False,
) -> Session:
    """A fresh session object from ``row``, holding ``runs`` (``None``: no runs loaded), each
    decoded when first read when ``lazy`` (see :mod:`sessiondb.session._runs`)."""
    data: dict[str, Any] = orjson.loads(row.fields)
    data.update(session_id=row.session_id, created_at=row.created_at, updated_at=row.updated_at)
    if runs is not None and not lazy:
        data["runs"] = [orjson.loads(stored.text) for _, stored in runs]
    session_class = SESSION_CLASSES[session_type or row.session_type]
    session = session_class.from_dict(data)
    # from_dict only refuses a dict without session_id, and every row has one.
    assert session is not None
    if runs is None:
        session.runs = None
    if runs is not None and lazy:
        lazy_runs = session_class._lazy_runs((run_id, stored.text) for run_id, stored in runs)
        session.runs = lazy_runs
        loaded = {slot.run_id: slot.text for slot in lazy_runs.slots()}
    else:
        texts = {run_id: stored.text for run_id, stored in runs or []}
        loaded = {run.run_id: texts[run.run_id] for run in quietly(session.runs) if run.run_id in texts}
    mark_loaded(
        session, store=store, version=row.version, stored_runs=loaded, complete=complete, stored_name=row.name
    )
    return session


def _check_version(row: StoredSession, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(row.session_id, expected_version, row.version)


def _refresh_name(row: StoredSession, session: Session | None = None) -> None:
    """Recompute the name column: the explicit name, else derived from the first stored run.

    Args:
        session: the session just written, when the caller has it; else built from the row.
    """
    session = session if session is not None else _build(row, store=UNSTORED)
    first_run = row.first_naming_run() if explicit_session_name(session) is None else None
    row.name = name_for_store(session, first_run)


class InMemoryDb(MemLifecycle, SessionStore):
    """Sessions and runs in process memory, with the exact semantics of the SQL backends.

    Thread-safe: every call runs under one lock. Data lives as long as the object (or until
    :meth:`close`).

    Args:
        id: the ``db_id`` the HTTP API serves this store under.
        soft_delete: keep deleted sessions in the trash this long; ``None`` deletes at once.
        changes_window: how long recorded changes are kept (pruned by :meth:`purge`).
    """

    def __init__(
        self,
        *,
        id: str | None = None,
        soft_delete: timedelta | None = None,
        changes_window: timedelta = DEFAULT_CHANGES_WINDOW,
    ) -> None:
        self.id = id if id is not None else "memory"
        self.store_token = StoreToken(f"InMemoryDb {self.id!r}")
        self.soft_delete = soft_delete
        self.changes_window = changes_window
        self._lock = threading.Lock()
        self._tables = MemTables()
        self._cancels: set[str] = set()
        self._leases: dict[str, int] = {}
        self._feed = MemFeed()

    def _write(self, session: Session, *, create: bool, preserve_updated_at: bool = False) -> _Saved:
        """Insert or update ``session`` and its pending runs; raises before changing anything."""
        tables, session_id = self._tables, session.session_id
        row = tables.sessions.get(session_id)
        if row is not None and row.deleted_at is not None:
            raise SessionInTrash(session_id)
        if row is not None and create:
            raise SessionAlreadyExists(session_id)
        if row is not None and row.user_id is not None and row.user_id != session.user_id:
            raise SessionOwnedByAnotherUser(session_id)
        if row is None and not create and expects_stored_row(session, self.store_token):
            raise SessionDeleted(session_id)
        texts: dict[str, str] = {}
        pending = runs_to_write(session, self.store_token, create=create, texts=texts)
        for run in pending:
            tables.check_run_owner(run.run_id, session_id)
        # Everything that can fail is encoded before the first change.
        written = {run.run_id: texts.get(run.run_id) or encode_run(run) for run in pending}
        fields = _encode_fields(session_fields(session))
        replaced = {run.run_id for run in pending if row is not None and run.run_id in row.runs}
        fields_text = fields.decode()
        if row is not None and not create and fields_unchanged(session, self.store_token, fields_text):
            # Nothing but runs changed: the row is bumped, not rewritten (as the SQL stores do),
            # so a concurrent change of its fields is kept.
            row.touch()
            for run in pending:
                tables.put_run(row, run, written[run.run_id])
            _refresh_name(row)
            for kind, run_id in saved_changes(row.version, written, replaced):
                self._feed.record(kind, row, now(), run_id=run_id)
            return _Saved.of(session, self.store_token, row, written, fields_text)
        if row is None:
            created = session.created_at if session.created_at is not None else now()
            updated = created
            if preserve_updated_at and session.updated_at is not None:
                updated = session.updated_at
            row = StoredSession(
                session_id, session.session_type, fields, created_at=created, updated_at=updated
            )
            tables.sessions[session_id] = row
        else:
            # session_type and created_at never change once stored.
            row.touch()
            row.fields = fields
        row.user_id = session.user_id
        row.agent_id = getattr(session, "agent_id", None)
        row.team_id = getattr(session, "team_id", None)
        row.workflow_id = session.workflow_id
        for run in pending:
            tables.put_run(row, run, written[run.run_id])
        _refresh_name(row, session)
        for kind, run_id in saved_changes(row.version, written, replaced):
            self._feed.record(kind, row, now(), run_id=run_id)
        return _Saved.of(session, self.store_token, row, written, fields_text)

    def _modify(
        self,
        session_id: str,
        user_id: str | None,
        expected_version: int | None,
        change: Callable[[StoredSession, dict[str, Any]], None],
    ) -> Session:
        """Read-modify-write the stored fields of one session; returns it without runs."""
        with self._lock:
            row = self._tables.visible(session_id, user_id)
            _check_version(row, expected_version)
            fields: dict[str, Any] = orjson.loads(row.fields)
            change(row, fields)
            row.fields = _encode_fields(fields)
            row.touch()
            _refresh_name(row)
            self._feed.record("session.updated", row, row.updated_at)
            return _build(row, store=self.store_token)

    # -- sessions ----------------------------------------------------------------------------

    def upsert_session(self, session: Session) -> Session:
        """Insert or update a session and write its new or changed runs (see the contract)."""
        with self._lock:
            saved = self._write(session, create=False)
        saved.apply()
        return session

    def upsert_sessions(
        self, sessions: Sequence[Session], *, preserve_updated_at: bool = False
    ) -> list[Session]:
        """Upsert many sessions, all or nothing: a failure restores every row it touched."""
        with self._lock:
            backup: dict[str, StoredSession | None] = {}
            saves: list[_Saved] = []
            recorded = len(self._feed.items)
            try:
                for session in sessions:
                    if session.session_id not in backup:
                        row = self._tables.sessions.get(session.session_id)
                        backup[session.session_id] = row.copy() if row is not None else None
                    saves.append(self._write(session, create=False, preserve_updated_at=preserve_updated_at))
            except BaseException:
                # All or nothing: the sessions written before the failure are put back.
                self._tables.restore(backup)
                self._feed.rollback(recorded)
                raise
        for saved in saves:
            saved.apply()
        return list(sessions)

    def create_session(self, session: Session) -> Session:
        """Insert a new session with its runs; :class:`SessionAlreadyExists` if the id is taken."""
        with self._lock:
            saved = self._write(session, create=True)
        saved.apply()
        return session

    def get_session(
        self,
        session_id: str,
        *,
        session_type: SessionType | None = None,
        user_id: str | None = None,
        runs_limit: int | None = None,
    ) -> Session:
        """Load a session with all its runs, or only its newest ``runs_limit`` history runs."""
        with self._lock:
            row = self._tables.visible(session_id, user_id)
            runs = list(row.runs.items())
            if runs_limit is not None:
                history = [item for item in runs if is_history_run(item[1].parent_run_id, item[1].status)]
                runs = history[-runs_limit:] if runs_limit > 0 else []
            return _build(
                row,
                store=self.store_token,
                session_type=session_type,
                runs=runs,
                complete=runs_limit is None,
                lazy=self.lazy_runs,
            )

    def get_sessions(self, query: SessionQuery) -> Page[Session]:
        """A page of sessions without runs, the total count and the keyset cursor (see the contract)."""
        with self._lock:
            listing = select_page(self._tables.sessions.values(), query)
            items = [_build(row, store=self.store_token) for row in listing.rows]
        return Page.of(query, items, listing.total_count, listing.next_cursor)

    def export_sessions(
        self, filter: ExportFilter, *, after: str | None = None, limit: int = EXPORT_PAGE
    ) -> list[ExportedSession]:
        """A page of matching sessions in id order, each with its runs' stored texts (see the contract)."""
        if limit < 1:
            raise InvalidQuery("limit", f"must be at least 1, not {limit}")
        with self._lock:
            rows = sorted(
                (
                    row
                    for row in self._tables.sessions.values()
                    if row.deleted_at is None
                    and (after is None or row.session_id > after)
                    and filter.matches(
                        session_id=row.session_id,
                        session_type=row.session_type,
                        user_id=row.user_id,
                        component_ids={
                            "agent": row.agent_id,
                            "team": row.team_id,
                            "workflow": row.workflow_id,
                        },
                        updated_at=row.updated_at,
                    )
                ),
                key=lambda row: row.session_id,
            )[:limit]
            return [
                # An exported copy is new to every store, this one included (a restore recreates it).
                ExportedSession(_build(row, store=UNSTORED), [stored.text for stored in row.runs.values()])
                for row in rows
            ]

    def rename_session(
        self,
        session_id: str,
        *,
        session_name: str,
        user_id: str | None = None,
        expected_version: int | None = None,
    ) -> Session:
        """Set ``session_data['session_name']`` and bump ``updated_at``; returns it without runs."""

        def rename(row: StoredSession, fields: dict[str, Any]) -> None:
            fields["session_data"] = {**(fields.get("session_data") or {}), "session_name": session_name}

        return self._modify(session_id, user_id, expected_version, rename)

    def update_session(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        expected_version: int | None = None,
        session_name: str | Unset = UNSET,
        session_state: dict[str, Any] | Unset = UNSET,
        metadata: dict[str, Any] | Unset | None = UNSET,
        summary: SessionSummary | Unset | None = UNSET,
        session_metrics: dict[str, Any] | Unset = UNSET,
    ) -> Session:
        """Replace the given fields in one atomic read-modify-write; returns it without runs."""

        def update(row: StoredSession, fields: dict[str, Any]) -> None:
            if isinstance(summary, SessionSummary) and row.session_type == "workflow":
                raise InvalidQuery("summary", "workflow sessions have no summary")
            session_data = dict(fields.get("session_data") or {})
            if session_name is not UNSET:
                session_data["session_name"] = session_name
            if session_state is not UNSET:
                session_data["session_state"] = session_state
            if session_metrics is not UNSET:
                session_data["session_metrics"] = session_metrics
            fields["session_data"] = session_data
            if metadata is not UNSET:
                fields["metadata"] = metadata
            if summary is not UNSET and row.session_type != "workflow":
                fields["summary"] = summary.to_dict() if summary is not None else None

        return self._modify(session_id, user_id, expected_version, update)

    def delete_session(
        self, session_id: str, *, user_id: str | None = None, expected_version: int | None = None
    ) -> bool:
        """Delete a session and its runs; False when there was nothing (for this user) to delete."""
        with self._lock:
            row = self._tables.sessions.get(session_id)
            if row is None or not row.visible_to(user_id):
                return False
            _check_version(row, expected_version)
            self._delete(row)
            return True

    def delete_sessions(self, session_ids: Sequence[str], *, user_id: str | None = None) -> int:
        """Delete many sessions and their runs; returns how many were deleted."""
        with self._lock:
            # A dict, not a set: an id listed twice is deleted (and counted) once.
            rows = {session_id: self._tables.sessions.get(session_id) for session_id in session_ids}
            deleted = [row for row in rows.values() if row is not None and row.visible_to(user_id)]
            for row in sorted(deleted, key=lambda found: found.session_id):
                self._delete(row)
            return len(deleted)

    def fork_session(
        self,
        session_id: str,
        *,
        at_run_id: str | None = None,
        new_session_id: str | None = None,
        session_name: str | None = None,
        user_id: str | None = None,
    ) -> Session:
        """See :meth:`SessionStore.fork_session` (the copies are made from the stored texts)."""
        target_id = new_session_id if new_session_id is not None else str(uuid.uuid4())
        with self._lock:
            source = self._tables.visible(session_id, user_id)
            taken = self._tables.sessions.get(target_id)
            if taken is not None:
                raise (
                    SessionInTrash(target_id)
                    if taken.deleted_at is not None
                    else SessionAlreadyExists(target_id)
                )
            fields: dict[str, Any] = orjson.loads(source.fields)
            row = forked_row(
                source,
                fields,
                target_id=target_id,
                at_run_id=at_run_id,
                session_name=session_name,
                user_id=user_id,
                now=now(),
            )
            self._tables.sessions[target_id] = row
            self._tables.run_sessions.update(dict.fromkeys(row.runs, target_id))
            _refresh_name(row)
            for kind, run_id in saved_changes(row.version, list(row.runs), ()):
                self._feed.record(kind, row, row.updated_at, run_id=run_id)
            return _build(row, store=self.store_token)

    # -- runs --------------------------------------------------------------------------------

    def upsert_run(self, session_id: str, run: AnyRun, *, lease_s: float | None = None) -> int:
        """Append ``run`` to a stored session, or replace the stored run with its ``run_id``."""
        until = leases.lease_until(lease_s) if lease_s is not None else None
        with self._lock:
            # No owner guard on runs, as in Agno's runs table; the session must exist.
            row = self._tables.visible(session_id, None)
            self._tables.check_run_owner(run.run_id, session_id)
            replaced = run.run_id in row.runs
            index = self._tables.put_run(row, run, encode_run(run))
            if until is not None and run.status_value in IN_PROGRESS_VALUES:
                self._leases[run.run_id] = until
            row.touch()
            _refresh_name(row)
            self._feed.record(
                "run.updated" if replaced else "run.created", row, row.updated_at, run_id=run.run_id
            )
            return index

    def commit_run(
        self,
        session_id: str,
        run: AnyRun,
        *,
        merge_data: SessionDataMerge,
        user_id: str | None = None,
        summary: SessionSummary | Unset = UNSET,
    ) -> Session:
        """Store ``run`` and ``merge_data``'s new ``session_data`` at once, under the lock."""
        text = encode_run(run)
        with self._lock:
            row = self._tables.visible(session_id, user_id)
            self._tables.check_run_owner(run.run_id, session_id)
            if summary is not UNSET and row.session_type == "workflow":
                raise InvalidQuery("summary", "workflow sessions have no summary")
            fields: dict[str, Any] = orjson.loads(row.fields)
            fields["session_data"] = merge_data(dict(fields.get("session_data") or {}))
            if summary is not UNSET:
                fields["summary"] = summary.to_dict()
            # Encoded before the first change, so a failure leaves the session as it was.
            encoded = _encode_fields(fields)
            replaced = [run.run_id] if run.run_id in row.runs else []
            self._tables.put_run(row, run, text)
            row.fields = encoded
            row.touch()
            _refresh_name(row)
            for kind, run_id in saved_changes(row.version, [run.run_id], replaced):
                self._feed.record(kind, row, row.updated_at, run_id=run_id)
            return _build(row, store=self.store_token)

    def request_run_cancel(
        self, run_id: str, *, runtime_id: str | None = None, user_id: str | None = None
    ) -> bool:
        """Flag a top-level run in progress for cancelling (see the contract)."""
        with self._lock:
            owner = self._tables.run_sessions.get(run_id)
            row = self._tables.sessions.get(owner) if owner is not None else None
            if row is None or not row.visible_to(user_id):
                return False
            stored = row.runs[run_id]
            if stored.parent_run_id is not None or stored.status not in IN_PROGRESS_VALUES:
                return False
            if runtime_id is not None:
                run = stored.decode()
                ids = [getattr(run, name, None) for name in ("agent_id", "team_id", "workflow_id")]
                if runtime_id not in ids:
                    return False
            self._cancels.add(run_id)
            return True

    def cancel_requested(self, run_ids: Sequence[str]) -> set[str]:
        """Those of ``run_ids`` flagged by :meth:`request_run_cancel`."""
        with self._lock:
            return {
                run_id
                for run_id in run_ids
                if run_id in self._cancels and run_id in self._tables.run_sessions
            }

    def renew_run_leases(self, run_ids: Sequence[str], *, seconds: float) -> set[str]:
        """Lease those of ``run_ids`` stored in progress (see the contract)."""
        until = leases.lease_until(seconds)
        with self._lock:
            renewed = {run_id for run_id in run_ids if self._stored_in_progress(run_id) is not None}
            self._leases.update(dict.fromkeys(renewed, until))
            return renewed

    def _stored_in_progress(self, run_id: str) -> StoredRun | None:
        owner = self._tables.run_sessions.get(run_id)
        row = self._tables.sessions.get(owner) if owner is not None else None
        stored = row.runs.get(run_id) if row is not None else None
        return stored if stored is not None and stored.status in IN_PROGRESS_VALUES else None

    def expire_run_leases(self, *, now_ms: int | None = None) -> list[str]:
        """Store ``ERROR`` the runs in progress whose lease ran out (see the contract)."""
        current = leases.now_ms() if now_ms is None else now_ms
        ended: list[str] = []
        with self._lock:
            for run_id, lease in sorted(self._leases.items(), key=lambda item: item[1]):
                if len(ended) == leases.MAX_EXPIRED_PER_SWEEP or lease > current:
                    break
                stored = self._stored_in_progress(run_id)
                owner = self._tables.run_sessions.get(run_id)
                if stored is None or owner is None:
                    del self._leases[run_id]  # it ended or went: no longer leased
                    continue
                try:
                    row = self._tables.visible(owner, None)
                except SessionNotFound:
                    continue  # in the trash: nothing of it may change
                run = stored.decode()
                run.status = RunStatus.error
                run.content = leases.abandoned_message(run_id, lease)
                self._tables.put_run(row, run, encode_run(run))
                row.touch()
                _refresh_name(row)
                self._feed.record("run.updated", row, row.updated_at, run_id=run_id)
                del self._leases[run_id]
                ended.append(run_id)
        return ended

    def get_run(self, run_id: str, *, session_id: str | None = None, user_id: str | None = None) -> AnyRun:
        """Load one run; :class:`RunNotFound` when it is not in that session or for that user."""
        with self._lock:
            owner = self._tables.run_sessions.get(run_id)
            row = self._tables.sessions.get(owner) if owner is not None else None
            if row is None or (session_id is not None and owner != session_id) or not row.visible_to(user_id):
                raise RunNotFound(run_id, session_id)
            # A single run is read as the class it was stored as, whatever session holds it.
            return row.runs[run_id].decode()

    def get_runs(
        self,
        session_id: str,
        *,
        user_id: str | None = None,
        statuses: Sequence[str] | None = None,
        created_after: int | None = None,
        created_before: int | None = None,
        last_n: int | None = None,
        history_only: bool = False,
    ) -> list[AnyRun]:
        """A session's runs, oldest first, filtered as the contract describes."""
        check_time_bounds(created_after, created_before)
        wanted = None if statuses is None else {(status_value(status) or "").lower() for status in statuses}
        with self._lock:
            row = self._tables.visible(session_id, user_id)
            runs = [
                stored
                for stored in row.runs.values()
                if (wanted is None or stored.status.lower() in wanted)
                and (created_after is None or stored.created_at >= created_after)
                and (created_before is None or stored.created_at <= created_before)
                and (not history_only or is_history_run(stored.parent_run_id, stored.status))
            ]
            if last_n is not None:
                runs = runs[-last_n:] if last_n > 0 else []
            return decode_runs(row.session_type, runs)

    def _history(self, session_id: str, user_id: str | None, query: HistoryQuery) -> History:
        """See :meth:`SessionStore.get_history`: the stored texts, newest first."""
        with self._lock:
            row = self._tables.visible(session_id, user_id)
            stored = list(row.runs.values())
            summary = (
                _build(row, store=UNSTORED).get_session_summary() if row.session_type != "workflow" else None
            )
            session_type = row.session_type

        def read_batch(rows: RunRows, before: int | None, size: int) -> Batch:
            team = rows.members_of_team
            team_runs = (
                {run_id for run_id, data in _payloads(stored) if (data.get("team_id") or None) == team}
                if team is not None
                else set()
            )
            found = [
                (run.index, run.text)
                for run in reversed(stored)
                if (before is None or run.index < before) and candidate(rows, run, team_runs)
            ]
            return session_type, summary, found[:size]

        return collect_history(query, read_batch)

    def delete_run(self, run_id: str, *, session_id: str | None = None) -> bool:
        """Delete one run (its index is never reused); False when there was nothing to delete."""
        with self._lock:
            owner = self._tables.run_sessions.get(run_id)
            if owner is None or (session_id is not None and owner != session_id):
                return False
            row = self._tables.sessions[owner]
            if row.deleted_at is not None:
                return False  # its session is in the trash: nothing there may change
            self._tables.drop_run(row, run_id)
            row.touch()
            _refresh_name(row)
            self._feed.record("session.updated", row, row.updated_at)
            return True

    def run_counts(
        self, session_ids: Sequence[str], *, user_id: str | None = None, deleted: bool = False
    ) -> dict[str, int]:
        """See :meth:`SessionStore.run_counts`."""
        wanted = run_count_ids(session_ids)
        with self._lock:
            rows = [self._tables.sessions.get(session_id) for session_id in wanted]
            return {
                row.session_id: len(row.runs)
                for row in rows
                if row is not None
                and row.runs
                and (row.deleted_at is not None) == deleted
                and (user_id is None or row.user_id == user_id)
            }

    def _built(self, row: StoredSession) -> Session:
        """See :meth:`MemLifecycle._built`."""
        return _build(row, store=self.store_token)

    # -- lifecycle ---------------------------------------------------------------------------

    def _search(self, query: SearchQuery) -> tuple[list[SearchHit], str | None]:
        """A plain scan of every run of the matching sessions (see :mod:`sessiondb.db._mem_search`)."""
        with self._lock:
            return search_rows(self._tables.sessions.values(), query)

    def migrate(self) -> None:
        """Nothing to create: memory has no schema."""

    def ping(self) -> None:
        """Memory always answers."""

    def close(self) -> None:
        """Drop every session and run."""
        with self._lock:
            self._tables.clear()
            self._feed = MemFeed()


def _payloads(runs: list[StoredRun]) -> list[tuple[str, dict[str, Any]]]:
    return [(str(data.get("run_id")), data) for data in (orjson.loads(run.text) for run in runs)]


_RUN_TYPES: dict[type, str] = {RunOutput: "agent", TeamRunOutput: "team", WorkflowRunOutput: "workflow"}


def candidate(rows: RunRows, run: StoredRun, team_runs: set[str]) -> bool:
    """Whether ``run`` passes ``rows``, the filter the SQL stores put in their batch read's WHERE."""
    status = run.status.upper()
    if rows.top_level and run.parent_run_id is not None:
        return False
    if status in rows.skipped or (rows.only_status is not None and status != rows.only_status):
        return False
    if rows.run_type is not None and _RUN_TYPES.get(run.run_class) != rows.run_type:
        return False
    if rows.members_of_team is not None and run.parent_run_id not in team_runs:
        return False
    if rows.agent_id is None and rows.team_id is None and not rows.member_ids:
        return True
    data = orjson.loads(run.text)  # the SQL stores filter on columns; here on the payload
    agent_id, team_id = data.get("agent_id") or None, data.get("team_id") or None
    return (
        (rows.agent_id is None or agent_id == rows.agent_id)
        and (rows.team_id is None or team_id == rows.team_id)
        and (not rows.member_ids or agent_id in rows.member_ids)
    )
