"""The two tables the SQL backends use, built for the names and schema a store was given.

This describes the schema *as the code expects it*; the migrations in
:mod:`sessiondb.db.migrations` create it (they keep their own copy of the definitions, so a
later change here never rewrites history). A test checks that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.types import TypeEngine

DEFAULT_SESSION_TABLE = "sessiondb_sessions"
DEFAULT_SEARCH_CONFIG = "simple"
"""PostgreSQL's text search configuration for the search index: lower-cases words, no stemming
and no stop words, so it behaves like SQLite's ``unicode61`` tokenizer for every language."""


def json_type() -> TypeEngine[Any]:
    """JSON text on SQLite, JSONB on PostgreSQL; Python ``None`` is stored as SQL NULL."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def payload_json_type() -> TypeEngine[Any]:
    """JSON kept as the text written: text on SQLite, ``json`` (not ``JSONB``) on PostgreSQL.

    For run payloads, which are written whole and read back whole as text, never queried
    inside (the columns reads filter on are their own). PostgreSQL only checks ``json``'s
    syntax and stores the text, where ``JSONB`` builds a binary tree on every insert and
    renders it back to text on every read: measured on 2,000 runs of 2 KB, COPY 74 → 56 ms
    and reading 1,000 back 25.7 → 12.8 ms, 12% less disk. It also keeps U+0000
    (``\\u0000`` in JSON), which ``JSONB`` refuses and SQLite keeps.
    """
    return JSON(none_as_null=True)


def key_type() -> TypeEngine[str]:
    """A string that sorts by code point everywhere, as Python and ``InMemoryDb`` sort.

    SQLite compares text bytewise (UTF-8, so by code point); PostgreSQL would use the
    database's locale, so these columns get the ``"C"`` collation there.
    """
    return String().with_variant(String(collation="C"), "postgresql")


@dataclass(frozen=True)
class TableNames:
    """Where a store keeps its data.

    Attributes:
        sessions: the sessions table.
        runs: the runs table (default ``<sessions>_runs``).
        version: the Alembic version table of this pair (``<sessions>_version``).
        schema: the database schema (PostgreSQL), or ``None``.
        search_config: the PostgreSQL text search configuration the search index is written
            and queried with (ignored by SQLite).
    """

    sessions: str
    runs: str
    version: str
    schema: str | None
    search_config: str = DEFAULT_SEARCH_CONFIG

    @property
    def changes(self) -> str:
        """The change feed's outbox table (``<sessions>_changes``)."""
        return f"{self.sessions}_changes"

    @classmethod
    def build(
        cls,
        session_table: str | None,
        runs_table: str | None,
        schema: str | None,
        search_config: str = DEFAULT_SEARCH_CONFIG,
    ) -> TableNames:
        """Fill in the defaults for the names a backend constructor was given."""
        sessions = session_table or DEFAULT_SESSION_TABLE
        return cls(sessions, runs_table or f"{sessions}_runs", f"{sessions}_version", schema, search_config)

    @property
    def search(self) -> str:
        """The search index's table (``<sessions>_search``): one row per run, its searchable text."""
        return f"{self.sessions}_search"

    @property
    def search_fts(self) -> str:
        """SQLite's FTS5 table over :attr:`search`; its shadow tables' names start with it."""
        return f"{self.sessions}_search_fts"


RUN_CONTROL_COLUMNS: tuple[str, ...] = ("cancel_requested_at",)
"""Run columns that writes of a run never set: only their own statements do (migration 0005).

Leaving them out of every run ``INSERT``, upsert and ``COPY`` keeps a request made meanwhile
across the run's rewrites, and keeps the writes valid on tables of an earlier revision."""


def run_write_columns(runs: Table) -> list[Column[Any]]:
    """The columns a write of a run sets: all but :data:`RUN_CONTROL_COLUMNS`."""
    return [column for column in runs.c if column.name not in RUN_CONTROL_COLUMNS]


@dataclass(frozen=True)
class Tables:
    """The SQLAlchemy ``Table`` objects of one store."""

    names: TableNames
    metadata: MetaData
    sessions: Table
    runs: Table
    search: Table
    changes: Table


