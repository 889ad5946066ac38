"""``/health`` (does every database answer?) and ``/config`` (which databases and runtimes are served)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response, status

from sessiondb.api.auth import Principal
from sessiondb.api.deps import CallerDep, get_registry
from sessiondb.api.errors import RETRY_AFTER_SECONDS
from sessiondb.api.registry import StoreRegistry
from sessiondb.api.responses import JsonResponse, iso_utc
from sessiondb.api.routers._runtime_common import RuntimesDep, may
from sessiondb.api.routers.common import ERROR_RESPONSES
from sessiondb.api.runtimes import RuntimeKind, RuntimeRegistry, describe
from sessiondb.api.schemas import ConfigResponse, ErrorResponse, HealthResponse
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError

router = APIRouter()

RegistryDep = Annotated[StoreRegistry, Depends(get_registry)]

HEALTH_TIMEOUT_S = 2.0
"""How long ``GET /health`` waits for the databases by default (``create_app(health_timeout_s=...)``)."""

CONFIG_RUNTIME_FIELDS = ("id", "name", "description", "db_id")
"""What ``/config`` says about each runtime: AgentOS's summary shape (``GET /agents`` says more)."""


@router.get(
    "/health",
    response_model=HealthResponse,
    operation_id="health_check",
    summary="Health Check",
    description=(
        "200 when every database answers, 503 otherwise, within the health bound (2 s by "
        "default) whatever the databases do. Needs no authentication."
    ),
    tags=["Health"],
    responses={503: {"description": "A database does not answer", "model": HealthResponse}},
)
async def health_check(request: Request, registry: RegistryDep) -> Response:
    """Ping every database, all at once, each within the app's health bound."""
    bound: float = request.app.state.health_timeout_s
    stores = registry.items()
    states = await asyncio.gather(*(_ping(store, bound) for _db_id, store in stores))
    databases: dict[str, str] = {}
    details: dict[str, dict[str, Any]] = {}
    for (db_id, _store), (state, found) in zip(stores, states, strict=True):
        # A db_id serving several tables is ok only when all of them are.
        if databases.get(db_id, "ok") == "ok":
            databases[db_id] = state
        if found:
            details[db_id] = found
    healthy = all(state == "ok" for state in databases.values())
    body: dict[str, Any] = {
        "status": "ok" if healthy else "unavailable",
        "instantiated_at": iso_utc(request.app.state.started_at),
        "databases": databases,
    }
    if details:
        body["details"] = details
    if healthy:
        return JsonResponse(body)
    response = JsonResponse(body, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _ping(store: SessionStore, bound: float) -> tuple[str, dict[str, Any]]:
    """``"ok"`` and the store's health details, or why ``store`` is not ok (its error, or no
    answer within ``bound`` seconds) and no details.

    A ping in a worker thread cannot be interrupted: past the bound it is left to finish (its
    own waits are bounded by the store's timeouts), and the answer does not wait for it.
    """
    try:
        async with asyncio.timeout(bound):
            await store.aping()
            details = await anyio.to_thread.run_sync(store.health_details)
    except StoreError as exc:
        return f"unavailable: {exc}", {}
    except TimeoutError:
        return f"unavailable: no answer within {bound:g} s (the health bound)", {}
    return "ok", details


@router.get(
    "/config",
    response_model=ConfigResponse,
    operation_id="get_config",
    summary="Get Config",
    description=(
        "The databases this server serves, and the agents, teams and workflows the caller may "
        "read, in the shape of AgentOS GET /config."
    ),
    tags=["Core"],
    responses={
        401: ERROR_RESPONSES[401],
        500: {"description": "Internal server error", "model": ErrorResponse},
    },
)
async def get_config(
    request: Request, registry: RegistryDep, runtimes: RuntimesDep, principal: CallerDep
) -> Response:
    """Describe the server."""
    os_id: str = request.app.state.os_id
    body = {
        "os_id": os_id,
        "name": os_id,
        "databases": registry.ids(),
        "session": {
            "dbs": [{"db_id": db_id, "tables": registry.tables(db_id) or None} for db_id in registry.ids()]
        },
        "agents": _runtime_entries(runtimes, "agents", principal),
        "teams": _runtime_entries(runtimes, "teams", principal),
        "workflows": _runtime_entries(runtimes, "workflows", principal),
        "interfaces": [],
    }
    return JsonResponse(body)


def _runtime_entries(
    runtimes: RuntimeRegistry, kind: RuntimeKind, principal: Principal
) -> list[dict[str, Any]]:
    # Only what the caller may read, as GET /<kind> lists it: a caller without the scope
    # learns nothing about the runtime from here either.
    entries = []
    for runtime in runtimes.all(kind):
        if may(principal, kind, "read", str(runtime.id)):
            described = describe(runtime)
            entries.append({field: described.get(field) for field in CONFIG_RUNTIME_FIELDS})
    return entries
