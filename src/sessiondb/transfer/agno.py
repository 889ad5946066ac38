"""Reading the sessions of an Agno database (SQLite or PostgreSQL), to import them.

Agno keeps a session as one row of its sessions table (``agno_sessions`` by default; the
``ai`` schema on PostgreSQL). Its runs are in one of two places, or both:

- Agno 2.x: the ``runs`` column of the session row, a JSON list of run dicts.
- Agno 3.x: the runs table, one row per run with the run dict in ``run_data``
  (``agno_runs``, or ``<sessions table>_runs`` for a customised sessions table), read in
  ``run_index, created_at, run_id`` order. A database migrated from 2.x keeps the old column
  as a backup; there, as Agno reads it, a run in both places is the table's version, in the
  column's position, and runs only in the table follow the column's.

Sessions are read in keyset pages of session ids, so memory stays flat. Only ``SELECT``s are
sent: the Agno database is never changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pydantic
from sqlalchemy import Engine, MetaData, RowMapping, Table, create_engine, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from sessiondb.session import SESSION_CLASSES, Session

DEFAULT_TABLE = "agno_sessions"
DEFAULT_SCHEMA = "ai"
PAGE = 200

SESSION_COLUMNS: tuple[str, ...] = (
    "session_id",
    "agent_id",
    "team_id",
    "workflow_id",
    "user_id",
    "session_data",
    "agent_data",
    "team_data",
    "workflow_data",
    "metadata",
    "summary",
    "created_at",
    "updated_at",
)


class AgnoSourceError(ValueError):
    """The Agno database cannot be read as such (no such file or table, or a row that is not a session)."""


def _engine(url: str) -> tuple[Engine, str | None]:
    """An engine for ``url`` (a file path, ``sqlite:///...`` or ``postgresql://...``) and its schema."""
    if "://" not in url:
        if not Path(url).is_file():
            raise AgnoSourceError(f"no Agno database at {url!r}")
        return create_engine(f"sqlite:///{url}"), None
    try:
        parsed = make_url(url)
    except (sa_exc.ArgumentError, ValueError):
        raise AgnoSourceError(
            "not a database URL: expected a file path, sqlite:///... or postgresql://..."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or not Path(parsed.database).is_file():
            raise AgnoSourceError(f"no Agno database at {parsed.database!r}")
        return create_engine(parsed), None
    if backend in ("postgresql", "postgres"):
        schema = parsed.query.get("schema", DEFAULT_SCHEMA)
        parsed = parsed.difference_update_query(["schema"]).set(drivername="postgresql+psycopg")
        return create_engine(parsed), str(schema)
    raise AgnoSourceError(f"unsupported database {backend!r}: Agno's SQLite or PostgreSQL is expected")


def runs_table_name(session_table: str) -> str:
    """The runs table Agno 3.x keeps beside ``session_table``."""
    return "agno_runs" if session_table == DEFAULT_TABLE else f"{session_table}_runs"


def _json(value: Any) -> Any:
    # SQLite hands back the JSON text when a column was not declared JSON; decode it then.
    if isinstance(value, str | bytes):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def merged_runs(column: Any, table_runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A session's runs as Agno reads them: the 2.x column's, each replaced by the runs table's
    version of the same ``run_id``, then the runs only in the table (in its order)."""
    by_id = {run.get("run_id"): run for run in table_runs}
    merged: list[dict[str, Any]] = []
    for run in _json(column) or []:
        if isinstance(run, dict):
            merged.append(by_id.pop(run.get("run_id"), run))
    # What is left in by_id are the runs only in the table, still in the table's order.
    merged.extend(by_id.values())
    return merged


def session_of(row: Mapping[str, Any] | RowMapping, runs: list[dict[str, Any]]) -> Session:
    """The sessiondb session of an Agno session row and its runs.

    Raises:
        AgnoSourceError: the row's type is unknown or a field has the wrong type.
    """
    session_type = row["session_type"]
    session_class = SESSION_CLASSES.get(str(session_type))
    if session_class is None:
        raise AgnoSourceError(f"session {row['session_id']!r} has an unknown session_type {session_type!r}")
    data = {name: _json(row.get(name)) for name in SESSION_COLUMNS}
    data["session_id"] = row["session_id"]
    data["runs"] = runs
    try:
        session = session_class.from_dict(data)
    except pydantic.ValidationError as error:
        raise AgnoSourceError(
            f"session {row['session_id']!r} cannot be read: {error.errors()[0]['msg']}"
        ) from error
    if session is None:
        raise AgnoSourceError("a session row has no session_id")
    return session


def agno_sessions(url: str, *, table: str = DEFAULT_TABLE) -> Iterator[Session]:
    """Every session of the Agno database at ``url``, with every run, in session-id order.

    Args:
        url: a SQLite file path or URL, or a PostgreSQL URL (``?schema=`` picks the schema,
            ``ai`` by default, as Agno's).
        table: Agno's sessions table.

    Raises:
        AgnoSourceError: the database or the table is missing, or a row cannot be read.
    """
    engine, schema = _engine(url)
    try:
        metadata = MetaData(schema=schema)
        try:
            sessions = Table(table, metadata, autoload_with=engine)
        except sa_exc.NoSuchTableError:
            raise AgnoSourceError(f"no table {table!r} in the Agno database") from None
        except sa_exc.OperationalError as error:
            raise AgnoSourceError(f"the Agno database cannot be read: {error.orig}") from None
        try:
            runs: Table | None = Table(runs_table_name(table), metadata, autoload_with=engine)
        except sa_exc.NoSuchTableError:
            runs = None  # Agno 2.x: runs live in the session row
        yield from _pages(engine, sessions, runs)
    finally:
        engine.dispose()


def _pages(engine: Engine, sessions: Table, runs: Table | None) -> Iterator[Session]:
    after: str | None = None
    while True:
        query = select(sessions).order_by(sessions.c.session_id).limit(PAGE)
        if after is not None:
            query = query.where(sessions.c.session_id > after)
        with engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            if not rows:
                return
            ids = [row["session_id"] for row in rows]
            table_runs: dict[str, list[dict[str, Any]]] = {session_id: [] for session_id in ids}
            if runs is not None:
                order = [runs.c.session_id, runs.c.run_index, runs.c.created_at, runs.c.run_id]
                found = conn.execute(
                    select(runs.c.session_id, runs.c.run_data)
                    .where(runs.c.session_id.in_(ids))
                    .order_by(*order)
                )
                for session_id, run_data in found:
                    data = _json(run_data)
                    if isinstance(data, dict):
                        table_runs[session_id].append(data)
        for row in rows:
            yield session_of(row, merged_runs(row.get("runs"), table_runs[row["session_id"]]))
        after = ids[-1]
