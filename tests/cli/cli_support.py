"""Running the real ``sessiondb`` command in a subprocess, and a PostgreSQL database of its own.

The command is the console script installed next to the test interpreter, so a test sees what
a user sees: the entry point, its exit code, stdout and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy
from sqlalchemy.engine import make_url

from store_backends import PG_URL, require_postgres

SESSIONDB = str(Path(sys.executable).with_name("sessiondb"))
"""The installed ``sessiondb`` console script."""


def run_cli(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``sessiondb args`` to the end (80 columns, like a default terminal) and return it."""
    child_env = {**os.environ, "COLUMNS": "80", "TERM": "dumb", **(env or {})}
    child_env.pop("SESSIONDB_DB", None)
    return subprocess.run(
        [SESSIONDB, *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *, code: int = 1) -> str:
    """The error line of a failed command, after checking it is one or two lines, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return result.stderr.strip()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); yields its URL."""
    require_postgres()
    name = f"{make_url(PG_URL).database}_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def schemas_of(url: str) -> set[str]:
    """The non-system schemas of a PostgreSQL database."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sqlalchemy.inspect(conn).get_schema_names()
    finally:
        engine.dispose()
    system = ("information_schema", "public")
    return {name for name in names if name not in system and not name.startswith("pg_")}
