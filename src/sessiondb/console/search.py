"""The console's search page: ``/ui/search?q=...``, full-text hits across transcripts.

One store call, ``asearch``, with the caller's user filter, as ``GET /search`` makes it. Each
hit links to its session, opened at the matching run (``?run=``).
"""

from __future__ import annotations

import html
import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from sessiondb.console.errors import ConsoleRoute
from sessiondb.console.router import ReadPage, db_suffix
from sessiondb.console.templating import render, shown_time
from sessiondb.db.search import MARK_END, MARK_START, MAX_SEARCH_LIMIT, SearchHit

router = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

SEARCH_LIMIT = 20
"""Hits per page."""

_MARKS = re.compile(f"({re.escape(MARK_START)}|{re.escape(MARK_END)})")


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """A snippet as ``(text, matched)`` pieces of plain text.

    The store's snippet is HTML already (escaped text, matches in ``<mark>``). The console
    takes it apart and lets the template escape each piece again, so no stored text ever
    reaches the page unescaped, whatever a backend's snippet holds.
    """
    parts: list[tuple[str, bool]] = []
    marked = False
    for piece in _MARKS.split(snippet):
        if piece == MARK_START:
            marked = True
        elif piece == MARK_END:
            marked = False
        elif piece:
            parts.append((html.unescape(piece), marked))
    return parts


def _hit_row(hit: SearchHit, href: str) -> dict[str, object]:
    return {
        "session_id": hit.session_id,
        "name": hit.session_name,
        "type": hit.session_type,
        "run_id": hit.run_id,
        "href": href,
        "when": shown_time(hit.created_at),
        "parts": snippet_parts(hit.snippet),
    }


@router.get("/search")
async def search_page(
    request: Request,
    access: ReadPage,
    q: Annotated[str, Query(max_length=2_000)] = "",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = SEARCH_LIMIT,
) -> Response:
    """Hits for ``q``, best first, a keyset page at a time; an empty ``q`` shows the form only."""
    hits: list[dict[str, object]] = []
    next_cursor = None
    if q.strip():
        page = await access.store.asearch(q, user_id=access.user_id, limit=limit, cursor=cursor or None)
        suffix = db_suffix(request)
        joiner = "&" if suffix else "?"
        for hit in page.items:
            session_path = f"/ui/sessions/{quote(hit.session_id, safe='')}"
            href = f"{session_path}{suffix}{joiner}run={quote(hit.run_id, safe='')}"
            hits.append(_hit_row(hit, href))
        next_cursor = page.next_cursor
    context = {"q": q, "hits": hits, "next_cursor": next_cursor, "searched": bool(q.strip())}
    return render(request, "search.html", context)
