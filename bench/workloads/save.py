"""The seeds' save pattern: a session object kept in memory, one run added and saved per turn.

Per turn: ``session.upsert_run(run); store.upsert_session(session)`` on the object loaded once
and saved since (what the seeds and Agno users write, in its steady state). The baseline is
the raw append of one run row; the Agno peer (``--peers``) does Agno's own version of the
same turn.
"""

from __future__ import annotations

import math
from typing import Any

from bench import data, seed
from bench.config import Sizes
from bench.env import Dataset, Env
from bench.result import Result, latency_result
from bench.stats import interleave
from sessiondb.run.agent import RunOutput
from sessiondb.session import Session

WARMUP = 3
USER = "u-save"
SAVE_MAX_RATIO = 3.0
SAVE_MAX_GROWTH = 1.2


class _Turns:
    """The runs of the measured turns, each handed out once.

    A seed builds its run, saves it and lets it go; a list holding every run would keep them
    all referenced, and sessiondb watches a run the caller still holds (it may be edited in
    place), so each is dropped from here when its turn takes it.
    """

    def __init__(self, runs: list[RunOutput]) -> None:
        self._runs: list[RunOutput | None] = list(runs)

    def take(self, call: int) -> RunOutput:
        run = self._runs[call]
        assert run is not None
        self._runs[call] = None
        return run


def _save_at(env: Env, dataset: Dataset, sizes: Sizes, runs: int) -> Result:
    calls = sizes.ops + WARMUP
    pool = max(1, math.ceil(10 * calls / runs))
    ours = seed.sessions_with_runs(dataset, (f"p{runs}-s{k}" for k in range(pool)), USER, runs)
    theirs = seed.sessions_with_runs(dataset, (f"p{runs}-r{k}" for k in range(pool)), USER, runs)
    seed.analyze(dataset)
    store, raw = dataset.store, dataset.raw
    sessions: list[Session] = [store.get_session(session_id) for session_id in ours]
    for session in sessions:
        # Kept in memory, each object has been saved before: the first save after a load
        # rewrites the session row (the object cannot know yet what the row holds), every
        # later one only bumps it unless the session's fields changed.
        store.upsert_session(session)
    turns = _Turns([seed.run_object(ours[i % pool], USER, runs + i // pool) for i in range(calls)])
    raw_runs = [seed.canonical_run(theirs[i % pool], USER, runs + i // pool) for i in range(calls)]
    now = data.BASE_TIME + runs

    def save(i: int) -> Any:
        session = sessions[i % pool]
        session.upsert_run(turns.take(i))
        return store.upsert_session(session)

    measured = interleave(
        {"sessiondb": save, "baseline": lambda i: raw.append(theirs[i % pool], raw_runs[i], now)},
        rounds=sizes.rounds,
        per_round=sizes.per_round,
        warmup=WARMUP,
    )
    largest, smallest = max(sizes.append_runs), min(sizes.append_runs)
    return latency_result(
        env.backend,
        "save_pattern",
        {"runs": runs},
        measured,
        target=f"≤ {SAVE_MAX_RATIO:g}x raw; N={largest:,} ≤ {SAVE_MAX_GROWTH}x N={smallest:,}",
        max_ratio=SAVE_MAX_RATIO,
    )


def run(env: Env, sizes: Sizes) -> list[Result]:
    """``session.upsert_run(run); upsert_session(session)`` on an object holding N runs.

    Each side saves into a pool of its own sessions, big enough that no session grows by more
    than a tenth of N during the measurement (as the ``append`` workload does).
    """
    dataset = env.dataset("save")
    results = [_save_at(env, dataset, sizes, runs) for runs in sizes.append_runs]
    smallest, largest = results[0], results[-1]
    for result in results:
        result.extra["growth"] = result.sessiondb.median / smallest.sessiondb.median
        result.extra["baseline_growth"] = result.baseline.median / smallest.baseline.median
    if len(results) > 1:
        largest.passed = bool(largest.passed) and largest.extra["growth"] <= SAVE_MAX_GROWTH
    return results
