"""``/sessions``: list, create, read, update, rename and delete sessions (spec §4).

Handlers translate HTTP to one store call and render the result; they never branch on the
backend, and domain errors reach the client through :mod:`sessiondb.api.errors`.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response, status

from sessiondb.api.deps import (
    CreateAccess,
    DbIdQuery,
    DeleteAccess,
    ExpectedVersionDep,
    ReadAccessFromRawQuery,
    TableQuery,
    UserIdQuery,
    WriteAccess,
)
from sessiondb.api.query import documented_parameters, parse_query
from sessiondb.api.responses import JsonResponse
from sessiondb.api.routers.common import (
    CONFLICT_RESPONSE,
    ERROR_RESPONSES,
    ETAG_HEADER,
    PRECONDITION_RESPONSE,
    SessionIdPath,
    TypeQuery,
    session_links,
    session_response,
)
from sessiondb.api.schemas import (
    CreateSessionRequest,
    DeleteSessionRequest,
    PaginatedSessions,
    RenameSessionRequest,
    SessionDetail,
    SessionTypeParam,
    UpdateSessionRequest,
)
from sessiondb.api.schemas.sessions import ListSessionsQuery, SessionTypeQuery, SessionTypeValue
from sessiondb.api.views import session_detail, session_list_item
from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound
from sessiondb.db.query import SessionQuery
from sessiondb.session import SESSION_CLASSES, Session, SessionSummary

router = APIRouter(tags=["Sessions"], responses=ERROR_RESPONSES)

MediaQuery = Annotated[
    bool,
    Query(
        description=(
            "Accepted for Agno compatibility. Media is stored inside the runs here, never offloaded, "
            "so it is deleted with the session either way."
        )
    ),
]

RESERVED_METADATA_KEYS = frozenset({"agno_component_version", "agno_dispatch_chain", "agno_dispatch_depth"})
"""Run-metadata keys the Agno runtime owns; REST create and update drop them, as Agno 3.x does."""


def _strip_reserved(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    if metadata is None or not RESERVED_METADATA_KEYS.intersection(metadata):
        return metadata
    cleaned = {key: value for key, value in metadata.items() if key not in RESERVED_METADATA_KEYS}
    return cleaned or None


async def _reload(
    store: SessionStore, session_id: str, session_type: SessionTypeParam | None, user_id: str | None
) -> Session:
    """The session with all its runs, so its detail carries the whole chat history."""
    return await store.aget_session(session_id, session_type=session_type, user_id=user_id)


def _list_sessions_parameters(
    params: Annotated[ListSessionsQuery, Query()],
    db_id: DbIdQuery = None,
    table: TableQuery = None,
    user_id: UserIdQuery = None,
) -> None:
    """The query parameters ``GET /sessions`` documents; it parses them itself, which is cheaper."""


@router.get(
    "/sessions",
    response_model=PaginatedSessions,
    operation_id="get_sessions",
    summary="List Sessions",
    description="A page of sessions, newest first by default. Runs are never loaded for a listing.",
    responses={
        200: {
            "description": "A page of sessions",
            "links": session_links("$response.body#/data/0/session_id"),
        }
    },
    openapi_extra={"parameters": documented_parameters(_list_sessions_parameters)},
)
async def get_sessions(request: Request, access: ReadAccessFromRawQuery) -> Response:
    """List sessions with filters, sorting and page-number or keyset pagination."""
    params = parse_query(ListSessionsQuery, request)
    query = SessionQuery(user_id=access.user_id, **params.model_dump())
    started = time.perf_counter()
    result = await access.store.aget_sessions(query)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    meta = {
        "page": params.page,
        "limit": params.limit,
        "total_count": result.total_count,
        "total_pages": result.total_pages,
        "search_time_ms": elapsed_ms,
        "next_cursor": result.next_cursor,
    }
    return JsonResponse({"data": [session_list_item(item) for item in result.items], "meta": meta})


@router.post(
    "/sessions",
    response_model=SessionDetail,
    status_code=status.HTTP_201_CREATED,
    operation_id="create_session",
    summary="Create New Session",
    description="Create an empty session; 409 when the given session_id is taken.",
    responses={
        **CONFLICT_RESPONSE,
        201: {
            "description": "The new session",
            "headers": ETAG_HEADER,
            "links": session_links("$response.body#/session_id"),
        },
    },
)
async def create_session(
    access: CreateAccess,
    session_type: Annotated[
        SessionTypeValue, Query(alias="type", description="Type of the new session")
    ] = "agent",
    body: Annotated[CreateSessionRequest | None, Body(description="The session; may be omitted")] = None,
) -> Response:
    """Create a session of ``type`` from the body."""
    request = body or CreateSessionRequest()
    principal = access.principal
    user_id = request.user_id if principal.admin else principal.user_id
    if principal.admin and user_id is None:
        user_id = principal.user_id
    session_data: dict[str, Any] = {}
    if request.session_state is not None:
        session_data["session_state"] = request.session_state
    if request.session_name is not None:
        session_data["session_name"] = request.session_name
    component = {"agent": {"agent_id": request.agent_id}, "team": {"team_id": request.team_id}}
    now = int(time.time())
    session = SESSION_CLASSES[session_type](
        session_id=request.session_id or str(uuid.uuid4()),
        user_id=user_id,
        workflow_id=request.workflow_id if session_type == "workflow" else None,
        session_data=session_data or None,
        metadata=_strip_reserved(request.metadata),
        created_at=now,
        updated_at=now,
        **component.get(session_type, {}),
    )
    created = await access.store.acreate_session(session)
    response = session_response(session_detail(created), created, status_code=status.HTTP_201_CREATED)
    # Percent-encoded: a header is latin-1, a session id may be any text.
    response.headers["Location"] = f"/sessions/{quote(created.session_id, safe='')}"
    return response


def _session_detail_parameters(
    session_type: TypeQuery = None,
    db_id: DbIdQuery = None,
    table: TableQuery = None,
    user_id: UserIdQuery = None,
) -> None:
    """The query parameters ``GET /sessions/{session_id}`` documents and parses itself."""


@router.get(
    "/sessions/{session_id}",
    response_model=SessionDetail,
    operation_id="get_session_by_id",
    summary="Get Session by ID",
    description="The agent, team or workflow detail of a session, with its chat history.",
    responses={200: {"description": "The session", "headers": ETAG_HEADER}},
    openapi_extra={"parameters": documented_parameters(_session_detail_parameters)},
)
async def get_session_by_id(
    request: Request,
    access: ReadAccessFromRawQuery,
    session_id: SessionIdPath,
) -> Response:
    """Read one session; the ``ETag`` header carries its version."""
    session_type = parse_query(SessionTypeQuery, request).session_type
    user_id = access.user_id
    try:
        session = await access.store.aget_session(session_id, session_type=session_type, user_id=user_id)
    except SessionNotFound as exc:
        if session_type is None:
            raise
        # Agno names the requested type in this one message.
        detail = f"{session_type.title()} Session with id '{session_id}' not found"
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail) from exc
    return session_response(session_detail(session), session)


@router.patch(
    "/sessions/{session_id}",
    response_model=SessionDetail,
    operation_id="update_session",
    summary="Update Session",
    description=(
        "Replace the name, state, metadata or summary. Absent fields are unchanged; session_state "
        "replaces the whole state. With If-Match, applies only at that version (412 otherwise)."
    ),
    responses={**PRECONDITION_RESPONSE, 200: {"description": "The updated session", "headers": ETAG_HEADER}},
)
async def update_session(
    access: WriteAccess,
    session_id: SessionIdPath,
    body: UpdateSessionRequest,
    version: ExpectedVersionDep,
    session_type: TypeQuery = None,
) -> Response:
    """Apply the body's fields in one atomic write and return the session, nulls included."""
    changes: dict[str, Any] = {}
    if body.session_name is not None:
        changes["session_name"] = body.session_name
    if body.session_state is not None:
        changes["session_state"] = body.session_state
    if body.metadata is not None:
        changes["metadata"] = _strip_reserved(body.metadata)
    if body.summary is not None:
        changes["summary"] = SessionSummary.model_validate(body.summary.model_dump())
    store, user_id = access.store, access.user_id
    await store.aupdate_session(session_id, user_id=user_id, expected_version=version, **changes)
    session = await _reload(store, session_id, session_type, user_id)
    return session_response(session_detail(session, include_nulls=True), session)


