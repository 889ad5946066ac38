"""How a runtime reads and writes its session around a run (spec §5, "Persistence flow").

* :func:`read_or_create` loads the session, or creates it (seeded with the runtime's data,
  default state and metadata) so that it exists in the store before the run does anything.
  A stored session of another type (an agent run into a workflow's session) is refused
  with :class:`~sessiondb.db.errors.SessionTypeMismatch` before anything is written.
* :func:`save_run` writes one run row: at the start (``RUNNING``) so clients see the run in
  progress, and at the end with its final status.
* :func:`commit_run` stores the final run together with ``session_state``, the summary and the
  session metrics, in one transaction under the session's row lock: this run's own state
  changes are re-applied onto the state as stored at that moment, so concurrent runs into one
  session all land and none can fail for losing a race.

All functions are blocking; runtimes call them through ``Blocking`` effects.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sessiondb.agent import _lease
from sessiondb.agent._state import rebase
from sessiondb.db.base import UNSET, SessionStore
from sessiondb.db.errors import (
    SessionAlreadyExists,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    SessionTypeMismatch,
)
from sessiondb.run.metrics import Metrics, SessionMetrics
from sessiondb.run.workflow import AnyRun
from sessiondb.session import Session, SessionSummary, SessionType

OPEN_ATTEMPTS = 3
"""How often :func:`read_or_create` reads and inserts when others create and delete the session meanwhile."""


@dataclass
class Opened:
    """A session as a run found it.

    Attributes:
        session: the loaded (or just created) session.
        created: this call created it.
        stored_state: a deep copy of the state as stored at load time (the base of the
            three-way merge at commit).
    """

    session: Session
    created: bool
    stored_state: dict[str, Any]


def session_state_of(session: Session) -> dict[str, Any]:
    """The stored ``session_data['session_state']`` (a new empty dict when there is none)."""
    state = (session.session_data or {}).get("session_state")
    return state if isinstance(state, dict) else {}


def read_or_create(
    db: SessionStore,
    *,
    session_id: str,
    user_id: str | None,
    session_type: SessionType,
    new_session: Callable[[], Session],
    runs_limit: int | None = None,
) -> Opened:
    """Load the session, or create it with ``new_session()`` when it is not stored.

    When another client creates the session between the read and the insert, theirs is
    loaded; when it is deleted again before that load, the read and the insert are tried
    again (at most :data:`OPEN_ATTEMPTS` times), so the run goes into a session of its own.

    Args:
        runs_limit: load only this many newest history runs (``None``: all runs).

    Raises:
        SessionOwnedByAnotherUser: the session exists but belongs to another user.
        SessionTypeMismatch: the session exists but another kind of runtime created it.
        SessionNotFound: the session was created and deleted by others under every attempt.
    """
    for _ in range(OPEN_ATTEMPTS):
        try:
            session = load_session(db, session_id, user_id, session_type, runs_limit)
            return Opened(session, False, copy.deepcopy(session_state_of(session)))
        except SessionNotFound:
            pass
        fresh = new_session()
        try:
            db.create_session(fresh)
            return Opened(fresh, True, copy.deepcopy(session_state_of(fresh)))
        except SessionAlreadyExists:
            # Another run created it between our read and our insert: use theirs.
            pass
        try:
            session = load_session(db, session_id, user_id, session_type, runs_limit)
            return Opened(session, False, copy.deepcopy(session_state_of(session)))
        except SessionNotFound:
            # Invisible to this user, or deleted since the insert failed: only the first is
            # another user's session; the second is a new race, run again.
            if user_id is not None and _exists(db, session_id):
                raise SessionOwnedByAnotherUser(session_id) from None
    raise SessionNotFound(session_id)


def _exists(db: SessionStore, session_id: str) -> bool:
    """Whether ``session_id`` is stored, whoever owns it (no run is read)."""
    try:
        db.get_session(session_id, runs_limit=0)
    except SessionNotFound:
        return False
    return True


def load_session(
    db: SessionStore, session_id: str, user_id: str | None, expected: SessionType, runs_limit: int | None
) -> Session:
    """Load a session, refusing one that another kind of runtime created.

    Raises:
        SessionNotFound: there is no such session (for this user).
        SessionTypeMismatch: the stored session is not of type ``expected``.
    """
    # Loaded as the type stored in the row, not as ``expected``: forcing the class would turn
    # another kind's runs into a pydantic ValidationError (or, worse, a session that loads
    # but can no longer be read once this run is appended).
    session = db.get_session(session_id, user_id=user_id, runs_limit=runs_limit)
    if session.session_type != expected:
        raise SessionTypeMismatch(session_id, session.session_type, expected)
    return session


def save_run(db: SessionStore, session_id: str, run: AnyRun) -> None:
    """Write one run row (insert, or replace the row with the same ``run_id``)."""
    db.upsert_run(session_id, run)


def start_run(db: SessionStore, session_id: str, run: AnyRun) -> None:
    """Store a top-level run in progress and lease it (:mod:`sessiondb.agent._lease`).

    Its lease is renewed until ``_lease.release``, which the runtime calls once the run's final
    write is done, so that a run this process dies in the middle of is recognised.
    """
    db.upsert_run(session_id, run, lease_s=_lease.current())
    _lease.hold(run.run_id, db)


@dataclass
class Commit:
    """What the end of a run writes onto the session row.

    Attributes:
        base_state: the state as stored when the run loaded the session.
        final_state: the state at the end of the run (runtime keys removed).
        summary: a new summary, or ``None`` to leave the stored one.
        metrics: this run's token counts, added to ``session_data['session_metrics']``.
    """

    base_state: Mapping[str, Any]
    final_state: Mapping[str, Any]
    summary: SessionSummary | None = None
    metrics: Metrics | None = None


def commit_run(
    db: SessionStore, session_id: str, user_id: str | None, run: AnyRun, commit: Commit
) -> Session:
    """Store the final ``run`` with its state, summary and metrics, in one transaction; returns the session.

    The state is merged under the session's row lock (see ``SessionStore.commit_run``): this
    run's own changes are re-applied onto the state as stored then, so the changes of runs that
    committed meanwhile are kept, and contention can only delay the commit, never fail it.
    """

    def merge(stored: dict[str, Any]) -> dict[str, Any]:
        theirs = stored.get("session_state")
        state = rebase(commit.base_state, commit.final_state, theirs if isinstance(theirs, dict) else {})
        merged = {**stored, "session_state": state}
        metrics = _added_metrics(stored, commit.metrics)
        if metrics is not None:
            merged["session_metrics"] = metrics
        return merged

    summary = commit.summary if commit.summary is not None else UNSET
    return db.commit_run(session_id, run, merge_data=merge, user_id=user_id, summary=summary)


def _added_metrics(session_data: Mapping[str, Any], run_metrics: Metrics | None) -> dict[str, Any] | None:
    if run_metrics is None:
        return None
    stored = session_data.get("session_metrics")
    total = SessionMetrics.model_validate(stored) if isinstance(stored, dict) else SessionMetrics()
    total.add(run_metrics)
    return total.to_dict()


__all__ = ["Commit", "Opened", "commit_run", "read_or_create", "save_run", "session_state_of", "start_run"]
