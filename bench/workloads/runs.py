"""Run workloads: append a run, read the last 3 runs' messages, load a whole session, window memory."""

from __future__ import annotations

import math
import statistics
import time
import tracemalloc
from collections.abc import Callable

from bench import seed
from bench.config import Sizes
from bench.env import Dataset, Env
from bench.result import Result, latency_result
from bench.stats import Summary, interleave

WARMUP = 3
USER = "u-runs"
APPEND_MAX_RATIO = 3.0
APPEND_MAX_GROWTH = 1.2
HISTORY_MAX_RATIO = 3.0
SESSION_MAX_RATIO = 2.0
WINDOW_MAX_GROWTH = 1.5


def _per_round(sizes: Sizes, runs: int) -> int:
    # Whole-session reads cost about linearly in runs: fewer timed calls for big sessions.
    return max(5, sizes.per_round // max(1, runs // 100))


def _append_at(env: Env, dataset: Dataset, sizes: Sizes, runs: int) -> Result:
    calls = sizes.ops + WARMUP
    pool = max(1, math.ceil(10 * calls / runs))
    ours = seed.sessions_with_runs(dataset, (f"a{runs}-s{k}" for k in range(pool)), USER, runs)
    theirs = seed.sessions_with_runs(dataset, (f"a{runs}-r{k}" for k in range(pool)), USER, runs)
    seed.analyze(dataset)
    our_runs = [seed.run_object(ours[i % pool], USER, runs + i // pool) for i in range(calls)]
    raw_runs = [seed.canonical_run(theirs[i % pool], USER, runs + i // pool) for i in range(calls)]
    store, raw = dataset.store, dataset.raw
    measured = interleave(
        {
            "sessiondb": lambda i: store.upsert_run(ours[i % pool], our_runs[i]),
            "baseline": lambda i: raw.append(theirs[i % pool], raw_runs[i], int(time.time())),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
        warmup=WARMUP,
    )
    largest, smallest = max(sizes.append_runs), min(sizes.append_runs)
    return latency_result(
        env.backend,
        "append",
        {"runs": runs},
        measured,
        target=f"≤ {APPEND_MAX_RATIO:g}x raw; N={largest:,} ≤ {APPEND_MAX_GROWTH}x N={smallest:,}",
        max_ratio=APPEND_MAX_RATIO,
    )


def append(env: Env, sizes: Sizes) -> list[Result]:
    """Append one ~2 KB run to a session already holding N runs (``SessionStore.upsert_run``).

    Each side appends to a pool of its own sessions, big enough that no session grows by more
    than a tenth of N during the measurement.
    """
    dataset = env.dataset("append")
    results = [_append_at(env, dataset, sizes, runs) for runs in sizes.append_runs]
    smallest, largest = results[0], results[-1]
    for result in results:
        result.extra["growth"] = result.sessiondb.median / smallest.sessiondb.median
        result.extra["baseline_growth"] = result.baseline.median / smallest.baseline.median
    if len(results) > 1:
        largest.passed = bool(largest.passed) and largest.extra["growth"] <= APPEND_MAX_GROWTH
    return results


def _history_at(env: Env, dataset: Dataset, sizes: Sizes, runs: int) -> Result:
    session_id = f"h{runs}"
    seed.session_with_runs(dataset, session_id, USER, runs)
    seed.analyze(dataset)
    store, raw = dataset.store, dataset.raw
    measured = interleave(
        {
            "sessiondb": lambda _i: store.get_session(session_id, runs_limit=3).get_messages(last_n_runs=3),
            "baseline": lambda _i: raw.last_runs(session_id, 3),
        },
        rounds=sizes.rounds,
        per_round=sizes.per_round,
        warmup=WARMUP,
    )
    return latency_result(
        env.backend,
        "get_messages_last3",
        {"runs": runs},
        measured,
        target=f"≤ {HISTORY_MAX_RATIO:g}x raw (at 10,000 runs)",
        max_ratio=HISTORY_MAX_RATIO,
    )


def history(env: Env, sizes: Sizes) -> list[Result]:
    """``get_session(runs_limit=3).get_messages(last_n_runs=3)`` (what an agent turn reads) on N runs.

    The baseline is the issue's: select the last 3 history rows and decode them.
    """
    dataset = env.dataset("history")
    return [_history_at(env, dataset, sizes, runs) for runs in sizes.history_runs]


def _whole_at(env: Env, dataset: Dataset, sizes: Sizes, runs: int) -> Result:
    session_id = f"g{runs}"
    seed.session_with_runs(dataset, session_id, USER, runs)
    seed.analyze(dataset)
    store, raw = dataset.store, dataset.raw
    measured = interleave(
        {
            "sessiondb": lambda _i: store.get_session(session_id),
            "baseline": lambda _i: raw.load_session(session_id),
        },
        rounds=sizes.rounds,
        per_round=_per_round(sizes, runs),
        warmup=2,
    )
    return latency_result(
        env.backend,
        "get_session",
        {"runs": runs},
        measured,
        target=f"≤ {SESSION_MAX_RATIO:g}x raw (at 1,000 runs)",
        max_ratio=SESSION_MAX_RATIO,
    )


def whole_session(env: Env, sizes: Sizes) -> list[Result]:
    """``get_session`` of a session with N runs, against selecting the row and runs and decoding them."""
    dataset = env.dataset("history")
    return [_whole_at(env, dataset, sizes, runs) for runs in sizes.session_runs]


def _peak_bytes(call: Callable[[], object], repeats: int = 5) -> Summary:
    peaks: list[float] = []
    for _ in range(repeats):
        tracemalloc.start()
        try:
            call()
            peaks.append(float(tracemalloc.get_traced_memory()[1]))
        finally:
            tracemalloc.stop()
    return Summary(len(peaks), statistics.median(peaks), max(peaks), tuple(peaks))


def _window_at(env: Env, dataset: Dataset, runs: int) -> Result:
    session_id = f"h{runs}"
    store, raw = dataset.store, dataset.raw
    ours = _peak_bytes(lambda: store.get_session(session_id, runs_limit=3).get_messages(last_n_runs=3))
    base = _peak_bytes(lambda: raw.last_runs(session_id, 3))
    return Result(
        env.backend,
        "window_memory",
        {"runs": runs},
        ours,
        base,
        ours.median / base.median,
        target=f"peak flat in N (≤ {WINDOW_MAX_GROWTH}x the smallest)",
        unit="B",
    )


def window_memory(env: Env, sizes: Sizes) -> list[Result]:
    """Peak Python allocation of the windowed read (last 3 runs) on sessions of growing size.

    Uses the sessions :func:`history` created, so it must run after it.
    """
    dataset = env.dataset("history")
    results = [_window_at(env, dataset, runs) for runs in sizes.history_runs]
    smallest = results[0]
    for result in results:
        result.extra["growth"] = result.sessiondb.median / smallest.sessiondb.median
        result.passed = result.extra["growth"] <= WINDOW_MAX_GROWTH
    return results


def run(env: Env, sizes: Sizes) -> list[Result]:
    """Every run workload, in an order that lets later ones reuse earlier sessions."""
    return [*append(env, sizes), *history(env, sizes), *window_memory(env, sizes), *whole_session(env, sizes)]
