"""Where an SQLite append's time goes: sessiondb against the raw driver sending sessiondb's own SQL.

``python -m bench.same_rows save|append [--calls N]``. Three sides, interleaved in rounds of 20
calls on one database file (WAL, ``synchronous=NORMAL``), each into a pool of its own sessions
of 10 runs:

- ``sessiondb``: the seeds' save (``session.upsert_run(run); store.upsert_session(session)``
  on a session kept in memory) or ``store.upsert_run``;
- ``same rows``: a raw ``sqlite3`` connection sending, as precompiled strings, the statements
  sessiondb sends for it (the session row's bump, the run upsert, the search index row and
  with it FTS5 through its trigger, the change rows), the run encoded by sessiondb's encoder;
- ``raw``: the benchmark's baseline (:meth:`bench.raw.RawStore.append`: session and run rows).

Prints medians of wall and CPU time (``time.process_time``) per call and the ratios: what the
extra rows cost the database (same rows ÷ raw), and what sessiondb adds to the SQL it sends
(sessiondb ÷ same rows).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench import seed
from bench.driver import SQLITE_PRAGMAS
from bench.env import Env
from sessiondb.db._sql.changes import change_statements
from sessiondb.db._sql.compiled import compiled_for
from sessiondb.db._sql.search import index_statements
from sessiondb.db._sql.writes import PreparedRun, run_row
from sessiondb.run.search_text import searchable_text

POOL = 30
ROUND = 20
USER = "u-same"


def _taker(items: list[Any]) -> Callable[[int], Any]:
    def take(index: int) -> Any:
        item, items[index] = items[index], None  # the caller keeps no reference (see save.py)
        return item

    return take


def measure(mode: str, calls: int) -> dict[str, tuple[float, float]]:
    """``side`` → (median wall µs, median CPU µs) per call."""
    env = Env.create("sqlite")
    try:
        dataset = env.dataset("same_rows")
        store = dataset.store
        ours = seed.sessions_with_runs(dataset, (f"o{k}" for k in range(POOL)), USER, 10)
        same = seed.sessions_with_runs(dataset, (f"s{k}" for k in range(POOL)), USER, 10)
        theirs = seed.sessions_with_runs(dataset, (f"r{k}" for k in range(POOL)), USER, 10)
        sessions = [store.get_session(session_id) for session_id in ours]
        for session in sessions:
            store.upsert_session(session)
        tables, statements = store._tables, store._statements
        with store._engine.connect() as conn:
            dialect = conn.dialect
            bump = compiled_for(
                statements.touch_owned if mode == "save" else statements.touch_session, dialect
            )
            upsert = compiled_for(statements.upsert_run, dialect)
            index = compiled_for(index_statements(conn, tables).upsert, dialect)
            # The insert sessiondb sends for a change (``record``, without RETURNING, since it
            # has one; before that, the one returning the change's id).
            feed_statements = change_statements(tables)
            change = compiled_for(getattr(feed_statements, "record", feed_statements.insert), dialect)
        take_ours = _taker([seed.run_object(ours[i % POOL], USER, 10 + i // POOL) for i in range(calls)])
        take_same = _taker([seed.run_object(same[i % POOL], USER, 10 + i // POOL) for i in range(calls)])
        raw_runs = [seed.canonical_run(theirs[i % POOL], USER, 10 + i // POOL) for i in range(calls)]
        driver = sqlite3.connect(dataset.location["db_file"], isolation_level=None)
        for pragma in SQLITE_PRAGMAS:
            driver.execute(pragma)

        def sessiondb(i: int) -> None:
            if mode == "save":
                session = sessions[i % POOL]
                session.upsert_run(take_ours(i))
                store.upsert_session(session)
            else:
                store.upsert_run(ours[i % POOL], take_ours(i))

        def same_rows(i: int) -> None:
            session_id, run = same[i % POOL], PreparedRun(take_same(i))
            now = int(time.time())
            cursor = driver.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            values = {"target_id": session_id, "owner": USER, "now": now, "reserve": 1}
            cursor.execute(bump.sql, bump.parameters(values))
            row = dict(zip(bump.keys, cursor.fetchall()[0], strict=True))
            cursor.execute(
                upsert.sql,
                upsert.parameters(run_row(run, session_id, index=row["next_run_index"] - 1, now=now)),
            )
            cursor.fetchall()
            body = searchable_text(run.run)
            indexed = {
                "run_id": run.run_id,
                "session_id": session_id,
                "created_at": run.run.created_at,
                "body": body,
            }
            cursor.execute(index.sql, index.parameters(indexed))
            kinds = [("session.updated", None)] if mode == "save" else []
            for kind, run_id in [*kinds, ("run.created", run.run_id)]:
                feed = {"kind": kind, "session_id": session_id, "run_id": run_id, "session_type": "agent"}
                feed.update(user_id=USER, version=row["version"], at=now)
                cursor.execute(change.sql, change.parameters(feed))
                cursor.fetchall()
            cursor.execute("COMMIT")

        def raw(i: int) -> None:
            dataset.raw.append(theirs[i % POOL], raw_runs[i], int(time.time()))

        sides: dict[str, Callable[[int], None]] = {"sessiondb": sessiondb, "same rows": same_rows, "raw": raw}
        wall: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        for start in range(0, calls - ROUND + 1, ROUND):
            for name, side in sides.items():
                wall_start, cpu_start = time.perf_counter(), time.process_time()
                for i in range(start, start + ROUND):
                    side(i)
                wall[name].append((time.perf_counter() - wall_start) / ROUND * 1e6)
                cpu[name].append((time.process_time() - cpu_start) / ROUND * 1e6)
        driver.close()
        return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in sides}
    finally:
        env.close()


def main() -> None:
    """Parse the command line, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.same_rows", description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("save", "append"))
    parser.add_argument("--calls", type=int, default=800)
    args = parser.parse_args()
    found = measure(args.mode, args.calls)
    for name, (wall, cpu) in found.items():
        print(f"{args.mode} {name:10s} wall {wall:7.0f} µs  cpu {cpu:7.0f} µs")
    (ours_wall, ours_cpu), (same_wall, same_cpu), (raw_wall, raw_cpu) = found.values()
    print(
        f"{args.mode} ratios (wall / CPU): "
        f"sessiondb÷raw x{ours_wall / raw_wall:.2f} / x{ours_cpu / raw_cpu:.2f}, "
        f"same rows÷raw x{same_wall / raw_wall:.2f} / x{same_cpu / raw_cpu:.2f}, "
        f"sessiondb÷same rows x{ours_wall / same_wall:.2f} / x{ours_cpu / same_cpu:.2f}"
    )


if __name__ == "__main__":
    main()
