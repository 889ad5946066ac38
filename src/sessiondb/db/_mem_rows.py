"""The rows ``InMemoryDb`` keeps (serialised sessions and runs, never the caller's objects) and
the integrity rules on them: per-session run indexes, and each run id in one session only."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from sessiondb.db._tracking import names_session
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from sessiondb.run.workflow import AnyRun
from sessiondb.session import SESSION_CLASSES
from sessiondb.session.base import SessionType


def now() -> int:
    """The current time in unix seconds, as every timestamp is stored."""
    return int(time.time())


@dataclass(frozen=True, slots=True)
class StoredRun:
    """One run as stored: its JSON text plus the columns that reads filter on."""

    index: int
    text: str
    run_class: type[AnyRun]
    created_at: int
    status: str
    parent_run_id: str | None
    names_session: bool
    """Whether this run may give the session its derived name (team member runs may not)."""

    def decode(self) -> AnyRun:
        """A fresh run object of the class it was stored as."""
        return self.run_class.from_dict(orjson.loads(self.text))


def decode_runs(session_type: SessionType, stored: Iterable[StoredRun]) -> list[AnyRun]:
    """Fresh run objects, read the way a session of ``session_type`` reads its run dicts.

    The session class decides what a stored dict is (a workflow session, for instance, keeps
    only workflow runs), exactly as when a whole session is loaded.
    """
    runs: list[AnyRun] = SESSION_CLASSES[session_type]._runs_from_texts(run.text for run in stored)
    return runs


@dataclass(slots=True)
class StoredSession:
    """One session as stored: its JSON fields (runs excluded) plus the indexed columns.

    ``runs`` is kept in index order: new runs are appended with the next index and a replaced
    run keeps its key, hence its place.
    """

    session_id: str
    session_type: SessionType
    fields: bytes
    created_at: int
    updated_at: int
    user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    workflow_id: str | None = None
    name: str = ""
    version: int = 1
    next_index: int = 0
    runs: dict[str, StoredRun] = field(default_factory=dict)
    deleted_at: int | None = None
    """Set while the session is in the trash; reads, listings and writes then skip it."""

    def copy(self) -> StoredSession:
        """A copy that shares nothing mutable with this row (stored runs are immutable)."""
        return dataclasses.replace(self, runs=dict(self.runs))

    def visible_to(self, user_id: str | None) -> bool:
        """Whether a read or delete filtered by ``user_id`` sees this row (``None``: no filter);
        never while it is in the trash."""
        return self.deleted_at is None and (user_id is None or self.user_id == user_id)

    def touch(self) -> None:
        """Record a write: a new version, ``updated_at`` now."""
        self.version += 1
        self.updated_at = now()

    def first_naming_run(self) -> AnyRun | None:
        """The first run, in stored order, that may give this session its derived name."""
        first = next((run for run in self.runs.values() if run.names_session), None)
        if first is None:
            return None
        # Read as the session reads it, so the name is the one get_session_name() would derive.
        decoded = decode_runs(self.session_type, [first])
        return decoded[0] if decoded else None


class MemTables:
    """Every stored session, and which session holds each run id."""

    def __init__(self) -> None:
        self.sessions: dict[str, StoredSession] = {}
        self.run_sessions: dict[str, str] = {}

    def visible(self, session_id: str, user_id: str | None) -> StoredSession:
        """The row of ``session_id`` as ``user_id`` sees it.

        Raises:
            SessionNotFound: no such session, or it belongs to another user.
        """
        row = self.sessions.get(session_id)
        if row is None or not row.visible_to(user_id):
            raise SessionNotFound(session_id)
        return row

    def check_run_owner(self, run_id: str, session_id: str) -> None:
        """Raise ``InvalidQuery`` when ``run_id`` is stored in a session other than ``session_id``."""
        owner = self.run_sessions.get(run_id)
        if owner is not None and owner != session_id:
            raise InvalidQuery("run_id", f"run {run_id!r} is stored in session {owner!r}, not {session_id!r}")

    def put_run(self, row: StoredSession, run: AnyRun, text: str) -> int:
        """Store ``run``, encoded as ``text`` (:func:`encode_run`), in ``row``: a known run keeps
        its index, a new one takes the next. Returns the run's index."""
        previous = row.runs.get(run.run_id)
        if previous is not None:
            index = previous.index
        else:
            index = row.next_index
            row.next_index += 1
        row.runs[run.run_id] = StoredRun(
            index=index,
            text=text,
            run_class=type(run),
            created_at=run.created_at,
            status=run.status_value,
            parent_run_id=run.parent_run_id,
            names_session=names_session(row.session_type, run),
        )
        self.run_sessions[run.run_id] = row.session_id
        return index

    def drop_run(self, row: StoredSession, run_id: str) -> None:
        """Delete one run of ``row``; its index is not reused."""
        del row.runs[run_id]
        del self.run_sessions[run_id]

    def drop(self, row: StoredSession) -> None:
        """Delete a session and its runs."""
        del self.sessions[row.session_id]
        for run_id in row.runs:
            del self.run_sessions[run_id]

    def restore(self, backup: dict[str, StoredSession | None]) -> None:
        """Put back the rows of ``backup`` (``None``: the session did not exist) and their run ids.

        Only the sessions named in ``backup`` may have changed since it was taken.
        """
        for session_id, before in backup.items():
            current = self.sessions.pop(session_id, None)
            for run_id in current.runs if current is not None else ():
                del self.run_sessions[run_id]
            if before is not None:
                self.sessions[session_id] = before
                self.run_sessions.update(dict.fromkeys(before.runs, session_id))

    def clear(self) -> None:
        """Forget everything."""
        self.sessions.clear()
        self.run_sessions.clear()
