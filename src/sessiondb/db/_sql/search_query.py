"""The search query in SQL: one statement per shape of query, built and compiled once per store.

SQLite matches with FTS5 ``MATCH`` and extracts with ``snippet``; one user's search ranks by
the number of matches (:func:`_match_count`), a search across users by ``bm25``. PostgreSQL matches
the ``tsvector`` with ``@@``, ranks with ``ts_rank`` and extracts with ``ts_headline`` for the
page's rows only. Both join the sessions for the listing filters, order by (score, run
``created_at``, ``run_id``) descending and page by keyset. The user's query is bound as the
engine query :mod:`sessiondb.db._sql.search` builds from its terms.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Connection,
    Float,
    Select,
    Text,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, REGCONFIG
from sqlalchemy.types import NullType

from sessiondb.db._sql.built_once import built_once
from sessiondb.db._sql.compiled import fetch
from sessiondb.db._sql.search import SNIPPET_WORDS, fts5_query, tsquery_text
from sessiondb.db._sql.tables import Tables
from sessiondb.db.search import (
    ELLIPSIS,
    ENGINE_MARK_END,
    ENGINE_MARK_START,
    SearchHit,
    SearchQuery,
    next_cursor,
    render_snippet,
)

_Shape = tuple[bool, str | None, bool, bool]
"""What decides a search statement's SQL: user filter, type, component filter, cursor."""


def _shape(query: SearchQuery) -> _Shape:
    return (
        query.user_id is not None,
        query.session_type,
        query.component_id is not None,
        query.after is not None,
    )


def _filters(tables: Tables, shape: _Shape) -> list[ColumnElement[bool]]:
    sessions = tables.sessions.c
    by_user, session_type, by_component, _ = shape
    # A session in the trash is gone for every read, search included (until restored).
    found: list[ColumnElement[bool]] = [sessions.deleted_at.is_(None)]
    if by_user:
        found.append(sessions.user_id == bindparam("user_id"))
    if session_type is not None:
        found.append(sessions.session_type == bindparam("session_type"))
    if by_component:
        # With a type, component_id names that type's component; without one, any of the three.
        columns = {"agent": sessions.agent_id, "team": sessions.team_id, "workflow": sessions.workflow_id}
        component: BindParameter[Any] = bindparam("component_id")
        if session_type is not None:
            found.append(columns[session_type] == component)
        else:
            found.append(or_(*(c == component for c in columns.values())))
    return found


def _after(
    shape: _Shape, score: ColumnElement[Any], created_at: ColumnElement[Any], run_id: Any
) -> list[Any]:
    """The keyset condition: rows strictly after the cursor in (score, created_at, run_id) descending."""
    if not shape[3]:
        return []
    cursor = tuple_(
        bindparam("after_score", type_=Float()),
        bindparam("after_created_at", type_=BigInteger()),
        bindparam("after_run_id", type_=Text()),
    )
    return [tuple_(score, created_at, run_id) < cursor]


def _match_count(fts_name: ColumnElement[Any], body: ColumnElement[Any]) -> ColumnElement[Any]:
    """How many matches FTS5 marks in a row's ``body``: ``highlight`` adds two characters each.

    The score of one user's search (as ``InMemoryDb``'s, and like ``ts_rank`` without IDF).
    ``bm25`` would need the number of rows holding each phrase over the whole index, which
    FTS5 counts by walking the phrase's doclist across every user's runs at each query: for a
    common phrase 490 ms at 1,000,000 runs where the match itself takes 0.7 ms. ``highlight``
    re-reads only the user's matching rows.
    """
    marked = func.highlight(fts_name, 0, literal_column("char(1)"), literal_column("char(1)"))
    return (func.length(marked) - func.length(body)) / literal_column("2.0")


def _sqlite_select(tables: Tables, shape: _Shape) -> Select[Any]:
    search, sessions = tables.search, tables.sessions
    quote = sqlite.dialect().identifier_preparer.quote
    fts = table(tables.names.search_fts, column("rowid"))
    fts_name: ColumnElement[Any] = literal_column(quote(tables.names.search_fts))
    # The match binds the user's owner token when the search is one user's (search.fts5_query).
    ranking = _match_count(fts_name, search.c.body) if shape[0] else -func.bm25(fts_name)
    score = ranking.label("score")
    snippet = func.snippet(fts_name, 0, ENGINE_MARK_START, ENGINE_MARK_END, ELLIPSIS, SNIPPET_WORDS)
    conditions = [
        fts_name.op("MATCH")(bindparam("match", type_=Text())),
        *_filters(tables, shape),
        *_after(shape, ranking, search.c.created_at, search.c.run_id),
    ]
    return (
        select(
            search.c.run_id,
            search.c.session_id,
            search.c.created_at,
            score,
            snippet.label("snippet"),
            sessions.c.session_type,
            sessions.c.session_name,
        )
        .select_from(
            fts.join(search, search.c.doc_id == fts.c.rowid).join(
                sessions, sessions.c.session_id == search.c.session_id
            )
        )
        .where(*conditions)
        .order_by(score.desc(), search.c.created_at.desc(), search.c.run_id.desc())
        .limit(bindparam("limit", type_=BigInteger()))
    )


