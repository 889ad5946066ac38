"""Issue 17's workloads: token-budgeted history, forking a long session, the metadata filter.

Each is timed against the raw SQL it has to run, on the same tables:

- ``history_budget``: ``get_history(max_tokens=2000)`` of a 10,000-run session against
  selecting and decoding the newest history runs the answer holds (the runs it needs, read
  exactly; sessiondb reads them in growing batches and counts tokens);
- ``fork``: ``fork_session`` of a 10,000-run session against plain ``INSERT ... SELECT`` copies
  of the rows a fork writes: the session row, the run rows with new ids but the payload copied
  as it is, their search index rows and one change-feed row per run (so the ratio is the cost
  of rewriting ids inside the JSON and of naming the fork). The copy of the run rows alone
  (the baseline before the index and the feed existed) is timed beside them as
  ``runs_only_copy_s``. A fork made in Python (load the session, copy, save) is timed once
  for comparison;
- ``list_metadata``: a page of the sessions whose metadata contains ``{"tier": "gold"}`` (1%
  of them), with the total count, against the same query in raw SQL.
"""

from __future__ import annotations

import copy
import time
import uuid

from bench import seed
from bench.config import Sizes, branch_runs
from bench.env import Dataset, Env
from bench.result import Result, latency_result
from bench.stats import interleave
from sessiondb.db.query import SessionQuery
from sessiondb.session import AgentSession

USER = "u-branch"
BUDGET = 2_000
HISTORY_MAX_RATIO = 3.0
FORK_MAX_RATIO = 3.0
METADATA_SESSIONS = {"quick": 2_000}
"""Sessions of the metadata dataset, by preset (100,000 unless named)."""
METADATA_MAX_RATIO = 2.0


def _runs(sizes: Sizes) -> int:
    return branch_runs(sizes)


def _sessions(sizes: Sizes) -> int:
    return METADATA_SESSIONS.get(sizes.name, 100_000)


