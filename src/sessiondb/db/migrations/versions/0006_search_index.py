"""The full-text search index: one row per run with its searchable text, indexed by the engine.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``<sessions>_search`` holds, for every run, the text ``searchable_text`` extracts (its user and
assistant messages, or a workflow run's input and content). SQLite indexes it with an FTS5
table over it (``unicode61 remove_diacritics 2``), kept in step by three triggers; PostgreSQL
with a ``tsvector`` column (the store's ``search_config``) and a GIN index.

The upgrade backfills the index from every stored run (each run is decoded once, in batches of
500), so on a large store it takes about as long as reading every run; plan it for a quiet
moment. The downgrade drops the index.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

from sessiondb.run.search_text import searchable_text
from sessiondb.run.workflow import run_class

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 500


def _names() -> Any:
    config = op.get_context().config
    assert config is not None, "run through sessiondb's migrate()"
    return config.attributes["names"]


def _postgres() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _quote(name: str) -> str:
    return op.get_context().dialect.identifier_preparer.quote(name)


def upgrade() -> None:
    """Create the index table (and FTS5 table and triggers on SQLite), then fill it."""
    names = _names()
    search, schema = names.search, names.schema
    run_fk = f"{schema}.{names.runs}.run_id" if schema else f"{names.runs}.run_id"
    key = sa.String().with_variant(sa.String(collation="C"), "postgresql")
    columns: list[Any] = [
        sa.Column(
            "doc_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "run_id", sa.String, sa.ForeignKey(run_fk, ondelete="CASCADE"), nullable=False, unique=True
        ),
        sa.Column("session_id", key, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    ]
    if _postgres():
        columns.append(sa.Column("tsv", TSVECTOR(), nullable=False))
    op.create_table(search, *columns, schema=schema)
    op.create_index(f"ix_{search}_session_id", search, ["session_id"], schema=schema)
    if _postgres():
        op.create_index(f"idx_{search}_tsv", search, ["tsv"], schema=schema, postgresql_using="gin")
    else:
        _create_fts5(search, names.search_fts)
    _backfill(names)


def _create_fts5(search: str, fts: str) -> None:
    s, f = _quote(search), _quote(fts)
    op.execute(
        f"CREATE VIRTUAL TABLE {f} USING fts5(body, content={s}, content_rowid='doc_id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    # External-content FTS5 is not told about changes to its table: these triggers tell it.
    op.execute(
        f"CREATE TRIGGER {_quote(search + '_ai')} AFTER INSERT ON {s} BEGIN "
        f"INSERT INTO {f}(rowid, body) VALUES (new.doc_id, new.body); END"
    )
    op.execute(
        f"CREATE TRIGGER {_quote(search + '_ad')} AFTER DELETE ON {s} BEGIN "
        f"INSERT INTO {f}({f}, rowid, body) VALUES ('delete', old.doc_id, old.body); END"
    )
    op.execute(
        f"CREATE TRIGGER {_quote(search + '_au')} AFTER UPDATE ON {s} BEGIN "
        f"INSERT INTO {f}({f}, rowid, body) VALUES ('delete', old.doc_id, old.body); "
        f"INSERT INTO {f}(rowid, body) VALUES (new.doc_id, new.body); END"
    )


def _stored_runs(conn: sa.Connection, names: Any) -> Iterator[list[dict[str, Any]]]:
    runs = sa.table(
        names.runs,
        sa.column("run_id"),
        sa.column("session_id"),
        sa.column("created_at"),
        sa.column("run_data"),
        schema=names.schema,
    )
    query = sa.select(runs.c.run_id, runs.c.session_id, runs.c.created_at, runs.c.run_data)
    # Streamed (a server-side cursor on PostgreSQL): a large store is never read into memory at once.
    result = conn.execute(query.execution_options(yield_per=BATCH))
    for batch in result.partitions(BATCH):
        rows = []
        for run_id, session_id, created_at, run_data in batch:
            data = orjson.loads(run_data) if isinstance(run_data, str | bytes) else run_data
            run = run_class(data).from_dict(data)
            rows.append(
                {
                    "run_id": run_id,
                    "session_id": session_id,
                    "created_at": created_at,
                    "body": searchable_text(run),
                }
            )
        yield rows


def _backfill(names: Any) -> None:
    conn = op.get_bind()
    table = _quote(names.search) if names.schema is None else f"{_quote(names.schema)}.{_quote(names.search)}"
    if _postgres():
        insert = sa.text(
            f"INSERT INTO {table} (run_id, session_id, created_at, body, tsv) VALUES "
            "(:run_id, :session_id, :created_at, :body, to_tsvector(CAST(:config AS regconfig), :body))"
        )
    else:
        insert = sa.text(
            f"INSERT INTO {table} (run_id, session_id, created_at, body) "
            "VALUES (:run_id, :session_id, :created_at, :body)"
        )
    for rows in _stored_runs(conn, names):
        conn.execute(insert, [{**row, "config": names.search_config} for row in rows])


def downgrade() -> None:
    """Drop the index (and the FTS5 table and triggers on SQLite)."""
    names = _names()
    if not _postgres():
        for suffix in ("_ai", "_ad", "_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {_quote(names.search + suffix)}")
        op.execute(f"DROP TABLE IF EXISTS {_quote(names.search_fts)}")
    op.drop_table(names.search, schema=names.schema)
