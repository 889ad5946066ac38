"""What an export reads: which sessions (:class:`ExportFilter`) and what comes back for each.

A store answers :meth:`~sessiondb.db.base.SessionStore.export_sessions` with pages of
:class:`ExportedSession` in session-id order (keyset pagination: memory stays flat however many
sessions match, and a page is never skipped or repeated while others write). The runs come as
the JSON texts the store keeps, so an export writes them out without decoding them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import SESSION_TYPES, check_time_bounds
from sessiondb.session import Session
from sessiondb.session.base import SessionType

EXPORT_PAGE = 200
"""Sessions per page an export reads (with every run of them) in one read transaction.

Large enough that the two statements of a page cost little per session, small enough that a
page of sessions with a few hundred 2 KB runs each stays within tens of megabytes."""


@dataclass(frozen=True, kw_only=True)
class ExportFilter:
    """Which sessions an export (or a copy) takes; every field left ``None`` matches all.

    Attributes:
        user_id: only this user's sessions.
        session_type: only sessions of this type.
        component_id: the agent, team or workflow id, matched against the column of
            ``session_type`` (against any of the three when the type is not given).
        updated_since: only sessions with ``updated_at >= updated_since`` (unix seconds).
        updated_until: only sessions with ``updated_at < updated_until`` (unix seconds).
        session_ids: only these sessions.
    """

    user_id: str | None = None
    session_type: SessionType | None = None
    component_id: str | None = None
    updated_since: int | None = None
    updated_until: int | None = None
    session_ids: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if self.session_type is not None and self.session_type not in SESSION_TYPES:
            raise InvalidQuery("session_type", f"must be one of {SESSION_TYPES}, not {self.session_type!r}")
        check_time_bounds(self.updated_since, self.updated_until)
        for name in ("user_id", "component_id"):
            value = getattr(self, name)
            if value is not None and "\x00" in value:
                raise InvalidQuery(name, "must not contain a NUL character")

    def matches(
        self,
        *,
        session_id: str,
        session_type: str,
        user_id: str | None,
        component_ids: dict[str, str | None],
        updated_at: int,
    ) -> bool:
        """Whether a stored session with these values passes the filter (the in-memory store's test).

        Args:
            component_ids: ``"agent"``/``"team"``/``"workflow"`` → the row's id of each.
        """
        if self.session_ids is not None and session_id not in self.session_ids:
            return False
        if self.user_id is not None and user_id != self.user_id:
            return False
        if self.session_type is not None and session_type != self.session_type:
            return False
        if self.component_id is not None:
            kinds = [self.session_type] if self.session_type is not None else list(SESSION_TYPES)
            if all(component_ids.get(kind) != self.component_id for kind in kinds):
                return False
        if self.updated_since is not None and updated_at < self.updated_since:
            return False
        return self.updated_until is None or updated_at < self.updated_until


@dataclass(frozen=True)
class ExportedSession:
    """One stored session as an export reads it.

    Attributes:
        session: the session without its runs (``runs`` is ``None``), with its stored
            ``created_at`` and ``updated_at``.
        runs: the stored JSON text of every run of the session, in the session's order.
    """

    session: Session
    runs: list[str]
