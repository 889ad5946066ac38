"""The benchmark workloads through Agno 3.1's public API: ``python -m bench.peers.agno_runner --help``.

Runs inside ``bench/.peers-venv`` (Agno installed from the package index), so it imports only
the standard-library parts of :mod:`bench` and Agno itself, never sessiondb. Data, sizes and
workload keys are the same as the main suite's, so results line up row by row. Agno's tables
live next to sessiondb's (same directory, or same PostgreSQL schema, dropped by the main run).

Seeding is not measured. Where Agno has no bulk API for runs, history is seeded with Agno's own
row builder (``agno.db.utils.build_single_run_row``) in one ``executemany``; every measured
operation is a public call: ``upsert_run``/``upsert_session`` (what an Agno agent writes per
run), the seeds' turn on a session kept in memory (``session.upsert_run`` + those two),
``get_session(runs_limit=3).get_messages(last_n_runs=3)``, ``get_session`` and
``get_sessions(..., deserialize=False)`` (what ``GET /sessions`` calls). Agno has no cursor, so
its deep page is read by page number.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from agno.db.base import SessionType
from agno.db.utils import build_single_run_row
from agno.run.agent import RunOutput
from agno.session import AgentSession
from sqlalchemy import insert

from bench import clone, data
from bench.config import PER_USER, PRESETS, Sizes, branch_runs, listing_probes, ordinary_users, user_for_call
from bench.driver import Driver
from bench.stats import Summary, interleave, summarize

USER = "u-runs"
WARMUP = 3
BUDGET_S = 20.0
"""Rough upper bound of the timed part of one Agno workload (see :func:`_time`)."""


class AgnoEnv:
    """Agno databases for one backend, one table pair per dataset."""

    def __init__(self, backend: str, root: Path, pg_url: str | None, schema: str | None) -> None:
        self.backend = backend
        self.root = root
        self.pg_url = pg_url
        self.schema = schema
        self._dbs: dict[str, Any] = {}
        self._drivers: dict[str, Driver] = {}

    def tables(self, key: str) -> tuple[str, str]:
        """The sessions and runs table names of dataset ``key``."""
        return f"agno_{key}_sessions", f"agno_{key}_runs"

    def db(self, key: str) -> Any:
        """Agno's ``SqliteDb``/``PostgresDb`` for dataset ``key`` (tables created on first use)."""
        if key not in self._dbs:
            sessions, runs = self.tables(key)
            if self.backend == "sqlite":
                from agno.db.sqlite import SqliteDb

                db: Any = SqliteDb(
                    db_file=str(self.root / f"agno-{key}.db"), session_table=sessions, runs_table=runs
                )
            else:
                from agno.db.postgres import PostgresDb

                db = PostgresDb(
                    db_url=self.pg_url, db_schema=self.schema, session_table=sessions, runs_table=runs
                )
            db._get_table(table_type="sessions", create_table_if_not_found=True)
            db._get_table(table_type="runs", create_table_if_not_found=True)
            self._dbs[key] = db
        return self._dbs[key]

    def driver(self, key: str) -> Driver:
        """A raw connection to dataset ``key``'s database (for cloning and ANALYZE)."""
        if key not in self._drivers:
            if self.backend == "sqlite":
                self._drivers[key] = Driver.sqlite(str(self.root / f"agno-{key}.db"))
            else:
                assert self.pg_url is not None and self.schema is not None
                self._drivers[key] = Driver.postgres(self.pg_url, self.schema)
        return self._drivers[key]

    def analyze(self, key: str) -> None:
        """Planner statistics, as the main suite gathers them for sessiondb."""
        clone.analyze(self.driver(key), list(self.tables(key)))

    def close(self) -> None:
        """Close raw connections and dispose of engines."""
        for driver in self._drivers.values():
            driver.close()
        for db in self._dbs.values():
            db.db_engine.dispose()


def seed_session(env: AgnoEnv, key: str, session_id: str, user_id: str, runs: int) -> None:
    """One session row through ``upsert_session``, its runs in bulk with Agno's row builder."""
    db = env.db(key)
    db.upsert_session(
        AgentSession(
            session_id=session_id, agent_id=data.AGENT_ID, user_id=user_id, created_at=data.BASE_TIME
        )
    )
    if not runs:
        return
    table = db._get_table(table_type="runs")
    rows = [
        build_single_run_row(data.run_dict(session_id, user_id, index), session_id, user_id, index)
        for index in range(runs)
    ]
    with db.Session() as sess, sess.begin():
        sess.execute(insert(table), rows)


