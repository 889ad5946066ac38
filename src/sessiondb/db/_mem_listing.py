"""Session listing for ``InMemoryDb``: filters, total order, page or keyset cursor.

The semantics are the ones the SQL backends express in SQL (spec §3.2, with the fixes of
sessiondb): filters first, the total counted before paging, then a total order on
``(sort value, session_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from sessiondb.db._mem_rows import StoredSession
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.metadata_filter import metadata_matches
from sessiondb.db.query import Cursor, SessionQuery


@dataclass(frozen=True)
class Listing:
    """The rows of one page, the count of every match and the cursor to the next page."""

    rows: list[StoredSession]
    total_count: int
    next_cursor: str | None


def matches(row: StoredSession, query: SessionQuery) -> bool:
    """Whether ``row`` passes every filter of ``query``."""
    if (row.deleted_at is not None) != query.deleted:
        return False  # the trash is listed only when asked for, and only then
    if query.session_type is not None and row.session_type != query.session_type:
        return False
    if query.user_id is not None and row.user_id != query.user_id:
        return False
    if query.component_id is not None and not _component_matches(row, query):
        return False
    if query.session_name is not None and query.session_name.lower() not in row.name.lower():
        return False
    if query.created_after is not None and row.created_at < query.created_after:
        return False
    if query.metadata_leaves and not metadata_matches(_metadata(row), query.metadata_leaves):
        return False
    return query.created_before is None or row.created_at <= query.created_before


def _metadata(row: StoredSession) -> Any:
    # A plain scan decodes the stored fields; InMemoryDb is the reference, not the fast path.
    return orjson.loads(row.fields).get("metadata")


def _component_matches(row: StoredSession, query: SessionQuery) -> bool:
    # With a type, component_id names that type's component; without one, any of the three.
    by_type = {"agent": row.agent_id, "team": row.team_id, "workflow": row.workflow_id}
    if query.session_type is not None:
        return by_type[query.session_type] == query.component_id
    return query.component_id in by_type.values()


def sort_value(row: StoredSession, sort_by: str) -> Any:
    """The value ``row`` is ordered by.

    The SQL backends sort ``updated_at`` by ``COALESCE(updated_at, created_at)``; here every row
    has ``updated_at`` (an insert sets it to ``created_at``), so the column alone is the same.
    """
    if sort_by == "session_name":
        return row.name
    if sort_by == "updated_at":
        return row.updated_at
    return row.created_at


def select_page(rows: Iterable[StoredSession], query: SessionQuery) -> Listing:
    """Filter, count, order and cut out the page ``query`` asks for.

    Raises:
        InvalidQuery: ``query.cursor`` is malformed or was made for another sort.
    """
    found = [row for row in rows if matches(row, query)]
    descending = query.sort_order == "desc"
    # The session_id tie-break makes the order total, so pages never overlap or skip a row.
    found.sort(key=lambda row: (sort_value(row, query.sort_by), row.session_id), reverse=descending)
    if query.cursor is not None:
        cursor = Cursor.decode(query.cursor, query)
        start = _position_after(found, cursor, query.sort_by, descending)
    else:
        start = query.offset
    # One row more than the page: whether it exists tells a last page from a full one.
    window = found[start : start + query.limit + 1]
    next_cursor = None
    if len(window) > query.limit:
        window = window[: query.limit]
        last = window[-1]
        value = sort_value(last, query.sort_by)
        next_cursor = Cursor(query.sort_by, query.sort_order, value, last.session_id).encode()
    return Listing(
        rows=window, total_count=len(found) if query.count_total else len(window), next_cursor=next_cursor
    )


def _position_after(found: list[StoredSession], cursor: Cursor, sort_by: str, descending: bool) -> int:
    """Index of the first row strictly after the cursor's ``(value, session_id)`` in sort order."""
    expected = str if sort_by == "session_name" else int
    if not isinstance(cursor.value, expected) or isinstance(cursor.value, bool):
        raise InvalidQuery("cursor", "is not a cursor returned by this API")
    key = (cursor.value, cursor.session_id)
    for position, row in enumerate(found):
        current = (sort_value(row, sort_by), row.session_id)
        if (current < key) if descending else (current > key):
            return position
    return len(found)
