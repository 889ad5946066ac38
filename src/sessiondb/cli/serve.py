"""``sessiondb serve``: the start-up checks, the banner, then uvicorn."""

from __future__ import annotations

import copy
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from sessiondb._entry import INTERRUPTED
from sessiondb.api.banner import banner_lines
from sessiondb.api.databases import CannotOpen
from sessiondb.api.serve import resolve_settings
from sessiondb.cli._common import console, fail
from sessiondb.db.errors import StoreError


def _bound(envvar: str, what: str) -> Any:
    # One line per bound in the signature below; docs/reliability.md explains each.
    return typer.Option(envvar=envvar, help=f"{what}: seconds at most, then 503 (default in parentheses)")


def serve(
    host: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_HOST", help="Interface (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(envvar="SESSIONDB_PORT", help="Port (default 7777)")] = None,
    db: Annotated[
        list[str] | None,
        typer.Option(
            "--db",
            envvar="SESSIONDB_DB",
            metavar="URL",
            help="Database URL or id=URL; repeat to serve several",
        ),
    ] = None,
    read_replica: Annotated[
        list[str] | None,
        typer.Option(
            "--read-replica",
            envvar="SESSIONDB_READ_REPLICA",
            help="A PostgreSQL replica URL (or db_id=URL) to serve reads from; repeatable",
        ),
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
        list[str] | None,
        typer.Option(envvar="SESSIONDB_JWT_ALGORITHMS", metavar="ALG", help="Accepted JWT algorithms"),
    ] = None,
    jwt_audience: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_JWT_AUDIENCE", help="Required JWT audience")
    ] = None,
    jwt_issuer: Annotated[
        str | None, typer.Option(envvar="SESSIONDB_JWT_ISSUER", help="Required issuer")
    ] = None,
    admin_scope: Annotated[
        list[str] | None,
        typer.Option(
            metavar="SCOPE",
            help="Scopes that see every user's sessions (default agent_os:admin, sessions:admin)",
        ),
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
    read_cache: Annotated[
        bool | None,
        typer.Option(
            "--read-cache/--no-read-cache",
            envvar="SESSIONDB_READ_CACHE",
            help="Keep the answers of the hot reads while the data is unchanged (default on)",
        ),
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
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            metavar="ORIGIN",
            envvar="SESSIONDB_CORS_ORIGINS",
            help="Browser origin allowed to call the API; repeatable "
            "(default http://localhost:3000 and http://127.0.0.1:3000, Agno's Agent UI)",
        ),
    ] = None,
    db_connect_timeout: Annotated[
        float | None, _bound("SESSIONDB_DB_CONNECT_TIMEOUT", "Connecting (5)")
    ] = None,
    db_pool_timeout: Annotated[
        float | None, _bound("SESSIONDB_DB_POOL_TIMEOUT", "Waiting for a pooled connection (10)")
    ] = None,
    db_lock_timeout: Annotated[
        float | None, _bound("SESSIONDB_DB_LOCK_TIMEOUT", "Waiting for a lock (PostgreSQL 5, SQLite 30)")
    ] = None,
    db_statement_timeout: Annotated[
        float | None, _bound("SESSIONDB_DB_STATEMENT_TIMEOUT", "One call's statements (30)")
    ] = None,
    health_timeout: Annotated[
        float | None, _bound("SESSIONDB_HEALTH_TIMEOUT", "GET /health's wait for the databases (2)")
    ] = None,
    header_timeout: Annotated[
        float | None, _bound("SESSIONDB_HEADER_TIMEOUT", "A client sending a request's headers (10)")
    ] = None,
    soft_delete: Annotated[
        str | None,
        typer.Option(
            envvar="SESSIONDB_SOFT_DELETE",
            help="Keep deleted sessions in the trash this long (e.g. 7d), restorable, then purge them",
        ),
    ] = None,
    retention: Annotated[
        str | None,
        typer.Option(
            envvar="SESSIONDB_RETENTION", help="Apply the retention policies of this TOML file on a schedule"
        ),
    ] = None,
    changes_window: Annotated[
        str | None,
        typer.Option(
            envvar="SESSIONDB_CHANGES_WINDOW", help="Keep the change feed's changes this long (default 7d)"
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

    from sessiondb.api.app import refuse_if_exposed, warn_if_exposed
    from sessiondb.api.served import WORKER_APP, build_served_app, export_settings
    from sessiondb.api.slow_clients import HEADER_TIMEOUT_PROTOCOL, HEADER_TIMEOUT_VARIABLE

    given = {
        "host": host,
        "port": port,
        "db": db,
        "read_replica": read_replica,
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
        "read_cache": read_cache,
        "log_level": log_level,
        "workers": workers,
        "cors_origins": cors_origin,
        "db_connect_timeout": db_connect_timeout,
        "db_pool_timeout": db_pool_timeout,
        "db_lock_timeout": db_lock_timeout,
        "db_statement_timeout": db_statement_timeout,
        "health_timeout": health_timeout,
        "header_timeout": header_timeout,
        "soft_delete": soft_delete,
        "retention": retention,
        "changes_window": changes_window,
    }
    if app_ref is not None and db:
        raise fail("--db cannot be combined with --app: the app's create_app(...) names its databases", 2)
    try:
        settings = resolve_settings(given, config)
        if app_ref is None:
            # Refused before the port is tried and any database is opened (an --app app's
            # own auth is only known once it is loaded: build_served_app checks it then).
            refuse_if_exposed(settings.host, settings.auth(), insecure=settings.insecure)
    except (ValueError, OSError) as exc:
        raise fail(str(exc), 2) from exc
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    _check_port(settings.host, settings.port)
    try:
        served = build_served_app(settings, app_ref)
    except (ValueError, OSError) as exc:
        raise fail(str(exc), 2) from exc
    except (CannotOpen, StoreError) as exc:
        raise fail(str(exc)) from exc
    warn_if_exposed(settings.host, served.app.state.auth)
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    lines = banner_lines(
        host=settings.host,
        base_url=f"http://{shown_host}:{settings.port}",
        auth=served.app.state.auth,
        databases=served.databases,
        cors_origins=settings.cors_origins,
        app_ref=app_ref,
    )
    if settings.workers > 1:
        lines.append(f"  workers   {settings.workers} processes")
    lines.append("Press Ctrl-C to stop.")
    host, port, log_config = settings.host, settings.port, _log_config(settings.log_level)
    # Read by HeaderTimeoutProtocol in this process and in workers (which inherit it).
    os.environ[HEADER_TIMEOUT_VARIABLE] = str(settings.header_timeout)
    if settings.workers == 1:
        pending: list[int] = []
        # From here until the server takes it, a Ctrl-C is noted, never raised (see _run_one_process).
        previous = signal.signal(signal.SIGINT, lambda signum, _frame: pending.append(signum))
        try:
            _announce(lines)
            _run_one_process(
                served.app,
                pending,
                host=host,
                port=port,
                log_level=None,
                log_config=log_config,
                http=HEADER_TIMEOUT_PROTOCOL,
            )
        finally:
            signal.signal(signal.SIGINT, previous)
            served.close()
        return
    _announce(lines)
    # Each worker builds its own app (and connections) from the same settings; this process
    # only supervises them, so it lets go of its stores before they start.
    served.close()
    export_settings(settings, app_ref)
    uvicorn.run(
        WORKER_APP,
        factory=True,
        workers=settings.workers,
        host=host,
        port=port,
        log_level=None,
        log_config=log_config,
        # By name: a worker unpickles its config before it answers the supervisor's health
        # pings, and importing the class there (all of sessiondb.api) could outlast them.
        http=HEADER_TIMEOUT_PROTOCOL,
    )


_STARTUP_FAILURE = 3
"""The exit code when the server could not start, as ``uvicorn.run`` gives it."""


def _announce(lines: list[str]) -> None:
    """Print the start-up block, and flush it now, not when a buffer fills: the banner is how
    a log (or a supervisor) sees the start."""
    console.print("\n".join(lines), highlight=False, soft_wrap=True)
    sys.stdout.flush()


def _run_one_process(app: Any, pending: list[int], **options: Any) -> None:
    """``uvicorn.run(app, **options)`` for one process, with Ctrl-C in the server's hands throughout.

    ``uvicorn.run`` creates its event loop before it puts its own signal handlers in place, so
    a Ctrl-C in between reached the command's handler, whose ``SystemExit`` could land inside
    the loop's constructor (CPython then printed "Exception ignored ... _signal_handlers").
    Here the caller notes a Ctrl-C in ``pending`` until the server exists; then the server's
    own ``handle_exit`` takes it (one noted before is handed over), so a Ctrl-C at any moment
    asks the server to stop and it stops in its own time: exit 130 afterwards. One before
    start-up makes uvicorn start and stop at once, without serving.
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **options))

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        pending.append(signum)
        server.handle_exit(signum, frame)

    signal.signal(signal.SIGINT, on_interrupt)
    if pending:
        server.handle_exit(signal.SIGINT, None)
    server.run()
    if pending:
        raise SystemExit(INTERRUPTED)
    if not server.started:
        raise SystemExit(_STARTUP_FAILURE)


def _check_port(host: str, port: int) -> None:
    """Fail in one line, before any database is opened, when the port is taken."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise fail(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; another server may be running "
            "there: stop it or choose another --port"
        ) from exc


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, without its start and stop chatter at INFO: the banner says it all."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    upper = level.upper()
    config["loggers"]["uvicorn"]["level"] = upper
    config["loggers"]["uvicorn.access"]["level"] = upper
    config["loggers"]["uvicorn.error"] = {"level": "WARNING" if upper == "INFO" else upper}
    return config
