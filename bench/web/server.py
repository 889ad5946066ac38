"""Serve one benchmark target with uvicorn: ``python -m bench.web.server --help``.

Modes: ``sqlite`` / ``postgres`` (sessiondb's app over a store) and ``bare`` (the baseline).
Every mode uses the same uvicorn settings (one process, asyncio loop, access log off). With
``--profile FILE`` the whole server runs under cProfile, written out at shutdown (SIGTERM).
"""

from __future__ import annotations

import argparse
import cProfile
import signal
import sys
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
    return create_app(store)


def serve(app: Any, port: int, profile: str | None) -> None:
    """Run ``app`` on 127.0.0.1:``port`` until SIGTERM/SIGINT, optionally under cProfile."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if profile is None:
        server.run()
        return
    # uvicorn re-raises the SIGTERM it caught once it has shut down; turn it into SystemExit so
    # that the ``finally`` below still writes the profile.
    signal.signal(signal.SIGTERM, lambda _signo, _frame: sys.exit(0))
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        server.run()
    finally:
        profiler.disable()
        profiler.dump_stats(profile)


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
    args = parser.parse_args()
    serve(_app(args), args.port, args.profile)


if __name__ == "__main__":
    main()
