"""The ``sessiondb`` command: serve the HTTP API, migrate a database, inspect sessions.

sessiondb serve                          # SQLite ./sessiondb.db on 127.0.0.1:7777
sessiondb serve --db postgresql+psycopg://user@host/db --host 0.0.0.0 --jwt-secret ...
sessiondb serve --app examples.serve_app:app     # agents, teams, workflows next to the sessions
sessiondb migrate --db postgresql+psycopg://user@host/db
sessiondb sessions list --user alice --json
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from sessiondb.api.serve import DEFAULT_DB, resolve_settings, split_db_arg, store_from_url
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError
from sessiondb.db.query import SORT_FIELDS, SessionQuery

# Locals stay out of tracebacks: serve's hold the security key, the JWT secret and database URLs.
app = typer.Typer(
    help="Durable sessions for AI agents: the server and its tools.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
sessions_app = typer.Typer(help="Inspect and delete sessions from a terminal.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")

_console = Console()
_errors = Console(stderr=True)

DbOption = Annotated[
    str,
    typer.Option(
        "--db", envvar="SESSIONDB_DB", help="Database: a file path, sqlite:///..., postgresql://..."
    ),
]
UserOption = Annotated[str | None, typer.Option("--user", help="Only this user's sessions")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    _errors.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _print_json(data: Any) -> None:
    typer.echo(orjson.dumps(data, default=str, option=orjson.OPT_INDENT_2).decode())


@contextmanager
def _open(db: str) -> Iterator[SessionStore]:
    db_id, url = split_db_arg(db)
    try:
        store = store_from_url(url, db_id=db_id)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    try:
        yield store
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    finally:
        store.close()


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_HOST", help="Interface (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(envvar="SESSIONDB_PORT", help="Port (default 7777)")] = None,
    db: Annotated[
        list[str] | None,
        typer.Option("--db", envvar="SESSIONDB_DB", help="Database URL or id=URL; repeat to serve several"),
    ] = None,
    security_key: Annotated[
        str | None,
        typer.Option(envvar=["SESSIONDB_SECURITY_KEY", "OS_SECURITY_KEY"], help="Require this bearer token"),
    ] = None,
    jwt_secret: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_JWT_SECRET", help="Verify HS256 JWTs with this secret")
    ] = None,
    jwt_public_key: Annotated[
        str | None,
        typer.Option(envvar="SESSIONDB_JWT_PUBLIC_KEY_FILE", help="Verify RS256 JWTs with this PEM file"),
    ] = None,
    jwt_algorithm: Annotated[
        list[str] | None, typer.Option(envvar="SESSIONDB_JWT_ALGORITHMS", help="Accepted JWT algorithms")
    ] = None,
    jwt_audience: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_JWT_AUDIENCE", help="Required JWT audience")
    ] = None,
    jwt_issuer: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_JWT_ISSUER", help="Required issuer")
    ] = None,
    admin_scope: Annotated[
        list[str] | None,
        typer.Option(help="Scopes that see every user's sessions (default agent_os:admin, sessions:admin)"),
    ] = None,
    max_body_bytes: Annotated[
        int | None, typer.Option(help="Larger request bodies get a 413 (default 10 MiB)")
    ] = None,
    max_name_chars: Annotated[
        int | None, typer.Option(help="Longer session names in a body get a 422 (default 512)")
    ] = None,
    max_id_chars: Annotated[
        int | None, typer.Option(help="Longer ids in a body get a 422 (default 255)")
    ] = None,
    max_json_depth: Annotated[
        int | None, typer.Option(help="JSON bodies nested deeper get a 422 (default 64, at most 200)")
    ] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            envvar="SESSIONDB_INSECURE",
            help="Serve beyond loopback with auth off (refused without this flag)",
        ),
    ] = False,
    auto_migrate: Annotated[
        bool | None,
        typer.Option("--auto-migrate/--no-auto-migrate", help="Create the schema on first use (default on)"),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_LOG_LEVEL", help="Log level (default info)")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(envvar="SESSIONDB_CONFIG", exists=True, dir_okay=False, help="TOML config file"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            envvar="SESSIONDB_WORKERS",
            help="Worker processes, each with its own connections to the same databases (default 1)",
        ),
    ] = None,
    app_ref: Annotated[
        str | None,
        typer.Option(
            "--app",
            envvar="SESSIONDB_APP",
            help="Serve module:attr, an app made by create_app(agents=...) or a callable returning one; "
            "its databases come from create_app, so --db and --max-body-bytes do not apply",
        ),
    ] = None,
) -> None:
    """Serve the AgentOS-compatible sessions API (auth is off unless a key or JWT is set)."""
    import uvicorn

    from sessiondb.api.app import warn_if_exposed
    from sessiondb.api.served import WORKER_APP, build_served_app, export_settings

    given = {
        "host": host,
        "port": port,
        "db": db,
        "security_key": security_key,
        "jwt_secret": jwt_secret,
        "jwt_public_key_file": jwt_public_key,
        "jwt_algorithms": jwt_algorithm,
        "jwt_audience": jwt_audience,
        "jwt_issuer": jwt_issuer,
        "admin_scopes": admin_scope,
        "max_body_bytes": max_body_bytes,
        "max_name_chars": max_name_chars,
        "max_id_chars": max_id_chars,
        "max_json_depth": max_json_depth,
        "insecure": insecure or None,
        "auto_migrate": auto_migrate,
        "log_level": log_level,
        "workers": workers,
    }
    if app_ref is not None and db:
        raise _fail("--db cannot be combined with --app: the app's create_app(...) names its databases", 2)
    try:
        settings = resolve_settings(given, config)
        served = build_served_app(settings, app_ref)
    except (ValueError, OSError) as exc:
        raise _fail(str(exc), 2) from exc
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    warn_if_exposed(settings.host, served.app.state.auth)
    host, port, level = settings.host, settings.port, settings.log_level.lower()
    if settings.workers == 1:
        try:
            uvicorn.run(served.app, host=host, port=port, log_level=level)
        finally:
            served.close()
        return
    # Each worker builds its own app (and connections) from the same settings; this process
    # only supervises them, so it lets go of its stores before they start.
    served.close()
    export_settings(settings, app_ref)
    _console.print(f"serving with {settings.workers} worker processes", highlight=False)
    uvicorn.run(WORKER_APP, factory=True, workers=settings.workers, host=host, port=port, log_level=level)


@app.command()
def migrate(
    db: Annotated[
        list[str] | None,
        typer.Option("--db", envvar="SESSIONDB_DB", help="Database URL or id=URL; repeatable"),
    ] = None,
) -> None:
    """Create the schema, or upgrade it to this version. Safe to repeat."""
    for value in db or [DEFAULT_DB]:
        with _open(value) as store:
            store.migrate()
            _console.print(f"[green]migrated[/green] {store.id}")


@sessions_app.command("list")
def list_sessions(
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    session_type: Annotated[str | None, typer.Option("--type", help="agent, team or workflow")] = None,
    component: Annotated[str | None, typer.Option(help="Agent, team or workflow id")] = None,
    name: Annotated[str | None, typer.Option(help="Part of the session name")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    page: Annotated[int, typer.Option(min=1)] = 1,
    sort_by: Annotated[str, typer.Option(help=f"One of {', '.join(SORT_FIELDS)}")] = "created_at",
    order: Annotated[str, typer.Option(help="asc or desc")] = "desc",
    as_json: JsonOption = False,
) -> None:
    """List sessions, newest first."""
    from sessiondb.api.views import session_list_item

    with _open(db) as store:
        query = SessionQuery(
            session_type=session_type,  # type: ignore[arg-type]  # checked by SessionQuery
            component_id=component,
            user_id=user,
            session_name=name,
            sort_by=sort_by,  # type: ignore[arg-type]
            sort_order=order,  # type: ignore[arg-type]
            page=page,
            limit=limit,
        )
        result = store.get_sessions(query)
    items = [session_list_item(session) for session in result.items]
    if as_json:
        meta = {
            "page": page,
            "limit": limit,
            "total_count": result.total_count,
            "total_pages": result.total_pages,
        }
        _print_json({"data": items, "meta": meta})
        return
    table = Table(
        title=f"Sessions (page {page} of {max(result.total_pages, 1)}, {result.total_count} in all)"
    )
    for column in ("session id", "type", "name", "user", "component", "updated"):
        table.add_column(column)
    for item in items:
        component_id = item.get("agent_id") or item.get("team_id") or item.get("workflow_id") or ""
        table.add_row(
            item["session_id"],
            item.get("session_type", ""),
            item["session_name"],
            item.get("user_id") or "",
            component_id,
            item.get("updated_at") or "",
        )
    _console.print(table)


@sessions_app.command("show")
def show_session(
    session_id: Annotated[str, typer.Argument(help="The session to show")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one session and its runs."""
    from sessiondb.api.views import run_preview, session_detail

    with _open(db) as store:
        session = store.get_session(session_id, user_id=user)
    detail = session_detail(session)
    previews = [run_preview(run) for run in session.runs or []]
    if as_json:
        _print_json({"session": detail, "runs": previews})
        return
    summary = Table(show_header=False, title=f"Session {session_id}")
    for key in ("session_name", "user_id", "agent_id", "team_id", "workflow_id", "created_at", "updated_at"):
        summary.add_row(key, str(detail.get(key) or ""))
    summary.add_row("session_state", orjson.dumps(detail.get("session_state")).decode())
    _console.print(summary)
    runs = Table(title=f"{len(previews)} run(s)")
    for column in ("run id", "status", "created", "input", "output"):
        runs.add_column(column)
    for preview in previews:
        runs.add_row(
            preview["run_id"],
            preview.get("status", ""),
            preview.get("created_at", ""),
            (preview.get("run_input") or "")[:60],
            (preview.get("content_preview") or "")[:60],
        )
    _console.print(runs)


@sessions_app.command("delete")
def delete_sessions(
    session_ids: Annotated[list[str], typer.Argument(help="Sessions to delete")],
    db: DbOption = DEFAULT_DB,
    user: UserOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete sessions and their runs."""
    if not yes:
        typer.confirm(f"Delete {len(session_ids)} session(s) and all their runs?", abort=True)
    with _open(db) as store:
        deleted = store.delete_sessions(session_ids, user_id=user)
    if as_json:
        _print_json({"deleted": deleted})
    else:
        _console.print(f"deleted {deleted} of {len(session_ids)} session(s)")


if __name__ == "__main__":
    app()
