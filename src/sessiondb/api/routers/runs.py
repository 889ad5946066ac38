"""``/sessions/{session_id}/runs``: a session's runs, their previews, and one run (spec §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status

from sessiondb.api.deps import ReadAccess
from sessiondb.api.responses import JsonResponse
from sessiondb.api.routers.common import ERROR_RESPONSES, SessionIdPath, TypeQuery
from sessiondb.api.schemas import AnyRunSchema, SessionRunPreviewSchema
from sessiondb.api.views import run_detail, run_preview
from sessiondb.db.errors import RunNotFound
from sessiondb.db.query import SQL_INT_MAX, SQL_INT_MIN
from sessiondb.run import AnyRun, RunStatus

router = APIRouter(tags=["Sessions"], responses=ERROR_RESPONSES)

_STATUSES = sorted({member.value for member in RunStatus})

CreatedAfterQuery = Annotated[
    int | None,
    Query(
        ge=SQL_INT_MIN, le=SQL_INT_MAX, description="Only runs created at or after this time (unix seconds)"
    ),
]
CreatedBeforeQuery = Annotated[
    int | None,
    Query(
        ge=SQL_INT_MIN, le=SQL_INT_MAX, description="Only runs created at or before this time (unix seconds)"
    ),
]
StatusQuery = Annotated[
    list[str] | None,
    Query(
        alias="status", description="Only runs in these statuses; repeat to give several; case-insensitive"
    ),
]


def statuses_of(requested: list[str] | None) -> list[str] | None:
    """The ``status`` values asked for, upper-cased, sorted, without repeats; ``None`` for all.

    Raises:
        HTTPException: 400 naming the values that are no status.
    """
    if not requested:
        return None
    wanted = sorted({value.upper() for value in requested})
    unknown = [value for value in wanted if value not in _STATUSES]
    if unknown:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"Invalid status value(s) {unknown}; expected one of {_STATUSES}"
        )
    return wanted


async def _runs(
    access: ReadAccess,
    session_id: SessionIdPath,
    created_after: CreatedAfterQuery = None,
    created_before: CreatedBeforeQuery = None,
    run_status: StatusQuery = None,
    session_type: TypeQuery = None,
) -> list[AnyRun]:
    # ``type`` is only checked (as AgentOS does): declared here rather than on the routes, so
    # FastAPI validates it before this dependency reads anything or resolves the store.
    del session_type
    return await access.store.aget_runs(
        session_id,
        user_id=access.user_id,
        statuses=statuses_of(run_status),
        created_after=created_after,
        created_before=created_before,
    )


RunsDep = Annotated[list[AnyRun], Depends(_runs)]


@router.get(
    "/sessions/{session_id}/runs",
    response_model=list[AnyRunSchema],
    operation_id="get_session_runs",
    summary="Get Session Runs",
    description="Every run of the session, oldest first, each in the schema of its kind. Not paginated.",
)
async def get_session_runs(runs: RunsDep) -> Response:
    """List a session's runs, optionally filtered by creation time and status."""
    return JsonResponse([run_detail(run, include_nulls=False) for run in runs])


@router.get(
    "/sessions/{session_id}/run-previews",
    response_model=list[SessionRunPreviewSchema],
    operation_id="get_session_run_previews",
    summary="Get Session Run Previews",
    description="Ids, status, time and the first 280 characters of input and output of each run.",
)
async def get_session_run_previews(runs: RunsDep) -> Response:
    """List light previews of a session's runs."""
    return JsonResponse([run_preview(run) for run in runs])


@router.get(
    "/sessions/{session_id}/runs/{run_id}",
    response_model=AnyRunSchema,
    operation_id="get_session_run",
    summary="Get Run by ID",
    description="One run of the session, with null fields included.",
)
async def get_session_run(
    access: ReadAccess,
    session_id: SessionIdPath,
    run_id: Annotated[str, Path(description="Id of the run")],
    session_type: TypeQuery = None,
) -> Response:
    """Read one run of a session."""
    store, user_id = access.store, access.user_id
    try:
        run = await store.aget_run(run_id, session_id=session_id, user_id=user_id)
    except RunNotFound as exc:
        # Only on this error path: tell a missing session (404 raised by the store) from a
        # session without runs and from a run that is not in it, as Agno's messages do.
        newest = await store.aget_runs(session_id, user_id=user_id, last_n=1)
        detail = (
            f"Session with ID {session_id} has no runs"
            if not newest
            else f"Run with ID {run_id} not found in session {session_id}"
        )
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail) from exc
    return JsonResponse(run_detail(run, include_nulls=True))
