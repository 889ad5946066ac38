"""What a soak measures: the outage window, the metrics every client adds to, and the report."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Outage:
    """When the database was down (monotonic seconds); requests then may fail with 503."""

    started: float | None = None
    ended: float | None = None
    grace: float = 5.0

    def covers(self, moment: float) -> bool:
        """Whether ``moment`` falls in the outage or the grace period after it."""
        if self.started is None:
            return False
        end = self.ended if self.ended is not None else float("inf")
        return self.started - 0.5 <= moment <= end + self.grace


@dataclass
class Metrics:
    """What every client saw, merged."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    store_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outage_errors: int = 0
    conflicts: int = 0
    duplicates: int = 0

    def record(self, op: str, started: float, status: int) -> None:
        self.latencies.setdefault(op, []).append((time.perf_counter() - started) * 1000)
        self.statuses[status] += 1

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def percentiles(values: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``values`` in milliseconds."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (0.0, 0.0)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[98]


@dataclass
class SoakResult:
    """The outcome of one soak."""

    seconds: float
    clients: int
    metrics: Metrics
    problems: list[str]

    def report(self) -> str:
        """A Markdown table of the numbers, for ``docs/reliability.md``."""
        m = self.metrics
        everything = [value for values in m.latencies.values() for value in values]
        p50, p99 = percentiles(everything)
        s50, s99 = percentiles(m.store_latencies)
        lines = [
            f"{self.clients} clients, {self.seconds:.0f} s: {m.requests} HTTP requests "
            f"({m.requests / self.seconds:.0f}/s) and {len(m.store_latencies)} store appends "
            f"({m.duplicates} of them duplicate deliveries)",
            f"errors: {len(m.errors)}; 5xx: {sum(n for s, n in m.statuses.items() if s >= 500)} "
            f"(failures during the outage: {m.outage_errors}); "
            f"If-Match conflicts (412, expected): {m.conflicts}",
            f"HTTP latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
            f"store append p50 {s50:.1f} ms, p99 {s99:.1f} ms",
            "",
            "| operation | requests | p50 ms | p99 ms |",
            "|---|---:|---:|---:|",
        ]
        for op, values in sorted(m.latencies.items()):
            o50, o99 = percentiles(values)
            lines.append(f"| {op} | {len(values)} | {o50:.1f} | {o99:.1f} |")
        return "\n".join(lines)
