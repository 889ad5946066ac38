"""Domain errors raised by every store.

The tree::

    StoreError
    ├── SessionNotFound          no session with that id (for this user)
    │   └── SessionDeleted       a save of an object whose stored row was deleted since its load
    ├── RunNotFound              no run with that id (in this session)
    ├── SessionAlreadyExists     create_session on an id that is taken
    │   └── SessionInTrash       a write to an id whose session is in the trash (soft delete)
    ├── SessionOwnedByAnotherUser a write to a session another user owns
    ├── SessionTypeMismatch      a run of one kind into a session another kind created
    ├── VersionConflict          a conditional write lost the race; carries the current version
    ├── InvalidQuery             a filter, sort, page or cursor that makes no sense
    ├── SchemaNotReady           the database schema is missing or older than this code
    └── StoreUnavailable         the database cannot be reached (retry later)
        └── DatabaseCorrupt      the database file is damaged; the store refuses every call

The HTTP layer maps them to status codes in one place (404, 404, 409, 409, 409, 412, 422, 503, 503).
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error a store raises on purpose."""


class SessionNotFound(StoreError):
    """No session with this id exists (or it is not visible to this user)."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session with id {session_id!r} not found")
        self.session_id = session_id


class SessionDeleted(SessionNotFound):
    """A session object loaded from (or saved to) this store was saved after its row was deleted.

    The save wrote nothing: recreating the row from the object would bring the session back
    with only the runs the object still had to write (its other runs went with the delete).
    Create it again on purpose with ``create_session`` (which writes every run the object
    holds), or reload it.
    """

    def __init__(self, session_id: str) -> None:
        StoreError.__init__(
            self,
            f"Session with id {session_id!r} was deleted after this object was loaded; nothing was "
            "written (use create_session to store it again with all its runs)",
        )
        self.session_id = session_id


class RunNotFound(StoreError):
    """No run with this id exists (in the given session)."""

    def __init__(self, run_id: str, session_id: str | None = None) -> None:
        where = f" in session {session_id!r}" if session_id else ""
        super().__init__(f"Run with id {run_id!r} not found{where}")
        self.run_id = run_id
        self.session_id = session_id


class SessionAlreadyExists(StoreError):
    """``create_session`` was given an id that is already taken."""

    def __init__(self, session_id: str) -> None:
        super().__init__(
            f"Session with id {session_id!r} already exists. Use PATCH /sessions/{session_id} to update it."
        )
        self.session_id = session_id


class SessionInTrash(SessionAlreadyExists):
    """A write named a session that is in the trash (soft-deleted); nothing was written.

    The id stays taken until the session is restored (then write to it again) or purged.
    """

    def __init__(self, session_id: str) -> None:
        StoreError.__init__(
            self,
            f"Session with id {session_id!r} is in the trash: restore it "
            f"(POST /sessions/{session_id}/restore) or purge it before writing to it",
        )
        self.session_id = session_id


class SessionOwnedByAnotherUser(StoreError):
    """A write named a ``user_id`` other than the one that owns the session; nothing was written."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"Session with id {session_id!r} belongs to another user; nothing was written")
        self.session_id = session_id


class SessionTypeMismatch(StoreError):
    """A runtime opened a session that another kind of runtime created; nothing was written.

    An agent cannot continue a workflow's session (nor a team an agent's, ...): their runs
    have different shapes, and mixing them would leave a session no reader can load.
    """

    def __init__(self, session_id: str, stored_type: str, expected_type: str) -> None:
        super().__init__(
            f"Session with id {session_id!r} is of type {stored_type!r}, not {expected_type!r}: "
            "a run cannot continue a session another kind of runtime created; use another session_id"
        )
        self.session_id = session_id
        self.stored_type = stored_type
        self.expected_type = expected_type


class VersionConflict(StoreError):
    """A conditional write expected one version of the session and found another."""

    def __init__(self, session_id: str, expected: int, current: int) -> None:
        super().__init__(
            f"Session {session_id!r} is at version {current}, not {expected}: "
            "reload it and apply the change again"
        )
        self.session_id = session_id
        self.expected = expected
        self.current = current


class InvalidQuery(StoreError, ValueError):
    """A query parameter is out of range or unknown; the message names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class SchemaNotReady(StoreError):
    """The schema is missing or out of date and the store was told not to migrate it."""


class StoreUnavailable(StoreError):
    """The database could not be reached or dropped the connection; the operation may be retried."""


class DatabaseCorrupt(StoreUnavailable):
    """The database file is damaged (not a database, or a malformed page).

    Once a store has met it, the store refuses every call with it until it is opened again:
    a write could otherwise damage the file further, and a read may see a broken page.
    """
