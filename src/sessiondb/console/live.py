"""Live updates for the console's pages: the change feed, with the console's credentials.

The page's script (``static/console.js``) opens an ``EventSource`` on ``/ui/changes`` (the
URL is the ``data-feed`` of the page's ``<main>``, carrying its ``db_id`` and, for an admin's
filtered list, its ``user``). The browser sends the console's cookie with it (same origin),
so the feed is the API's own ``GET /changes`` handler called with the
:class:`~sessiondb.api.deps.Access` the console settled: a caller hears of the changes of the
sessions it may see, nothing more. On a change that concerns it, the page fetches itself
again and swaps its ``<main>``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from sessiondb.api.routers.changes import get_changes
from sessiondb.console.errors import ConsoleRoute
from sessiondb.console.router import ReadPage

router = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)


@router.get("/changes")
async def change_feed(
    request: Request,
    access: ReadPage,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    """The change feed from now on (or after ``Last-Event-ID`` when the browser reconnects)."""
    return await get_changes(request, access, after=None, last_event_id=last_event_id)
