"""Export and import: a store's sessions to the JSON Lines format and back (``sessiondb.transfer``).

The baselines are the raw driver doing the same data work on the same tables: for the export,
read every session row and every run's JSON text (PostgreSQL: the runs with ``COPY ... TO
STDOUT``) and write the same lines; for the import, parse the lines and insert the rows an
import writes: the session and run rows (PostgreSQL: binary ``COPY``; SQLite:
``executemany``), each run's search index row (the text of its user and assistant messages;
PostgreSQL: one ``INSERT ... SELECT to_tsvector(...) FROM unnest(...)``, SQLite: the FTS5
table's triggers) and one change-feed row per session and per run. The import of the session
and run rows alone (the baseline before the index and the feed existed) is timed beside it as
``rows_only``. Neither baseline validates a session, pages, checks for stored sessions or
names sessions: sessiondb does all of these.
"""

from __future__ import annotations

from typing import Any

import orjson
from psycopg.types.json import set_json_dumps

from bench import data, seed
from bench.config import Sizes
from bench.env import Dataset, Env
from bench.raw import SESSION_JSON_COLUMNS, RawStore
from bench.result import Result, latency_result
from bench.stats import interleave
from sessiondb.db.transfer import ExportFilter
from sessiondb.session import AgentSession
from sessiondb.transfer.exporter import export_lines
from sessiondb.transfer.importer import import_lines

USER = "u-transfer"
PREFIX = b'"xfer-'
MIN_RUNS_PER_S = 20_000
MAX_RATIO = 2.0
SESSIONS_PER_BULK_BATCH = 5
"""The dataset holds this many bulk batches (``bulk_sessions`` x ``bulk_runs`` runs each)."""


def _seed(dataset: Dataset, sizes: Sizes) -> int:
    """Store the sessions to export; returns their number of runs."""
    count = sizes.bulk_sessions * SESSIONS_PER_BULK_BATCH
    for first in range(0, count, sizes.bulk_sessions):
        batch = [
            AgentSession(
                session_id=f"xfer-{k:06d}",
                agent_id=data.AGENT_ID,
                user_id=USER,
                created_at=data.BASE_TIME,
                session_data={"session_state": {"k": k}},
                runs=[seed.run_object(f"xfer-{k:06d}", USER, index) for index in range(sizes.bulk_runs)],
            )
            for k in range(first, min(count, first + sizes.bulk_sessions))
        ]
        dataset.store.upsert_sessions(batch)
    return count * sizes.bulk_runs


def _export(dataset: Dataset) -> bytes:
    return b"".join(export_lines(dataset.store, ExportFilter()))


def _raw_export(raw: RawStore) -> bytes:
    """Every session row and run text, written as the same lines (one read transaction)."""
    d = raw.driver
    texts: dict[str, list[orjson.Fragment]] = {}
    with d.transaction(write=False) as cursor:
        cursor.execute(f"SELECT * FROM {d.table(raw.sessions)} ORDER BY session_id")
        names = [column[0] for column in cursor.description]
        rows = [raw._decode_session(dict(zip(names, found, strict=True))) for found in cursor.fetchall()]
        runs = d.table(raw.runs)
        query = f"SELECT session_id, CAST(run_data AS TEXT) FROM {runs} ORDER BY session_id, run_index"
        if d.dialect == "postgres":
            with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                for session_id, text in copy.rows():
                    texts.setdefault(session_id, []).append(orjson.Fragment(text))
        else:
            cursor.execute(query)
            for session_id, text in cursor.fetchall():
                texts.setdefault(session_id, []).append(orjson.Fragment(text))
    out = [b'{"format":"sessiondb-export","format_version":1}\n']
    for row in rows:
        record = {"session_id": row["session_id"], "session_type": row["session_type"]}
        record.update({name: row[name] for name in (*SESSION_JSON_COLUMNS, "user_id", "agent_id")})
        record.update(created_at=row["created_at"], updated_at=row["updated_at"])
        record["runs"] = texts.get(row["session_id"], [])
        out.append(orjson.dumps(record) + b"\n")
    return b"".join(out)


def _message_text(run: dict[str, Any]) -> str:
    """The run's user and assistant messages' text (what sessiondb's index holds for these runs)."""
    parts = [
        message["content"]
        for message in run.get("messages") or ()
        if message.get("role") in ("user", "assistant") and isinstance(message.get("content"), str)
    ]
    return "\n".join(parts)


