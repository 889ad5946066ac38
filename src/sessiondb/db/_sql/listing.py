"""The session listing in SQL: filters, total count, total order, page or keyset cursor.

Only the sessions table is read. The order is ``(sort column, session_id)`` so it is total,
and a cursor is the pair of the last item, so a page after a cursor is exact even while rows
are being inserted. Every sort has an index that leads with its column (see ``tables``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, func, or_, select, tuple_

from sessiondb.db._sql.tables import Tables
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import Cursor, SessionQuery


@dataclass(frozen=True)
class Listing:
    """The rows of one page, the count of every match and the cursor to the next page."""

    rows: Sequence[RowMapping]
    total_count: int
    next_cursor: str | None


def _filters(tables: Tables, query: SessionQuery) -> list[ColumnElement[bool]]:
    sessions = tables.sessions.c
    found: list[ColumnElement[bool]] = []
    if query.session_type is not None:
        found.append(sessions.session_type == query.session_type)
    if query.component_id is not None:
        # With a type, component_id names that type's component; without one, any of the three.
        columns = {"agent": sessions.agent_id, "team": sessions.team_id, "workflow": sessions.workflow_id}
        if query.session_type is not None:
            found.append(columns[query.session_type] == query.component_id)
        else:
            found.append(or_(*(column == query.component_id for column in columns.values())))
    if query.user_id is not None:
        found.append(sessions.user_id == query.user_id)
    if query.session_name is not None:
        # name_search holds the shown name in lower case; autoescape makes % and _ literal.
        found.append(sessions.name_search.contains(query.session_name.lower(), autoescape=True))
    if query.created_after is not None:
        found.append(sessions.created_at >= query.created_after)
    if query.created_before is not None:
        found.append(sessions.created_at <= query.created_before)
    return found


def _after_cursor(key: ColumnElement[Any], tables: Tables, query: SessionQuery) -> ColumnElement[bool]:
    assert query.cursor is not None
    cursor = Cursor.decode(query.cursor, query)
    expected = str if query.sort_by == "session_name" else int
    if not isinstance(cursor.value, expected) or isinstance(cursor.value, bool):
        raise InvalidQuery("cursor", "is not a cursor returned by this API")
    here = tuple_(key, tables.sessions.c.session_id)
    there = tuple_(cursor.value, cursor.session_id)
    return here < there if query.sort_order == "desc" else here > there


def select_page(conn: Connection, tables: Tables, query: SessionQuery) -> Listing:
    """Run ``query`` against the sessions table.

    Raises:
        InvalidQuery: ``query.cursor`` is malformed or was made for another sort.
    """
    sessions = tables.sessions
    # updated_at is never NULL here (an insert sets it to created_at), so the column alone is
    # Agno's COALESCE(updated_at, created_at), and its index serves the sort.
    key: ColumnElement[Any] = sessions.c[query.sort_by]
    filters = _filters(tables, query)
    total = conn.execute(select(func.count()).select_from(sessions).where(*filters)).scalar_one()
    page: Select[Any] = select(sessions).where(*filters)
    if query.cursor is not None:
        page = page.where(_after_cursor(key, tables, query))
    else:
        page = page.offset(query.offset)
    if query.sort_order == "desc":
        page = page.order_by(key.desc(), sessions.c.session_id.desc())
    else:
        page = page.order_by(key.asc(), sessions.c.session_id.asc())
    rows = conn.execute(page.limit(query.limit)).mappings().all()
    next_cursor = None
    if rows and len(rows) == query.limit:
        # A full page means there may be more; an empty next page is the honest answer then.
        last = rows[-1]
        cursor = Cursor(query.sort_by, query.sort_order, last[query.sort_by], last["session_id"])
        next_cursor = cursor.encode()
    return Listing(rows=rows, total_count=total, next_cursor=next_cursor)
