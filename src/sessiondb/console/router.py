"""The console's pages: the session list (and the trash), one session, the delete confirmation,
the login form.

Every page is one or two store calls through the :class:`~sessiondb.api.deps.Access` the API's
own ``grant`` settles (see :mod:`sessiondb.console.auth`), rendered on the server. The forms'
actions (rename, delete, log in and out) are in :mod:`sessiondb.console.actions`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from sessiondb.api.auth import DELETE_SCOPE, READ_SCOPE
from sessiondb.api.deps import Access
from sessiondb.api.registry import StoreRegistry
from sessiondb.console.auth import console_access, safe_next
from sessiondb.console.errors import ConsoleRoute
from sessiondb.console.templating import iso_time, render, shown_time
from sessiondb.console.transcript import transcript
from sessiondb.db.query import SessionQuery
from sessiondb.session import Session

router = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

STATIC = Path(__file__).parent / "static"

LIST_LIMIT = 25
"""Sessions per list page: a screenful, and one indexed keyset read."""

RUNS_WINDOW = 20
"""Runs a session page shows at first; "older runs" widens the window by as many again."""

MAX_RUNS_WINDOW = 1000
"""The widest window one page loads, so one request stays bounded however long the session."""

ReadPage = Annotated[Access, Depends(console_access(READ_SCOPE))]
DeletePage = Annotated[Access, Depends(console_access(DELETE_SCOPE))]


def db_suffix(request: Request) -> str:
    """The ``?db_id=`` a console link carries: only when several databases are served."""
    registry: StoreRegistry = request.app.state.registry
    if len(registry.ids()) < 2:
        return ""
    return "?" + urlencode({"db_id": request.query_params.get("db_id") or registry.ids()[0]})


def list_row(session: Session, suffix: str, runs: int) -> dict[str, str | int]:
    """What the list shows of one session, formatted here once rather than in the template
    (rendering a page of rows is most of the page's server time)."""
    return {
        "session_id": session.session_id,
        "href": f"/ui/sessions/{quote(session.session_id, safe='')}{suffix}",
        "name": session.get_session_name(),
        "type": session.session_type,
        "component": component_of(session),
        "user": session.user_id or "",
        "runs": runs,
        "created_iso": iso_time(session.created_at),
        "created": shown_time(session.created_at),
        "updated_iso": iso_time(session.updated_at),
        "updated": shown_time(session.updated_at),
    }


def component_of(session: Session) -> str:
    """The agent, team or workflow a session belongs to ('' when none is recorded)."""
    for attribute in ("agent_id", "team_id", "workflow_id"):
        value = getattr(session, attribute, None)
        if isinstance(value, str) and value:
            return value
    return ""


@router.get("")
async def session_list(
    request: Request,
    access: ReadPage,
    session_type: Annotated[str | None, Query(alias="type")] = None,
    component: str | None = None,
    name: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = LIST_LIMIT,
    deleted: bool = False,
) -> Response:
    """Sessions newest first, filtered, a keyset page at a time; the trash with ``deleted``."""
    filters = {
        "type": session_type or None,
        "component": component or None,
        "user": request.query_params.get("user") or None,
        "name": name or None,
    }
    query = SessionQuery(
        session_type=filters["type"],  # type: ignore[arg-type]  # SessionQuery refuses other values
        component_id=filters["component"],
        user_id=access.user_id,
        session_name=filters["name"],
        cursor=cursor or None,
        limit=limit,
        # The page shows no total and pages by cursor: counting every match would cost more
        # than the page itself at a million sessions (see SessionQuery.count_total).
        count_total=False,
        deleted=deleted,
    )
    store = access.store
    page = await store.aget_sessions(query)
    # The run counts of this page only, in one grouped read (see bench/console.py).
    counts = await store.arun_counts(
        [session.session_id for session in page.items], user_id=access.user_id, deleted=deleted
    )
    suffix = db_suffix(request)
    rows = [list_row(session, suffix, counts.get(session.session_id, 0)) for session in page.items]
    context = {
        "rows": rows,
        "filters": filters,
        "next_cursor": page.next_cursor,
        "paged": bool(cursor),
        "limit": limit if limit != LIST_LIMIT else None,
        "user_scoped": not access.principal.admin,
        "deleted_id": request.query_params.get("deleted_id"),
        "trash": deleted,
        "soft_delete": store.soft_delete,
    }
    return render(request, "list.html", context)


def _state_of(session: Session) -> Any:
    return (session.session_data or {}).get("session_state")


@router.get("/sessions/{session_id}")
async def session_page(
    request: Request,
    access: ReadPage,
    session_id: str,
    runs: Annotated[int, Query(ge=1, le=MAX_RUNS_WINDOW)] = RUNS_WINDOW,
    run: Annotated[str | None, Query(max_length=1_000)] = None,
) -> Response:
    """One session: its facts, summary, state and metadata, and its newest ``runs`` runs.

    ``run`` (a deep link to one run, as a search hit makes) shows that run first, wherever it
    is in the session.
    """
    store, user_id = access.store, access.user_id
    session = await store.aget_session(session_id, user_id=user_id, runs_limit=0)
    focus = await store.aget_run(run, session_id=session_id, user_id=user_id) if run else None
    # One run more than shown tells whether older ones exist, without counting them all.
    loaded = await store.aget_runs(session_id, user_id=user_id, last_n=runs + 1)
    more = len(loaded) > runs
    shown = loaded[1:] if more else loaded
    summary = getattr(session, "summary", None)
    context = {
        "session": session,
        "name": session.get_session_name(),
        "restored": bool(request.query_params.get("restored")),
        "component": component_of(session),
        "runs": transcript(shown),
        "focus": transcript([focus])[0] if focus is not None else None,
        "runs_window": runs,
        "more_runs": more,
        "next_window": min(runs + RUNS_WINDOW, MAX_RUNS_WINDOW) if runs < MAX_RUNS_WINDOW else None,
        "summary": summary,
        "state": _state_of(session),
        "metadata": session.metadata,
        "max_name_chars": request.app.state.field_limits.max_name_chars,
        "forked_from": (session.session_data or {}).get("forked_from_session_id"),
    }
    return render(request, "session.html", context)


@router.get("/sessions/{session_id}/delete")
async def confirm_delete(request: Request, access: DeletePage, session_id: str) -> Response:
    """Ask before deleting: the session's name and id, and a button that posts the delete."""
    session = await access.store.aget_session(session_id, user_id=access.user_id, runs_limit=0)
    context = {
        "session": session,
        "name": session.get_session_name(),
        "soft_delete": access.store.soft_delete,
    }
    return render(request, "confirm_delete.html", context)


@router.get("/login")
async def login_form(request: Request, next: str = "/ui") -> Response:
    """The token form (only useful when auth is on)."""
    return render(request, "login.html", {"next": safe_next(next), "error": None})


fallback = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)


@fallback.get("/{rest:path}")
async def no_such_page(request: Request, rest: str) -> Response:
    """The console's 404 page for a path under ``/ui`` that names no page."""
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"No console page at /ui/{rest}")


def install_console(app: FastAPI) -> None:
    """Serve the console at ``/ui`` on ``app``, its static files, and ``/`` redirecting there."""
    # Imported here: they import this module's helpers (ReadPage, db_suffix).
    from sessiondb.console import actions, live, search

    async def root() -> RedirectResponse:
        return RedirectResponse("/ui", status_code=307)

    app.add_api_route("/", root, include_in_schema=False)
    app.include_router(router)
    app.include_router(actions.router)
    app.include_router(search.router)
    app.include_router(live.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="console-static")
    # Last, so that it only takes what nothing above did: a mistyped or truncated console link
    # gets the console's own 404 page rather than the API's JSON.
    app.include_router(fallback)