def _postgres_select(tables: Tables, shape: _Shape) -> Select[Any]:
    search, sessions = tables.search, tables.sessions
    config = cast(tables.names.search_config, REGCONFIG)
    tsquery = func.to_tsquery(config, bindparam("match", type_=Text()))
    # ts_rank is a float4, which psycopg hands over rounded to its shortest text: as float8 the
    # value in a cursor is exactly the one the next page's condition compares with.
    score = cast(func.ts_rank(search.c.tsv, tsquery), DOUBLE_PRECISION)
    conditions = [
        search.c.tsv.op("@@")(tsquery),
        *_filters(tables, shape),
        *_after(shape, score, search.c.created_at, search.c.run_id),
    ]
    page = (
        select(
            search.c.run_id,
            search.c.session_id,
            search.c.created_at,
            search.c.body,
            score.label("score"),
            sessions.c.session_type,
            sessions.c.session_name,
        )
        .select_from(search.join(sessions, sessions.c.session_id == search.c.session_id))
        .where(*conditions)
        .order_by(score.desc(), search.c.created_at.desc(), search.c.run_id.desc())
        .limit(bindparam("limit", type_=BigInteger()))
        .subquery("page")
    )
    # ts_headline re-parses the text: only the page's rows pay for it.
    options = (
        f'StartSel="{ENGINE_MARK_START}", StopSel="{ENGINE_MARK_END}", MaxWords={SNIPPET_WORDS}, '
        f'MinWords={SNIPPET_WORDS // 2}, ShortWord=0, FragmentDelimiter="{ELLIPSIS}", MaxFragments=2'
    )
    snippet = func.ts_headline(config, page.c.body, tsquery, options)
    return select(
        page.c.run_id,
        page.c.session_id,
        page.c.created_at,
        # Untyped on the way out: psycopg already returns a float8 as a float, and a Float
        # type's result processor needs the column's type code, which a compiled statement
        # run on the driver cursor does not have.
        type_coerce(page.c.score, NullType()).label("score"),
        snippet.label("snippet"),
        page.c.session_type,
        page.c.session_name,
    ).order_by(page.c.score.desc(), page.c.created_at.desc(), page.c.run_id.desc())


class SearchStatements:
    """The search statements of one store, built once per shape (:data:`_Shape`) with bound values."""

    def __init__(self, tables: Tables, dialect: str) -> None:
        """Statements over ``tables`` in ``dialect``'s SQL."""
        self._tables = tables
        self._build = _postgres_select if dialect == "postgresql" else _sqlite_select
        self._postgres = dialect == "postgresql"
        self._built: dict[_Shape, Select[Any]] = {}

    def statement(self, query: SearchQuery) -> Select[Any]:
        """The statement of ``query``'s shape (``limit + 1`` rows, to know whether more follow)."""
        shape = _shape(query)
        found = self._built.get(shape)
        if found is None:
            # Two threads may both build it; they build equal statements and the last one stays.
            found = self._built[shape] = self._build(self._tables, shape)
        return found

    def values(self, query: SearchQuery) -> dict[str, Any]:
        """The values ``query`` binds to its statement."""
        match = tsquery_text(query.terms) if self._postgres else fts5_query(query.terms, query.user_id)
        values: dict[str, Any] = {"match": match, "limit": query.limit + 1}
        if query.user_id is not None:
            values["user_id"] = query.user_id
        if query.session_type is not None:
            values["session_type"] = query.session_type
        if query.component_id is not None:
            values["component_id"] = query.component_id
        if query.after is not None:
            values.update(
                after_score=query.after.score,
                after_created_at=query.after.created_at,
                after_run_id=query.after.run_id,
            )
        return values


def search_page(conn: Connection, tables: Tables, query: SearchQuery) -> tuple[list[SearchHit], str | None]:
    """Run ``query``: the page's hits, and the cursor to the next page (``None`` on the last).

    Through the driver cursor (:func:`~sessiondb.db._sql.compiled.fetch`): each statement is
    built and compiled once per store and shape, so a search costs about what its SQL costs.
    """
    dialect = conn.dialect.name
    build = lambda: SearchStatements(tables, dialect)  # noqa: E731
    statements = built_once(tables.search, f"search_statements.{dialect}", build)
    rows = fetch(conn, statements.statement(query), statements.values(query))
    hits = [
        SearchHit(
            session_id=session_id,
            session_name=session_name,
            session_type=session_type,
            run_id=run_id,
            snippet=render_snippet(snippet or ""),
            score=float(score),
            created_at=created_at,
        )
        for run_id, session_id, created_at, score, snippet, session_type, session_name in rows[: query.limit]
    ]
    return hits, next_cursor(hits, query, more=len(rows) > query.limit)
