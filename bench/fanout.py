"""The queries that fan out over every shard once sessions are sharded by ``session_id``, timed
as the session count grows: ``python -m bench.fanout [--sessions 10000,100000,1000000]``.

On a sharded PostgreSQL (Citus, docs/scale-out.md) everything about one session runs on the
shard holding it; listings, search, the change feed and retention read every shard. Citus is
not installable here, so this measures what one node can: the cost of each of those queries on
one PostgreSQL as the table grows (the part each shard pays for its slice, and the whole cost
before sharding), next to a one-session read (``get_session``, the single-shard baseline)
timed in the same run, as a ratio.

Each size gets a fresh schema, filled by SQL from one session stored through sessiondb (one
run each, one search row each with a word shared by 1 in 1,000 sessions, one change each;
100 sessions per user; 1 in 10 inactive for 60 days), then ``ANALYZE``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import SessionQuery
from sessiondb.db.retention import RetentionPolicy
from sessiondb.run import RunInput, RunOutput
from sessiondb.run.message import Message
from sessiondb.session import AgentSession

PG_URL = os.environ.get("SESSIONDB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CALLS = 30
PER_USER = 100
NOW = int(time.time())
DAY = 86_400


def _fill(store: PostgresDb, total: int) -> None:
    """``total`` sessions cloned in SQL from the template session ``t`` (see the module docstring)."""
    tables = store._tables
    template = AgentSession(session_id="t", user_id="u0", agent_id="a", created_at=NOW - DAY)
    template.upsert_run(
        RunOutput(
            run_id="t-r0",
            agent_id="a",
            status="COMPLETED",
            input=RunInput(input_content="a question about pelicans"),
            content="an answer",
            messages=[Message(role="user", content="a question about pelicans")],
        )
    )
    store.upsert_session(template)
    g = sa.func.generate_series(1, total).table_valued("g").render_derived()
    number = g.c.g
    sid = sa.literal("s") + sa.cast(number, sa.Text)
    # Integer division in SQL (SQLAlchemy's "/" would divide as numeric).
    user = sa.literal("u") + sa.cast(number.op("/")(PER_USER), sa.Text)
    # 1 in 10 sessions were last written 60 days ago: what the retention policy below selects.
    updated = sa.case((number % 10 == 0, NOW - 60 * DAY), else_=NOW - DAY) + number % 1000
    overrides = {
        tables.sessions: {
            "session_id": sid,
            "user_id": user,
            "updated_at": updated,
            "name_run_id": sid + "-r0",
        },
        tables.runs: {"run_id": sid + "-r0", "session_id": sid, "user_id": user},
        tables.search: {
            "run_id": sid + "-r0",
            "session_id": sid,
            # One word shared by 1 in 1,000 sessions: what the search below looks for.
            "body": tables.search.c.body + " w" + sa.cast(number % 1000, sa.Text),
            "tsv": sa.func.to_tsvector(
                sa.cast(tables.names.search_config, sa.dialects.postgresql.REGCONFIG),
                tables.search.c.body + " w" + sa.cast(number % 1000, sa.Text),
            ),
        },
    }
    with store._engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # the store's bound is for requests
        for table, changed in overrides.items():
            columns = [column for column in table.c if column.name != "doc_id"]
            values = [changed.get(column.name, column) for column in columns]
            template_row = table.c.session_id == "t"
            source = sa.select(*values).select_from(table).join(g, sa.true()).where(template_row)
            conn.execute(sa.insert(table).from_select([c.name for c in columns], source))
        changes = tables.changes
        rows = sa.select(
            sa.literal("session.created"), sid, sa.literal("agent"), user, sa.literal(1), updated
        ).select_from(g)
        columns = ["kind", "session_id", "session_type", "user_id", "version", "at"]
        conn.execute(sa.insert(changes).from_select(columns, rows))
        for table in (tables.sessions, tables.runs, tables.search, tables.changes):
            conn.exec_driver_sql(f'ANALYZE "{tables.names.schema}"."{table.name}"')


def _timed_ms(call: Callable[[], object]) -> tuple[float, float]:
    """The fastest and the median of :data:`CALLS` calls, in ms.

    The fastest is what the query costs when nothing else competes for the machine (the figure
    to compare across sizes on a shared machine); the median shows how far others interfered.
    """
    call()  # warm: plans cached, pages in memory
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times) * 1000, statistics.median(times) * 1000


def _measure(total: int) -> list[tuple[str, tuple[float, float]]]:
    schema = f"fanout_{uuid.uuid4().hex[:10]}"
    store = PostgresDb(db_url=PG_URL, db_schema=schema, id="bench")
    try:
        store.migrate()
        started = time.perf_counter()
        _fill(store, total)
        print(f"  filled {total:,} sessions in {time.perf_counter() - started:.1f} s")
        middle = store.changes(0, limit=1).position + total // 2
        policy = RetentionPolicy(inactive_for=timedelta(days=30))
        # Each query finds what the fill put there: a figure of an empty answer means nothing.
        assert store.search("w7").items, "the search word is missing"
        assert store.preview_retention(policy).sessions == total // 10
        assert len(store.changes(middle, limit=100).items) == 100
        assert len(store.get_sessions(SessionQuery(user_id="u7", limit=20)).items) == 20
        assert len(store.changes(0, user_id="u7", limit=100).items) == 100
        queries: list[tuple[str, Callable[[], object]]] = [
            ("one session with its runs (single shard)", lambda: store.get_session("t")),
            ("listing: newest 20 of every session", lambda: store.get_sessions(SessionQuery(limit=20))),
            (
                "listing: newest 20, no total count",
                lambda: store.get_sessions(SessionQuery(limit=20, count_total=False)),
            ),
            (
                "listing: one user's newest 20",
                lambda: store.get_sessions(SessionQuery(user_id="u7", limit=20)),
            ),
            ("search: a word in 1 of 1,000 sessions", lambda: store.search("w7")),
            ("change feed: 100 changes from mid-feed", lambda: store.changes(middle, limit=100)),
            ("change feed: one user's 100 changes", lambda: store.changes(0, user_id="u7", limit=100)),
            ("retention: preview of a 30-day policy", lambda: store.preview_retention(policy)),
        ]
        return [(label, _timed_ms(call)) for label, call in queries]
    finally:
        store.close()
        engine = sa.create_engine(PG_URL)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


def main() -> None:
    """Parse the options, measure each size, print a table."""
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--sessions", default="10000,100000", help="comma-separated session counts")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sessions.split(",")]
    results = {}
    for size in sizes:
        print(f"{size:,} sessions")
        results[size] = _measure(size)
    labels = [label for label, _ in results[sizes[0]]]
    print("\nfastest of each size, its ratio to the one-session read, and [the median]")
    print("\n| query | " + " | ".join(f"{size:,} sessions" for size in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for row, label in enumerate(labels):
        cells = []
        for size in sizes:
            fastest, median = results[size][row][1]
            baseline = results[size][0][1][0]
            ratio = "" if row == 0 else f" ({fastest / baseline:.1f}x)"
            cells.append(f"{fastest:.2f} ms{ratio} [{median:.2f}]")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
