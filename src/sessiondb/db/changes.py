"""The change feed's types: what a store records about each write, and how a read of it comes back.

Every write records its changes in the same transaction (an outbox), each with a position
(``change_id``) that only grows. A reader passes the last position it handled as ``after``
and gets what came next: nothing missed, nothing repeated (see ``SessionStore.changes``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Literal

import anyio

from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import SQL_INT_MAX

ChangeKind = Literal[
    "session.created",
    "session.updated",
    "session.deleted",
    "session.restored",
    "run.created",
    "run.updated",
]
CHANGE_KINDS: Final[tuple[ChangeKind, ...]] = (
    "session.created",
    "session.updated",
    "session.deleted",
    "session.restored",
    "run.created",
    "run.updated",
)

DEFAULT_CHANGES_WINDOW: Final = timedelta(days=7)
"""How long a store keeps its recorded changes before ``purge`` prunes them."""

MAX_CHANGES_LIMIT: Final = 10_000
"""The most changes one ``changes`` call returns."""


@dataclass(frozen=True, slots=True)
class Change:
    """One recorded write.

    Attributes:
        change_id: its position in the feed; later changes have larger ids.
        kind: what happened (see :data:`CHANGE_KINDS`). A rename, an update and a run deleted
            are all ``session.updated``.
        session_id: the session written.
        run_id: the run written (``run.*`` changes only).
        session_type: the session's type.
        user_id: the session's owner when written.
        version: the session's version after the write (before it, for ``session.deleted``
            of a hard delete).
        at: when it was written (unix seconds).
    """

    change_id: int
    kind: ChangeKind
    session_id: str
    run_id: str | None
    session_type: str
    user_id: str | None
    version: int
    at: int

    def to_dict(self, db_id: str) -> dict[str, Any]:
        """The change as the HTTP feed sends it (``data`` of a server-sent event)."""
        return {
            "session_id": self.session_id,
            "run_id": self.run_id,
            "session_type": self.session_type,
            "user_id": self.user_id,
            "version": self.version,
            "db_id": db_id,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class Changes:
    """A read of the feed.

    Attributes:
        items: the changes after the position asked for, oldest first.
        position: where to read from next (``after=position``): the last item's id, or, when
            fewer than ``limit`` came back, the newest position the store had, so a reader
            filtered by user skips past other users' changes.
    """

    items: list[Change]
    position: int


def check_changes_args(after: int | None, limit: int) -> None:
    """Refuse arguments no store can answer.

    Raises:
        InvalidQuery: ``after`` is negative or ``limit`` is out of ``0..MAX_CHANGES_LIMIT``.
    """
    if after is not None and not 0 <= after <= SQL_INT_MAX:
        raise InvalidQuery("after", f"must be between 0 and {SQL_INT_MAX}, not {after}")
    if not 0 <= limit <= MAX_CHANGES_LIMIT:
        raise InvalidQuery("limit", f"must be between 0 and {MAX_CHANGES_LIMIT}, not {limit}")


def saved_changes(
    version: int, written: Iterable[str], replaced: Collection[str]
) -> list[tuple[ChangeKind, str | None]]:
    """The ``(kind, run_id)`` of the changes one session save makes, in the order recorded.

    Args:
        version: the session's version after the save (1: the save created it).
        written: the ids of the runs the save wrote.
        replaced: those of them that were stored already.
    """
    kinds: list[tuple[ChangeKind, str | None]] = [
        ("session.created" if version == 1 else "session.updated", None)
    ]
    kinds.extend(("run.updated" if run_id in replaced else "run.created", run_id) for run_id in written)
    return kinds


POLL_INTERVAL_S: Final = 0.5
"""How often a feed reader without notifications (SQLite, memory) looks for new changes."""


class ChangeWatch:
    """Wakes a feed reader when new changes may have been recorded.

    This one polls: :meth:`wait` sleeps :data:`POLL_INTERVAL_S` (or less). A backend that
    can be told about commits (PostgreSQL's ``LISTEN``/``NOTIFY``) returns a watch that wakes
    as soon as a change commits, in any process. Use it as an async context manager around
    the reads it paces.
    """

    async def wait(self, at_most: float) -> None:
        """Return when changes may be new, after at most ``at_most`` seconds (never longer)."""
        await anyio.sleep(max(0.0, min(at_most, POLL_INTERVAL_S)))

    async def __aenter__(self) -> ChangeWatch:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None