def _history(env: Env, dataset: Dataset, sizes: Sizes, session_id: str) -> Result:
    store, raw = dataset.store, dataset.raw
    answer = store.get_history(session_id, max_tokens=BUDGET)
    # The runs the answer holds (one user message each), plus the one that did not fit.
    needed = sum(1 for m in answer.messages if m.role == "user") + 1
    measured = interleave(
        {
            "sessiondb": lambda _i: store.get_history(session_id, max_tokens=BUDGET),
            "baseline": lambda _i: raw.last_runs(session_id, needed),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
    )
    result = latency_result(
        env.backend,
        "history_budget",
        {"runs": _runs(sizes), "max_tokens": BUDGET, "runs_needed": needed},
        measured,
        target=f"≤ {HISTORY_MAX_RATIO:g}x raw",
        max_ratio=HISTORY_MAX_RATIO,
    )
    result.extra["messages"] = len(answer.messages)
    return result


def _raw_fork(dataset: Dataset, session_id: str, *, runs_only: bool = False) -> None:
    raw, tables = dataset.raw, dataset.store._tables
    d = raw.driver
    new_id = str(uuid.uuid4())
    columns = [column.name for column in tables.sessions.c]
    picked = ", ".join("?" if name == "session_id" else f'"{name}"' for name in columns)
    run_columns = "run_id, session_id, run_index, run_type, agent_id, team_id, workflow_id, user_id, "
    run_columns += "parent_run_id, status, run_data, created_at, updated_at"
    copied = run_columns.replace("run_id, session_id, ", "")
    with d.transaction(write=True) as cursor:
        quoted = ", ".join(f'"{name}"' for name in columns)
        cursor.execute(
            d.sql(
                f"INSERT INTO {d.table(raw.sessions)} ({quoted}) SELECT {picked} "
                f"FROM {d.table(raw.sessions)} WHERE session_id = ?"
            ),
            (new_id, session_id),
        )
        cursor.execute(
            d.sql(
                f"INSERT INTO {d.table(raw.runs)} ({run_columns}) SELECT ? || CAST(run_index AS TEXT), ?, "
                f"{copied} FROM {d.table(raw.runs)} WHERE session_id = ?"
            ),
            (new_id[:24], new_id, session_id),
        )
        if runs_only:
            return
        # The copies' index rows, taken from their originals' (the same text and tsvector).
        search = tables.names.search
        copied = "body, tsv" if d.dialect == "postgres" else "body"
        taken = ", ".join(f"x.{name}" for name in copied.split(", "))
        cursor.execute(
            d.sql(
                f"INSERT INTO {d.table(search)} (run_id, session_id, created_at, {copied}) "
                f"SELECT c.run_id, c.session_id, x.created_at, {taken} "
                f"FROM {d.table(raw.runs)} c JOIN {d.table(raw.runs)} o "
                "ON o.session_id = ? AND o.run_index = c.run_index "
                f"JOIN {d.table(search)} x ON x.run_id = o.run_id WHERE c.session_id = ?"
            ),
            (session_id, new_id),
        )
        changes = d.table(tables.names.changes)
        cursor.execute(
            d.sql(
                f"INSERT INTO {changes} (kind, session_id, run_id, session_type, user_id, version, at) "
                "SELECT 'session.created', session_id, NULL, session_type, user_id, 1, updated_at "
                f"FROM {d.table(raw.sessions)} WHERE session_id = ?"
            ),
            (new_id,),
        )
        cursor.execute(
            d.sql(
                f"INSERT INTO {changes} (kind, session_id, run_id, session_type, user_id, version, at) "
                "SELECT 'run.created', session_id, run_id, 'agent', user_id, 1, updated_at "
                f"FROM {d.table(raw.runs)} WHERE session_id = ? ORDER BY run_index"
            ),
            (new_id,),
        )


def _python_fork_seconds(dataset: Dataset, session_id: str) -> float:
    started = time.perf_counter()
    source = dataset.store.get_session(session_id)
    runs = copy.deepcopy(source.runs or [])
    new_id = str(uuid.uuid4())
    for run in runs:
        run.run_id = str(uuid.uuid4())
        run.session_id = new_id
    assert isinstance(source, AgentSession)
    fork = AgentSession(
        session_id=new_id,
        agent_id=source.agent_id,
        user_id=source.user_id,
        session_data=copy.deepcopy(source.session_data),
        metadata=copy.deepcopy(source.metadata),
        runs=runs,
    )
    dataset.store.create_session(fork)
    return time.perf_counter() - started


def _fork(env: Env, dataset: Dataset, sizes: Sizes, session_id: str) -> Result:
    store = dataset.store
    # Each call copies 10,000 rows: a few rounds are enough, and keep the tables small.
    measured = interleave(
        {
            "sessiondb": lambda _i: store.fork_session(session_id),
            "baseline": lambda _i: _raw_fork(dataset, session_id),
            "runs_only": lambda _i: _raw_fork(dataset, session_id, runs_only=True),
        },
        rounds=3,
        per_round=2,
        warmup=1,
    )
    result = latency_result(
        env.backend,
        "fork",
        {"runs": _runs(sizes)},
        measured,
        target=f"≤ {FORK_MAX_RATIO:g}x raw copy",
        max_ratio=FORK_MAX_RATIO,
    )
    result.extra["runs_only_copy_s"] = round(measured["runs_only"].median, 3)
    result.extra["python_fork_s"] = round(_python_fork_seconds(dataset, session_id), 3)
    return result


def _tag_metadata(dataset: Dataset) -> None:
    """Give 1% of the sessions ``{"tier": "gold"}`` and the rest ``{"tier": "free"}``."""
    d = dataset.raw.driver
    table = d.table(dataset.raw.sessions)
    if d.dialect == "postgres":
        value = (
            "jsonb_build_object('source', 'bench', 'tier', "
            "CASE WHEN abs(hashtext(session_id)) % 100 = 0 THEN 'gold' ELSE 'free' END)"
        )
    else:
        value = (
            "json_object('source', 'bench', 'tier', CASE WHEN rowid % 100 = 0 THEN 'gold' ELSE 'free' END)"
        )
    with d.transaction(write=True) as cursor:
        cursor.execute(f"UPDATE {table} SET metadata = {value}")
    seed.analyze(dataset)


def _raw_metadata_page(dataset: Dataset) -> list[object]:
    d = dataset.raw.driver
    table = d.table(dataset.raw.sessions)
    match = (
        """metadata @> '{"tier": "gold"}'::jsonb"""
        if d.dialect == "postgres"
        else "json_extract(metadata, '$.tier') = 'gold'"
    )
    query = (
        f"SELECT *, count(*) OVER () FROM {table} WHERE {match} "
        "ORDER BY created_at DESC, session_id DESC LIMIT 20"
    )
    with d.transaction(write=False) as cursor:
        cursor.execute(query)
        rows: list[object] = cursor.fetchall()
    return rows


def _metadata(env: Env, sizes: Sizes) -> Result:
    dataset = env.dataset("metadata")
    total = _sessions(sizes)
    seed.listing(dataset, total, [])
    _tag_metadata(dataset)
    store = dataset.store
    query = SessionQuery(metadata={"tier": "gold"})
    found = store.get_sessions(query)
    assert 0 < found.total_count < total // 20, found.total_count
    measured = interleave(
        {
            "sessiondb": lambda _i: store.get_sessions(query),
            "baseline": lambda _i: _raw_metadata_page(dataset),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
    )
    result = latency_result(
        env.backend,
        "list_metadata",
        {"sessions": total, "matching": found.total_count},
        measured,
        target=f"≤ {METADATA_MAX_RATIO:g}x raw",
        max_ratio=METADATA_MAX_RATIO,
    )
    return result


def run(env: Env, sizes: Sizes) -> list[Result]:
    """The three workloads on ``env``'s backend."""
    dataset = env.dataset("branching")
    session_id = "long"
    seed.session_with_runs(dataset, session_id, USER, _runs(sizes))
    seed.analyze(dataset)
    return [
        _history(env, dataset, sizes, session_id),
        _fork(env, dataset, sizes, session_id),
        _metadata(env, sizes),
    ]
