"""Where sessiondb's time goes: cProfile one workload, grouped by layer, then the top functions.

``python -m bench profile append|history|session|list|http [--backend postgres]``. The data is
seeded as for the benchmark (default sizes: a session of 1,000 runs to append to, 10,000 runs
for the windowed read, 1,000 runs for ``get_session``, the largest default listing table), then
sessiondb's side alone runs ``--calls`` times under the profiler. For ``http`` the server
process itself runs under cProfile while the load generator drives the list endpoint.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench import seed
from bench.config import PER_USER, Sizes, ordinary_users, user_for_call
from bench.env import Env
from bench.web.process import load_plan, run_plan
from bench.workloads import http
from sessiondb.db.query import SessionQuery

LAYERS = (
    ("/sessiondb/db/_sql/", "sessiondb SQL store"),
    ("/sessiondb/db/", "sessiondb db (other)"),
    ("/sessiondb/session/", "sessiondb session model"),
    ("/sessiondb/run/", "sessiondb run model"),
    ("/sessiondb/api/", "sessiondb HTTP API"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/pydantic", "pydantic"),
    ("/psycopg", "psycopg (driver)"),
    ("sqlite3", "sqlite3 (driver)"),
    ("orjson", "orjson"),
    ("/fastapi/", "FastAPI"),
    ("/starlette/", "Starlette"),
    ("/uvicorn/", "uvicorn"),
    ("/h11/", "h11"),
    ("/anyio/", "anyio (threads)"),
    ("/asyncio/", "asyncio"),
    ("/threading.py", "threading"),
)


IDLE = "idle (waiting for work)"
"""Where a profiled server waits: the event loop in ``epoll``, worker threads on their queue."""

_WAITS = ("<method 'poll' of 'select.epoll' objects>", "<method 'acquire' of '_thread.lock' objects>")


def layer(filename: str, function: str) -> str:
    """The layer a profiled function belongs to (by file path, or by name for C functions)."""
    if function in _WAITS:
        return IDLE
    where = f"{filename}:{function}"
    for needle, name in LAYERS:
        if needle in where:
            return name
    return "other"


def by_layer(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time (``tottime``) summed per layer, largest first.

    Built-in functions (``getattr``, ``dict.get``, ...) have no file; their time is split
    among their callers' layers in proportion to the time each caller spent in them, so that
    it lands on the layer that made the call. Driver methods are recognised by name.
    """
    table = stats.stats  # type: ignore[attr-defined]
    totals: dict[str, float] = defaultdict(float)
    for (filename, _line, function), row in table.items():
        own, callers = row[2], row[4]
        direct = layer(filename, function)
        if filename != "~" or direct != "other" or not callers:
            totals[direct] += own
            continue
        spent = sum(edge[2] for edge in callers.values()) or 1.0
        for (caller_file, _caller_line, caller_function), edge in callers.items():
            totals[layer(caller_file, caller_function)] += own * edge[2] / spent
    return sorted(totals.items(), key=lambda item: item[1], reverse=True)


def show(stats: pstats.Stats, calls: int, top: int) -> None:
    """Print the per-layer split, the top functions by own time, and sessiondb's by cumulative time."""
    layers = by_layer(stats)
    # Shares are of the busy time: a server's threads spend much of a run waiting for work.
    busy = sum(seconds for name, seconds in layers if name != IDLE) or 1.0
    print(f"\n{calls} calls, {busy * 1e6 / max(calls, 1):,.0f} µs of profiled busy time per call\n")
    print(f"{'layer':<28}{'µs/call':>10}{'share':>8}")
    for name, seconds in layers:
        share = "" if name == IDLE else f"{seconds / busy:>8.0%}"
        print(f"{name:<28}{seconds * 1e6 / max(calls, 1):>10,.0f}{share}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats("/sessiondb/", top)


def _op(env: Env, workload: str, sizes: Sizes) -> Callable[[int], object]:
    dataset = env.dataset("profile")
    store = dataset.store
    if workload == "append":
        seed.session_with_runs(dataset, "p", "u-profile", 1_000)
        runs = [seed.run_object("p", "u-profile", 1_000 + i) for i in range(10_000)]
        return lambda i: store.upsert_run("p", runs[i])
    if workload == "history":
        seed.session_with_runs(dataset, "p", "u-profile", max(sizes.history_runs))
        return lambda _i: store.get_session("p", runs_limit=3).get_messages(last_n_runs=3)
    if workload == "session":
        seed.session_with_runs(dataset, "p", "u-profile", max(sizes.session_runs))
        return lambda _i: store.get_session("p")
    total = max(sizes.list_totals)
    seed.listing(dataset, total, [], per_user=PER_USER)
    users = ordinary_users(total, [])
    return lambda i: store.get_sessions(SessionQuery(user_id=user_for_call(i, users)))


def _profile_http(env: Env, sizes: Sizes, top: int, calls: int) -> None:
    dataset = env.dataset("http")
    users = http.seed_http(dataset, min(sizes.list_totals))
    paths = http.endpoints(users)["http_list"]
    out = env.root / "server.prof"
    server = http.sessiondb_server(env, dataset, paths[0], profile=str(out))
    plan = load_plan([server], paths, rounds=1, per_round=calls, warmup=0, concurrency=sizes.http_concurrency)
    try:
        run_plan(plan, env.root / "plan.json")
    finally:
        server.stop()
    show(pstats.Stats(str(out)), calls, top)


def run(workload: str, backend: str, sizes: Sizes, *, top: int, pg_url: str, calls: int) -> None:
    """Seed, profile ``calls`` calls of sessiondb's side of ``workload`` on ``backend``, print."""
    env = Env.create(backend, pg_url=pg_url)
    try:
        if workload == "http":
            _profile_http(env, sizes, top, calls)
            return
        op = _op(env, workload, sizes)
        seed.analyze(env.dataset("profile"))
        for number in range(5):
            op(number)
        profiler = cProfile.Profile()
        began = time.perf_counter()
        profiler.enable()
        for number in range(5, 5 + calls):
            op(number)
        profiler.disable()
        elapsed = time.perf_counter() - began
        print(f"{workload} on {backend}: {elapsed * 1e6 / calls:,.0f} µs per call under the profiler")
        stats = pstats.Stats(profiler)
        stats.dump_stats(Path(env.root) / "profile.prof")
        show(stats, calls, top)
    finally:
        env.close()
