"""Runs per second into one hot session: concurrent ``Agent.run`` calls into one session id.

Every run calls a tool that adds a ``session_state`` key of its own, so each run's end merges
state under the session's row lock while the other threads append and commit too. The
baseline is the same agent, threads and number of runs with every run in a session of its
own (no contention): the ratio is what sharing one session costs. After the timed rounds,
every hot run must be stored COMPLETED with its reply and every state key present; what is
not counts as a failure (the issue's requirement is zero).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bench.config import Sizes
from bench.env import Env
from bench.result import Result, latency_result
from bench.stats import summarize
from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.models import TestModel
from sessiondb.run.status import RunStatus

THREADS = 8
HOT_SESSION = "hot"


def _mark_run(session_state: dict[str, Any]) -> str:
    """Add this run's own key to the session state."""
    session_state[f"run-{session_state['current_run_id']}"] = True
    return "marked"


def _agent(store: SessionStore) -> Agent:
    return Agent(id="hot-agent", model=TestModel(call_tools=["_mark_run"]), db=store, tools=[_mark_run])


def _round(
    store: SessionStore, runs_each: int, session_of: Callable[[int, int], str]
) -> tuple[list[float], list[str], float]:
    """``THREADS`` threads make ``runs_each`` runs each; per-run seconds, run ids, wall seconds."""
    durations: list[float] = []
    run_ids: list[str] = []
    failures: list[str] = []
    barrier = threading.Barrier(THREADS)

    def worker(thread: int) -> None:
        agent = _agent(store)
        barrier.wait(timeout=60)
        for turn in range(runs_each):
            began = time.perf_counter()
            try:
                run = agent.run(f"thread {thread} turn {turn}", session_id=session_of(thread, turn))
            except Exception as exc:  # counted: the workload reports failures rather than stopping
                failures.append(repr(exc))
                continue
            durations.append(time.perf_counter() - began)
            run_ids.append(run.run_id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    run_ids += [f"failed: {failure}" for failure in failures]
    return durations, run_ids, wall


def _lost(store: SessionStore, run_ids: list[str]) -> int:
    """How many of ``run_ids`` the hot session does not hold COMPLETED with content and state key."""
    session = store.get_session(HOT_SESSION)
    state = (session.session_data or {}).get("session_state") or {}
    stored = {run.run_id: run for run in session.runs or []}
    lost = 0
    for run_id in run_ids:
        run = stored.get(run_id)
        if run is None or run.status != RunStatus.COMPLETED or not run.content:
            lost += 1
        elif state.get(f"run-{run_id}") is not True:
            lost += 1
    return lost


def run(env: Env, sizes: Sizes) -> list[Result]:
    """The hot-session workload on ``env``'s backend."""
    store = env.dataset("hot").store
    # A few runs per thread and round: enough to keep 8 writers overlapping on one row.
    runs_each = max(2, sizes.per_round // 6)
    hot_rounds: list[list[float]] = []
    cold_rounds: list[list[float]] = []
    hot_ids: list[str] = []
    hot_wall = cold_wall = 0.0
    for number in range(sizes.rounds):
        sides = ["hot", "cold"] if number % 2 == 0 else ["cold", "hot"]
        for side in sides:
            if side == "hot":
                durations, ids, wall = _round(store, runs_each, lambda _t, _n: HOT_SESSION)
                hot_rounds.append(durations)
                hot_ids += ids
                hot_wall += wall
            else:
                durations, _, wall = _round(store, runs_each, lambda t, n, r=number: f"cold-{r}-{t}-{n}")
                cold_rounds.append(durations)
                cold_wall += wall
    failures = _lost(store, hot_ids)
    result = latency_result(
        env.backend,
        "hot_session_runs",
        {"threads": THREADS},
        {"sessiondb": summarize(hot_rounds), "baseline": summarize(cold_rounds)},
        target="0 failures (every run COMPLETED, every state key stored)",
    )
    result.passed = failures == 0
    result.extra.update(
        runs=len(hot_ids),
        failures=failures,
        runs_per_s=len(hot_ids) / hot_wall,
        baseline_runs_per_s=sum(len(r) for r in cold_rounds) / cold_wall,
    )
    return [result]
