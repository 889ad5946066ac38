"""One workload's outcome: sessiondb, its in-run baseline, the ratio, the target and any peers.

Standard library only (the Agno peer runner builds these too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.stats import Summary

Check = Callable[["Result"], bool | None]


@dataclass
class Result:
    """A measured workload.

    Attributes:
        backend: ``sqlite`` or ``postgres``.
        workload: the workload's name (``append``, ``list_user``, ...).
        params: what was varied (``{"runs": 1000}``); part of the key peers are matched on.
        sessiondb: per-operation latency of sessiondb.
        baseline: per-operation latency of the baseline, measured in the same rounds.
        ratio: how many times more sessiondb costs than the baseline (median latency, or
            inverse throughput for HTTP); below 1 would mean faster than the baseline.
        target: the issue's target for this workload, as text (empty when none).
        passed: whether the target is met (``None`` when it does not apply to these sizes).
        peers: other systems on the same workload: name → ``{"summary", "ratio"}``.
        extra: further numbers (throughput, RSS, growth ratios).
        unit: what the summaries count: ``"s"`` (seconds per operation) or ``"B"`` (bytes).
    """

    backend: str
    workload: str
    params: dict[str, Any]
    sessiondb: Summary
    baseline: Summary
    ratio: float
    target: str = ""
    passed: bool | None = None
    peers: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    unit: str = "s"

    @property
    def key(self) -> str:
        """``backend/workload/params``: what identifies a workload across processes."""
        params = ",".join(f"{name}={value}" for name, value in sorted(self.params.items()))
        return f"{self.backend}/{self.workload}/{params}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "backend": self.backend,
            "workload": self.workload,
            "params": self.params,
            "sessiondb": self.sessiondb.to_json(),
            "baseline": self.baseline.to_json(),
            "ratio": self.ratio,
            "target": self.target,
            "passed": self.passed,
            "peers": {
                name: {**peer, "summary": peer["summary"].to_json()} for name, peer in self.peers.items()
            },
            "extra": self.extra,
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """Inverse of :meth:`to_json`."""
        peers = {
            name: {**peer, "summary": Summary.from_json(peer["summary"])}
            for name, peer in data["peers"].items()
        }
        return cls(
            backend=data["backend"],
            workload=data["workload"],
            params=dict(data["params"]),
            sessiondb=Summary.from_json(data["sessiondb"]),
            baseline=Summary.from_json(data["baseline"]),
            ratio=float(data["ratio"]),
            target=data["target"],
            passed=data["passed"],
            peers=peers,
            extra=dict(data["extra"]),
            unit=data.get("unit", "s"),
        )


def latency_result(
    backend: str,
    workload: str,
    params: dict[str, Any],
    measured: Mapping[str, Summary],
    *,
    target: str = "",
    max_ratio: float | None = None,
) -> Result:
    """A result from ``interleave``'s ``{"sessiondb": ..., "baseline": ...}``.

    ``max_ratio``, when given, sets ``passed`` to whether the ratio stays within it.
    """
    ours, base = measured["sessiondb"], measured["baseline"]
    ratio = ours.median / base.median
    passed = None if max_ratio is None else ratio <= max_ratio
    return Result(backend, workload, params, ours, base, ratio, target, passed)