@router.post(
    "/sessions/{session_id}/rename",
    response_model=SessionDetail,
    operation_id="rename_session",
    summary="Rename Session",
    description="Set the session's name. With If-Match, applies only at that version (412 otherwise).",
    responses={**PRECONDITION_RESPONSE, 200: {"description": "The renamed session", "headers": ETAG_HEADER}},
)
async def rename_session(
    access: WriteAccess,
    session_id: SessionIdPath,
    body: RenameSessionRequest,
    version: ExpectedVersionDep,
    session_type: TypeQuery = None,
) -> Response:
    """Rename and return the session, nulls included."""
    store, user_id = access.store, access.user_id
    await store.arename_session(
        session_id, session_name=body.session_name, user_id=user_id, expected_version=version
    )
    session = await _reload(store, session_id, session_type, user_id)
    return session_response(session_detail(session, include_nulls=True), session)


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="delete_session",
    summary="Delete Session",
    description=(
        "Delete a session and its runs; 204 even when there was nothing to delete. With If-Match, "
        "deletes only at that version (412 otherwise, also when the session does not exist)."
    ),
    responses=PRECONDITION_RESPONSE,
)
async def delete_session(
    access: DeleteAccess,
    session_id: SessionIdPath,
    version: ExpectedVersionDep,
    delete_media: MediaQuery = False,
) -> Response:
    """Delete one session."""
    deleted = await access.store.adelete_session(session_id, user_id=access.user_id, expected_version=version)
    if not deleted and version is not None:
        # RFC 9110: If-Match fails when there is no current representation.
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, f"Session with id '{session_id}' not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(
    "/sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    operation_id="delete_sessions",
    summary="Delete Multiple Sessions",
    description="Delete several sessions and their runs in one transaction.",
)
async def delete_sessions(
    access: DeleteAccess, body: DeleteSessionRequest, delete_media: MediaQuery = False
) -> Response:
    """Delete the listed sessions; 400 when the id and type lists differ in length."""
    if len(body.session_ids) != len(body.session_types):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Session IDs and session types must have the same length"
        )
    await access.store.adelete_sessions(body.session_ids, user_id=access.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
