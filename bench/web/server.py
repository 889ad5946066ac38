"""Serve one benchmark target with uvicorn or granian: ``python -m bench.web.server --help``.

Modes: ``sqlite`` / ``postgres`` (sessiondb's app over a store) and ``bare`` (the baseline).
Every mode uses the same server settings (one process unless ``--workers``, asyncio loop,
access log off). ``--server granian`` serves with granian (its Rust HTTP stack, ASGI
interface) instead of uvicorn, for sessiondb and the baseline alike; granian always runs the
app in a worker process of its own, built by :func:`app_from_environment`. With
``--profile FILE`` the whole (uvicorn) server runs under cProfile, its worker
threads too, written out at shutdown (SIGTERM). With ``--workers N`` uvicorn starts N worker
processes, each of which imports :func:`app_from_environment` and builds the same app from the
arguments the parent exported (as ``sessiondb serve --workers`` does).
"""

from __future__ import annotations

import argparse
import atexit
import cProfile
import gc
import json
import os
import pstats
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import uvicorn


def _app(args: argparse.Namespace) -> Any:
    if args.mode == "bare":
        from bench.web.bare import BareApp, load_bodies

        return BareApp(load_bodies(Path(args.bodies)))
    from sessiondb.api import create_app
    from sessiondb.db.postgres import PostgresDb
    from sessiondb.db.sqlite import SqliteDb

    if args.mode == "sqlite":
        store: Any = SqliteDb(db_file=args.db_file, session_table=args.table)
    else:
        store = PostgresDb(db_url=args.pg_url, db_schema=args.schema, session_table=args.table)
    # BENCH_READ_CACHE=0 serves without the read cache (docs/benchmarks.md: the miss path);
    # unset, the app's default (and an older sessiondb, e.g. bench ab's "before", works too).
    off = os.environ.get(READ_CACHE_VARIABLE) == "0"
    app = create_app(store, read_cache=False) if off else create_app(store)
    stats_path = os.environ.get(CACHE_STATS_VARIABLE)
    cache = getattr(app.state, "read_cache", None)
    if stats_path and cache is not None:
        # Appended at exit (a graceful SIGTERM): how many requests the cache answered.
        def write_stats() -> None:
            with open(stats_path, "a") as out:
                out.write(json.dumps({"mode": args.mode, "hits": cache.hits, "misses": cache.misses}) + "\n")

        atexit.register(write_stats)
    return app


ARGS_VARIABLE = "BENCH_SERVER_ARGS"
READ_CACHE_VARIABLE = "BENCH_READ_CACHE"
CACHE_STATS_VARIABLE = "BENCH_CACHE_STATS"
"""A file to append the read cache's hits and misses to when the server exits."""
"""``0`` in the environment: sessiondb's app without its read cache (``create_app(read_cache=False)``)."""
SERVERS = ("uvicorn", "granian")
"""The ASGI servers the benchmark can serve both sides with."""


def app_from_environment() -> Any:
    """A worker's app, from the arguments its parent put in ``BENCH_SERVER_ARGS`` (a factory)."""
    return _app(argparse.Namespace(**json.loads(os.environ[ARGS_VARIABLE])))


class ThreadProfilers:
    """cProfile in every thread: the event loop's and each worker thread started afterwards.

    The store calls run in anyio's worker threads; a profiler on the main thread alone would
    see them only as time spent waiting. ``threading.setprofile`` runs a hook first thing in
    each new thread, and the hook starts that thread's own profiler (which replaces the hook).
    """

    def __init__(self) -> None:
        self._profilers: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _start_in_this_thread(self, *_args: Any) -> None:
        profiler = cProfile.Profile()
        with self._lock:
            self._profilers.append(profiler)
        profiler.enable()

    def start(self) -> None:
        """Profile this thread and every thread started from now on."""
        threading.setprofile(self._start_in_this_thread)
        self._start_in_this_thread()

    def dump(self, path: str) -> None:
        """Write the merged statistics of all threads to ``path``."""
        threading.setprofile(None)
        with self._lock:
            profilers = list(self._profilers)
        profilers[0].disable()
        merged = pstats.Stats(profilers[0])
        for profiler in profilers[1:]:
            merged.add(profiler)  # a snapshot; the worker threads are idle by now
        merged.dump_stats(path)


def serve(app: Any, port: int, profile: str | None) -> None:
    """Run ``app`` on 127.0.0.1:``port`` until SIGTERM/SIGINT, optionally under cProfile."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    # As `sessiondb serve` does once started (sessiondb.api.startup_heap), for both sides alike:
    # what start-up built stays out of the collector's walks.
    gc.collect()
    gc.freeze()
    if profile is None:
        if os.environ.get(CACHE_STATS_VARIABLE):
            # As below: the re-raised SIGTERM becomes SystemExit, so the stats get written at exit.
            signal.signal(signal.SIGTERM, lambda _signo, _frame: sys.exit(0))
        server.run()
        return
    # uvicorn re-raises the SIGTERM it caught once it has shut down; turn it into SystemExit so
    # that the ``finally`` below still writes the profile.
    signal.signal(signal.SIGTERM, lambda _signo, _frame: sys.exit(0))
    profilers = ThreadProfilers()
    profilers.start()
    try:
        server.run()
    finally:
        profilers.dump(profile)


def serve_granian(args: argparse.Namespace) -> None:
    """Serve with granian (``args.workers`` processes) until SIGTERM/SIGINT."""
    try:
        from granian import Granian
        from granian.constants import Interfaces
    except ImportError:
        raise SystemExit("--server granian needs granian, which is optional: pip install granian") from None

    os.environ[ARGS_VARIABLE] = json.dumps(vars(args))
    Granian(
        "bench.web.server:app_from_environment",
        address="127.0.0.1",
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
        log_access=False,
        log_enabled=False,
    ).serve()


def main() -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("sqlite", "postgres", "bare"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db-file")
    parser.add_argument("--pg-url")
    parser.add_argument("--schema")
    parser.add_argument("--table")
    parser.add_argument("--bodies", help="bare mode: the bodies file")
    parser.add_argument("--profile", help="write cProfile stats here at shutdown")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    args = parser.parse_args()
    if args.server == "granian":
        if args.profile:
            parser.error("--profile profiles this process; granian serves from a worker process")
        serve_granian(args)
        return
    if args.workers > 1:
        if args.profile:
            parser.error("--profile profiles one process; it cannot be combined with --workers")
        os.environ[ARGS_VARIABLE] = json.dumps(vars(args))
        uvicorn.run(
            "bench.web.server:app_from_environment",
            factory=True,
            workers=args.workers,
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            access_log=False,
        )
        return
    serve(_app(args), args.port, args.profile)


if __name__ == "__main__":
    main()
