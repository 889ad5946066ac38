"""The block ``serve`` prints on start: what it serves, to whom, and where to look."""

from __future__ import annotations

from collections.abc import Sequence

import sessiondb
from sessiondb.api.app import is_loopback
from sessiondb.api.auth import AuthConfig
from sessiondb.api.startup import ServedDatabase
from sessiondb.db._sql.migrate import head_revision


def auth_mode(auth: AuthConfig, host: str) -> str:
    """How callers authenticate, in a few words (never the secret itself)."""
    if auth.jwt is not None:
        algorithms = "/".join(auth.jwt.algorithms)
        return f"JWT ({algorithms}); admin scopes {', '.join(auth.jwt.admin_scopes)}"
    if auth.security_key:
        return "security key (Authorization: Bearer <key>)"
    if is_loopback(host):
        return "off (only this machine can connect)"
    return "OFF: anyone who can reach the port has full access"


def _tables(database: ServedDatabase) -> str:
    if database.sets is None:
        return "not answering yet; retrying (requests get 503 meanwhile)"
    if database.target.backend == "memory":
        return "in memory (gone when the server stops)"
    if not database.sets:
        return "no tables yet (created on first use)"
    head = head_revision()
    parts = []
    for table_set in database.sets:
        revision = table_set.revision or "none"
        note = "" if table_set.revision == head else f", needs {head}: run `sessiondb migrate`"
        parts.append(f"{table_set.qualified} (revision {revision}{note})")
    return ", ".join(parts)


def banner_lines(
    *,
    host: str,
    base_url: str,
    auth: AuthConfig,
    databases: Sequence[ServedDatabase],
    cors_origins: Sequence[str],
    app_ref: str | None = None,
) -> list[str]:
    """The start-up block, one item per line.

    Args:
        host: the interface the server listens on.
        base_url: where the API listens, e.g. ``http://127.0.0.1:7777``.
        auth: the auth the server applies.
        databases: the ``--db`` values served (none with ``--app``).
        cors_origins: the browser origins allowed to call the API.
        app_ref: the ``--app`` served, if any.
    """
    lines = [f"sessiondb {sessiondb.__version__}"]
    if app_ref is not None:
        lines.append(f"  app       {app_ref} (its databases come from create_app)")
    for database in databases:
        created = " (new file)" if database.created else ""
        lines.append(f"  database  {database.db_id}: {database.target.shown}{created}")
        lines.append(f"            tables: {_tables(database)}")
    lines.append(f"  auth      {auth_mode(auth, host)}")
    lines.append(f"  CORS      {', '.join(cors_origins) or 'no browser origin'}")
    lines.append(f"  API       {base_url}")
    lines.append(f"  docs      {base_url}/docs (ReDoc: {base_url}/redoc)")
    lines.append(f"  console   {base_url}/ui")
    return lines
