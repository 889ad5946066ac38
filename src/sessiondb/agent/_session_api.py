"""The session methods agents, teams and workflows share (``get_session``, ``set_session_name``, ...).

Each method works on the runtime's current session unless a ``session_id`` is given, and has
an ``a``-prefixed async twin. Without a ``db`` the runtime keeps its sessions in a private
:class:`~sessiondb.db.memory.InMemoryDb`, so history and state still work within a process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import anyio.to_thread

from sessiondb.agent._effects import Blocking, Steps, adrive, aresult_of, drive, result_of
from sessiondb.agent._persist import load_session, session_state_of
from sessiondb.agent.naming import generate_name_steps
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound, SessionOwnedByAnotherUser, VersionConflict
from sessiondb.db.memory import InMemoryDb
from sessiondb.models.base import Model
from sessiondb.run.message import Message
from sessiondb.run.metrics import SessionMetrics
from sessiondb.run.status import RunStatus
from sessiondb.session import Session, SessionSummary, SessionType

T = TypeVar("T")

MAX_STATE_UPDATE_ATTEMPTS = 20


class SessionAPI:
    """Session methods for a runtime that has ``db``, ``session_id`` and ``user_id`` attributes."""

    db: SessionStore | None
    session_id: str | None
    user_id: str | None
    session_type: ClassVar[SessionType]
    _local_db: SessionStore | None = None
    _cached_session: Session | None = None

    # -- plumbing --------------------------------------------------------------------------

    def get_db(self) -> SessionStore:
        """The store sessions go to: ``db``, or a private in-memory store when there is none."""
        if self.db is not None:
            return self.db
        if self._local_db is None:
            self._local_db = InMemoryDb(id=f"local-{id(self)}")
        return self._local_db

    def _sid(self, session_id: str | None) -> str:
        sid = session_id or self.session_id
        if sid is None:
            raise ValueError("no session_id: pass one or run first")
        return sid

    def _naming_model(self) -> Model | None:
        """The model that generates session names; ``None`` when the runtime has none."""
        return None

    async def _in_thread(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))

    def _load(self, session_id: str | None, user_id: str | None = None) -> Session:
        """The session, as ``run()`` would open it.

        Raises:
            SessionNotFound: there is no such session.
            SessionOwnedByAnotherUser: it exists, but another user owns it: ``run()`` refuses
                it with this error, so every read refuses it too rather than answer "empty".
            SessionTypeMismatch: another kind of runtime created it.
        """
        db, sid, owner = self.get_db(), self._sid(session_id), user_id or self.user_id
        try:
            return load_session(db, sid, owner, self.session_type, None)
        except SessionNotFound:
            if owner is None:
                raise
            # Only on this error path: one more read tells a missing session from another user's.
            try:
                db.get_session(sid, runs_limit=1)
            except SessionNotFound:
                raise SessionNotFound(sid) from None
            raise SessionOwnedByAnotherUser(sid) from None

    # -- reading ---------------------------------------------------------------------------

    def get_session(self, session_id: str | None = None, user_id: str | None = None) -> Session | None:
        """The stored session with its runs, or ``None`` when it does not exist (nothing is created).

        Raises:
            SessionOwnedByAnotherUser: the session belongs to another user (as ``run()`` raises).
        """
        try:
            return self._load(session_id, user_id)
        except SessionNotFound:
            return None

    def get_session_name(self, session_id: str | None = None) -> str:
        """The session's explicit name, ``""`` when it has none.

        Raises:
            SessionNotFound: there is no such session.
        """
        name = (self._load(session_id).session_data or {}).get("session_name")
        return name if isinstance(name, str) else ""

    def get_session_state(self, session_id: str | None = None) -> dict[str, Any]:
        """The stored ``session_state`` (``{}`` when the session has none or does not exist)."""
        session = self.get_session(session_id)
        return dict(session_state_of(session)) if session is not None else {}

    def get_session_summary(self, session_id: str | None = None) -> SessionSummary | None:
        """The session's summary, or ``None``."""
        session = self.get_session(session_id)
        summary = session.get_session_summary() if session is not None else None
        return summary if isinstance(summary, SessionSummary) else None

    def get_session_metrics(self, session_id: str | None = None) -> SessionMetrics | None:
        """Token totals over the session's runs, or ``None`` when nothing was recorded."""
        session = self.get_session(session_id)
        stored = (session.session_data or {}).get("session_metrics") if session is not None else None
        return SessionMetrics.model_validate(stored) if isinstance(stored, dict) else None

    def get_session_messages(
        self,
        session_id: str | None = None,
        last_n_runs: int | None = None,
        limit: int | None = None,
        skip_roles: list[str] | None = None,
        skip_statuses: list[RunStatus] | None = None,
        skip_history_messages: bool = True,
    ) -> list[Message]:
        """The session's messages, filtered as ``session.get_messages`` does (spec §2.3)."""
        session = self.get_session(session_id)
        if session is None or session.session_type == "workflow":
            return []
        return session.get_messages(
            last_n_runs=last_n_runs,
            limit=limit,
            skip_roles=skip_roles,
            skip_statuses=skip_statuses,
            skip_history_messages=skip_history_messages,
        )

    def get_chat_history(self, session_id: str | None = None, last_n_runs: int | None = None) -> list[Any]:
        """The session's chat history (user and assistant messages; interactions for workflows)."""
        session = self.get_session(session_id)
        return list(session.get_chat_history(last_n_runs=last_n_runs)) if session is not None else []

    # -- writing ---------------------------------------------------------------------------

    def _set_name_steps(
        self, session_id: str | None, autogenerate: bool, session_name: str | None
    ) -> Steps[Session]:
        sid = self._sid(session_id)
        if session_name is None:
            if not autogenerate:
                raise ValueError("set_session_name needs session_name or autogenerate=True")
            model = self._naming_model()
            if model is None:
                raise ValueError("autogenerate needs a model")
            session = yield Blocking(lambda: self._load(sid))
            session_name = yield from generate_name_steps(session, model)
        name = session_name
        renamed: Session = yield Blocking(
            lambda: self.get_db().rename_session(sid, session_name=name, user_id=self.user_id)
        )
        self._cached_session = None
        return renamed

    def set_session_name(
        self, session_id: str | None = None, autogenerate: bool = False, session_name: str | None = None
    ) -> Session:
        """Name the session: ``session_name`` as given, or generated by the model (``autogenerate``).

        A generated name has at most five words; an empty reply falls back to "New Session".

        Raises:
            ValueError: neither ``session_name`` nor ``autogenerate`` was given.
            SessionNotFound: there is no such session.
        """
        session: Session = result_of(drive(self._set_name_steps(session_id, autogenerate, session_name)))
        return session

    def update_session_state(
        self, session_state_updates: dict[str, Any], session_id: str | None = None
    ) -> dict[str, Any]:
        """Set the given top-level keys of the stored state (a shallow update) and save; returns the state.

        The write is a compare-and-set: a concurrent change to other keys is kept.

        Raises:
            SessionNotFound: there is no such session.
            VersionConflict: other writers kept winning the race, attempt after attempt.
        """
        sid = self._sid(session_id)
        db = self.get_db()
        conflict: VersionConflict | None = None
        for _ in range(MAX_STATE_UPDATE_ATTEMPTS):
            fresh = db.get_session(sid, user_id=self.user_id, runs_limit=0)
            state = {**session_state_of(fresh), **session_state_updates}
            try:
                db.update_session(
                    sid, user_id=self.user_id, expected_version=fresh.version, session_state=state
                )
            except VersionConflict as exc:
                conflict = exc
                continue
            self._cached_session = None
            return state
        assert conflict is not None
        raise conflict

    def delete_session(self, session_id: str | None = None) -> bool:
        """Delete the session and its runs; False when there was nothing to delete."""
        self._cached_session = None
        return self.get_db().delete_session(self._sid(session_id), user_id=self.user_id)

    def fork_session(
        self,
        *,
        source_session_id: str | None = None,
        user_id: str | None = None,
        at_run_id: str | None = None,
    ) -> str:
        """Copy a session into a new, independent one; returns the new session's id.

        Every run (or every run up to ``at_run_id``) is copied with a fresh ``run_id``, inside
        the database (see :meth:`~sessiondb.db.base.SessionStore.fork_session`); the source is
        untouched. The runtime's ``session_id`` does not change.

        Args:
            source_session_id: the session to fork; the runtime's current one by default.
            user_id: the caller; when given, it must own the source, and owns the fork.
            at_run_id: copy only the history up to and including this run.

        Raises:
            SessionNotFound: no such session (for this user).
            ValueError: the session has no runs to fork (as Agno).
        """
        db, source = self.get_db(), self._sid(source_session_id)
        if not db.get_runs(source, user_id=user_id, last_n=1):
            raise ValueError("Source session has no runs to fork.")
        return db.fork_session(source, at_run_id=at_run_id, user_id=user_id).session_id

    # -- async twins -----------------------------------------------------------------------

    async def aget_session(self, session_id: str | None = None, user_id: str | None = None) -> Session | None:
        """Async twin of :meth:`get_session`."""
        return await self._in_thread(self.get_session, session_id, user_id)

    async def aget_session_name(self, session_id: str | None = None) -> str:
        """Async twin of :meth:`get_session_name`."""
        return await self._in_thread(self.get_session_name, session_id)

    async def aget_session_state(self, session_id: str | None = None) -> dict[str, Any]:
        """Async twin of :meth:`get_session_state`."""
        return await self._in_thread(self.get_session_state, session_id)

    async def aget_session_summary(self, session_id: str | None = None) -> SessionSummary | None:
        """Async twin of :meth:`get_session_summary`."""
        return await self._in_thread(self.get_session_summary, session_id)

    async def aget_chat_history(
        self, session_id: str | None = None, last_n_runs: int | None = None
    ) -> list[Any]:
        """Async twin of :meth:`get_chat_history`."""
        return await self._in_thread(self.get_chat_history, session_id, last_n_runs)

    async def aset_session_name(
        self, session_id: str | None = None, autogenerate: bool = False, session_name: str | None = None
    ) -> Session:
        """Async twin of :meth:`set_session_name`."""
        session: Session = await aresult_of(
            adrive(self._set_name_steps(session_id, autogenerate, session_name))
        )
        return session

    async def aupdate_session_state(
        self, session_state_updates: dict[str, Any], session_id: str | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`update_session_state`."""
        return await self._in_thread(self.update_session_state, session_state_updates, session_id)

    async def adelete_session(self, session_id: str | None = None) -> bool:
        """Async twin of :meth:`delete_session`."""
        return await self._in_thread(self.delete_session, session_id)

    async def afork_session(
        self,
        *,
        source_session_id: str | None = None,
        user_id: str | None = None,
        at_run_id: str | None = None,
    ) -> str:
        """Async twin of :meth:`fork_session`."""
        return await self._in_thread(
            self.fork_session, source_session_id=source_session_id, user_id=user_id, at_run_id=at_run_id
        )


__all__ = ["SessionAPI"]
