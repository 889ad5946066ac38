"""The three hot reads, served in front of FastAPI's routing: ``GET /sessions``,
``GET /sessions/{session_id}`` and ``GET /sessions/{session_id}/runs``.

Measured in-process (issue 20, docs/benchmarks.md), FastAPI's routing, dependency solving and
parameter validation, plus building pydantic sessions and runs that were only dumped again,
cost 2-5 times what the SQL did: a listing took 1.1-1.5 ms of CPU where reading its rows took
~0.24 ms on SQLite; this path takes ~0.5 ms. This middleware answers the ordinary successful request of those
three routes itself: it authenticates and checks the scope as the routes' dependency does
(:func:`~sessiondb.api.deps.grant`), validates the query string with the same models, and
renders stored rows straight to bytes (:mod:`sessiondb.db._sql.raw_reads`, then
:func:`~sessiondb.api.views.sessions.stored_list_item` and
:func:`~sessiondb.api.views.runs.stored_run_detail`).

Anything else goes to the FastAPI app unchanged, and so does any request the fast path
would answer with an error (401, 403, 404, 422, a bad cursor, an unavailable store...): the
routes then give their own answer, so errors have exactly one implementation. A read that
failed is simply made again there, which is safe for a GET. The routes stay declared in
FastAPI, with their response models in the OpenAPI document, and remain the plain twin that
a test compares this path with, byte for byte (``app.state.fast_reads = False`` turns this
path off).
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sessiondb.api.auth import READ_SCOPE
from sessiondb.api.deps import Access, bearer_credentials, grant
from sessiondb.api.responses import JsonResponse
from sessiondb.api.routers.common import session_response
from sessiondb.api.routers.runs import statuses_of
from sessiondb.api.schemas.sessions import ListSessionsQuery, SessionTypeQuery, SessionTypeValue
from sessiondb.api.views import session_detail
from sessiondb.api.views.runs import stored_run_detail
from sessiondb.api.views.sessions import stored_list_item
from sessiondb.db._sql.raw_reads import RawReads
from sessiondb.db._sql.run_reads import RunsFilter
from sessiondb.db.errors import StoreError
from sessiondb.db.query import SQL_INT_MAX, SQL_INT_MIN, SessionQuery

_SESSION_PATH = re.compile(r"^/sessions/([^/]+)(/runs)?$")
"""``/sessions/{session_id}`` and its ``/runs``, as Starlette matches them (an id holds no ``/``)."""

_PLAIN = (StoreError, HTTPException, ValidationError, RequestValidationError)
"""What makes the fast path hand a request to the routes: every answer but a 200 is theirs."""


class _RunsQuery(BaseModel):
    """The query parameters of ``GET /sessions/{session_id}/runs`` but ``status`` (a list)."""

    session_type: SessionTypeValue | None = Field(None, alias="type")
    created_after: int | None = Field(None, ge=SQL_INT_MIN, le=SQL_INT_MAX)
    created_before: int | None = Field(None, ge=SQL_INT_MIN, le=SQL_INT_MAX)


def _served(scope: Scope) -> bool:
    """Whether the request is a plain ``GET`` this middleware may answer."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return False
    raw_path: bytes = scope.get("raw_path") or b""
    # A %2F is answered 404 by the app-wide screening (see field_limits.refuse_encoded_slashes).
    return b"%2f" not in raw_path.partition(b"?")[0].lower()


class FastReads:
    """Serve the hot reads' successful answers; pass everything else to the app."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app`` (the FastAPI app's inner stack)."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a hot read, or hand the request on."""
        if _served(scope) and scope["app"].state.fast_reads:
            path: str = scope["path"]
            response: Response | None = None
            try:
                if path == "/sessions":
                    response = await _list(Request(scope))
                elif (match := _SESSION_PATH.match(path)) is not None:
                    request = Request(scope)
                    if match.group(2) is None:
                        response = await _detail(request, match.group(1))
                    else:
                        response = await _runs(request, match.group(1))
            except _PLAIN:
                response = None
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _access(request: Request) -> Access:
    query = request.query_params
    return grant(
        request,
        bearer_credentials(request),
        READ_SCOPE,
        db_id=query.get("db_id"),
        table=query.get("table"),
        user_id=query.get("user_id"),
    )


async def _list(request: Request) -> Response | None:
    """``GET /sessions`` as :func:`sessiondb.api.routers.sessions.get_sessions` answers it."""
    access = _access(request)
    params = ListSessionsQuery.model_validate(request.query_params)
    store = access.store
    if not isinstance(store, RawReads):
        return None
    query = SessionQuery(user_id=access.user_id, **params.model_dump())
    started = time.perf_counter()
    page = await store.aget_session_rows(query)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
    meta: dict[str, Any] = {
        "page": params.page,
        "limit": params.limit,
        "total_count": page.total_count,
        "total_pages": page.total_pages,
        "search_time_ms": elapsed_ms,
        "next_cursor": page.next_cursor,
    }
    return JsonResponse({"data": [stored_list_item(row) for row in page.items], "meta": meta})


async def _detail(request: Request, session_id: str) -> Response:
    """``GET /sessions/{session_id}`` as :func:`sessiondb.api.routers.sessions.get_session_by_id`
    answers it (the session itself is still built: its chat history is the session's logic)."""
    access = _access(request)
    session_type = SessionTypeQuery.model_validate(request.query_params).session_type
    session = await access.store.aget_session(session_id, session_type=session_type, user_id=access.user_id)
    return session_response(session_detail(session), session)


async def _runs(request: Request, session_id: str) -> Response | None:
    """``GET /sessions/{session_id}/runs`` as :func:`sessiondb.api.routers.runs.get_session_runs`
    answers it."""
    access = _access(request)
    params = _RunsQuery.model_validate(request.query_params)
    statuses = statuses_of(request.query_params.getlist("status") or None)
    store = access.store
    if not isinstance(store, RawReads):
        return None
    filters = RunsFilter.of(
        statuses=statuses,
        created_after=params.created_after,
        created_before=params.created_before,
        last_n=None,
        history=False,
    )
    runs = await store.aget_run_dicts(session_id, user_id=access.user_id, filters=filters)
    return JsonResponse([stored_run_detail(kind, data, include_nulls=False) for kind, data in runs])
