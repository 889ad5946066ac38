"""The server's memory under sustained read load: ``python -m bench memory``.

The issue asks that the server's RSS stay flat "under an hour-equivalent of list/read load".
One hour of the load Agno serves at its best (about 100 list requests/s) is 360,000
requests; that is the default. sessiondb's app over one backend is loaded, list and detail
requests interleaved, by the same load generator as the HTTP workloads, and its resident set
is read after the warm-up and after every slice of requests. The JSON written next to the
other results holds the whole series.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import DEFAULT, Sizes
from bench.env import Env
from bench.web.process import load_plan, run_plan
from bench.workloads import http

HOUR_OF_PEER_LOAD = 360_000
"""Requests in one hour at 100 requests/s (the peer's list throughput on this machine)."""

SLICES = 36
"""How many times the resident set is sampled over the run (every 100 s of peer load)."""

MAX_GROWTH_MB = 10.0
"""Growth from the first slice to the last that still counts as flat (noise of the allocator)."""


def run(backend: str, requests: int, *, pg_url: str, out_dir: Path, sizes: Sizes = DEFAULT) -> dict[str, Any]:
    """Load sessiondb's app with ``requests`` list/detail requests; returns and writes the series.

    The data set is the HTTP workloads' one for ``sizes`` (its smallest listing table).
    """
    env = Env.create(backend, pg_url=pg_url)
    try:
        dataset = env.dataset("http")
        users = http.seed_http(dataset, min(sizes.list_totals))
        groups = http.endpoints(users)
        paths = [
            path
            for pair in zip(groups["http_list"], groups["http_detail"] * 3, strict=False)
            for path in pair
        ]
        server = http.sessiondb_server(env, dataset, paths[0])
        try:
            plan = load_plan(
                [server],
                paths,
                rounds=SLICES,
                per_round=max(1, requests // SLICES),
                warmup=min(1_000, requests),
                concurrency=sizes.http_concurrency,
                timeout=3_600.0,
            )
            outcome = run_plan(plan, env.root / "memory-plan.json")["sessiondb"]
        finally:
            server.stop()
    finally:
        env.close()
    rounds = outcome["rounds"]
    rss: list[float] = outcome["rss_mb"]
    summary = {
        "backend": backend,
        "requests": sum(len(r["latencies"]) for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "elapsed_s": round(sum(r["elapsed"] for r in rounds), 1),
        "rps": round(statistics.median(len(r["latencies"]) / r["elapsed"] for r in rounds), 1),
        "rss_mb": rss,
        "growth_mb": round(rss[-1] - rss[1], 2) if len(rss) > 1 else 0.0,
        "flat": len(rss) > 1 and rss[-1] - rss[1] <= MAX_GROWTH_MB,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"memory-{backend}-{stamp}.json").write_text(json.dumps(summary, indent=2))
    return summary


def describe(summary: dict[str, Any]) -> str:
    """One line for the terminal and the docs."""
    rss = summary["rss_mb"]
    return (
        f"{summary['backend']}: {summary['requests']:,} requests ({summary['errors']} errors) in "
        f"{summary['elapsed_s']:,} s, {summary['rps']:,} req/s; RSS {rss[0]:.1f} MiB after warm-up, "
        f"{rss[1]:.1f} after the first slice, {rss[-1]:.1f} at the end "
        f"(growth {summary['growth_mb']:+.1f} MiB: {'flat' if summary['flat'] else 'NOT flat'})"
    )
