"""The search index knows each run's owner (SQLite): one user's search starts from that user's runs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

FTS5 cannot filter on a column it does not index, so a user's search used to walk the
doclists of the query's words over *every* user's runs before the join kept the user's. This
revision adds ``owner`` to ``<sessions>_search``: ``'u' || hex(user_id)`` of the run's session
(a single token for FTS5's ``unicode61``, whatever characters the user id holds), indexed as
a second FTS5 column. ``owner : "u…" AND body : (…)`` then lets FTS5 intersect the query with
the user's short doclist (see :mod:`sessiondb.db._sql.search_query`).

The owner is kept right by the engine: the index writes compute it from the session row, and
a trigger on the sessions table rewrites it when a session's ``user_id`` changes (the search
table's update trigger then re-indexes those rows in FTS5).

PostgreSQL is unchanged (its search starts from the user's sessions by their B-tree index).

The upgrade fills ``owner`` and rebuilds the FTS5 table from the stored texts (FTS5
tokenizes every text again: on a large store, about as long as the 0006 backfill's indexing;
plan it for a quiet moment). The downgrade rebuilds the FTS5 table without ``owner``.
"""

from __future__ import annotations

from typing import Any

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FTS_OPTIONS = "tokenize='unicode61 remove_diacritics 2'"


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def _quote(name: str) -> str:
    return op.get_context().dialect.identifier_preparer.quote(name)


def owner_sql(user_id: str) -> str:
    """SQL for the owner token of a session whose ``user_id`` is the expression ``user_id``."""
    return f"('u' || hex({user_id}))"


def _drop_fts(names: Any) -> None:
    for suffix in ("_ai", "_ad", "_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {_quote(names.search + suffix)}")
    op.execute(f"DROP TABLE IF EXISTS {_quote(names.search_fts)}")


def _create_fts(names: Any, columns: list[str]) -> None:
    """The FTS5 table over ``columns`` of the search table, its three triggers, and its index."""
    s, f = _quote(names.search), _quote(names.search_fts)
    listed = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    op.execute(
        f"CREATE VIRTUAL TABLE {f} USING fts5({listed}, content={s}, content_rowid='doc_id', {FTS_OPTIONS})"
    )
    # External-content FTS5 is not told about changes to its table: these triggers tell it.
    op.execute(
        f"CREATE TRIGGER {_quote(names.search + '_ai')} AFTER INSERT ON {s} BEGIN "
        f"INSERT INTO {f}(rowid, {listed}) VALUES (new.doc_id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {_quote(names.search + '_ad')} AFTER DELETE ON {s} BEGIN "
        f"INSERT INTO {f}({f}, rowid, {listed}) VALUES ('delete', old.doc_id, {old}); END"
    )
    op.execute(
        f"CREATE TRIGGER {_quote(names.search + '_au')} AFTER UPDATE ON {s} BEGIN "
        f"INSERT INTO {f}({f}, rowid, {listed}) VALUES ('delete', old.doc_id, {old}); "
        f"INSERT INTO {f}(rowid, {listed}) VALUES (new.doc_id, {new}); END"
    )
    # Index every stored row from the content table.
    op.execute(f"INSERT INTO {f}({f}) VALUES ('rebuild')")


def upgrade() -> None:
    """Add and fill ``owner``, rebuild the FTS5 table over it, keep it in step with ``user_id``."""
    if not _sqlite():
        return
    names = _names()
    s, sessions = _quote(names.search), _quote(names.sessions)
    _drop_fts(names)
    op.execute(f"ALTER TABLE {s} ADD COLUMN owner TEXT")
    op.execute(
        f"UPDATE {s} SET owner = (SELECT {owner_sql('x.user_id')} FROM {sessions} AS x "
        f"WHERE x.session_id = {s}.session_id)"
    )
    _create_fts(names, ["body", "owner"])
    op.execute(
        f"CREATE TRIGGER {_quote(names.sessions + '_search_owner')} AFTER UPDATE OF user_id ON {sessions} "
        f"WHEN old.user_id IS NOT new.user_id BEGIN "
        f"UPDATE {s} SET owner = {owner_sql('new.user_id')} WHERE session_id = new.session_id; END"
    )


def downgrade() -> None:
    """Drop the trigger and ``owner``; the FTS5 table indexes ``body`` alone again."""
    if not _sqlite():
        return
    names = _names()
    op.execute(f"DROP TRIGGER IF EXISTS {_quote(names.sessions + '_search_owner')}")
    _drop_fts(names)
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35), as 0007's downgrade does.
    op.execute(f"ALTER TABLE {_quote(names.search)} DROP COLUMN owner")
    _create_fts(names, ["body"])
