"""Full-text search in SQL: the index rows every write keeps in step, and the ranked, paged query.

The index is the ``<sessions>_search`` table (:func:`~sessiondb.db._sql.tables.build_tables`):
one row per run holding :func:`~sessiondb.run.search_text.searchable_text`. Each engine indexes
it with its own full-text search:

- SQLite: an FTS5 table (``unicode61 remove_diacritics 2``: case and accents folded) over the
  rows, kept in step by triggers; ranked by ``bm25``, extracts by ``snippet``.
- PostgreSQL: a ``tsvector`` column written with the store's text search configuration
  (``search_config``, default ``simple``), a GIN index; ranked by ``ts_rank``, extracts by
  ``ts_headline`` (computed for the page's rows only).

Writes call :func:`index_runs` in the transaction that writes the runs, and deletes call
:func:`unindex_sessions` / :func:`unindex_run`, so the index never lags the runs. The user's
query reaches the engine only as quoted words (:func:`fts5_query`, :func:`tsquery_text`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Delete,
    Insert,
    Select,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, REGCONFIG

from sessiondb.db._sql.compiled import fetch
from sessiondb.db._sql.tables import Tables
from sessiondb.db.search import (
    ELLIPSIS,
    ENGINE_MARK_END,
    ENGINE_MARK_START,
    SearchHit,
    SearchQuery,
    Term,
    next_cursor,
    render_snippet,
)
from sessiondb.run.search_text import searchable_text
from sessiondb.run.workflow import AnyRun

SNIPPET_WORDS = 16
"""Words a snippet shows (FTS5's ``snippet`` token count, ``ts_headline``'s ``MaxWords``)."""


def fts5_query(terms: Sequence[Term]) -> str:
    """An FTS5 query matching every term: each a quoted phrase, ``*`` after a prefix, ANDed.

    Inside FTS5 double quotes nothing is an operator; a quote is escaped by doubling it.
    """
    parts = []
    for term in terms:
        words = " ".join(word.replace('"', '""') for word in term.words)
        parts.append(f'"{words}"' + (" *" if term.prefix else ""))
    return " AND ".join(parts)


def _lexeme(word: str, *, prefix: bool) -> str:
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'" + (":*" if prefix else "")


def tsquery_text(terms: Sequence[Term]) -> str:
    """A ``to_tsquery`` text matching every term: quoted lexemes, ``<->`` in a phrase, ``&`` between."""
    parts = []
    for term in terms:
        last = len(term.words) - 1
        lexemes = [_lexeme(word, prefix=term.prefix and i == last) for i, word in enumerate(term.words)]
        parts.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


# -- writing the index ------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexStatements:
    """The index writes of one store.

    Attributes:
        upsert: write the rows of ``:run_ids``/``:session_ids``/``:created``/``:bodies``
            (PostgreSQL: arrays, one statement; SQLite: executed once per row).
        delete_sessions: delete the rows of ``:session_ids`` (expanding).
        delete_run: delete the row of ``:run_id``.
    """

    upsert: Insert
    delete_sessions: Delete
    delete_run: Delete
    postgres: bool

    @classmethod
    def build(cls, tables: Tables, dialect: str) -> IndexStatements:
        """Build the statements for ``tables`` on ``dialect``."""
        search = tables.search
        values = ("run_id", "session_id", "created_at", "body")
        postgres = dialect == "postgresql"
        insert: postgresql.Insert | sqlite.Insert
        if postgres:
            rows = (
                func.unnest(
                    bindparam("run_ids", type_=ARRAY(Text())),
                    bindparam("session_ids", type_=ARRAY(Text())),
                    bindparam("created", type_=ARRAY(BigInteger())),
                    bindparam("bodies", type_=ARRAY(Text())),
                )
                .table_valued(*values)
                .render_derived()
            )
            vector = func.to_tsvector(cast(tables.names.search_config, REGCONFIG), rows.c.body)
            source = select(*(rows.c[name] for name in values), vector)
            insert = postgresql.insert(search).from_select([*values, "tsv"], source)
        else:
            insert = sqlite.insert(search).values({name: bindparam(name) for name in values})
        excluded = insert.excluded
        changes: dict[str, Any] = {name: excluded[name] for name in values[1:]}
        if postgres:
            changes["tsv"] = excluded.tsv
        # A run saved again with the same text (a status change, a re-delivery) leaves the
        # index alone: on SQLite an update re-indexes the row in FTS5 through the trigger.
        changed = or_(search.c.body != excluded.body, search.c.created_at != excluded.created_at)
        upsert = insert.on_conflict_do_update(index_elements=[search.c.run_id], set_=changes, where=changed)
        delete_sessions = delete(search).where(
            search.c.session_id.in_(bindparam("session_ids", expanding=True))
        )
        delete_run = delete(search).where(search.c.run_id == bindparam("run_id"))
        return cls(upsert, delete_sessions, delete_run, postgres)


_STATEMENTS: weakref.WeakKeyDictionary[Tables, IndexStatements] = weakref.WeakKeyDictionary()


def index_statements(conn: Connection, tables: Tables) -> IndexStatements:
    """The :class:`IndexStatements` of ``tables``, built once per store."""
    statements = _STATEMENTS.get(tables)
    if statements is None:
        statements = IndexStatements.build(tables, conn.dialect.name)
        _STATEMENTS[tables] = statements
    return statements


def index_runs(conn: Connection, tables: Tables, runs: Iterable[tuple[str, AnyRun]]) -> None:
    """Write the index rows of ``runs``, ``(session_id, run)`` pairs just written, in their transaction."""
    latest = {run.run_id: (session_id, run) for session_id, run in runs}
    if not latest:
        return
    statements = index_statements(conn, tables)
    rows = [
        {
            "run_id": run_id,
            "session_id": session_id,
            "created_at": run.created_at,
            "body": searchable_text(run),
        }
        for run_id, (session_id, run) in latest.items()
    ]
    # Through the driver cursor (sessiondb.db._sql.compiled): an agent turn's append sends it.
    if statements.postgres:
        arrays = {
            "run_ids": [row["run_id"] for row in rows],
            "session_ids": [row["session_id"] for row in rows],
            "created": [row["created_at"] for row in rows],
            "bodies": [row["body"] for row in rows],
        }
        fetch(conn, statements.upsert, arrays)
    elif len(rows) == 1:
        fetch(conn, statements.upsert, rows[0])
    else:
        conn.execute(statements.upsert, rows)  # SQLite, in process: one executemany


def unindex_sessions(conn: Connection, tables: Tables, session_ids: Sequence[str]) -> None:
    """Delete the index rows of every run of ``session_ids`` (before their runs are deleted)."""
    if session_ids:
        conn.execute(index_statements(conn, tables).delete_sessions, {"session_ids": list(session_ids)})


def unindex_run(conn: Connection, tables: Tables, run_id: str) -> None:
    """Delete the index row of ``run_id`` (before the run is deleted)."""
    conn.execute(index_statements(conn, tables).delete_run, {"run_id": run_id})


# -- searching --------------------------------------------------------------------------------


def _filters(tables: Tables, query: SearchQuery) -> list[ColumnElement[bool]]:
    sessions = tables.sessions.c
    found: list[ColumnElement[bool]] = []
    if query.user_id is not None:
        found.append(sessions.user_id == query.user_id)
    if query.session_type is not None:
        found.append(sessions.session_type == query.session_type)
    if query.component_id is not None:
        # With a type, component_id names that type's component; without one, any of the three.
        columns = {"agent": sessions.agent_id, "team": sessions.team_id, "workflow": sessions.workflow_id}
        if query.session_type is not None:
            found.append(columns[query.session_type] == query.component_id)
        else:
            found.append(or_(*(c == query.component_id for c in columns.values())))
    return found


def _after(
    query: SearchQuery, score: ColumnElement[Any], created_at: ColumnElement[Any], run_id: Any
) -> list[Any]:
    """The keyset condition: rows strictly after the cursor in (score, created_at, run_id) descending."""
    after = query.after
    if after is None:
        return []
    return [tuple_(score, created_at, run_id) < tuple_(after.score, after.created_at, after.run_id)]


def _sqlite_select(tables: Tables, query: SearchQuery) -> Select[Any]:
    search, sessions = tables.search, tables.sessions
    quote = sqlite.dialect().identifier_preparer.quote
    fts = table(tables.names.search_fts, column("rowid"))
    fts_name: ColumnElement[Any] = literal_column(quote(tables.names.search_fts))
    score = -func.bm25(fts_name)
    snippet = func.snippet(fts_name, 0, ENGINE_MARK_START, ENGINE_MARK_END, ELLIPSIS, SNIPPET_WORDS)
    conditions = [
        fts_name.op("MATCH")(fts5_query(query.terms)),
        *_filters(tables, query),
        *_after(query, score, search.c.created_at, search.c.run_id),
    ]
    return (
        select(
            search.c.run_id,
            search.c.session_id,
            search.c.created_at,
            score.label("score"),
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
        .limit(query.limit + 1)
    )


def _postgres_select(tables: Tables, query: SearchQuery) -> Select[Any]:
    search, sessions = tables.search, tables.sessions
    config = cast(tables.names.search_config, REGCONFIG)
    tsquery = func.to_tsquery(config, tsquery_text(query.terms))
    # ts_rank is a float4, which psycopg hands over rounded to its shortest text: as float8 the
    # value in a cursor is exactly the one the next page's condition compares with.
    score = cast(func.ts_rank(search.c.tsv, tsquery), DOUBLE_PRECISION)
    conditions = [
        search.c.tsv.op("@@")(tsquery),
        *_filters(tables, query),
        *_after(query, score, search.c.created_at, search.c.run_id),
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
        .limit(query.limit + 1)
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
        page.c.score,
        snippet.label("snippet"),
        page.c.session_type,
        page.c.session_name,
    ).order_by(page.c.score.desc(), page.c.created_at.desc(), page.c.run_id.desc())


def search_select(conn: Connection, tables: Tables, query: SearchQuery) -> Select[Any]:
    """The statement of one page of ``query`` (``limit + 1`` rows, to know whether more follow)."""
    if conn.dialect.name == "postgresql":
        return _postgres_select(tables, query)
    return _sqlite_select(tables, query)


def search_page(conn: Connection, tables: Tables, query: SearchQuery) -> tuple[list[SearchHit], str | None]:
    """Run ``query``: the page's hits, and the cursor to the next page (``None`` on the last)."""
    rows = conn.execute(search_select(conn, tables, query)).mappings().all()
    hits = [
        SearchHit(
            session_id=row["session_id"],
            session_name=row["session_name"],
            session_type=row["session_type"],
            run_id=row["run_id"],
            snippet=render_snippet(row["snippet"] or ""),
            score=float(row["score"]),
            created_at=row["created_at"],
        )
        for row in rows[: query.limit]
    ]
    return hits, next_cursor(hits, query, more=len(rows) > query.limit)
