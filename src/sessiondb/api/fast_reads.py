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

The answers of this path are kept in :mod:`sessiondb.api.read_cache` (``app.state.read_cache``,
``None`` for none) with the version of the data they were read at, which every request asks
the store for first (after authenticating): an unchanged database answers from memory.
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable
from operator import itemgetter

from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sessiondb.api.auth import READ_SCOPE
from sessiondb.api.deps import Access, bearer_credentials, grant
from sessiondb.api.read_cache import Cached, ReadCache
from sessiondb.api.responses import JsonResponse, json_bytes
from sessiondb.api.routers.common import session_response
from sessiondb.api.routers.runs import statuses_of
from sessiondb.api.schemas.sessions import ListSessionsQuery, SessionTypeQuery, SessionTypeValue
from sessiondb.api.views import session_detail
from sessiondb.api.views.runs import stored_run_detail
from sessiondb.api.views.sessions import stored_list_item
from sessiondb.db._sql.raw_reads import RawReads
from sessiondb.db._sql.run_reads import RunsFilter
from sessiondb.db.base import SessionStore
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
        state = scope["app"].state if _served(scope) else None
        if state is not None and state.fast_reads:
            path: str = scope["path"]
            cache: ReadCache | None = state.read_cache
            response: Answer | None = None
            try:
                if path == "/sessions":
                    response = await _list(Request(scope), cache)
                elif (match := _SESSION_PATH.match(path)) is not None:
                    request = Request(scope)
                    if match.group(2) is None:
                        response = await _detail(request, match.group(1), cache)
                    else:
                        response = await _runs(request, match.group(1), cache)
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


class Answer:
    """A ``200`` with these raw headers and this body (a kept answer, sent again)."""

    __slots__ = ("body", "headers")

    def __init__(self, body: bytes, headers: tuple[tuple[bytes, bytes], ...]) -> None:
        self.body = body
        self.headers = headers

    @classmethod
    def of(cls, response: Response) -> Answer:
        """``response``'s headers and body."""
        return cls(bytes(response.body), tuple(response.raw_headers))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the answer (a fresh header list each time: middleware may append to it)."""
        await send({"type": "http.response.start", "status": 200, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body})


def _key(route: str, request: Request, access: Access, store: SessionStore) -> Hashable:
    """What an answer depends on: the route, path and query (parameters in name order, a
    repeated name's values in their order), the store, and who asks."""
    query = tuple(sorted(request.query_params.multi_items(), key=itemgetter(0)))
    principal = access.principal
    return (
        route,
        request.scope["path"],
        query,
        id(store),
        principal.user_id,
        principal.admin,
        access.user_id,
    )


async def _version(cache: ReadCache | None, store: SessionStore) -> Hashable | None:
    """The data version to check a kept answer against and to keep a new one at, read before
    the database is; ``None`` (nothing cached) without a cache or a store that cannot tell."""
    if cache is None or not isinstance(store, RawReads):
        return None
    return await store.aread_version()


def _listing(data: bytes, extra: tuple[int, int, int, int, str | None], elapsed_ms: float) -> Answer:
    """The body ``JsonResponse({"data": ..., "meta": ...})`` renders, around rendered ``data``."""
    page, limit, total_count, total_pages, next_cursor = extra
    meta = {
        "page": page,
        "limit": limit,
        "total_count": total_count,
        "total_pages": total_pages,
        "search_time_ms": elapsed_ms,
        "next_cursor": next_cursor,
    }
    body = b'{"data":' + data + b',"meta":' + json_bytes(meta) + b"}"
    return Answer(body, ((b"content-length", str(len(body)).encode()), _JSON_TYPE))


_JSON_TYPE = (b"content-type", b"application/json")


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


async def _list(request: Request, cache: ReadCache | None) -> Answer | None:
    """``GET /sessions`` as :func:`sessiondb.api.routers.sessions.get_sessions` answers it.

    ``meta.search_time_ms`` is the time this request spent on the database: the read of the
    page, or for a kept answer the check of the data's version (which is all it asked).
    """
    access = _access(request)
    store = access.store
    if not isinstance(store, RawReads):
        return None
    started = time.perf_counter()
    version = await _version(cache, store)
    key: Hashable = None
    if cache is not None and version is not None:
        key = _key("list", request, access, store)
        if (kept := cache.get(key, store, version)) is not None:
            return _listing(kept.body, kept.extra, _since(started))
    params = ListSessionsQuery.model_validate(request.query_params)
    query = SessionQuery(user_id=access.user_id, **params.model_dump())
    started = time.perf_counter()
    page = await store.aget_session_rows(query)
    elapsed_ms = _since(started)
    data = json_bytes([stored_list_item(row) for row in page.items])
    extra = (params.page, params.limit, page.total_count, page.total_pages, page.next_cursor)
    if cache is not None and version is not None:
        cache.put(key, Cached(store, version, data, extra=extra))
    return _listing(data, extra, elapsed_ms)


async def _detail(request: Request, session_id: str, cache: ReadCache | None) -> Answer:
    """``GET /sessions/{session_id}`` as :func:`sessiondb.api.routers.sessions.get_session_by_id`
    answers it (the session itself is still built: its chat history is the session's logic)."""
    access = _access(request)
    store = access.store
    version = await _version(cache, store)
    key: Hashable = None
    if cache is not None and version is not None:
        key = _key("detail", request, access, store)
        if (kept := cache.get(key, store, version)) is not None:
            return Answer(kept.body, kept.headers)
    session_type = SessionTypeQuery.model_validate(request.query_params).session_type
    session = await store.aget_session(session_id, session_type=session_type, user_id=access.user_id)
    answer = Answer.of(session_response(session_detail(session), session))
    if cache is not None and version is not None:
        cache.put(key, Cached(store, version, answer.body, answer.headers))
    return answer


async def _runs(request: Request, session_id: str, cache: ReadCache | None) -> Answer | None:
    """``GET /sessions/{session_id}/runs`` as :func:`sessiondb.api.routers.runs.get_session_runs`
    answers it."""
    access = _access(request)
    store = access.store
    if not isinstance(store, RawReads):
        return None
    version = await _version(cache, store)
    key: Hashable = None
    if cache is not None and version is not None:
        key = _key("runs", request, access, store)
        if (kept := cache.get(key, store, version)) is not None:
            return Answer(kept.body, kept.headers)
    params = _RunsQuery.model_validate(request.query_params)
    statuses = statuses_of(request.query_params.getlist("status") or None)
    filters = RunsFilter.of(
        statuses=statuses,
        created_after=params.created_after,
        created_before=params.created_before,
        last_n=None,
        history=False,
    )
    runs = await store.aget_run_dicts(session_id, user_id=access.user_id, filters=filters)
    answer = Answer.of(
        JsonResponse([stored_run_detail(kind, data, include_nulls=False) for kind, data in runs])
    )
    if cache is not None and version is not None:
        cache.put(key, Cached(store, version, answer.body, answer.headers))
    return answer
