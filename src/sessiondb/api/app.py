"""The application factory: an AgentOS-compatible sessions API over one or more stores."""

from __future__ import annotations

import ipaddress
import logging
import time

from fastapi import FastAPI

import sessiondb
from sessiondb.api.auth import AuthConfig
from sessiondb.api.errors import install_error_handlers
from sessiondb.api.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from sessiondb.api.registry import StoreRegistry, StoresArg
from sessiondb.api.routers import runs, sessions, system

logger = logging.getLogger("sessiondb.api")

DEFAULT_OS_ID = "sessiondb"


def create_app(
    dbs: StoresArg,
    *,
    auth: AuthConfig | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    os_id: str = DEFAULT_OS_ID,
) -> FastAPI:
    """Build the HTTP API serving ``dbs``.

    The app does not own the stores: it neither migrates nor closes them.

    Args:
        dbs: one store, a list of stores (served under their ``.id``), or a mapping of
            ``db_id`` to store. Stores sharing an id are told apart by ``table``.
        auth: accepted credentials; ``None`` (the default) turns auth off.
        max_body_bytes: larger request bodies get a 413.
        os_id: the identifier ``GET /config`` reports.

    Returns:
        A FastAPI app with the ``/sessions`` endpoints, ``/health`` and ``/config``.

    Raises:
        ValueError: ``dbs`` is empty or holds something that is not a store.
    """
    app = FastAPI(
        title="sessiondb",
        version=sessiondb.__version__,
        description=(
            "Durable sessions for AI agents, teams and workflows. Wire-compatible with the "
            "Agno AgentOS sessions API, with ETags, keyset pagination and per-user isolation."
        ),
    )
    app.state.registry = StoreRegistry(dbs)
    app.state.auth = auth or AuthConfig()
    app.state.os_id = os_id
    app.state.started_at = time.time()
    install_error_handlers(app)
    # Added last so it runs first: an oversized body is refused before anything reads it.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    app.include_router(sessions.router)
    app.include_router(runs.router)
    app.include_router(system.router)
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
