"""What the examples run on: offline by default, real services when they are configured.

* Model: ``OpenAIChat`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set (any
  OpenAI-compatible server; the model name comes from ``OPENAI_MODEL``, default
  ``gpt-4o-mini``), otherwise the offline ``TestModel`` double. ``--offline`` forces it.
* Database: ``PostgresDb`` when ``SESSIONDB_EXAMPLE_PG_URL`` is set (for example
  ``postgresql+psycopg://ai:ai@localhost:5532/ai``; schema ``SESSIONDB_EXAMPLE_PG_SCHEMA``,
  default ``ai``), otherwise ``SqliteDb`` on the file
  ``SESSIONDB_EXAMPLE_DB_FILE`` (default ``tmp/sessiondb_examples.db``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sessiondb.db.base import SessionStore
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb
from sessiondb.models import Model, TestModel


def online() -> bool:
    """True when an OpenAI-compatible endpoint is configured and ``--offline`` was not given."""
    configured = bool(os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"))
    return configured and "--offline" not in sys.argv


def demo_model(**offline: Any) -> Model:
    """``OpenAIChat`` when configured, else a ``TestModel`` built with ``offline`` options."""
    if online():
        # Imported here: offline runs never need the openai SDK.
        from sessiondb.models.openai import OpenAIChat

        return OpenAIChat(id=os.environ.get("OPENAI_MODEL", "gpt-4o-mini"))
    return TestModel(**offline)


def demo_db(session_table: str = "sessions") -> SessionStore:
    """``PostgresDb`` when ``SESSIONDB_EXAMPLE_PG_URL`` is set, else ``SqliteDb`` on a local file."""
    pg_url = os.environ.get("SESSIONDB_EXAMPLE_PG_URL")
    if pg_url:
        return PostgresDb(
            db_url=pg_url,
            db_schema=os.environ.get("SESSIONDB_EXAMPLE_PG_SCHEMA"),
            session_table=session_table,
        )
    db_file = os.environ.get("SESSIONDB_EXAMPLE_DB_FILE", "tmp/sessiondb_examples.db")
    return SqliteDb(db_file=db_file, session_table=session_table)
