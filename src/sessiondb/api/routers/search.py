"""``/search``: full-text search across the transcripts of the sessions a caller may read.

One store call (:meth:`~sessiondb.db.base.SessionStore.asearch`); the caller's user filter is
the one ``GET /sessions`` applies, so a JWT caller without the admin scope finds only its own
sessions.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Response

from sessiondb.api.deps import ReadAccess
from sessiondb.api.responses import JsonResponse, iso_utc
from sessiondb.api.routers.common import ERROR_RESPONSES
from sessiondb.api.schemas.search import SearchResponse
from sessiondb.api.schemas.sessions import SessionTypeParam
from sessiondb.db.search import MAX_QUERY_CHARS, MAX_SEARCH_LIMIT, SearchHit

router = APIRouter(tags=["Search"], responses=ERROR_RESPONSES)

QQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description=(
            "Words that must all appear (case- and accent-insensitive where the engine folds them); "
            '"exact phrase" in double quotes; prefix* with a star. There are no operators: AND, '
            "NEAR, : and the like are searched as words or ignored."
        ),
        examples=['deploy* "release notes"'],
    ),
]
TypeFilter = Annotated[SessionTypeParam | None, Query(alias="type", description="Only sessions of this type")]
ComponentQuery = Annotated[str | None, Query(description="Agent, team or workflow id")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT, description="Hits per page")]
CursorQuery = Annotated[str | None, Query(description="next_cursor of the previous page of the same search")]


def _hit(hit: SearchHit) -> dict[str, object]:
    return {**hit.to_dict(), "created_at": iso_utc(hit.created_at)}


@router.get(
    "/search",
    response_model=SearchResponse,
    operation_id="search_sessions",
    summary="Search Transcripts",
    description=(
        "Runs whose user and assistant messages (a workflow run: its input and content) match q, "
        "best first, ties newest first, one hit per run, paged by cursor. With JWT auth a caller "
        "finds only its own sessions unless it holds the admin scope."
    ),
)
async def search(
    access: ReadAccess,
    q: QQuery,
    session_type: TypeFilter = None,
    component_id: ComponentQuery = None,
    limit: LimitQuery = 20,
    cursor: CursorQuery = None,
) -> Response:
    """Search the transcripts of the sessions the caller may read."""
    started = time.perf_counter()
    page = await access.store.asearch(
        q,
        user_id=access.user_id,
        session_type=session_type,
        component_id=component_id,
        limit=limit,
        cursor=cursor,
    )
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    meta = {"limit": limit, "next_cursor": page.next_cursor, "search_time_ms": elapsed_ms}
    return JsonResponse({"data": [_hit(hit) for hit in page.items], "meta": meta})
