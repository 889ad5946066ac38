"""The ``sessiondb`` command: serve the HTTP API, migrate a database, inspect sessions.

sessiondb serve                          # SQLite ./sessiondb.db on 127.0.0.1:7777
sessiondb serve --db postgresql+psycopg://user@host/db --host 0.0.0.0 --jwt-secret ...
sessiondb serve --app examples.serve_app:app     # agents, teams, workflows next to the sessions
sessiondb migrate --db postgresql+psycopg://user@host/db
sessiondb sessions list --user alice --json
sessiondb export --db sessions.db -o backup.jsonl.gz
sessiondb import --db postgresql+psycopg://user@host/db backup.jsonl.gz
sessiondb copy --from sessions.db --to postgresql+psycopg://user@host/db
sessiondb import --db sessions.db --from-agno agno.db

Each group of commands lives in its own module; this one only assembles them.
"""

from __future__ import annotations

import typer

from sessiondb.cli import data as _data
from sessiondb.cli import serve as _serve
from sessiondb.cli import sessions as _sessions

# Locals stay out of tracebacks: serve's hold the security key, the JWT secret and database URLs.
app = typer.Typer(
    help="Durable sessions for AI agents: the server and its tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
sessions_app = typer.Typer(help="Inspect and delete sessions from a terminal.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")

app.command()(_serve.serve)
app.command()(_serve.migrate)
app.command()(_data.export)
app.command("import")(_data.import_)
app.command()(_data.copy)
sessions_app.command("list")(_sessions.list_sessions)
sessions_app.command("show")(_sessions.show_session)
sessions_app.command("delete")(_sessions.delete_sessions)

__all__ = ["app"]
