"""The backends every store test runs against, and how to reach the PostgreSQL test server.

``BACKENDS`` maps a backend name to a factory that yields a fresh, migrated store:

- ``memory``: :class:`~sessiondb.db.memory.InMemoryDb`;
- ``sqlite``: :class:`~sessiondb.db.sqlite.SqliteDb` on a file under ``tmp_path``;
- ``postgres``: :class:`~sessiondb.db.postgres.PostgresDb` at ``SESSIONDB_TEST_PG_URL``, in a
  schema of its own that is dropped afterwards. When the server is unreachable the test is
  skipped with the reason, except under ``CI=true``, where it fails.

``SqlTarget`` names one SQL database (a SQLite file, or a PostgreSQL schema) so that a test can
open several stores on it, in this process or in child processes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

from sessiondb.db._sql import SqlStore
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb

PG_URL = os.environ.get("SESSIONDB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@cache
def postgres_unreachable() -> str | None:
    """Why the test server cannot be used, or ``None`` when it answers (checked once per run)."""
    engine = sqlalchemy.create_engine(PG_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL at {PG_URL} is not reachable: {exc.orig}"
    finally:
        engine.dispose()
    return None


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is down; fail it instead under ``CI=true``."""
    reason = postgres_unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run)")
    pytest.skip(reason)


@contextmanager
def postgres_schema(prefix: str = "t") -> Iterator[str]:
    """A fresh schema name on the test server; the schema (if created) is dropped on exit."""
    require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        engine = sqlalchemy.create_engine(PG_URL)
        try:
            with engine.begin() as conn:
                conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            engine.dispose()


@dataclass(frozen=True)
class SqlTarget:
    """One SQL database a test may open any number of stores on (also from child processes).

    Attributes:
        kind: ``"sqlite"`` or ``"postgres"``.
        location: the SQLite file, or the PostgreSQL URL.
        schema: the PostgreSQL schema (``None`` for SQLite).
    """

    kind: str
    location: str
    schema: str | None = None

    def open(self, **options: Any) -> SqlStore:
        """A new store on this database; ``options`` go to the backend's constructor."""
        if self.kind == "sqlite":
            return SqliteDb(db_file=self.location, id="test", **options)
        return PostgresDb(db_url=self.location, db_schema=self.schema, id="test", **options)


@contextmanager
def sql_target_for(kind: str, tmp_path: Path) -> Iterator[SqlTarget]:
    """A fresh, empty SQL database of ``kind``, removed afterwards."""
    if kind == "sqlite":
        yield SqlTarget("sqlite", str(tmp_path / f"{uuid.uuid4().hex[:8]}.db"))
        return
    with postgres_schema() as schema:
        yield SqlTarget("postgres", PG_URL, schema)


@contextmanager
def memory_backend(_: Path, **options: Any) -> Iterator[SessionStore]:
    """A fresh ``InMemoryDb``; ``options`` go to its constructor."""
    yield InMemoryDb(id="test", **options)


def _sql_backend(kind: str) -> Callable[..., AbstractContextManager[SessionStore]]:
    @contextmanager
    def backend(tmp_path: Path, **options: Any) -> Iterator[SessionStore]:
        with sql_target_for(kind, tmp_path) as target:
            store = target.open(**options)
            try:
                store.migrate()
                yield store
            finally:
                store.close()

    return backend


BACKENDS: dict[str, Callable[..., AbstractContextManager[SessionStore]]] = {
    "memory": memory_backend,
    "sqlite": _sql_backend("sqlite"),
    "postgres": _sql_backend("postgres"),
}
"""Every backend the conformance suite runs against, by name: ``BACKENDS[name](tmp_path, **options)``
opens a fresh store, ``options`` going to the backend's constructor (``soft_delete=...``)."""


def _param(name: str) -> Any:
    return pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [], id=name)


BACKEND_PARAMS = [_param(name) for name in BACKENDS]
SQL_PARAMS = [_param(name) for name in ("sqlite", "postgres")]
