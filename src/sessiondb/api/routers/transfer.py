"""``GET /export`` and ``POST /import``: the export format over HTTP, streamed both ways (admin only).

Both stream: the export is written page by page as the store reads it, and the import is read
line by line as the body arrives and written batch by batch, so neither holds more than a page
or a batch in memory. An import sent as ``application/x-ndjson`` may have lines as large as the
server's body limit (``max_body_bytes``) and is not capped as a whole; any other body is held to
that limit (see :class:`~sessiondb.api.limits.BodySizeLimitMiddleware`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

import sessiondb
from sessiondb.api.deps import AdminAccess, offload
from sessiondb.api.responses import JsonResponse
from sessiondb.api.routers.common import ERROR_RESPONSES
from sessiondb.api.schemas import ValidationErrorResponse
from sessiondb.api.schemas.sessions import SessionTypeParam
from sessiondb.api.schemas.transfer import ImportCounts, ImportRefused
from sessiondb.db.transfer import ExportedSession, ExportFilter
from sessiondb.session._runs import collector_paused
from sessiondb.transfer.format import MalformedLine, check_header, header_line, session_line
from sessiondb.transfer.importer import ImportConflict, Importer

router = APIRouter(tags=["Export and import"], responses=ERROR_RESPONSES)

NDJSON = "application/x-ndjson"


def _encode(page: list[ExportedSession]) -> bytes:
    return b"".join(session_line(exported) for exported in page)


@router.get(
    "/export",
    operation_id="export_sessions",
    summary="Export Sessions",
    description=(
        "Every matching session with all its runs, as JSON Lines (docs/export-format.md): a header "
        "line, then one session per line in session-id order. Streamed. Needs an admin scope when "
        "auth is on."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The export: a header line, then one session per line",
            "content": {NDJSON: {"example": '{"format":"sessiondb-export","format_version":1,...}\n'}},
        }
    },
)
async def export_sessions(
    access: AdminAccess,
    user_id: Annotated[str | None, Query(description="Only this user's sessions")] = None,
    session_type: Annotated[
        SessionTypeParam | None, Query(alias="type", description="Only this type")
    ] = None,
    component_id: Annotated[str | None, Query(description="Only this agent's, team's or workflow's")] = None,
    since: Annotated[
        int | None, Query(description="Only sessions updated at or after this (unix seconds)")
    ] = None,
    until: Annotated[
        int | None, Query(description="Only sessions updated before this (unix seconds)")
    ] = None,
) -> StreamingResponse:
    """Stream an export of the store."""
    filter = ExportFilter(
        user_id=user_id,
        session_type=session_type,
        component_id=component_id,
        updated_since=since,
        updated_until=until,
    )
    store = access.store
    # The first page is read before answering, so a store error is still a proper status.
    first = await store.aexport_sessions(filter)

    async def lines() -> AsyncIterator[bytes]:
        yield header_line(filter, exported_by=sessiondb.__version__)
        page = first
        while page:
            yield _encode(page)
            page = await store.aexport_sessions(filter, after=page[-1].session.session_id)

    return StreamingResponse(lines(), media_type=NDJSON)


def _take(importer: Importer, lines: list[tuple[int, bytes]]) -> None:
    """Decode ``lines`` and write every batch they complete (in a worker thread).

    The cyclic collector is paused meanwhile, as in a file's import (see
    ``sessiondb.transfer.importer._import_batch``): what is decoded survives until written.
    """
    with collector_paused(1, threshold=1):
        for number, line in lines:
            if number == 1:
                check_header(line)
            elif line.strip() and importer.add_line(number, line):
                importer.flush()


def _too_long(number: int, limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"line {number}: longer than the limit of {limit} bytes"
    )


async def _body_lines(request: Request, limit: int) -> AsyncIterator[list[tuple[int, bytes]]]:
    """The body's lines, numbered from 1, in groups as they arrive; each at most ``limit`` bytes."""
    # A bytearray, consumed from the front: a long line arriving in many chunks is not copied
    # once per chunk, as repeated bytes concatenation would.
    pending = bytearray()
    number = 0
    async for chunk in request.stream():
        pending += chunk
        group = []
        start = 0
        while (end := pending.find(b"\n", start)) >= 0:
            number += 1
            if end - start > limit:
                raise _too_long(number, limit)
            group.append((number, bytes(pending[start:end])))
            start = end + 1
        del pending[:start]
        if len(pending) > limit:
            raise _too_long(number + 1, limit)
        if group:
            yield group
    if pending:
        yield [(number + 1, bytes(pending))]


@router.post(
    "/import",
    operation_id="import_sessions",
    summary="Import Sessions",
    description=(
        "Import an export (JSON Lines, header first) sent as the body; answers with the counts. "
        "A session stored exactly as sent is left alone, so sending the same export twice changes "
        "nothing. At a malformed line the import stops with a 422 naming it: the sessions before "
        "it are imported, nothing of that line's session is. Needs an admin scope when auth is on."
    ),
    response_model=ImportCounts,
    openapi_extra={"requestBody": {"required": True, "content": {NDJSON: {"schema": {"type": "string"}}}}},
    responses={
        409: {"description": "on_conflict=fail and a session is stored already", "model": ImportRefused},
        422: {
            "description": "A malformed line, or one the store refused; or a bad query parameter",
            "model": ImportRefused | ValidationErrorResponse,
        },
    },
)
async def import_sessions(
    request: Request,
    access: AdminAccess,
    on_conflict: Annotated[
        Literal["skip", "replace", "fail"],
        Query(description="For a stored session that differs: skip it, replace it, or fail"),
    ] = "skip",
) -> JsonResponse:
    """Import the body into the store."""
    importer = Importer(access.store, on_conflict)
    limit: int = request.app.state.max_body_bytes
    seen = 0
    try:
        async for group in _body_lines(request, limit):
            seen = group[-1][0]
            await offload(_take, importer, group)
        if seen == 0:
            raise MalformedLine(1, "the body is empty: an export starts with its header line")
        await offload(importer.finish)
    except MalformedLine as error:
        # The sessions read before the bad line are complete: they are written.
        await offload(importer.flush)
        return _refused(status.HTTP_422_UNPROCESSABLE_CONTENT, error, error.line, importer)
    except ImportConflict as error:
        return _refused(status.HTTP_409_CONFLICT, error, error.line, importer)
    return JsonResponse(importer.report.as_dict())


def _refused(code: int, error: Exception, line: int, importer: Importer) -> JsonResponse:
    return JsonResponse(
        {"detail": str(error), "line": line, "imported": importer.report.as_dict()}, status_code=code
    )
