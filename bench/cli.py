"""The ``python -m bench`` command line: ``run``, ``ab``, ``profile``, ``memory`` and ``show``."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine, report
from bench.config import PRESETS, Sizes
from bench.env import DEFAULT_PG_URL, Env
from bench.result import Result
from bench.web.process import REPO, Server
from bench.web.server import SERVERS
from bench.workloads import branching, bulk, feed, hot, http, lease, listing, runs, save, search, transfer

FAMILIES: dict[str, Callable[[Env, Sizes], list[Result]]] = {
    "runs": runs.run,
    "save": save.run,
    "listing": listing.run,
    "bulk": bulk.run,
    "transfer": transfer.run,
    "branching": branching.run,
    "hot": hot.run,
    "lease": lease.run,
    "search": search.run,
    "feed": feed.run,
}
"""The SQL workload families, in running order (``http`` runs last and is handled apart)."""
ALL_FAMILIES = (*FAMILIES, "http")
RESULTS_DIR = REPO / "bench" / "results"
DOCS = REPO / "docs" / "benchmarks.md"


def _sizes(args: argparse.Namespace) -> Sizes:
    sizes = PRESETS["quick" if args.quick else "full" if args.full else "default"]
    if args.rounds:
        sizes = replace(sizes, rounds=args.rounds)
    return sizes


def run_backend(
    backend: str,
    sizes: Sizes,
    families: Sequence[str],
    *,
    peers: bool,
    pg_url: str,
    http_workers: int = 1,
    http_server: str = "uvicorn",
) -> list[Result]:
    """Every requested workload family on one backend (and Agno on the same, with ``peers``)."""
    from bench.peers import agno

    env = Env.create(backend, pg_url=pg_url)
    results: list[Result] = []
    try:
        sql_families = [family for family in families if family in FAMILIES]
        for family in sql_families:
            started = time.perf_counter()
            results += FAMILIES[family](env, sizes)
            print(f"[{backend}] {family}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if peers and sql_families:
            started = time.perf_counter()
            agno.run_sql(env, sizes, sql_families, results)
            print(f"[{backend}] agno: {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if "http" in families:
            started = time.perf_counter()
            peer_servers: dict[str, Server] = {}
            try:
                if peers:
                    peer_servers[agno.NAME] = agno.http_server(env, sizes)
                results += http.run(env, sizes, peer_servers, workers=http_workers, server=http_server)
            finally:
                for server in peer_servers.values():
                    server.stop()
            print(f"[{backend}] http: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        env.close()
    return results


def cmd_run(args: argparse.Namespace) -> int:
    """Run the suite, print the table, write the JSON (and the docs section with ``--markdown``)."""
    # A plain SIGTERM would skip the clean-up (temporary files, the PostgreSQL schema).
    signal.signal(signal.SIGTERM, lambda _signo, _frame: sys.exit(143))
    sizes = _sizes(args)
    families = args.only.split(",")
    unknown = set(families) - set(ALL_FAMILIES)
    if unknown:
        raise SystemExit(f"unknown workload families {sorted(unknown)}; choose from {ALL_FAMILIES}")
    backends = args.backends.split(",")
    if args.peers:
        from bench.peers import agno

        agno.ensure_venv()
    started = datetime.now(UTC)
    meta: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "sizes": sizes.name,
        "command": "python -m bench " + shlex.join(sys.argv[1:]),
        "machine": machine.describe(),
        "backends": backends,
        "peers": ["agno==3.1.10"] if args.peers else [],
    }
    if "postgres" in backends:
        meta["postgres_version"] = machine.postgres_version(args.pg_url)
    results: list[Result] = []
    for backend in backends:
        results += run_backend(
            backend,
            sizes,
            families,
            peers=args.peers,
            pg_url=args.pg_url,
            http_workers=args.http_workers,
            http_server=args.http_server,
        )
    meta["elapsed_s"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    meta["load_avg_end"] = list(machine.describe()["load_avg"])
    out = Path(args.out) / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    report.write_json(out, meta, results)
    report.print_table(results)
    print(f"results: {out}", file=sys.stderr)
    if args.markdown:
        report.rewrite_docs(Path(args.docs), report.markdown(meta, results))
        print(f"rewrote the results section of {args.docs}", file=sys.stderr)
    return 0


def cmd_ab(args: argparse.Namespace) -> int:
    """Before/after against an earlier commit (see :mod:`bench.ab`)."""
    from bench import ab

    if args.pairs < 1:
        raise SystemExit("--pairs must be at least 1")
    run_args = ["--backends", args.backends, "--only", args.only, "--pg-url", args.pg_url]
    if args.quick or args.full:
        run_args.append("--quick" if args.quick else "--full")
    if args.rounds:
        run_args += ["--rounds", str(args.rounds)]
    out = ab.run(args.rev, run_args, pairs=args.pairs, out_dir=Path(args.out), markdown=args.markdown)
    print(f"results: {out}", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print a results file again (and rewrite the docs section from it with ``--markdown``)."""
    meta, results = report.read_json(Path(args.file))
    report.print_table(results)
    if args.markdown:
        report.rewrite_docs(Path(args.docs), report.markdown(meta, results))
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Profile sessiondb on one workload and print where the time goes."""
    from bench import profile

    profile.run(args.workload, args.backend, _sizes(args), top=args.top, pg_url=args.pg_url, calls=args.calls)
    return 0


def cmd_memory(args: argparse.Namespace) -> int:
    """Serve a long list/detail load and report the server's resident memory over it."""
    from bench import memory

    flat = True
    for backend in args.backends.split(","):
        summary = memory.run(backend, args.requests, pg_url=args.pg_url, out_dir=Path(args.out))
        print(memory.describe(summary))
        flat = flat and bool(summary["flat"]) and summary["errors"] == 0
    return 0 if flat else 1


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m bench``."""
    main = argparse.ArgumentParser(prog="python -m bench", description="sessiondb benchmarks")
    commands = main.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("run", "run the suite"),
        ("profile", "profile sessiondb on one workload"),
        ("ab", "before/after: an earlier commit against this checkout, alternating processes"),
    ):
        sub = commands.add_parser(name, help=helptext)
        size = sub.add_mutually_exclusive_group()
        size.add_argument("--quick", action="store_true", help="tiny sizes (the smoke test)")
        size.add_argument("--full", action="store_true", help="add the 1,000,000-session listing")
        sub.add_argument("--rounds", type=int, help="override the number of timed rounds")
        sub.add_argument(
            "--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL (a schema is created and dropped)"
        )
    run = commands.choices["run"]
    run.add_argument("--backends", default="sqlite,postgres")
    run.add_argument("--only", default=",".join(ALL_FAMILIES), help=f"families: {','.join(ALL_FAMILIES)}")
    run.add_argument("--peers", action="store_true", help="also run Agno 3.1 (own virtualenv)")
    run.add_argument(
        "--http-workers",
        type=int,
        default=1,
        help="uvicorn processes serving sessiondb and the bare baseline (the issue's target is for 1)",
    )
    run.add_argument(
        "--http-server",
        choices=SERVERS,
        default="uvicorn",
        help="the ASGI server of sessiondb and the bare baseline alike (default uvicorn)",
    )
    run.add_argument("--markdown", action="store_true", help="rewrite the results section of the docs")
    run.add_argument("--docs", default=str(DOCS))
    run.add_argument("--out", default=str(RESULTS_DIR), help="directory for the JSON results")
    run.set_defaults(handler=cmd_run)
    ab = commands.choices["ab"]
    ab.add_argument("rev", help="the commit to compare against (a hash, a branch, HEAD~1 ...)")
    ab.add_argument("--pairs", type=int, default=3, help="before/after process pairs (default 3)")
    ab.add_argument("--backends", default="sqlite")
    ab.add_argument("--only", default="runs", help=f"families: {','.join(ALL_FAMILIES)} (default runs)")
    ab.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ab.add_argument("--out", default=str(RESULTS_DIR), help="directory for the JSON results")
    ab.set_defaults(handler=cmd_ab)
    prof = commands.choices["profile"]
    prof.add_argument("workload", choices=("append", "history", "session", "list", "http"))
    prof.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    prof.add_argument("--top", type=int, default=25)
    prof.add_argument("--calls", type=int, default=300)
    prof.set_defaults(handler=cmd_profile)
    mem = commands.add_parser("memory", help="the server's RSS under an hour-equivalent of read load")
    mem.add_argument("--backends", default="sqlite,postgres")
    mem.add_argument("--requests", type=int, default=360_000, help="default: one hour at 100 req/s")
    mem.add_argument("--pg-url", default=DEFAULT_PG_URL)
    mem.add_argument("--out", default=str(RESULTS_DIR), help="directory for the JSON results")
    mem.set_defaults(handler=cmd_memory)
    show = commands.add_parser("show", help="print a results file")
    show.add_argument("file")
    show.add_argument("--markdown", action="store_true")
    show.add_argument("--docs", default=str(DOCS))
    show.set_defaults(handler=cmd_show)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
