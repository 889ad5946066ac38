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
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.types import TypeEngine

DEFAULT_SESSION_TABLE = "sessiondb_sessions"
DEFAULT_SEARCH_CONFIG = "simple"
"""PostgreSQL's text search configuration for the search index: lower-cases words, no stemming
and no stop words, so it behaves like SQLite's ``unicode61`` tokenizer for every language."""


LEASED_IN_PROGRESS_SQL = "status IN ('PENDING', 'RUNNING') AND lease_expires_at IS NOT NULL"
"""The runs the lease index holds (migration 0008): in progress, with a lease."""


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


RUN_CONTROL_COLUMNS: tuple[str, ...] = ("cancel_requested_at", "lease_expires_at")
"""Run columns that writes of a run never set: only their own statements do (migrations 0005, 0008).

Leaving them out of every run ``INSERT``, upsert and ``COPY`` keeps a request made meanwhile
across the run's rewrites, and keeps the writes valid on tables of an earlier revision."""


def run_write_columns(runs: Table) -> list[Column[Any]]:
    """The columns a write of a run sets: all but :data:`RUN_CONTROL_COLUMNS`."""
    return [column for column in runs.c if column.name not in RUN_CONTROL_COLUMNS]


DISTRIBUTABLE_DIALECTS = frozenset({"postgresql"})
"""The engines whose schema is keyed for sharding by ``session_id`` (migration 0009, Citus):
every primary key and unique constraint of a table holding a session's data includes it. SQLite
is never sharded and keeps its keys (its search index needs ``doc_id`` as the FTS5 rowid)."""


def run_id_guard(names: TableNames) -> str:
    """The unique index on ``runs.run_id`` alone that keeps a run id in one session on PostgreSQL.

    The runs' primary key is ``(session_id, run_id)`` there (migration 0009); this index is the
    one unique index not led by the distribution column, so sharding drops it (docs/scale-out.md).
    """
    return f"uq_{names.runs}_run_id"


@dataclass(frozen=True)
class Tables:
    """The SQLAlchemy ``Table`` objects of one store.

    Attributes:
        run_key: the names of the columns a run's row is unique by, the target of the
            ``ON CONFLICT`` of every run and search-index upsert: ``("session_id", "run_id")``
            where the schema is distributable (:data:`DISTRIBUTABLE_DIALECTS`), ``("run_id",)``
            on SQLite.
    """

    names: TableNames
    metadata: MetaData
    sessions: Table
    runs: Table
    search: Table
    changes: Table
    run_key: tuple[str, ...]


def build_tables(names: TableNames, dialect: str | None = None) -> Tables:
    """Describe the sessions and runs tables under ``names``, as migrated on ``dialect``.

    ``dialect`` (an engine's ``dialect.name``) adds the indexes only that dialect has, and
    chooses the keys (see :data:`DISTRIBUTABLE_DIALECTS`).
    """
    distributable = dialect in DISTRIBUTABLE_DIALECTS
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
        Column("run_id", String, nullable=False),
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
        # Renewed by the process executing the run while it is in progress (migration 0008).
        Column("lease_expires_at", BigInteger),
        UniqueConstraint("session_id", "run_index", name=f"uq_{r}_session_index"),
        *(
            # Keyed by session (migration 0009); the guard keeps a run id in one session while
            # the tables live on one server.
            [PrimaryKeyConstraint("session_id", "run_id"), Index(run_id_guard(names), "run_id", unique=True)]
            if distributable
            else [PrimaryKeyConstraint("run_id")]
        ),
    )
    # Partial: only the leased runs in progress, the few the lease sweep reads. The sweep's
    # WHERE repeats this text word for word, as SQLite needs to pick a partial index.
    leased = text(LEASED_IN_PROGRESS_SQL)
    Index(f"idx_{r}_lease", runs.c.lease_expires_at, sqlite_where=leased, postgresql_where=leased)
    run_key = ("session_id", "run_id") if distributable else ("run_id",)
    return Tables(
        names,
        metadata,
        sessions,
        runs,
        _search_table(names, metadata, distributable),
        _changes_table(names, metadata, distributable),
        run_key,
    )


def _search_table(names: TableNames, metadata: MetaData, distributable: bool) -> Table:
    """The search index (migration 0006): one row per run holding the text search finds it by.

    SQLite indexes ``body`` with an FTS5 table over this one (``content=``, kept in step by
    triggers; ``doc_id`` is its rowid, an ``INTEGER PRIMARY KEY`` so that ``VACUUM`` never
    renumbers it), and ``owner`` (migration 0010), the run's user as one token, as its second
    column, so that one user's search starts from that user's runs (see
    :func:`~sessiondb.db._sql.search.owner_token`). PostgreSQL keeps the ``tsvector`` in
    ``tsv``, with a GIN index, and keys the rows by ``(session_id, run_id)`` (migration 0009:
    no ``doc_id``, whose only use is FTS5's). Rows go with their run (``ON DELETE CASCADE``)
    and are also deleted explicitly, for engines that do not enforce foreign keys.
    """
    search, runs = names.search, names.runs
    qualified = f"{names.schema}.{runs}" if names.schema else runs
    if distributable:
        keys: list[Any] = [
            PrimaryKeyConstraint("session_id", "run_id"),
            ForeignKeyConstraint(
                ["session_id", "run_id"],
                [f"{qualified}.session_id", f"{qualified}.run_id"],
                ondelete="CASCADE",
            ),
            Column("tsv", TSVECTOR(), nullable=False),
            Index(f"idx_{search}_tsv", "tsv", postgresql_using="gin"),
        ]
    else:
        keys = [
            Column("doc_id", Integer(), primary_key=True, autoincrement=True),
            UniqueConstraint("run_id"),
            ForeignKeyConstraint(["run_id"], [f"{qualified}.run_id"], ondelete="CASCADE"),
            Index(f"ix_{search}_session_id", "session_id"),
            Column("owner", Text),
        ]
    return Table(
        search,
        metadata,
        Column("run_id", String, nullable=False),
        Column("session_id", key_type(), nullable=False),
        Column("created_at", BigInteger, nullable=False),
        Column("body", Text, nullable=False),
        *keys,
    )


def _changes_table(names: TableNames, metadata: MetaData, distributable: bool) -> Table:
    """The change feed's outbox (``<sessions>_changes``, migration 0007).

    One row per change, written in the transaction of the write it records. No foreign key: a
    deleted session's changes outlive it. On PostgreSQL the key is ``(change_id, session_id)``
    (migration 0009): led by ``change_id``, so the feed's ``change_id > :after`` reads it in
    order, and holding ``session_id``, so the table shards with the session it records.
    """
    c = names.changes
    return Table(
        c,
        metadata,
        Column(
            "change_id",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("kind", String, nullable=False),
        Column("session_id", key_type(), nullable=False, primary_key=distributable),
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
