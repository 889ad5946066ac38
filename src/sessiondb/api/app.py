"""The application factory: an AgentOS-compatible sessions API over one or more stores."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Sequence

from fastapi import Depends, FastAPI

import sessiondb
from sessiondb.agent import Agent
from sessiondb.api.auth import AuthConfig
from sessiondb.api.consistency import ConsistencyMiddleware
from sessiondb.api.cors import DEFAULT_CORS_ORIGINS, install_cors
from sessiondb.api.docs import install_docs
from sessiondb.api.errors import install_error_handlers
from sessiondb.api.fast_reads import FastReads
from sessiondb.api.field_limits import FieldLimits, screen_request
from sessiondb.api.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from sessiondb.api.read_cache import ReadCache
from sessiondb.api.registry import StoreRegistry, StoresArg
from sessiondb.api.routers import agents as agent_routes
from sessiondb.api.routers import changes, fork, history, runs, search, sessions, system, transfer, trash
from sessiondb.api.routers import teams as team_routes
from sessiondb.api.routers import workflows as workflow_routes
from sessiondb.api.routers.system import HEALTH_TIMEOUT_S
from sessiondb.api.runtimes import RuntimeRegistry, served_stores
from sessiondb.api.shutdown import lifespan
from sessiondb.team import Team
from sessiondb.workflow import Workflow

logger = logging.getLogger("sessiondb.api")

DEFAULT_OS_ID = "sessiondb"


def create_app(
    dbs: StoresArg | None = None,
    *,
    agents: Sequence[Agent] = (),
    teams: Sequence[Team] = (),
    workflows: Sequence[Workflow] = (),
    auth: AuthConfig | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    field_limits: FieldLimits | None = None,
    os_id: str = DEFAULT_OS_ID,
    cors_origins: Sequence[str] = DEFAULT_CORS_ORIGINS,
    health_timeout_s: float = HEALTH_TIMEOUT_S,
    read_cache: bool = True,
) -> FastAPI:
    """Build the HTTP API serving ``dbs``, and the runtimes next to it.

    The app does not own the stores: it neither migrates nor closes them.

    Args:
        dbs: one store, a list of stores (served under their ``.id``), or a mapping of
            ``db_id`` to store. Stores sharing an id are told apart by ``table``. The stores
            of the runtimes are served too when not listed, so ``dbs`` may be left out.
        agents / teams / workflows: runtimes served at ``/agents``, ``/teams`` and
            ``/workflows``, with ``POST /<kind>/{id}/runs`` to run them (ids must be unique
            per kind).
        auth: accepted credentials; ``None`` (the default) turns auth off.
        max_body_bytes: larger request bodies get a 413 (for ``POST /import``, which streams
            its body, larger lines).
        field_limits: caps on name and id lengths and nesting depth in JSON bodies (a 422
            naming the field); ``None`` means the defaults of :class:`FieldLimits`.
        os_id: the identifier ``GET /config`` reports.
        cors_origins: browser origins allowed to call the API (CORS); the default is
            AgentOS's, where Agno's Agent UI runs (``http://localhost:3000``); ``()`` for none.
        health_timeout_s: how long ``GET /health`` waits for the databases' answers; one
            that does not answer in time is reported unavailable (503).
        read_cache: keep the answers of ``GET /sessions``, ``GET /sessions/{id}`` and
            ``GET /sessions/{id}/runs`` in memory, each served again while the database's data
            version is unchanged (checked on every request, see :mod:`sessiondb.api.read_cache`;
            up to 4,096 answers and 64 MiB). ``app.state.read_cache`` holds the cache (``None``
            when off).

    Returns:
        A FastAPI app with the ``/sessions`` endpoints, ``/health``, ``/config``, the
        runtime endpoints, and the web console at ``/ui`` (``/`` redirects there).

    Raises:
        ValueError: no store at all (``dbs`` empty and no runtime has a ``db``), an item of
            ``dbs`` is not a store, two runtimes of one kind share an id, or
            ``health_timeout_s`` is not a positive number.
    """
    app = FastAPI(
        title="sessiondb",
        version=sessiondb.__version__,
        description=(
            "Durable sessions for AI agents, teams and workflows. Wire-compatible with the "
            "Agno AgentOS sessions API, with ETags, keyset pagination and per-user isolation."
        ),
        dependencies=[Depends(screen_request)],
        # Served by install_docs from installed files: FastAPI's own pages load them from a CDN.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtimes = RuntimeRegistry(agents=agents, teams=teams, workflows=workflows)
    app.state.registry = StoreRegistry(served_stores(dbs, app.state.runtimes))
    app.state.auth = auth or AuthConfig()
    app.state.os_id = os_id
    if not 0 < health_timeout_s < float("inf"):
        raise ValueError(f"health_timeout_s must be a positive number of seconds, not {health_timeout_s!r}")
    app.state.health_timeout_s = health_timeout_s
    app.state.field_limits = field_limits or FieldLimits()
    app.state.max_body_bytes = max_body_bytes
    app.state.started_at = time.time()
    # Set when the server shuts down, so that endless streams end (see sessiondb.api.shutdown).
    app.state.closing = threading.Event()
    # Added first, so it runs last of the middleware, right in front of the routes.
    app.state.fast_reads = True
    app.state.read_cache = ReadCache() if read_cache else None
    app.add_middleware(FastReads)
    install_error_handlers(app)
    if any(store.reads_from_replicas for _db_id, store in app.state.registry.items()):
        app.add_middleware(ConsistencyMiddleware)
    # Added last so it runs first: an oversized body is refused before anything reads it.
    # POST /import streams a body of any size and caps each line at max_body_bytes instead.
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=max_body_bytes, streamed_paths=frozenset({"/import"})
    )
    install_cors(app, cors_origins)
    install_docs(app)
    app.include_router(sessions.router)
    app.include_router(runs.router)
    app.include_router(fork.router)
    app.include_router(history.router)
    app.include_router(search.router)
    app.include_router(system.router)
    app.include_router(trash.router)
    app.include_router(changes.router)
    app.include_router(agent_routes.router)
    app.include_router(team_routes.router)
    app.include_router(workflow_routes.router)
    app.include_router(transfer.router)
    # Imported here: the console is built on this package's modules (deps, errors), so a
    # module-level import would be circular whichever package is imported first.
    from sessiondb.console import install_console

    install_console(app)
    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(host: str, auth: AuthConfig | None) -> bool:
    """Log a loud warning when the server listens beyond loopback with auth off.

    Returns:
        Whether the warning was logged.
    """
    if (auth is not None and auth.enabled) or is_loopback(host):
        return False
    banner = "!" * 78
    logger.warning(
        "\n%s\n  AUTH IS OFF and sessiondb is listening on %s: anyone who can reach this port\n"
        "  can read, change and delete every session. Set a security key (--security-key /\n"
        "  SESSIONDB_SECURITY_KEY) or JWT verification (--jwt-secret / --jwt-public-key),\n"
        "  or bind to 127.0.0.1.\n%s",
        banner,
        host,
        banner,
    )
    return True


def refuse_if_exposed(host: str, auth: AuthConfig | None, *, insecure: bool) -> None:
    """Refuse to serve beyond loopback with auth off, unless the operator said ``--insecure``.

    Raises:
        ValueError: ``host`` is not a loopback address, auth is off and ``insecure`` is False.
    """
    if insecure or (auth is not None and auth.enabled) or is_loopback(host):
        return
    raise ValueError(
        f"refusing to listen on {host} with auth off: anyone who can reach the port could read, "
        "change and delete every session. Set a security key (--security-key) or JWT verification "
        "(--jwt-secret / --jwt-public-key), bind to 127.0.0.1, or pass --insecure to serve anyway"
    )
