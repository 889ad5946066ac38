"""Timing: interleaved repeated measurement and the summaries the report prints.

The machine is shared and noisy, so sessiondb and its baseline are never measured one after
the other in two long blocks: :func:`interleave` alternates short rounds of each (and which goes
first), so that a burst of outside load hits both about equally. Standard library only.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Op = Callable[[int], object]
"""One timed operation; it gets the number of the call (0, 1, ...) to pick its input."""


@dataclass(frozen=True)
class Summary:
    """Per-operation durations of one side of a workload, in seconds.

    Attributes:
        n: how many operations were timed.
        median: median duration (the p50).
        p99: 99th percentile (the largest sample when there are fewer than 100).
        round_medians: the median of each round, to show the spread between rounds.
    """

    n: int
    median: float
    p99: float
    round_medians: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "n": self.n,
            "median": self.median,
            "p99": self.p99,
            "round_medians": list(self.round_medians),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Summary:
        """Inverse of :meth:`to_json`."""
        return cls(int(data["n"]), float(data["median"]), float(data["p99"]), tuple(data["round_medians"]))


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1) by nearest rank; ``samples`` need not be sorted."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summarize(rounds: Sequence[Sequence[float]]) -> Summary:
    """Summarize the per-operation durations collected in each round."""
    flat = [value for samples in rounds for value in samples]
    return Summary(
        n=len(flat),
        median=statistics.median(flat),
        p99=percentile(flat, 0.99),
        round_medians=tuple(statistics.median(samples) for samples in rounds if samples),
    )


def time_ops(op: Op, count: int, start: int = 0) -> list[float]:
    """Run ``op(start) ... op(start + count - 1)`` and return each call's duration."""
    durations: list[float] = []
    clock = time.perf_counter
    for number in range(start, start + count):
        began = clock()
        op(number)
        durations.append(clock() - began)
    return durations


def interleave(
    sides: Mapping[str, Op], *, rounds: int, per_round: int, warmup: int = 3, first_call: int = 0
) -> dict[str, Summary]:
    """Time every side in alternating rounds; returns one summary per side.

    Each side first runs ``warmup`` untimed calls. Then, ``rounds`` times, every side runs
    ``per_round`` timed calls, the order of the sides rotating from round to round. Call
    numbers keep counting up across rounds (from ``first_call``), so an op can use them to
    pick fresh inputs. The garbage collector is run between rounds, never inside one.
    """
    names = list(sides)
    counters = dict.fromkeys(names, first_call)
    collected: dict[str, list[list[float]]] = {name: [] for name in names}
    for name in names:
        time_ops(sides[name], warmup, counters[name])
        counters[name] += warmup
    # Everything alive now (datasets, the caller's objects, a test runner's whole heap) goes to
    # the permanent generation, so the collections between rounds scan only what the rounds
    # made: a full collection of a large heap took 0.4 s each, more than the rounds it separated.
    gc.freeze()
    try:
        for number in range(rounds):
            order = names[number % len(names) :] + names[: number % len(names)]
            for name in order:
                gc.collect()
                collected[name].append(time_ops(sides[name], per_round, counters[name]))
                counters[name] += per_round
    finally:
        gc.unfreeze()
    return {name: summarize(collected[name]) for name in names}
