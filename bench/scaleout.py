"""Throughput with one, two and three ``sessiondb serve`` processes behind HAProxy:
``python -m bench.scaleout [--servers 1,2,3] [--rounds 3] [--per-round 3000]``.

Every server reads one PostgreSQL schema (``SESSIONDB_BENCH_PG_URL``, default the local test
database), seeded with sessions and runs; HAProxy is configured from ``deploy/haproxy.cfg``,
the template the deployment example and the cluster suite use. The load generator of the HTTP
workloads (:mod:`bench.web.loadgen`) sends a mix of listings, session details and runs through
HAProxy; each row is the median of the rounds, and the ratio is to one server in the same run.

All processes share this machine's cores, the load generator and PostgreSQL included, so the
ratios say how far more servers help here, not on a machine per server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from string import Template
from typing import Any

from bench.web.process import REPO, Server, free_port, load_plan, run_plan
from sessiondb.db.postgres import PostgresDb
from sessiondb.run import RunOutput
from sessiondb.run.message import Message
from sessiondb.session import AgentSession

PG_URL = os.environ.get("SESSIONDB_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SESSIONS = 200
RUNS_PER_SESSION = 5
CONCURRENCY = 32


def _seed(url: str, schema: str) -> None:
    db = PostgresDb(db_url=url, db_schema=schema)
    try:
        sessions = []
        for k in range(SESSIONS):
            session = AgentSession(session_id=f"s{k}", user_id=f"u{k % 20}", agent_id="bench")
            for r in range(RUNS_PER_SESSION):
                messages = [
                    Message(role="user", content=f"question {r}"),
                    Message(role="assistant", content="a" * 400),
                ]
                session.upsert_run(RunOutput(agent_id="bench", messages=messages))
            sessions.append(session)
        db.upsert_sessions(sessions)
    finally:
        db.close()


def _drop(url: str, schema: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


class HAProxy:
    """HAProxy from ``deploy/haproxy.cfg`` with ``ports`` as the API servers."""

    def __init__(self, ports: list[int], folder: Path) -> None:
        self.port = free_port()
        values = {
            "LISTEN_HOST": "127.0.0.1",
            "PRIMARY_PORT": str(free_port()),
            "REPLICA_PORT": str(free_port()),
            "API_PORT": str(self.port),
            "PG_SERVERS": "",
            "API_SERVERS": "\n".join(f"    server api{i} 127.0.0.1:{p} check" for i, p in enumerate(ports)),
        }
        config = folder / "haproxy.cfg"
        config.write_text(Template((REPO / "deploy" / "haproxy.cfg").read_text()).substitute(values))
        self._process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=subprocess.DEVNULL)
        self.pid = self._process.pid
        time.sleep(2.5)  # two health checks (inter 1s, rise 1) mark every server up

    def stop(self) -> None:
        """Stop HAProxy."""
        self._process.terminate()
        self._process.wait(timeout=10)


@contextmanager
def _servers(count: int, db_url: str) -> Iterator[list[Server]]:
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            port = free_port()
            argv = [sys.executable, "-m", "sessiondb.cli", "serve", "--port", str(port), "--db", db_url]
            server = Server(f"sessiondb-{port}", argv, port, "/health")
            stack.callback(server.stop)
            servers.append(server)
        yield servers


def measure(count: int, db_url: str, rounds: int, per_round: int, folder: Path) -> float:
    """Median requests per second through HAProxy with ``count`` servers."""
    paths = [f"/sessions?user_id=u{k}&limit=20" for k in range(20)]
    paths += [f"/sessions/s{k}" for k in range(0, SESSIONS, 10)]
    paths += [f"/sessions/s{k}/runs" for k in range(0, SESSIONS, 10)]
    with _servers(count, db_url) as servers:
        proxy = HAProxy([s.port for s in servers], folder)
        try:
            front: Any = type("Front", (), {"name": "haproxy", "port": proxy.port, "pid": proxy.pid})()
            plan = load_plan(
                [front], paths, rounds=rounds, per_round=per_round, warmup=300, concurrency=CONCURRENCY
            )
            outcome = run_plan(plan, folder / f"plan-{count}.json")
        finally:
            proxy.stop()
    rates = []
    for round_ in outcome["haproxy"]["rounds"]:
        bad = {code: n for code, n in round_["statuses"].items() if code != "200"}
        if bad or round_["errors"]:
            raise SystemExit(f"{count} server(s): answers other than 200: {bad}, errors: {round_['errors']}")
        rates.append(len(round_["latencies"]) / round_["elapsed"])
    return statistics.median(rates)


def main() -> None:
    """Measure and print a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m bench.scaleout", description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="1,2,3", help="server counts to measure (default 1,2,3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-round", type=int, default=3000)
    args = parser.parse_args()
    if shutil.which("haproxy") is None:
        raise SystemExit("haproxy is not installed: apt-get install haproxy")
    schema = f"bench_scaleout_{uuid.uuid4().hex[:8]}"
    _seed(PG_URL, schema)
    db_url = f"{PG_URL}?schema={schema}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            rates = {
                n: measure(n, db_url, args.rounds, args.per_round, Path(folder))
                for n in map(int, args.servers.split(","))
            }
    finally:
        _drop(PG_URL, schema)
    base = rates[min(rates)]
    print(
        f"| servers | req/s (median of {args.rounds} rounds, {CONCURRENCY} clients) | ratio to {min(rates)} |"
    )
    print("| --- | --- | --- |")
    for count, rate in rates.items():
        print(f"| {count} | {rate:,.0f} | x{rate / base:.2f} |")


if __name__ == "__main__":
    main()
