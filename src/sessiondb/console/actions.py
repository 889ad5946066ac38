"""The console's form actions: rename, fork, delete, restore, export, log in and log out.

Each action is a plain HTML form post (it works without JavaScript) answered with a redirect
to the page that shows the result (post/redirect/get), so a reload never repeats it. Posts
are refused when another site started them (:func:`~sessiondb.console.auth.check_same_origin`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse, StreamingResponse

import sessiondb
from sessiondb.api.auth import DELETE_SCOPE, WRITE_SCOPE, AuthConfig, authenticate
from sessiondb.api.deps import Access, offload
from sessiondb.api.field_limits import FieldLimits
from sessiondb.console.auth import COOKIE, COOKIE_PATH, check_same_origin, console_grant, safe_next
from sessiondb.console.errors import ConsoleRoute
from sessiondb.console.router import ReadPage
from sessiondb.console.templating import render
from sessiondb.db.errors import SessionNotFound
from sessiondb.db.transfer import ExportFilter
from sessiondb.transfer.format import header_line, session_line

router = APIRouter(prefix="/ui", route_class=ConsoleRoute, include_in_schema=False)

MAX_FORM_FIELD = 65_536
"""A hard bound on any one form field, before the API's own field limits apply."""


def _write_access(scope: str) -> object:
    async def access(request: Request) -> Access:
        check_same_origin(request)
        return console_grant(request, scope)

    return Depends(access)


WritePost = Annotated[Access, _write_access(WRITE_SCOPE)]
DeletePost = Annotated[Access, _write_access(DELETE_SCOPE)]


def session_url(request: Request, session_id: str, **extra: str) -> str:
    """The console URL of a session, keeping the ``db_id`` the request named."""
    values = {
        key: value for key, value in {"db_id": request.query_params.get("db_id"), **extra}.items() if value
    }
    return f"/ui/sessions/{quote(session_id, safe='')}" + (f"?{urlencode(values)}" if values else "")


@router.post("/sessions/{session_id}/rename")
async def rename(
    request: Request,
    access: WritePost,
    session_id: str,
    session_name: Annotated[str, Form(min_length=1, max_length=MAX_FORM_FIELD)],
) -> Response:
    """Rename the session, then show it.

    Raises:
        HTTPException: 422 when the name is longer than the server's name limit, as in the API.
    """
    limits: FieldLimits = request.app.state.field_limits
    if len(session_name) > limits.max_name_chars:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"session_name: at most {limits.max_name_chars} characters, not {len(session_name)}",
        )
    await access.store.arename_session(session_id, session_name=session_name, user_id=access.user_id)
    return RedirectResponse(session_url(request, session_id), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/sessions/{session_id}/fork")
async def fork(
    request: Request,
    access: WritePost,
    session_id: str,
    run_id: Annotated[str | None, Form(max_length=MAX_FORM_FIELD)] = None,
) -> Response:
    """Fork the session (up to and including ``run_id`` when given), then show the fork."""
    forked = await access.store.afork_session(session_id, at_run_id=run_id or None, user_id=access.user_id)
    return RedirectResponse(session_url(request, forked.session_id), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/sessions/{session_id}/delete")
async def delete(request: Request, access: DeletePost, session_id: str) -> Response:
    """Delete the session, then show the list saying so."""
    await access.store.adelete_session(session_id, user_id=access.user_id)
    values = {"db_id": request.query_params.get("db_id"), "deleted_id": session_id}
    kept = {key: value for key, value in values.items() if value}
    return RedirectResponse(f"/ui?{urlencode(kept)}", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/sessions/{session_id}/restore")
async def restore(request: Request, access: DeletePost, session_id: str) -> Response:
    """Take the session out of the trash (as ``POST /sessions/{id}/restore``), then show it."""
    await access.store.arestore_session(session_id, user_id=access.user_id)
    return RedirectResponse(
        session_url(request, session_id, restored="1"), status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/sessions/{session_id}/export")
async def export(access: ReadPage, session_id: str) -> Response:
    """This session with all its runs, in the export format (docs/export-format.md).

    The same store call as ``GET /export``, narrowed to one session the caller may read (the
    user filter applies), so a user can export its own session without an admin scope.
    """
    wanted = ExportFilter(user_id=access.user_id, session_ids=[session_id])
    found = await offload(access.store.export_sessions, wanted)
    if not found:
        raise SessionNotFound(session_id)

    async def body() -> AsyncIterator[bytes]:
        yield header_line(wanted, exported_by=sessiondb.__version__)
        yield session_line(found[0])

    filename = quote(f"session-{session_id}.jsonl", safe="")
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"}
    return StreamingResponse(body(), media_type="application/x-ndjson", headers=headers)


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=16384)],
    next: Annotated[str, Form()] = "/ui",
) -> Response:
    """Check the token as the API would, then keep it in the console's cookie."""
    check_same_origin(request)
    config: AuthConfig = request.app.state.auth
    target = safe_next(next)
    try:
        authenticate(config, token.strip())
    except HTTPException as exc:
        context = {"next": target, "error": str(exc.detail)}
        return render(request, "login.html", context, status_code=status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token.strip(),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Forget the token."""
    response = RedirectResponse("/ui/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")
    return response
