"""``/teams``: the teams this server hosts, and ``POST /teams/{team_id}/runs`` to run one.

Scopes ``teams:read`` and ``teams:run`` (see :mod:`sessiondb.api.routers._runtime_common`).
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
from sessiondb.api.schemas.runtimes import CancelRunResponse, RunResponse, TeamSummary

router = APIRouter(tags=["Teams"], responses=RUNTIME_RESPONSES)

TeamIdPath = Annotated[str, Path(description="Id of the team")]


@router.get(
    "/teams",
    response_model=list[TeamSummary],
    operation_id="get_teams",
    summary="List Teams",
    description="Every team the server hosts that the caller may read.",
)
async def get_teams(runtimes: RuntimesDep, principal: CallerDep) -> Response:
    """List the hosted teams."""
    return list_runtimes(runtimes, "teams", principal)


@router.get(
    "/teams/{team_id}",
    response_model=TeamSummary,
    operation_id="get_team",
    summary="Get Team",
    description="One team: its name, model and session settings.",
    dependencies=[Depends(require_scope("teams", "read"))],
)
async def get_team(runtimes: RuntimesDep, team_id: TeamIdPath) -> Response:
    """Describe one team."""
    return get_runtime(runtimes, "teams", team_id)


@router.post(
    "/teams/{team_id}/runs",
    response_model=RunResponse,
    operation_id="create_team_run",
    summary="Create Team Run",
    description=(
        "Run the team on `message` (form fields, urlencoded or multipart). The run is stored in "
        "`session_id` (a new session when omitted) for the caller's user. With `stream=true` (the "
        "default, as in AgentOS) the reply is server-sent events; with `stream=false` the finished run."
    ),
    responses=RUN_RESPONSES,
    dependencies=[Depends(require_scope("teams", "run"))],
)
async def create_team_run(
    runtimes: RuntimesDep, team_id: TeamIdPath, form: RunFormDep, principal: CallerDep
) -> Response:
    """Run one team."""
    return await start_run(runtimes.get("teams", team_id), form, principal)


@router.post(
    "/teams/{team_id}/runs/{run_id}/cancel",
    response_model=CancelRunResponse,
    operation_id="cancel_team_run",
    summary="Cancel Team Run",
    description=CANCEL_DESCRIPTION.format(noun="team", event="TeamRunCancelled"),
    dependencies=[Depends(require_scope("teams", "run"))],
)
async def cancel_team_run(
    runtimes: RuntimesDep, team_id: TeamIdPath, run_id: RunIdPath, principal: CallerDep
) -> Response:
    """Cancel a run of one team."""
    return await cancel_run(runtimes.get("teams", team_id), run_id, principal)
