"""``POST /sessions/{session_id}/restore``: bring a soft-deleted session back from the trash.

The trash itself is listed by ``GET /sessions?deleted=true``; sessions go there when the
store was opened with ``soft_delete`` (``serve --soft-delete 7d``) and are purged after it.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from sessiondb.api.deps import DeleteAccess
from sessiondb.api.routers.common import ERROR_RESPONSES, ETAG_HEADER, SessionIdPath, session_response
from sessiondb.api.schemas import SessionDetail
from sessiondb.api.views import session_detail

router = APIRouter(tags=["Sessions"], responses=ERROR_RESPONSES)


@router.post(
    "/sessions/{session_id}/restore",
    response_model=SessionDetail,
    operation_id="restore_session",
    summary="Restore Session",
    description=(
        "Take a soft-deleted session out of the trash with its runs, state, summary and metadata "
        "as they were; 404 when it is not in the trash (for this caller). Needs the delete scope."
    ),
    responses={200: {"description": "The restored session", "headers": ETAG_HEADER}},
)
async def restore_session(access: DeleteAccess, session_id: SessionIdPath) -> Response:
    """Restore one session and return it with its chat history."""
    store, user_id = access.store, access.user_id
    await store.arestore_session(session_id, user_id=user_id)
    session = await store.aget_session(session_id, user_id=user_id)
    return session_response(session_detail(session), session)
