"""HTTP workloads: ``GET /sessions`` and ``GET /sessions/{id}`` from one server process, over loopback.

sessiondb's app (over the backend's store) and the baseline (a bare ASGI app returning the very
bytes sessiondb returned, from memory) are served by identical uvicorn processes and loaded by
the same load generator, in alternating rounds. The server's resident memory is sampled after
every round to show whether it stays flat.

``bench run --http-workers N`` serves both with N uvicorn worker processes instead (what
``sessiondb serve --workers N`` does). The issue's targets are for one process, so those rows
report their numbers without a verdict.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench import seed
from bench.config import Sizes
from bench.env import Dataset, Env
from bench.result import Result
from bench.stats import Summary, summarize
from bench.web.bare import save_bodies
from bench.web.process import Server, fetch, free_port, load_plan, run_plan

DETAIL_SESSIONS = 20
DETAIL_RUNS = 10
LIST_USERS = 50
MAX_THROUGHPUT_RATIO = 2.0
MAX_P99_S = 0.020
WARMUP_REQUESTS = 100


def endpoints(users: int) -> dict[str, list[str]]:
    """The paths each HTTP workload cycles through (same on every server, Agno's included)."""
    return {
        "http_list": [f"/sessions?type=agent&user_id=u{k}&limit=20" for k in range(min(users, LIST_USERS))],
        "http_detail": [f"/sessions/d{k}?type=agent" for k in range(DETAIL_SESSIONS)],
        # Not in the table: the runs of a session, which a UI asks for when it opens one.
        "http_runs": [f"/sessions/d{k}/runs?type=agent" for k in range(DETAIL_SESSIONS)],
    }


def seed_http(dataset: Dataset, total: int) -> int:
    """Fill the HTTP dataset; returns the number of ordinary users."""
    seed.listing(dataset, total, [])
    seed.sessions_with_runs(dataset, (f"d{k}" for k in range(DETAIL_SESSIONS)), "u-detail", DETAIL_RUNS)
    seed.analyze(dataset)
    return max(1, total // 100)


def _server_argv(mode: str, port: int, workers: int, server: str = "uvicorn") -> list[str]:
    argv = [sys.executable, "-m", "bench.web.server", "--mode", mode, "--port", str(port), "--server", server]
    return [*argv, "--workers", str(workers)] if workers > 1 else argv


def sessiondb_server(
    env: Env,
    dataset: Dataset,
    probe: str,
    profile: str | None = None,
    *,
    workers: int = 1,
    server: str = "uvicorn",
) -> Server:
    """Start sessiondb's app over ``dataset`` in a ``server`` subprocess (``workers`` processes)."""
    port = free_port()
    argv = _server_argv(env.backend, port, workers, server)
    for name, value in dataset.location.items():
        argv += [f"--{name.replace('_', '-')}", value]
    if profile is not None:
        argv += ["--profile", profile]
    return Server("sessiondb", argv, port, probe)


def bare_server(
    root: Path, ours: Server, paths: list[str], *, workers: int = 1, server: str = "uvicorn"
) -> Server:
    """Record sessiondb's response to every path, then serve those bytes from a bare app."""
    bodies: dict[str, bytes] = {}
    for path in paths:
        status, body = fetch(ours.port, path)
        if status != 200:
            raise RuntimeError(f"sessiondb answered {status} to {path}: {body[:200]!r}")
        bodies[path] = body
    bodies_file = root / "bare-bodies.json"
    save_bodies(bodies_file, bodies)
    port = free_port()
    argv = _server_argv("bare", port, workers, server)
    return Server("baseline", [*argv, "--bodies", str(bodies_file)], port, paths[0])


def _check(name: str, outcome: Mapping[str, Any]) -> None:
    statuses = outcome["statuses"]
    if outcome["errors"] or set(statuses) != {"200"}:
        raise RuntimeError(f"{name}: load failed: {outcome['errors']} errors, statuses {statuses}")


def measure_endpoint(
    backend: str,
    workload: str,
    servers: Mapping[str, Server],
    paths: list[str],
    root: Path,
    sizes: Sizes,
    *,
    workers: int = 1,
    server: str = "uvicorn",
) -> Result:
    """One HTTP workload's result over ``servers`` (``sessiondb``, ``baseline`` and any peers).

    ``workers`` is how many processes sessiondb and the baseline each serve with; the issue's
    target is only judged for one.
    """
    plan = load_plan(
        list(servers.values()),
        paths,
        rounds=sizes.rounds,
        per_round=max(1, sizes.http_requests // sizes.rounds),
        warmup=min(WARMUP_REQUESTS, sizes.http_requests),
        concurrency=sizes.http_concurrency,
    )
    outcome = run_plan(plan, root / f"{workload}-plan.json")
    summaries: dict[str, Summary] = {}
    rates: dict[str, float] = {}
    cpu_per_request: dict[str, float] = {}
    for name, measured in outcome.items():
        for round_ in measured["rounds"]:
            _check(name, round_)
        summaries[name] = summarize([round_["latencies"] for round_ in measured["rounds"]])
        rates[name] = statistics.median(len(r["latencies"]) / r["elapsed"] for r in measured["rounds"])
        # Summed over the rounds, not a median of rounds: /proc counts CPU time in 10 ms ticks.
        cpu_per_request[name] = sum(r["cpu_s"] for r in measured["rounds"]) / max(
            sum(len(r["latencies"]) for r in measured["rounds"]), 1
        )
    ours, base = summaries["sessiondb"], summaries["baseline"]
    ratio = rates["baseline"] / rates["sessiondb"]
    rss: list[float] = outcome["sessiondb"]["rss_mb"]
    params: dict[str, Any] = {"concurrency": sizes.http_concurrency}
    if workers > 1:
        params["workers"] = workers
    if server != "uvicorn":
        params["server"] = server
    result = Result(
        backend,
        workload,
        params,
        ours,
        base,
        ratio,
        target=f">= {100 / MAX_THROUGHPUT_RATIO:g}% of bare req/s; p99 <= {MAX_P99_S * 1000:g} ms",
        passed=ratio <= MAX_THROUGHPUT_RATIO and ours.p99 <= MAX_P99_S if workers == 1 else None,
        extra={
            "rps": rates["sessiondb"],
            "baseline_rps": rates["baseline"],
            "rss_mb": rss,
            "rss_growth_mb": rss[-1] - rss[0],
            # Server CPU per request, ours over the baseline's: what the req/s ratio would be on
            # an idle machine where both are CPU-bound (see docs/benchmarks.md).
            "cpu_us": cpu_per_request["sessiondb"] * 1e6,
            "baseline_cpu_us": cpu_per_request["baseline"] * 1e6,
            # None when the baseline used less than one tick in all (a --quick run on granian).
            "cpu_ratio": (
                cpu_per_request["sessiondb"] / cpu_per_request["baseline"]
                if cpu_per_request["baseline"] > 0
                else None
            ),
        },
    )
    for name in servers:
        if name not in ("sessiondb", "baseline"):
            peer_ratio = rates["baseline"] / rates[name]
            result.peers[name] = {"summary": summaries[name], "ratio": peer_ratio, "rps": rates[name]}
    return result


def run(
    env: Env,
    sizes: Sizes,
    peers: Mapping[str, Server] | None = None,
    *,
    workers: int = 1,
    server: str = "uvicorn",
) -> list[Result]:
    """The HTTP workloads against sessiondb, the bare baseline and any peer servers.

    ``workers``: worker processes for sessiondb and the baseline alike, served by ``server``
    (uvicorn or granian; peers keep their own set-up).
    """
    dataset = env.dataset("http")
    users = seed_http(dataset, min(sizes.list_totals))
    paths = endpoints(users)
    ours = sessiondb_server(env, dataset, paths["http_list"][0], workers=workers, server=server)
    servers: dict[str, Server] = {"sessiondb": ours}
    try:
        servers["baseline"] = bare_server(
            env.root,
            ours,
            [path for group in paths.values() for path in group],
            workers=workers,
            server=server,
        )
        servers.update(peers or {})
        return [
            measure_endpoint(
                env.backend, workload, servers, group, env.root, sizes, workers=workers, server=server
            )
            for workload, group in paths.items()
        ]
    finally:
        for name in ("sessiondb", "baseline"):
            if name in servers:
                servers[name].stop()
