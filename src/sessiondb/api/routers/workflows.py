"""``/workflows``: the workflows this server hosts, and ``POST /workflows/{workflow_id}/runs`` to run one.

Scopes ``workflows:read`` and ``workflows:run`` (see :mod:`sessiondb.api.routers._runtime_common`).
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
from sessiondb.api.schemas.runtimes import CancelRunResponse, RunResponse, WorkflowSummary

router = APIRouter(tags=["Workflows"], responses=RUNTIME_RESPONSES)

WorkflowIdPath = Annotated[str, Path(description="Id of the workflow")]


@router.get(
    "/workflows",
    response_model=list[WorkflowSummary],
    operation_id="get_workflows",
    summary="List Workflows",
    description="Every workflow the server hosts that the caller may read.",
)
async def get_workflows(runtimes: RuntimesDep, principal: CallerDep) -> Response:
    """List the hosted workflows."""
    return list_runtimes(runtimes, "workflows", principal)


@router.get(
    "/workflows/{workflow_id}",
    response_model=WorkflowSummary,
    operation_id="get_workflow",
    summary="Get Workflow",
    description="One workflow: its name, model and session settings.",
    dependencies=[Depends(require_scope("workflows", "read"))],
)
async def get_workflow(runtimes: RuntimesDep, workflow_id: WorkflowIdPath) -> Response:
    """Describe one workflow."""
    return get_runtime(runtimes, "workflows", workflow_id)


@router.post(
    "/workflows/{workflow_id}/runs",
    response_model=RunResponse,
    operation_id="create_workflow_run",
    summary="Create Workflow Run",
    description=(
        "Run the workflow on `message` (form fields, urlencoded or multipart). The run is stored in "
        "`session_id` (a new session when omitted) for the caller's user. With `stream=true` (the "
        "default, as in AgentOS) the reply is server-sent events; with `stream=false` the finished run."
    ),
    responses=RUN_RESPONSES,
    dependencies=[Depends(require_scope("workflows", "run"))],
)
async def create_workflow_run(
    runtimes: RuntimesDep, workflow_id: WorkflowIdPath, form: RunFormDep, principal: CallerDep
) -> Response:
    """Run one workflow."""
    return await start_run(runtimes.get("workflows", workflow_id), form, principal)


@router.post(
    "/workflows/{workflow_id}/runs/{run_id}/cancel",
    response_model=CancelRunResponse,
    operation_id="cancel_workflow_run",
    summary="Cancel Workflow Run",
    description=CANCEL_DESCRIPTION.format(noun="workflow", event="WorkflowCancelled"),
    dependencies=[Depends(require_scope("workflows", "run"))],
)
async def cancel_workflow_run(
    runtimes: RuntimesDep, workflow_id: WorkflowIdPath, run_id: RunIdPath, principal: CallerDep
) -> Response:
    """Cancel a run of one workflow."""
    return await cancel_run(runtimes.get("workflows", workflow_id), run_id, principal)
