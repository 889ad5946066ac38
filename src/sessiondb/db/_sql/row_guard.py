"""What a save checks about the stored session row: a deleted row is never recreated, and an
unchanged one is only bumped.

A session object loaded from (or saved to) a store expects its row there. If the row was
deleted since, writing the object would bring the session back with only the runs the
object still had to write, so the save raises
:class:`~sessiondb.db.errors.SessionDeleted` inside its transaction instead (nothing is
written). When the object's fields are what the store last wrote, the save only bumps the
row (version, ``updated_at``, reserved run indexes) under the owner guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping

from sessiondb.db._sql.compiled import fetch_mapping, fetch_one
from sessiondb.db.errors import SessionDeleted

if TYPE_CHECKING:
    from sessiondb.db._sql.writes import PreparedSave, WriteStatements


def check_not_recreated(prepared: PreparedSave, row: RowMapping | Mapping[str, Any]) -> None:
    """Refuse a save that inserted the row of an object whose stored row was expected.

    The upsert inserts a missing row at version 1 and updates an existing one to at least 2,
    so version 1 here means the row was deleted after the object was loaded (or last saved).
    Raised inside the transaction, so the row just inserted is rolled back.

    Raises:
        SessionDeleted: ``prepared.expects_row`` and the upsert created the row.
    """
    if prepared.expects_row and row["version"] == 1:
        raise SessionDeleted(prepared.session.session_id)


def touch_owned(
    conn: Connection,
    statements: WriteStatements,
    session_id: str,
    owner: str | None,
    *,
    now: int,
    reserve: int,
) -> dict[str, Any] | None:
    """Bump the row of a session whose fields are unchanged, under the owner guard.

    Returns:
        The returned columns by name, or ``None`` when the row has another owner.

    Raises:
        SessionDeleted: the row is gone.
    """
    params = {"target_id": session_id, "owner": owner, "now": now, "reserve": reserve}
    row = fetch_mapping(conn, statements.touch_owned, params)
    if row is None and fetch_one(conn, statements.owner_of, {"target_id": session_id}) is None:
        raise SessionDeleted(session_id)
    return row