def _raw_import(raw: RawStore, lines: list[bytes], *, rows_only: bool = False) -> None:
    """Parse the session lines and insert their rows in one transaction (COPY on PostgreSQL)."""
    d = raw.driver
    session_columns = d.columns(raw.sessions)
    run_columns = d.columns(raw.runs)
    session_rows: list[list[Any]] = []
    run_rows: list[list[Any]] = []
    index_rows: list[tuple[str, str, int, str]] = []
    change_rows: list[tuple[Any, ...]] = []
    for line in lines[1:]:
        record = orjson.loads(line)
        runs = record.pop("runs")
        values = {
            **record,
            "explicit_name": None,
            "derived_name": "",
            "name_run_id": None,
            "session_name": "",
            "name_search": "",
            "version": 1,
            "next_run_index": len(runs),
        }
        session_rows.append([values.get(name) for name in session_columns])
        session_id, user_id, at = record["session_id"], record.get("user_id"), record["updated_at"]
        kind = record["session_type"]
        change_rows.append(("session.created", session_id, None, kind, user_id, 1, at))
        for index, run in enumerate(runs):
            index_rows.append((run["run_id"], session_id, run["created_at"], _message_text(run)))
            change_rows.append(("run.created", session_id, run["run_id"], kind, user_id, 1, at))
            row = {
                **run,
                "session_id": record["session_id"],
                "run_index": index,
                "run_type": "agent",
                "run_data": orjson.dumps(run).decode(),
                "updated_at": record["updated_at"],
            }
            run_rows.append([row.get(name) for name in run_columns])
    with d.transaction(write=True) as cursor:
        if d.dialect == "postgres":
            set_json_dumps(
                lambda value: value if isinstance(value, str) else orjson.dumps(value).decode(), cursor
            )
            for table, columns, rows in (
                (raw.sessions, session_columns, session_rows),
                (raw.runs, run_columns, run_rows),
            ):
                types = [_pg_type(table, name, raw) for name in columns]
                with cursor.copy(
                    f"COPY {d.table(table)} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
            if not rows_only:
                _raw_index_and_changes(raw, cursor, index_rows, change_rows)
            return
        for table, columns, rows in (
            (raw.sessions, session_columns, session_rows),
            (raw.runs, run_columns, run_rows),
        ):
            slots = ", ".join("?" for _ in columns)
            encoded = [
                [orjson.dumps(v).decode() if isinstance(v, dict | list) else v for v in row] for row in rows
            ]
            cursor.executemany(
                f"INSERT INTO {d.table(table)} ({', '.join(columns)}) VALUES ({slots})", encoded
            )
        if not rows_only:
            _raw_index_and_changes(raw, cursor, index_rows, change_rows)


def _raw_index_and_changes(
    raw: RawStore,
    cursor: Any,
    index_rows: list[tuple[str, str, int, str]],
    change_rows: list[tuple[Any, ...]],
) -> None:
    """The runs' search index rows and the change rows, as the raw driver writes them best."""
    d = raw.driver
    # sessiondb's names for the pair's index and outbox tables (TableNames.search / .changes).
    search, changes = d.table(f"{raw.sessions}_search"), d.table(f"{raw.sessions}_changes")
    change_columns = "kind, session_id, run_id, session_type, user_id, version, at"
    if d.dialect == "postgres":
        run_ids, session_ids, created, bodies = (list(column) for column in zip(*index_rows, strict=True))
        cursor.execute(
            f"INSERT INTO {search} (run_id, session_id, created_at, body, tsv) "
            "SELECT r, s, c, b, to_tsvector('simple', b) "
            "FROM unnest(%s::text[], %s::text[], %s::int8[], %s::text[]) AS u(r, s, c, b)",
            (run_ids, session_ids, created, bodies),
        )
        with cursor.copy(f"COPY {changes} ({change_columns}) FROM STDIN") as copy:
            for row in change_rows:
                copy.write_row(row)
        return
    cursor.executemany(
        f"INSERT INTO {search} (run_id, session_id, created_at, body, owner) "
        f"SELECT ?, ?, ?, ?, 'u' || hex(user_id) FROM {d.table(raw.sessions)} WHERE session_id = ?",
        [(*row, row[1]) for row in index_rows],
    )
    cursor.executemany(f"INSERT INTO {changes} ({change_columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", change_rows)


def _pg_type(table: str, column: str, raw: RawStore) -> str:
    if column in SESSION_JSON_COLUMNS:
        return "jsonb"
    if column == "run_data":
        return "json"
    if column in ("created_at", "updated_at", "next_run_index", "run_index"):
        return "int8"
    return "int4" if column == "version" else "text"


def _renamed(lines: list[bytes], prefix: str) -> list[bytes]:
    """``lines`` with every id renamed (sessions, runs and messages all start with ``xfer-``)."""
    new = f'"{prefix}-'.encode()
    return [lines[0], *(line.replace(PREFIX, new) for line in lines[1:])]


def run(env: Env, sizes: Sizes) -> list[Result]:
    """Export the dataset, then import it into fresh ids, ``bulk_rounds`` times per side."""
    source = env.dataset("transfer")
    runs = _seed(source, sizes)
    target = env.dataset("transfer_in")
    exported = interleave(
        {"sessiondb": lambda _: _export(source), "baseline": lambda _: _raw_export(source.raw)},
        rounds=sizes.bulk_rounds,
        per_round=1,
        warmup=1,
    )
    lines = _export(source).splitlines(keepends=True)
    ours = [_renamed(lines, f"s{n}") for n in range(sizes.bulk_rounds + 1)]
    theirs = [_renamed(lines, f"b{n}") for n in range(sizes.bulk_rounds + 1)]
    rows_only = [_renamed(lines, f"o{n}") for n in range(sizes.bulk_rounds + 1)]
    imported = interleave(
        {
            "sessiondb": lambda i: import_lines(target.store, ours[i]),
            "baseline": lambda i: _raw_import(target.raw, theirs[i]),
            "rows_only": lambda i: _raw_import(target.raw, rows_only[i], rows_only=True),
        },
        rounds=sizes.bulk_rounds,
        per_round=1,
        warmup=1,
    )
    params = {"sessions": sizes.bulk_sessions * SESSIONS_PER_BULK_BATCH, "runs_per_session": sizes.bulk_runs}
    results = []
    for name, measured in (("export", exported), ("import", imported)):
        result = latency_result(
            env.backend,
            name,
            params,
            measured,
            target=f"≥ {MIN_RUNS_PER_S:,} runs/s and ≤ x{MAX_RATIO:g} raw (PostgreSQL)",
        )
        result.extra["runs_per_s"] = runs / result.sessiondb.median
        result.extra["baseline_runs_per_s"] = runs / result.baseline.median
        if "rows_only" in measured:
            result.extra["rows_only_runs_per_s"] = runs / measured["rows_only"].median
        if env.backend == "postgres":
            result.passed = result.extra["runs_per_s"] >= MIN_RUNS_PER_S and result.ratio <= MAX_RATIO
        results.append(result)
    return results
