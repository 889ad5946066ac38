"""What the run lease costs: ``Agent.run`` per second with the lease on and off.

With the lease on, a run's first write carries its lease (a value more in the same
``INSERT``); the renewals are one statement per store per renewal period, whatever the number
of runs, on a thread of their own. The baseline is
the same runs with the lease off (``_lease.configure(0)``); rounds alternate the two sides.
"""

from __future__ import annotations

import time

from bench.config import Sizes
from bench.env import Env
from bench.result import Result, latency_result
from bench.stats import summarize
from sessiondb.agent import Agent, _lease
from sessiondb.db.leases import DEFAULT_LEASE_SECONDS
from sessiondb.models import TestModel


def _round(agent: Agent, runs: int, tag: str) -> tuple[list[float], float]:
    durations: list[float] = []
    started = time.perf_counter()
    for number in range(runs):
        began = time.perf_counter()
        agent.run(f"question {number}", session_id=f"{tag}-{number % 10}")
        durations.append(time.perf_counter() - began)
    return durations, time.perf_counter() - started


BLOCK = 10
"""Runs per block; the sides alternate every block, so a loaded machine's drift hits both."""


def run(env: Env, sizes: Sizes) -> list[Result]:
    """The lease workload on ``env``'s backend."""
    store = env.dataset("lease").store
    agent = Agent(id="lease-agent", model=TestModel(), db=store)
    blocks = max(4, sizes.rounds * sizes.per_round // 6)
    measured: dict[str, list[float]] = {"leased": [], "plain": []}
    walls = {"leased": 0.0, "plain": 0.0}
    try:
        for number in range(blocks):
            sides = ["leased", "plain"] if number % 2 == 0 else ["plain", "leased"]
            for side in sides:
                _lease.configure(DEFAULT_LEASE_SECONDS if side == "leased" else 0)
                durations, wall = _round(agent, BLOCK, f"{side}-{number}")
                measured[side] += durations
                walls[side] += wall
    finally:
        _lease.configure(DEFAULT_LEASE_SECONDS)
    result = latency_result(
        env.backend,
        "run_lease",
        {"runs": blocks * BLOCK},
        {"sessiondb": summarize([measured["leased"]]), "baseline": summarize([measured["plain"]])},
        target="runs/s with the lease within 5% of without",
    )
    leased_rate = len(measured["leased"]) / walls["leased"]
    plain_rate = len(measured["plain"]) / walls["plain"]
    result.passed = leased_rate >= 0.95 * plain_rate
    result.extra.update(runs_per_s=leased_rate, baseline_runs_per_s=plain_rate)
    return [result]
