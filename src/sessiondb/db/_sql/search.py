"""Full-text search in SQL: the index rows every write keeps in step, and the engine queries.

The index is the ``<sessions>_search`` table (:func:`~sessiondb.db._sql.tables.build_tables`):
one row per run holding :func:`~sessiondb.run.search_text.searchable_text`. Each engine indexes
it with its own full-text search:

- SQLite: an FTS5 table (``unicode61 remove_diacritics 2``: case and accents folded) over the
  rows' ``body`` and ``owner`` (the run's user as one token, :func:`owner_token`), kept in step
  by triggers (and ``owner`` by a trigger on the sessions' ``user_id``, migration 0010);
  extracts by ``snippet``.
- PostgreSQL: a ``tsvector`` column written with the store's text search configuration
  (``search_config``, default ``simple``), a GIN index; ranked by ``ts_rank``, extracts by
  ``ts_headline`` (the query is in :mod:`sessiondb.db._sql.search_query`).

Writes call :func:`index_runs` in the transaction that writes the runs, and deletes call
:func:`unindex_sessions` / :func:`unindex_run`, so the index never lags the runs. The user's
query reaches the engine only as quoted words (:func:`fts5_query`, :func:`tsquery_text`).
"""

from __future__ import annotations

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
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import REGCONFIG

from sessiondb.db._sql.built_once import built_once
from sessiondb.db._sql.compiled import fetch
from sessiondb.db._sql.tables import Tables
from sessiondb.db.search import (
    Term,
)
from sessiondb.run.search_text import searchable_text
from sessiondb.run.workflow import AnyRun

SNIPPET_WORDS = 16
"""Words a snippet shows (FTS5's ``snippet`` token count, ``ts_headline``'s ``MaxWords``)."""


def owner_token(user_id: str) -> str:
    """The FTS5 token that stands for ``user_id`` in the ``owner`` column (as :func:`owner_sql`).

    ``u`` and the hexadecimal of its UTF-8 bytes: letters and digits only, so ``unicode61``
    keeps it one token whatever the id holds, and no two ids share one.
    """
    return "u" + user_id.encode().hex().upper()


def owner_sql(user_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """SQLite's :func:`owner_token` of ``user_id`` (``NULL`` when it is: no owner token)."""
    return literal_column("'u'", Text()).op("||")(func.hex(user_id))


def fts5_query(terms: Sequence[Term], user_id: str | None = None) -> str:
    """An FTS5 query matching every term in ``body``: each a quoted phrase, ``*`` after a prefix, ANDed.

    With ``user_id``, only that user's runs: FTS5 then intersects the terms with the short
    doclist of the user's ``owner`` token instead of walking them over every user's runs.
    Inside FTS5 double quotes nothing is an operator; a quote is escaped by doubling it.
    """
    parts = []
    for term in terms:
        words = " ".join(word.replace('"', '""') for word in term.words)
        parts.append(f'"{words}"' + (" *" if term.prefix else ""))
    body = "body : (" + " AND ".join(parts) + ")"
    return body if user_id is None else f'owner : "{owner_token(user_id)}" AND {body}'


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
            sessions = tables.sessions
            owner = (
                select(owner_sql(sessions.c.user_id))
                .where(sessions.c.session_id == bindparam("session_id"))
                .scalar_subquery()
            )
            bound: dict[str, Any] = {name: bindparam(name) for name in values}
            insert = sqlite.insert(search).values({**bound, "owner": owner})
        excluded = insert.excluded
        changes: dict[str, Any] = {name: excluded[name] for name in values[1:]}
        changes["tsv" if postgres else "owner"] = excluded.tsv if postgres else excluded.owner
        # A run saved again with the same text (a status change, a re-delivery) leaves the
        # index alone: on SQLite an update re-indexes the row in FTS5 through the trigger.
        changed = or_(search.c.body != excluded.body, search.c.created_at != excluded.created_at)
        key = [search.c[name] for name in tables.run_key]
        upsert = insert.on_conflict_do_update(index_elements=key, set_=changes, where=changed)
        delete_sessions = delete(search).where(
            search.c.session_id.in_(bindparam("session_ids", expanding=True))
        )
        # By the run's whole key: on a sharded store the delete goes to the session's shard only.
        delete_run = delete(search).where(
            search.c.session_id == bindparam("session_id"), search.c.run_id == bindparam("run_id")
        )
        return cls(upsert, delete_sessions, delete_run, postgres)


def index_statements(conn: Connection, tables: Tables) -> IndexStatements:
    """The :class:`IndexStatements` of ``tables``, built once per store."""
    dialect = conn.dialect.name
    build = lambda: IndexStatements.build(tables, dialect)  # noqa: E731
    return built_once(tables.search, f"index_statements.{dialect}", build)


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


def unindex_run(conn: Connection, tables: Tables, session_id: str, run_id: str) -> None:
    """Delete the index row of run ``run_id`` of ``session_id`` (before the run is deleted)."""
    conn.execute(index_statements(conn, tables).delete_run, {"session_id": session_id, "run_id": run_id})


def index_fork(conn: Connection, tables: Tables, source_id: str, target_id: str) -> None:
    """Write the index rows of a fork's copied runs, copied from the source's rows in SQL.

    A copy keeps its run's index and text (only ids change), so each copied run takes the
    index row of the source run at its index: same body, and on PostgreSQL the same
    ``tsvector``, without bringing a run to Python (see :mod:`sessiondb.db._sql.fork`).
    """
    search, runs, sessions = tables.search, tables.runs, tables.sessions
    copy, original = runs.alias("copy"), runs.alias("original")
    copied = ["body", "tsv"] if "tsv" in search.c else ["body"]
    taken: list[ColumnElement[Any]] = [search.c[name] for name in copied]
    if "owner" in search.c:
        # The fork's owner, which may not be the source's (fork_session(user_id=...)).
        copied.append("owner")
        target = select(owner_sql(sessions.c.user_id)).where(sessions.c.session_id == bindparam("target_id"))
        taken.append(target.scalar_subquery())
    rows = (
        select(copy.c.run_id, copy.c.session_id, search.c.created_at, *taken)
        .select_from(
            copy.join(
                original,
                (original.c.session_id == bindparam("source_id"))
                & (original.c.run_index == copy.c.run_index),
            ).join(
                search,
                (search.c.session_id == original.c.session_id) & (search.c.run_id == original.c.run_id),
            )
        )
        .where(copy.c.session_id == bindparam("target_id"))
    )
    statement = insert(search).from_select(["run_id", "session_id", "created_at", *copied], rows)
    conn.execute(statement, {"source_id": source_id, "target_id": target_id})