def _entry(
    backend: str, workload: str, params: dict[str, Any], summary: Summary, unit: str = "s"
) -> dict[str, Any]:
    key = ",".join(f"{name}={value}" for name, value in sorted(params.items()))
    return {"key": f"{backend}/{workload}/{key}", "summary": summary.to_json(), "unit": unit}


def _time(
    op: Callable[[int], object], sizes: Sizes, *, per_round: int | None = None, warmup: int = WARMUP
) -> Summary:
    """Time ``op`` like the main suite does, but within :data:`BUDGET_S` seconds.

    Some Agno calls are orders of magnitude slower than the main suite's (a listing scans
    every session: there is no index on ``user_id``), so the first call is timed on its own
    and the calls per round are cut to fit the budget.
    """
    began = time.perf_counter()
    op(0)
    first = time.perf_counter() - began
    wanted = per_round if per_round is not None else sizes.per_round
    fits = int(BUDGET_S / max(first * sizes.rounds, 1e-9))
    calls = max(1, min(wanted, fits))
    measured = interleave(
        {"agno": op}, rounds=sizes.rounds, per_round=calls, warmup=max(0, warmup - 1), first_call=1
    )
    return measured["agno"]


def append(env: AgnoEnv, sizes: Sizes) -> list[dict[str, Any]]:
    """``upsert_run`` + ``upsert_session``: what an Agno agent writes per run."""
    out = []
    db = env.db("append")
    for runs in sizes.append_runs:
        calls = sizes.ops + WARMUP
        pool = max(1, math.ceil(10 * calls / runs))
        ids = [f"a{runs}-s{k}" for k in range(pool)]
        for session_id in ids:
            seed_session(env, "append", session_id, USER, runs)
        env.analyze("append")
        sessions = {
            sid: AgentSession(session_id=sid, agent_id=data.AGENT_ID, user_id=USER, created_at=data.BASE_TIME)
            for sid in ids
        }
        new = [(ids[i % pool], runs + i // pool) for i in range(calls)]
        objects = [RunOutput.from_dict(data.run_dict(sid, USER, index)) for sid, index in new]

        def op(
            i: int,
            new: list[tuple[str, int]] = new,
            objects: list[RunOutput] = objects,
            sessions: dict[str, AgentSession] = sessions,
        ) -> None:
            session_id, index = new[i]
            db.upsert_run(objects[i], session_id=session_id, user_id=USER, run_index=index)
            db.upsert_session(sessions[session_id])

        out.append(_entry(env.backend, "append", {"runs": runs}, _time(op, sizes)))
    return out


def save_pattern(env: AgnoEnv, sizes: Sizes) -> list[dict[str, Any]]:
    """The seeds' turn on a session object kept in memory: Agno's ``session.upsert_run(run)``,
    then ``db.upsert_run`` (Agno keeps runs in their own table; ``upsert_session`` leaves them
    out) and ``db.upsert_session(session)``."""
    out = []
    db = env.db("save")
    for runs in sizes.append_runs:
        calls = sizes.ops + WARMUP
        pool = max(1, math.ceil(10 * calls / runs))
        ids = [f"p{runs}-s{k}" for k in range(pool)]
        for session_id in ids:
            seed_session(env, "save", session_id, USER, runs)
        env.analyze("save")
        sessions = {sid: db.get_session(sid, SessionType.AGENT) for sid in ids}
        new = [(ids[i % pool], runs + i // pool) for i in range(calls)]
        objects: list[RunOutput | None] = [
            RunOutput.from_dict(data.run_dict(sid, USER, index)) for sid, index in new
        ]

        def op(
            i: int,
            new: list[tuple[str, int]] = new,
            objects: list[RunOutput | None] = objects,
            sessions: dict[str, Any] = sessions,
        ) -> None:
            session_id, index = new[i]
            run, objects[i] = objects[i], None
            session = sessions[session_id]
            session.upsert_run(run)
            db.upsert_run(run, session_id=session_id, user_id=USER, run_index=index)
            db.upsert_session(session)

        out.append(_entry(env.backend, "save_pattern", {"runs": runs}, _time(op, sizes)))
    return out


def history(env: AgnoEnv, sizes: Sizes) -> list[dict[str, Any]]:
    """Windowed reads, their allocation, and whole-session reads."""
    out = []
    db = env.db("history")
    for runs in sizes.history_runs:
        seed_session(env, "history", f"h{runs}", USER, runs)
    for runs in sizes.session_runs:
        seed_session(env, "history", f"g{runs}", USER, runs)
    env.analyze("history")
    for runs in sizes.history_runs:
        session_id = f"h{runs}"

        def window(_i: int, session_id: str = session_id) -> object:
            return db.get_session(session_id, SessionType.AGENT, runs_limit=3).get_messages(last_n_runs=3)

        out.append(_entry(env.backend, "get_messages_last3", {"runs": runs}, _time(window, sizes)))
        peaks = []
        for _ in range(5):
            tracemalloc.start()
            window(0)
            peaks.append(float(tracemalloc.get_traced_memory()[1]))
            tracemalloc.stop()
        memory = Summary(len(peaks), statistics.median(peaks), max(peaks), tuple(peaks))
        out.append(_entry(env.backend, "window_memory", {"runs": runs}, memory, unit="B"))
    for runs in sizes.session_runs:
        session_id = f"g{runs}"

        def whole(_i: int, session_id: str = session_id) -> object:
            return db.get_session(session_id, SessionType.AGENT)

        per_round = max(5, sizes.per_round // max(1, runs // 100))
        out.append(
            _entry(env.backend, "get_session", {"runs": runs}, _time(whole, sizes, per_round=per_round))
        )
    return out


def fork(env: AgnoEnv, sizes: Sizes) -> list[dict[str, Any]]:
    """``Agent.fork_session``: Agno reads the session, copies its runs in Python and writes each
    one with ``upsert_run`` (sessiondb copies inside the database in one statement per table)."""
    from agno.agent import Agent

    runs = branch_runs(sizes)
    session_id = "fork-source"
    seed_session(env, "branch", session_id, USER, runs)
    env.analyze("branch")
    agent = Agent(db=env.db("branch"), id=data.AGENT_ID, telemetry=False)

    def op(_i: int) -> object:
        return agent.fork_session(source_session_id=session_id, user_id=USER)

    began = time.perf_counter()
    op(0)
    first = time.perf_counter() - began
    # One write per run: at 10,000 runs a single fork takes minutes, so a slow first call is
    # the measurement (one sample) rather than the start of rounds that would not fit.
    summary = summarize([[first]]) if first > BUDGET_S / 4 else _time(op, sizes, per_round=2, warmup=1)
    return [_entry(env.backend, "fork", {"runs": runs}, summary)]


def seed_listing(env: AgnoEnv, key: str, total: int, probes: list[tuple[str, int]]) -> None:
    """Template sessions through ``upsert_sessions``, grown in SQL like the main suite's."""
    db = env.db(key)
    templates = [
        AgentSession(
            session_id=session_id,
            agent_id=data.AGENT_ID,
            user_id="template",
            session_data={"session_name": data.session_name(number)},
            metadata=dict(data.SESSION_METADATA),
            created_at=data.BASE_TIME,
        )
        for number, session_id in enumerate(clone.TEMPLATE_IDS)
    ]
    db.upsert_sessions(templates)
    clone.grow_listing(env.driver(key), env.tables(key)[0], clone.TEMPLATE_IDS, total, probes, PER_USER)
    env.analyze(key)


def listing(env: AgnoEnv, sizes: Sizes) -> list[dict[str, Any]]:
    """``get_sessions(deserialize=False)``, as ``GET /sessions`` calls it."""
    out = []
    largest = max(sizes.list_totals)
    for total in sizes.list_totals:
        key = f"list{total}"
        probes = listing_probes(sizes, total)
        seed_listing(env, key, total, probes)
        db = env.db(key)
        users = ordinary_users(total, probes)

        def page(user: str, name: str | None = None, number: int = 1, db: Any = db) -> object:
            return db.get_sessions(
                session_type=SessionType.AGENT,
                user_id=user,
                session_name=name,
                limit=20,
                page=number,
                sort_by="created_at",
                sort_order="desc",
                deserialize=False,
            )

        def ordinary(i: int, users: int = users) -> object:
            return page(user_for_call(i, users))

        params = {"sessions": total, "per_user": PER_USER}
        out.append(_entry(env.backend, "list_user", params, _time(ordinary, sizes, warmup=0)))
        if total != largest:
            continue

        def named(i: int, users: int = users) -> object:
            return page(user_for_call(i, users), data.NAME_FILTER)

        out.append(_entry(env.backend, "list_user_name", params, _time(named, sizes, warmup=0)))
        for user, count in probes:

            def fixed(_i: int, user: str = user) -> object:
                return page(user)

            probe_params = {"sessions": total, "per_user": count}
            out.append(_entry(env.backend, "list_user", probe_params, _time(fixed, sizes)))
        deep = {"sessions": total, "per_user": sizes.cursor_user_sessions, "page": sizes.cursor_page}
        summary = _time(lambda _i: page("heavy", number=sizes.cursor_page), sizes)
        out.append(_entry(env.backend, "list_cursor", deep, summary))
    return out


def bulk(env: AgnoEnv, sizes: Sizes) -> list[dict[str, Any]]:
    """``upsert_sessions`` for the batch, then ``upsert_run`` per run (Agno has no bulk run API)."""
    db = env.db("bulk")
    batches = []
    for number in range(sizes.bulk_rounds):
        sessions = []
        for k in range(sizes.bulk_sessions):
            session_id = f"bulk{number}-a-{k}"
            runs = [
                RunOutput.from_dict(data.run_dict(session_id, "u-bulk", i)) for i in range(sizes.bulk_runs)
            ]
            sessions.append(
                (
                    AgentSession(
                        session_id=session_id,
                        agent_id=data.AGENT_ID,
                        user_id="u-bulk",
                        session_data={"session_name": "Imported session"},
                        created_at=data.BASE_TIME,
                    ),
                    runs,
                )
            )
        batches.append(sessions)

    def op(i: int) -> None:
        db.upsert_sessions([session for session, _ in batches[i]])
        for session, runs in batches[i]:
            for index, run in enumerate(runs):
                db.upsert_run(run, session_id=session.session_id, user_id="u-bulk", run_index=index)

    samples: list[float] = []
    for number in range(sizes.bulk_rounds):
        began = time.perf_counter()
        op(number)
        samples.append(time.perf_counter() - began)
        if sum(samples) > BUDGET_S:
            break
    summary = summarize([[sample] for sample in samples])
    params = {"sessions": sizes.bulk_sessions, "runs_per_session": sizes.bulk_runs}
    return [_entry(env.backend, "bulk_import", params, summary)]


def seed_http(env: AgnoEnv, total: int, detail_sessions: int, detail_runs: int) -> None:
    """The HTTP dataset, with the main suite's ids: listing sessions plus detail sessions ``d0..``."""
    seed_listing(env, "http", total, [])
    for k in range(detail_sessions):
        seed_session(env, "http", f"d{k}", "u-detail", detail_runs)
    env.analyze("http")


FAMILIES: dict[str, Callable[[AgnoEnv, Sizes], list[dict[str, Any]]]] = {
    "runs": lambda env, sizes: [*append(env, sizes), *history(env, sizes)],
    "save": save_pattern,
    "listing": listing,
    "bulk": bulk,
    "branching": fork,
}


def main() -> None:
    """Parse the command line and run one sub-command."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=("sql", "seed-http", "serve"))
    parser.add_argument("--backend", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--pg-url")
    parser.add_argument("--schema")
    parser.add_argument("--sizes", default="default", choices=sorted(PRESETS))
    parser.add_argument("--rounds", type=int, help="override the preset's rounds (as the main suite did)")
    parser.add_argument("--only", default=",".join(FAMILIES))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--detail", default="20,10", help="seed-http: detail sessions,runs each")
    args = parser.parse_args()
    env = AgnoEnv(args.backend, args.root, args.pg_url, args.schema)
    sizes = PRESETS[args.sizes] if args.rounds is None else replace(PRESETS[args.sizes], rounds=args.rounds)
    try:
        if args.command == "sql":
            entries = [
                entry
                for family in args.only.split(",")
                if family in FAMILIES
                for entry in FAMILIES[family](env, sizes)
            ]
            args.out.write_text(json.dumps(entries))
        elif args.command == "seed-http":
            sessions, runs = (int(part) for part in args.detail.split(","))
            seed_http(env, min(sizes.list_totals), sessions, runs)
        else:
            from agno.os import AgentOS

            from bench.web.server import serve

            app = AgentOS(db=env.db("http"), telemetry=False).get_app()
            serve(app, args.port, None)
    finally:
        env.close()


if __name__ == "__main__":
    main()