def build_tables(names: TableNames, dialect: str | None = None) -> Tables:
    """Describe the sessions and runs tables under ``names``, as migrated on ``dialect``.

    ``dialect`` (an engine's ``dialect.name``) adds the indexes only that dialect has.
    """
    metadata = MetaData(schema=names.schema)
    s, r = names.sessions, names.runs
    sessions = Table(
        s,
        metadata,
        Column("session_id", key_type(), primary_key=True),
        Column("session_type", String, nullable=False),
        Column("agent_id", String),
        Column("team_id", String),
        Column("workflow_id", String),
        Column("user_id", String),
        Column("workflow_name", String),
        # The session name (spec §4) is kept in columns at write time so that listing, sorting
        # and filtering by name never read a run: the explicit name (session_data's
        # session_name), the name derived from the first run and that run's id (the derived
        # name is recomputed only when that run changes or goes), the name shown (explicit,
        # else derived) and its lower-case form that the name filter searches.
        Column("explicit_name", String),
        Column("derived_name", String, nullable=False),
        Column("name_run_id", String),
        Column("session_name", key_type(), nullable=False),
        Column("name_search", String, nullable=False),
        Column("session_data", json_type()),
        Column("agent_data", json_type()),
        Column("team_data", json_type()),
        Column("workflow_data", json_type()),
        Column("metadata", json_type()),
        Column("summary", json_type()),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
        Column("version", Integer, nullable=False),
        Column("next_run_index", BigInteger, nullable=False),
        # Set while the session is in the trash (soft delete, migration 0007); every read skips it.
        Column("deleted_at", BigInteger),
        # Every listing index ends with deleted_at (migration 0007): a listing skips the trash,
        # and reads the flag from the index, so a count stays an index-only scan.
        Index(f"idx_{s}_created", "created_at", "session_id", "deleted_at"),
        Index(f"idx_{s}_updated", "updated_at", "session_id", "deleted_at"),
        Index(f"idx_{s}_user_created", "user_id", "created_at", "session_id", "deleted_at"),
        Index(f"idx_{s}_user_updated", "user_id", "updated_at", "session_id", "deleted_at"),
        Index(f"idx_{s}_type_created", "session_type", "created_at", "session_id", "deleted_at"),
        Index(f"idx_{s}_type_updated", "session_type", "updated_at", "session_id", "deleted_at"),
        # One user's sessions of one type, the listing the AgentOS API makes (migration 0002).
        Index(
            f"idx_{s}_user_type_created", "user_id", "session_type", "created_at", "session_id", "deleted_at"
        ),
        Index(
            f"idx_{s}_user_type_updated", "user_id", "session_type", "updated_at", "session_id", "deleted_at"
        ),
        Index(f"idx_{s}_name", "session_name", "session_id", "deleted_at"),
        Index(f"idx_{s}_agent_id", "agent_id"),
        Index(f"idx_{s}_team_id", "team_id"),
        Index(f"idx_{s}_workflow_id", "workflow_id"),
    )
    if dialect == "postgresql":
        # The metadata filter's ``@>`` (migration 0004); SQLite has no index that serves it.
        Index(
            f"idx_{s}_metadata",
            sessions.c.metadata,
            postgresql_using="gin",
            postgresql_ops={"metadata": "jsonb_path_ops"},
        )
    # Partial: only the trash is indexed (for the purge), so a read of live sessions, whose
    # deleted_at is NULL, never picks this index over the one its filter and sort need.
    in_trash = sessions.c.deleted_at.is_not(None)
    Index(f"idx_{s}_deleted", sessions.c.deleted_at, sqlite_where=in_trash, postgresql_where=in_trash)
    session_fk = f"{names.schema}.{s}.session_id" if names.schema else f"{s}.session_id"
    runs = Table(
        r,
        metadata,
        Column("run_id", String, primary_key=True),
        Column("session_id", key_type(), ForeignKey(session_fk, ondelete="CASCADE"), nullable=False),
        Column("run_index", BigInteger, nullable=False),
        Column("run_type", String, nullable=False),
        Column("agent_id", String),
        Column("team_id", String),
        Column("workflow_id", String),
        Column("user_id", String),
        Column("parent_run_id", String),
        Column("status", String),
        Column("run_data", payload_json_type(), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("updated_at", BigInteger, nullable=False),
        # Set by a cancel request for a run in progress; its process checks it (migration 0005).
        Column("cancel_requested_at", BigInteger),
        UniqueConstraint("session_id", "run_index", name=f"uq_{r}_session_index"),
    )
    return Tables(
        names,
        metadata,
        sessions,
        runs,
        _search_table(names, metadata, dialect),
        _changes_table(names, metadata),
    )


def _search_table(names: TableNames, metadata: MetaData, dialect: str | None) -> Table:
    """The search index (migration 0006): one row per run holding the text search finds it by.

    SQLite indexes ``body`` with an FTS5 table over this one (``content=``, kept in step by
    triggers; ``doc_id`` is its rowid, an ``INTEGER PRIMARY KEY`` so that ``VACUUM`` never
    renumbers it), and ``owner`` (migration 0009), the run's user as one token, as its second
    column, so that one user's search starts from that user's runs (see
    :func:`~sessiondb.db._sql.search.owner_token`). PostgreSQL keeps the ``tsvector`` in
    ``tsv``, with a GIN index. Rows go with their run (``ON DELETE CASCADE``) and are also
    deleted explicitly, for engines that do not enforce foreign keys.
    """
    search = names.search
    run_fk = f"{names.schema}.{names.runs}.run_id" if names.schema else f"{names.runs}.run_id"
    return Table(
        search,
        metadata,
        Column(
            "doc_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        Column("run_id", String, ForeignKey(run_fk, ondelete="CASCADE"), nullable=False, unique=True),
        Column("session_id", key_type(), nullable=False),
        Index(f"ix_{search}_session_id", "session_id"),
        Column("created_at", BigInteger, nullable=False),
        Column("body", Text, nullable=False),
        *(
            [
                Column("tsv", TSVECTOR(), nullable=False),
                Index(f"idx_{search}_tsv", "tsv", postgresql_using="gin"),
            ]
            if dialect == "postgresql"
            else [Column("owner", Text)]
        ),
    )


def _changes_table(names: TableNames, metadata: MetaData) -> Table:
    """The change feed's outbox (``<sessions>_changes``, migration 0007).

    One row per change, written in the transaction of the write it records. No foreign key: a
    deleted session's changes outlive it.
    """
    c = names.changes
    return Table(
        c,
        metadata,
        Column(
            "change_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        Column("kind", String, nullable=False),
        Column("session_id", key_type(), nullable=False),
        Column("run_id", String),
        Column("session_type", String, nullable=False),
        Column("user_id", String),
        Column("version", Integer, nullable=False),
        Column("at", BigInteger, nullable=False),
        Index(f"idx_{c}_user", "user_id", "change_id"),
        Index(f"idx_{c}_at", "at"),
        # AUTOINCREMENT: SQLite never reuses an id, even once pruning has emptied the table, so
        # a reader's position stays behind every change recorded later.
        sqlite_autoincrement=True,
    )
