"""``GET /changes``: the change feed as server-sent events.

Each event is one recorded change: ``id`` is its position (the resume token), ``event`` its
kind, ``data`` the JSON of :class:`~sessiondb.api.schemas.changes.ChangeEventData`. A client
that reconnects with ``Last-Event-ID`` (browsers' ``EventSource`` does it by itself) or
``?after=`` gets every change after that one, none twice (see ``SessionStore.changes``);
without either, the stream starts at the newest change, and ``?after=0`` replays every
change the store still keeps.

Between reads the stream waits on the store's watch (PostgreSQL: woken by ``NOTIFY`` from any
process; others: polling), never longer than :data:`CLOSING_CHECK_S`, so that it notices a
server shutdown (``app.state.closing``, see :mod:`sessiondb.api.shutdown`) and ends cleanly.
A comment line every :data:`HEARTBEAT_S` seconds keeps idle connections (and proxies) open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from sessiondb.api.deps import ReadAccess
from sessiondb.api.routers.common import ERROR_RESPONSES
from sessiondb.api.schemas.changes import STREAM_EXAMPLE, ChangeEventData
from sessiondb.db.base import SessionStore
from sessiondb.db.changes import Change
from sessiondb.db.errors import StoreError
from sessiondb.db.query import SQL_INT_MAX

router = APIRouter(tags=["Changes"], responses=ERROR_RESPONSES)
logger = logging.getLogger("sessiondb.api")

HEARTBEAT_S = 15.0
"""Seconds of silence after which the stream sends a comment line."""
CLOSING_CHECK_S = 1.0
"""The longest the stream waits before checking whether the server is shutting down."""
BATCH = 200
"""Changes read per store call."""
RETRY_MS = 1000
"""How long a disconnected ``EventSource`` waits before reconnecting (sent as ``retry:``)."""


def _event(change: Change, db_id: str) -> bytes:
    data = orjson.dumps(change.to_dict(db_id))
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (change.change_id, change.kind.encode(), data)


def _resume_token(last_event_id: str | None) -> int | None:
    """The position a ``Last-Event-ID`` header names.

    Raises:
        HTTPException: 400 when it is not a position this feed sent.
    """
    if last_event_id is None or last_event_id.strip() == "":
        return None
    text = last_event_id.strip()
    if not text.isascii() or not text.isdigit() or int(text) > SQL_INT_MAX:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            "Last-Event-ID must be the id of an event of this feed (a whole number)",
        )
    return int(text)


async def _stream(
    store: SessionStore, user_id: str | None, position: int, closing: threading.Event
) -> AsyncIterator[bytes]:
    yield b"retry: %d\n\n" % RETRY_MS
    quiet_since = time.monotonic()
    async with store.watch_changes() as watch:
        while not closing.is_set():
            try:
                found = await store.achanges(position, user_id=user_id, limit=BATCH)
            except StoreError as exc:
                # The client reconnects (after retry: ms) with Last-Event-ID and loses nothing.
                logger.warning("sessiondb: change feed of %s stopped: %s", store.id, exc)
                return
            position = found.position
            for change in found.items:
                yield _event(change, store.id)
            if found.items:
                quiet_since = time.monotonic()
            if len(found.items) == BATCH:
                continue  # more are waiting
            if time.monotonic() - quiet_since >= HEARTBEAT_S:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            await watch.wait(CLOSING_CHECK_S)


@router.get(
    "/changes",
    operation_id="get_changes",
    summary="Change Feed",
    description=(
        "Server-sent events, one per write: session.created, session.updated (also a rename or a "
        "run deleted), session.deleted, session.restored, run.created, run.updated. Resume with "
        "Last-Event-ID or ?after=; without either the stream starts now. With JWT auth a caller "
        "without admin scope sees its own sessions' changes only."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "An endless text/event-stream; each event's data is a ChangeEventData",
            "content": {
                "text/event-stream": {
                    "schema": {"type": "string"},
                    "example": STREAM_EXAMPLE,
                    # What each event's data line holds (OpenAPI 3.1 has no field for it yet).
                    "x-event-data": ChangeEventData.model_json_schema(),
                },
            },
        }
    },
)
async def get_changes(
    request: Request,
    access: ReadAccess,
    after: Annotated[
        int | None,
        Query(ge=0, le=SQL_INT_MAX, description="Start after this event id (0: every change still kept)"),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(alias="Last-Event-ID", description="Resume after this event id (wins over ?after=)"),
    ] = None,
) -> StreamingResponse:
    """Stream the store's changes (see the module docstring)."""
    store, user_id = access.store, access.user_id
    resumed = _resume_token(last_event_id)
    start = resumed if resumed is not None else after
    if start is None:
        # "From now on": the newest position, read before the stream starts so that a store
        # error is an HTTP error, not a broken stream.
        start = (await store.achanges(None, user_id=user_id, limit=0)).position
    closing: threading.Event = request.app.state.closing
    headers: dict[str, Any] = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _stream(store, user_id, start, closing), media_type="text/event-stream", headers=headers
    )
