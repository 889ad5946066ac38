"""The session listing in SQL: filters, total count, total order, page or keyset cursor.

Only the sessions table is read. The order is ``(sort column, session_id)`` so it is total,
and a cursor is the pair of the last item, so a page after a cursor is exact even while rows
are being inserted. Every sort has an index that leads with its column (see ``tables``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    or_,
    select,
    true,
    tuple_,
)

from sessiondb.db._sql.compiled import fetch_mappings
from sessiondb.db._sql.metadata import MetadataContains, metadata_params
from sessiondb.db._sql.tables import Tables
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import Cursor, SessionQuery


@dataclass(frozen=True)
class Listing:
    """The rows of one page, the count of every match and the cursor to the next page."""

    rows: Sequence[Mapping[str, Any]]
    total_count: int
    next_cursor: str | None


_Shape = tuple[Any, ...]

MAX_CACHED_SHAPES = 512
"""Listing statements a store keeps (one per shape, see :func:`_shape`)."""

TOTAL_COUNT = "sessiondb_total_count"
"""The label of the total-count column the listing statement adds to each row."""


def _shape(query: SessionQuery) -> _Shape:
    """What decides the SQL text of a listing: which filters are set, the sort, cursor or offset."""
    return (
        query.session_type,
        query.component_id is not None,
        query.user_id is not None,
        query.session_name is not None,
        query.created_after is not None,
        query.created_before is not None,
        query.sort_by,
        query.sort_order,
        query.cursor is not None,
        tuple(leaf.kind for leaf in query.metadata_leaves),
        query.count_total,
        query.deleted,
    )


def _like_pattern(text: str) -> str:
    # What ``contains(..., autoescape=True)`` does with a literal: "/" escapes % _ and itself.
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _filters(tables: Tables, query: SessionQuery) -> list[ColumnElement[bool]]:
    sessions = tables.sessions.c
    # Live sessions, or only the trash (soft-deleted ones) when the query asks for it.
    found: list[ColumnElement[bool]] = [
        sessions.deleted_at.is_not(None) if query.deleted else sessions.deleted_at.is_(None)
    ]
    if query.session_type is not None:
        found.append(sessions.session_type == bindparam("session_type"))
    if query.component_id is not None:
        # With a type, component_id names that type's component; without one, any of the three.
        columns = {"agent": sessions.agent_id, "team": sessions.team_id, "workflow": sessions.workflow_id}
        component: BindParameter[Any] = bindparam("component_id")
        if query.session_type is not None:
            found.append(columns[query.session_type] == component)
        else:
            found.append(or_(*(column == component for column in columns.values())))
    if query.user_id is not None:
        found.append(sessions.user_id == bindparam("user_id"))
    if query.session_name is not None:
        # name_search holds the shown name in lower case.
        found.append(sessions.name_search.like(bindparam("name_pattern"), escape="/"))
    if query.created_after is not None:
        found.append(sessions.created_at >= bindparam("created_after"))
    if query.created_before is not None:
        found.append(sessions.created_at <= bindparam("created_before"))
    if query.metadata_leaves:
        found.append(MetadataContains(sessions.metadata, tuple(leaf.kind for leaf in query.metadata_leaves)))
    return found


def _params(query: SessionQuery) -> dict[str, Any]:
    params: dict[str, Any] = {
        "session_type": query.session_type,
        "component_id": query.component_id,
        "user_id": query.user_id,
        "created_after": query.created_after,
        "created_before": query.created_before,
        # One row more than the page: whether it comes back tells a last page from a full one.
        "limit": query.limit + 1,
    }
    if query.metadata_leaves:
        params.update(metadata_params(dict(query.metadata or {}), query.metadata_leaves))
    if query.session_name is not None:
        params["name_pattern"] = _like_pattern(query.session_name.lower())
    if query.cursor is None:
        params["offset"] = query.offset
    else:
        cursor = Cursor.decode(query.cursor, query)
        expected = str if query.sort_by == "session_name" else int
        if not isinstance(cursor.value, expected) or isinstance(cursor.value, bool):
            raise InvalidQuery("cursor", "is not a cursor returned by this API")
        params.update(cursor_value=cursor.value, cursor_id=cursor.session_id)
    return params


def _build(tables: Tables, query: SessionQuery) -> Select[Any]:
    """The listing statement of ``query``'s shape, with bound parameters.

    One statement returns the page and the total count (unless ``query.count_total`` is False:
    then it is the page alone): the count of every match, left-joined
    to the page's rows, so an empty page (past the end) still comes back as one row holding
    the count and nulls. One statement reads one snapshot, so the count and the page agree
    without a transaction at a stricter isolation level, and costs one round trip, not four.
    """
    sessions = tables.sessions
    # updated_at is never NULL here (an insert sets it to created_at), so the column alone is
    # Agno's COALESCE(updated_at, created_at), and its index serves the sort.
    key: ColumnElement[Any] = sessions.c[query.sort_by]
    filters = _filters(tables, query)
    count = select(func.count().label(TOTAL_COUNT)).select_from(sessions).where(*filters).subquery("total")
    page: Select[Any] = select(sessions).where(*filters)
    if query.cursor is not None:
        here = tuple_(key, sessions.c.session_id)
        value = bindparam("cursor_value", type_=key.type)
        there = tuple_(value, bindparam("cursor_id", type_=sessions.c.session_id.type))
        page = page.where(here < there if query.sort_order == "desc" else here > there)
    else:
        # BIGINT: PostgreSQL would cast an INTEGER bind to 32 bits, and (page - 1) * limit
        # goes past that long before page and limit do (both are capped at 2**31 - 1).
        page = page.offset(bindparam("offset", type_=BigInteger()))
    order = (
        (key.desc(), sessions.c.session_id.desc())
        if query.sort_order == "desc"
        else (key, sessions.c.session_id)
    )
    # BIGINT for the same reason: the limit is one more than the page, up to 2**31.
    limited = page.order_by(*order).limit(bindparam("limit", type_=BigInteger()))
    if not query.count_total:
        return limited
    rows = limited.subquery("page")
    # A join promises no order, so the page's order is stated again outside.
    outer_key, outer_id = rows.c[query.sort_by], rows.c.session_id
    outer_order = (outer_key.desc(), outer_id.desc()) if query.sort_order == "desc" else (outer_key, outer_id)
    return (
        select(count.c[TOTAL_COUNT], rows).select_from(count.outerjoin(rows, true())).order_by(*outer_order)
    )


class ListingStatements:
    """The listing statements of one store, built once per query shape (see :func:`_shape`).

    Building the Core statements costs more than running them from SQLAlchemy's compiled
    cache; the values of a query are bound parameters, so a few dozen shapes cover every call.
    """

    def __init__(self, tables: Tables) -> None:
        self._tables = tables
        self._built: dict[_Shape, Select[Any]] = {}

    def page_query(self, query: SessionQuery) -> tuple[Select[Any], dict[str, Any]]:
        """The listing statement of ``query`` and its values (for the async path too).

        Raises:
            InvalidQuery: ``query.cursor`` is malformed or was made for another sort.
        """
        params = _params(query)
        shape = _shape(query)
        statement = self._built.get(shape)
        if statement is None:
            statement = _build(self._tables, query)
            # A race here only builds the same statement twice; dict assignment is atomic. The
            # metadata filter's kinds multiply the shapes: past the cap, a rare one is not kept.
            if len(self._built) < MAX_CACHED_SHAPES:
                self._built[shape] = statement
        return statement, params

    def select_page(self, conn: Connection, query: SessionQuery) -> Listing:
        """Run ``query`` against the sessions table.

        Raises:
            InvalidQuery: ``query.cursor`` is malformed or was made for another sort.
        """
        statement, params = self.page_query(query)
        # Through the driver cursor (see ``compiled``): SQLAlchemy's own execution and row
        # mappings cost about as much as the statement itself.
        return page_result(query, fetch_mappings(conn, statement, params))


def page_result(query: SessionQuery, found: Sequence[Mapping[str, Any]]) -> Listing:
    """The :class:`Listing` in the rows of a listing statement (see :meth:`ListingStatements.page_query`)."""
    if query.count_total:
        total = found[0][TOTAL_COUNT]
        # Past the last page, the one row is the count joined to nothing.
        rows = [row for row in found if row["session_id"] is not None]
    else:
        rows = list(found)
    next_cursor = None
    if len(rows) > query.limit:
        # The statement asks for one row more than the page: it came, so another page follows.
        rows = rows[: query.limit]
        last = rows[-1]
        cursor = Cursor(query.sort_by, query.sort_order, last[query.sort_by], last["session_id"])
        next_cursor = cursor.encode()
    if not query.count_total:
        total = len(rows)
    return Listing(rows=rows, total_count=total, next_cursor=next_cursor)
