"""Drive the Agno peer from the main suite: its virtual environment, its runs, its HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.config import Sizes
from bench.env import Env
from bench.result import Result
from bench.stats import Summary
from bench.web.process import REPO, Server, child_env, free_port
from bench.workloads import http

VERSION = "3.1.10"
VENV = REPO / "bench" / ".peers-venv"
REQUIREMENTS = (f"agno[os,sqlite,postgres]=={VERSION}", "orjson", "openai")
"""``openai``: an Agno agent without a model sets up its default, OpenAI (the fork workload
builds one; no request is ever sent)."""
NAME = "agno"


def python() -> Path:
    """The peer environment's interpreter."""
    return VENV / "bin" / "python"


def installed_version() -> str | None:
    """The Agno version in the peer environment, or ``None`` when there is none."""
    if not python().exists():
        return None
    probe = "import importlib.metadata as m; print(m.version('agno'))"
    done = subprocess.run([str(python()), "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def ensure_venv() -> None:
    """Create ``bench/.peers-venv`` with Agno from the package index, unless it is there already."""
    if installed_version() == VERSION:
        return
    print(f"installing agno=={VERSION} into {VENV} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python()), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)


def _runner(command: str, env: Env, sizes: Sizes, *extra: str) -> list[str]:
    argv = [str(python()), "-m", "bench.peers.agno_runner", command, "--backend", env.backend]
    argv += ["--root", str(env.root), "--sizes", sizes.name, "--rounds", str(sizes.rounds)]
    if env.schema is not None:
        argv += ["--pg-url", env.pg_url, "--schema", env.schema]
    return [*argv, *extra]


def run_sql(env: Env, sizes: Sizes, families: Sequence[str], results: Sequence[Result]) -> None:
    """Run Agno on the SQL workload families and attach its numbers to the matching results."""
    out = env.root / "agno-results.json"
    argv = _runner("sql", env, sizes, "--only", ",".join(families), "--out", str(out))
    subprocess.run(argv, cwd=REPO, env=child_env(), check=True)
    attach(json.loads(out.read_text()), results)


def attach(entries: Sequence[dict[str, Any]], results: Sequence[Result]) -> None:
    """Put each peer entry on the result with the same key; ratio is to that result's baseline."""
    by_key = {result.key: result for result in results}
    for entry in entries:
        result = by_key.get(entry["key"])
        if result is None:
            continue
        summary = Summary.from_json(entry["summary"])
        result.peers[NAME] = {"summary": summary, "ratio": summary.median / result.baseline.median}


def http_server(env: Env, sizes: Sizes) -> Server:
    """Seed Agno's HTTP dataset (same ids as sessiondb's) and serve it with AgentOS."""
    detail = f"{http.DETAIL_SESSIONS},{http.DETAIL_RUNS}"
    seed = _runner("seed-http", env, sizes, "--detail", detail)
    subprocess.run(seed, cwd=REPO, env=child_env(), check=True)
    port = free_port()
    users = max(1, min(sizes.list_totals) // 100)
    probe = http.endpoints(users)["http_list"][0]
    return Server(NAME, _runner("serve", env, sizes, "--port", str(port)), port, probe)
