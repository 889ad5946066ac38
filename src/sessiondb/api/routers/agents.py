"""``/agents``: the agents this server hosts, and ``POST /agents/{agent_id}/runs`` to run one.

Scopes ``agents:read`` and ``agents:run`` (see :mod:`sessiondb.api.routers._runtime_common`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from sessiondb.api.deps import CallerDep
from sessiondb.api.routers._runtime_common import (
    CANCEL_DESCRIPTION,
    RUN_RESPONSES,
    RUNTIME_RESPONSES,
    RunFormDep,
    RunIdPath,
    RuntimesDep,
    cancel_run,
    get_runtime,
    list_runtimes,
    require_scope,
    start_run,
)
from sessiondb.api.schemas.runtimes import AgentSummary, CancelRunResponse, RunResponse

router = APIRouter(tags=["Agents"], responses=RUNTIME_RESPONSES)

AgentIdPath = Annotated[str, Path(description="Id of the agent")]


@router.get(
    "/agents",
    response_model=list[AgentSummary],
    operation_id="get_agents",
    summary="List Agents",
    description="Every agent the server hosts that the caller may read.",
)
async def get_agents(runtimes: RuntimesDep, principal: CallerDep) -> Response:
    """List the hosted agents."""
    return list_runtimes(runtimes, "agents", principal)


@router.get(
    "/agents/{agent_id}",
    response_model=AgentSummary,
    operation_id="get_agent",
    summary="Get Agent",
    description="One agent: its name, model and session settings.",
    dependencies=[Depends(require_scope("agents", "read"))],
)
async def get_agent(runtimes: RuntimesDep, agent_id: AgentIdPath) -> Response:
    """Describe one agent."""
    return get_runtime(runtimes, "agents", agent_id)


@router.post(
    "/agents/{agent_id}/runs",
    response_model=RunResponse,
    operation_id="create_agent_run",
    summary="Create Agent Run",
    description=(
        "Run the agent on `message` (form fields, urlencoded or multipart). The run is stored in "
        "`session_id` (a new session when omitted) for the caller's user. With `stream=true` (the "
        "default, as in AgentOS) the reply is server-sent events; with `stream=false` the finished run."
    ),
    responses=RUN_RESPONSES,
    dependencies=[Depends(require_scope("agents", "run"))],
)
async def create_agent_run(
    runtimes: RuntimesDep, agent_id: AgentIdPath, form: RunFormDep, principal: CallerDep
) -> Response:
    """Run one agent."""
    return await start_run(runtimes.get("agents", agent_id), form, principal)


@router.post(
    "/agents/{agent_id}/runs/{run_id}/cancel",
    response_model=CancelRunResponse,
    operation_id="cancel_agent_run",
    summary="Cancel Agent Run",
    description=CANCEL_DESCRIPTION.format(noun="agent", event="RunCancelled"),
    dependencies=[Depends(require_scope("agents", "run"))],
)
async def cancel_agent_run(
    runtimes: RuntimesDep, agent_id: AgentIdPath, run_id: RunIdPath, principal: CallerDep
) -> Response:
    """Cancel a run of one agent."""
    return await cancel_run(runtimes.get("agents", agent_id), run_id, principal)
