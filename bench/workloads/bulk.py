"""Bulk import: whole sessions with their runs, many per transaction (``upsert_sessions``)."""

from __future__ import annotations

from typing import Any

from bench import data, seed
from bench.config import Sizes
from bench.env import Dataset, Env
from bench.result import Result, latency_result
from bench.stats import interleave
from sessiondb.session import AgentSession

USER = "u-bulk"
NAME = "Imported session"
MIN_RUNS_PER_S = 50_000


def _sessions(prefix: str, sizes: Sizes) -> list[AgentSession]:
    return [
        AgentSession(
            session_id=f"{prefix}-{k}",
            agent_id=data.AGENT_ID,
            user_id=USER,
            session_data={"session_name": NAME},
            created_at=data.BASE_TIME,
            runs=[seed.run_object(f"{prefix}-{k}", USER, index) for index in range(sizes.bulk_runs)],
        )
        for k in range(sizes.bulk_sessions)
    ]


def _template_row(dataset: Dataset, sizes: Sizes) -> tuple[dict[str, Any], list[str]]:
    """A session row sessiondb wrote for a session shaped like every imported one."""
    dataset.store.upsert_sessions(_sessions("bulk-template", sizes)[:1])
    raw = dataset.raw
    with raw.driver.transaction(write=False) as cursor:
        cursor.execute(
            raw.driver.sql(f"SELECT * FROM {raw.driver.table(raw.sessions)} WHERE session_id = ?"),
            ("bulk-template-0",),
        )
        names = [column[0] for column in cursor.description]
        row = dict(zip(names, cursor.fetchone(), strict=True))
    return raw._decode_session(row), names


def _raw_batch(
    template: dict[str, Any], prefix: str, sizes: Sizes
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    batch = []
    for k in range(sizes.bulk_sessions):
        session_id = f"{prefix}-{k}"
        runs = [seed.canonical_run(session_id, USER, index) for index in range(sizes.bulk_runs)]
        row = {**template, "session_id": session_id, "name_run_id": runs[0]["run_id"] if runs else None}
        batch.append((row, runs))
    return batch


def run(env: Env, sizes: Sizes) -> list[Result]:
    """Import ``bulk_rounds`` batches per side; report per-batch time and runs per second."""
    dataset = env.dataset("bulk")
    template, columns = _template_row(dataset, sizes)
    ours = [_sessions(f"bulk{n}-s", sizes) for n in range(sizes.bulk_rounds)]
    theirs = [_raw_batch(template, f"bulk{n}-r", sizes) for n in range(sizes.bulk_rounds)]
    store, raw = dataset.store, dataset.raw
    measured = interleave(
        {
            "sessiondb": lambda i: store.upsert_sessions(ours[i]),
            "baseline": lambda i: raw.import_sessions(theirs[i], columns),
        },
        rounds=sizes.bulk_rounds,
        per_round=1,
        warmup=0,
    )
    runs = sizes.bulk_sessions * sizes.bulk_runs
    result = latency_result(
        env.backend,
        "bulk_import",
        {"sessions": sizes.bulk_sessions, "runs_per_session": sizes.bulk_runs},
        measured,
        target=f"≥ {MIN_RUNS_PER_S:,} runs/s (PostgreSQL)",
    )
    result.extra["runs_per_s"] = runs / result.sessiondb.median
    result.extra["baseline_runs_per_s"] = runs / result.baseline.median
    if env.backend == "postgres":
        result.passed = result.extra["runs_per_s"] >= MIN_RUNS_PER_S
    return [result]
