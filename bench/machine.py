"""What the benchmark ran on: CPU, memory, load, versions (for the report's header)."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from bench.web.process import REPO


def _first(path: str, prefix: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def describe() -> dict[str, Any]:
    """CPU model, core count, memory, load average, Python/SQLite/sessiondb versions, git commit."""
    import sessiondb

    memory = _first("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "cpu": _first("/proc/cpuinfo", "model name") or platform.processor(),
        "memory_gib": round(int(memory.split()[0]) / 1024 / 1024, 1) if memory else None,
        "load_avg": list(os.getloadavg()),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sessiondb": sessiondb.__version__,
        # Where it was imported from: ``bench ab`` checks each side measured the tree it meant.
        "sessiondb_from": str(Path(sessiondb.__file__).parent.resolve()),
        "commit": _git_commit(),
    }


def postgres_version(url: str) -> str:
    """The server's ``server_version``."""
    import psycopg

    from bench.driver import psycopg_url

    with psycopg.connect(psycopg_url(url)) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0])
