"""Errors on console pages become HTML pages, not the API's JSON.

:class:`ConsoleRoute` wraps every console handler: a 401 becomes a redirect to the login form,
anything the API would answer with an error status (an ``HTTPException``, a domain error, a
malformed query) becomes the error page with that same status and message.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from sessiondb.api.errors import store_error_response
from sessiondb.console.auth import LoginRequired
from sessiondb.console.templating import render
from sessiondb.db.errors import StoreError


def _validation_message(errors: Any) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "Invalid request"


def error_page(request: Request, status_code: int, message: str) -> Response:
    """The console's error page."""
    return render(
        request, "error.html", {"status_code": status_code, "message": message}, status_code=status_code
    )


def _store_error_page(request: Request, exc: StoreError) -> Response:
    # The API's own mapping decides the status and the words (a user-scoped caller gets the
    # 404 of a session it may not see, never a 409 that would tell it the session exists).
    answer = store_error_response(request, exc)
    detail = orjson.loads(bytes(answer.body))["detail"]
    message = detail if isinstance(detail, str) else _validation_message(detail)
    return error_page(request, answer.status_code, message)


class ConsoleRoute(APIRoute):
    """A route whose errors render as console pages (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, wrapped so its errors become pages."""
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                target = "/ui/login" + (
                    "" if exc.next_url == "/ui" else f"?next={quote(exc.next_url, safe='')}"
                )
                return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
            except HTTPException as exc:
                return error_page(request, exc.status_code, str(exc.detail))
            except RequestValidationError as exc:
                return error_page(
                    request, status.HTTP_422_UNPROCESSABLE_CONTENT, _validation_message(exc.errors())
                )
            except StoreError as exc:
                return _store_error_page(request, exc)

        return console_handler
