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
sessiondb sessions search 'deploy* "release notes"' --user alice
sessiondb retention --db URL --inactive-for 30d --dry-run

Each group of commands lives in its own module; this one only assembles them, and :func:`main`
(the entry point) turns what a command raises into one line on stderr, unless ``--debug``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

import sessiondb
from sessiondb.cli import data as _data
from sessiondb.cli import migrate as _migrate
from sessiondb.cli import retention as _retention
from sessiondb.cli import search as _search
from sessiondb.cli import serve as _serve
from sessiondb.cli import sessions as _sessions
from sessiondb.cli._common import debug as _debug
from sessiondb.cli._common import fail, one_line

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}

# Tracebacks are main's business (only with --debug), and never show locals: serve's hold the
# security key, the JWT secret and database URLs.
app = typer.Typer(
    help="Durable sessions for AI agents: the server and its tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings=_CONTEXT,
    rich_markup_mode=None,
)
sessions_app = typer.Typer(
    help="Inspect and delete sessions from a terminal.", no_args_is_help=True, context_settings=_CONTEXT
)
app.add_typer(sessions_app, name="sessions")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sessiondb {sessiondb.__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", envvar="SESSIONDB_DEBUG", help="Show tracebacks of errors")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit"),
    ] = False,
) -> None:
    """Durable sessions for AI agents: the server and its tools."""
    _debug["on"] = debug


app.command()(_serve.serve)
app.command()(_migrate.migrate)
app.command()(_data.export)
app.command("import")(_data.import_)
app.command()(_data.copy)
app.command()(_retention.retention)
app.command()(_retention.purge)
sessions_app.command("list")(_sessions.list_sessions)
sessions_app.command("show")(_sessions.show_session)
sessions_app.command("delete")(_sessions.delete_sessions)
sessions_app.command("search")(_search.search_sessions)


def main() -> None:
    """The ``sessiondb`` entry point: run the command; an error is one line unless ``--debug``."""
    try:
        app()
    except KeyboardInterrupt:
        # Ctrl-C outside the server (which handles it itself): stop quietly, as shells expect.
        sys.exit(130)
    except Exception as exc:
        if _debug["on"] or "--debug" in sys.argv:
            raise
        detail = one_line(str(exc)) or "no message"
        fail(f"{type(exc).__name__}: {detail} (run with --debug for the traceback)")
        sys.exit(1)


__all__ = ["app", "main"]
