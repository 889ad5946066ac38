"""What the routers share: documented error responses, the ``type`` parameter, ETag headers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from sessiondb.api.errors import etag_for
from sessiondb.api.responses import JsonResponse
from sessiondb.api.schemas import (
    ErrorResponse,
    ValidationErrorResponse,
    VersionConflictResponse,
)
from sessiondb.api.schemas.sessions import SessionTypeValue
from sessiondb.session import Session

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Bad request (for example db_id missing with several databases)",
        "model": ErrorResponse,
    },
    401: {"description": "Authentication required or token invalid", "model": ErrorResponse},
    403: {"description": "The token lacks the scope this endpoint needs", "model": ErrorResponse},
    404: {"description": "Not found (or not visible to this caller)", "model": ErrorResponse},
    413: {"description": "Request body too large", "model": ErrorResponse},
    422: {"description": "Validation error", "model": ValidationErrorResponse},
    500: {"description": "Internal server error", "model": ErrorResponse},
    503: {"description": "The database is unavailable; retry later", "model": ErrorResponse},
}
"""Errors any sessions endpoint may answer; each route adds its own (409, 412)."""

CONFLICT_RESPONSE: dict[int | str, dict[str, Any]] = {
    409: {"description": "The session id is taken", "model": ErrorResponse},
}
PRECONDITION_RESPONSE: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match names another version of the session", "model": VersionConflictResponse},
}
ETAG_HEADER = {"ETag": {"description": "The session's version, for If-Match", "schema": {"type": "string"}}}

_SESSION_OPERATIONS = {
    "GetSession": "get_session_by_id",
    "UpdateSession": "update_session",
    "RenameSession": "rename_session",
    "DeleteSession": "delete_session",
    "GetSessionRuns": "get_session_runs",
    "GetSessionRunPreviews": "get_session_run_previews",
}


def session_links(session_id: str) -> dict[str, Any]:
    """OpenAPI links from a response that names a session to the operations on it.

    They tell clients, and stateful test tools such as schemathesis, that a created or listed
    session's id feeds the read, update, rename, delete and run endpoints.

    Args:
        session_id: a runtime expression for the id, e.g. ``"$response.body#/session_id"``.
    """
    return {
        name: {"operationId": operation, "parameters": {"session_id": session_id}}
        for name, operation in _SESSION_OPERATIONS.items()
    }


TypeQuery = Annotated[
    SessionTypeValue | None,
    Query(alias="type", description="agent, team or workflow; detected from the session when omitted"),
]
SessionIdPath = Annotated[str, Path(description="Id of the session")]


def session_response(content: Any, session: Session, *, status_code: int = 200) -> JsonResponse:
    """A JSON response carrying ``session``'s ETag."""
    response = JsonResponse(content, status_code=status_code)
    etag = etag_for(session.version)
    if etag is not None:
        response.headers["ETag"] = etag
    return response
