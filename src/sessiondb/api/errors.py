"""The one place where errors become HTTP responses.

Domain errors (:mod:`sessiondb.db.errors`) map to::

    SessionNotFound, RunNotFound     404 {"detail": ...} (SessionDeleted too: a save of an
                                     object whose row was deleted since it was loaded)
    SessionAlreadyExists             409
    SessionTypeMismatch              409 (a run into a session another kind of runtime created)
    SessionOwnedByAnotherUser        409, or 404 for a user-scoped caller (a 409 would leak
                                     that another user's session exists)
    VersionConflict                  412 {"detail", "current_version"} and the current ETag
    InvalidQuery                     422 in FastAPI's validation shape, naming the field
    SchemaNotReady, StoreUnavailable 503 with Retry-After

Anything else is a 500 ``{"detail": "Internal server error (<Type>)"}``, logged with its
traceback; the message itself never reaches the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessiondb.api.auth import Principal
from sessiondb.api.responses import JsonResponse
from sessiondb.db.errors import (
    InvalidQuery,
    RunNotFound,
    SchemaNotReady,
    SessionAlreadyExists,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    SessionTypeMismatch,
    StoreError,
    StoreUnavailable,
    VersionConflict,
)

logger = logging.getLogger("sessiondb.api")

RETRY_AFTER_SECONDS = 5
"""What a 503 tells clients to wait before retrying."""


def etag_for(version: int | None) -> str | None:
    """The strong ETag of a session version (``"3"``), or ``None`` for an unsaved session."""
    return None if version is None else f'"{version}"'


def _detail(status_code: int, detail: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"detail": detail, **extra}, status_code=status_code)


def _owned_by_other(request: Request, exc: SessionOwnedByAnotherUser) -> JsonResponse:
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal) and not principal.admin:
        return _detail(status.HTTP_404_NOT_FOUND, str(SessionNotFound(exc.session_id)))
    return _detail(status.HTTP_409_CONFLICT, str(exc))


def _version_conflict(exc: VersionConflict) -> JsonResponse:
    response = _detail(status.HTTP_412_PRECONDITION_FAILED, str(exc), current_version=exc.current)
    response.headers["ETag"] = f'"{exc.current}"'
    return response


def _invalid_query(exc: InvalidQuery) -> JsonResponse:
    message = str(exc).removeprefix(f"{exc.field}: ")
    item = {"type": "value_error", "loc": ["query", exc.field], "msg": message, "input": None}
    return JsonResponse({"detail": [item]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def _unavailable(exc: StoreError) -> JsonResponse:
    response = _detail(status.HTTP_503_SERVICE_UNAVAILABLE, f"Database unavailable: {exc}. Retry later.")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def store_error_response(request: Request, exc: StoreError) -> JsonResponse:
    """The response for a domain error (table in the module docstring)."""
    if isinstance(exc, SessionNotFound | RunNotFound):
        return _detail(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, SessionAlreadyExists | SessionTypeMismatch):
        return _detail(status.HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, SessionOwnedByAnotherUser):
        return _owned_by_other(request, exc)
    if isinstance(exc, VersionConflict):
        return _version_conflict(exc)
    if isinstance(exc, InvalidQuery):
        return _invalid_query(exc)
    if isinstance(exc, SchemaNotReady | StoreUnavailable):
        return _unavailable(exc)
    return internal_error(exc)


def internal_error(exc: BaseException) -> JsonResponse:
    """The 500 for an error nobody planned for; the traceback goes to the log only."""
    logger.error("unhandled error while serving a request", exc_info=exc)
    return _detail(status.HTTP_500_INTERNAL_SERVER_ERROR, f"Internal server error ({type(exc).__name__})")


async def _store_error_handler(request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, StoreError)
    return store_error_response(request, exc)


async def _validation_error_handler(request: Request, exc: Exception) -> JsonResponse:
    # FastAPI's own handler renders with the json module, which refuses the NaN or Infinity a
    # form field may parse to ("Infinity" is valid JSON to Python): that 422 became a 500.
    # orjson writes them as null.
    assert isinstance(exc, RequestValidationError)
    errors = [_without_large_input(error) for error in exc.errors()]
    return JsonResponse(
        {"detail": jsonable_encoder(errors)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


ECHOED_INPUT_MAX = 1_000
"""The largest input (characters of a string, items of a list or object) a 422 repeats back."""


def _without_large_input(error: Any) -> Any:
    # A 422 for a list of 300,000 ids would otherwise send them all back (seconds to encode,
    # megabytes to send): the client has the input, the error names where it went wrong.
    value = error.get("input") if isinstance(error, dict) else None
    if isinstance(value, str | bytes | list | dict | tuple) and len(value) > ECHOED_INPUT_MAX:
        return {**error, "input": None}
    return error


class CatchAllMiddleware:
    """Turns an exception no handler took into the JSON 500, instead of Starlette's plain text.

    It sits inside Starlette's own error middleware so the exception stops here: the client
    gets ``{"detail": ...}`` and the server keeps serving.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; answer 500 if it raises before the response has started."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await internal_error(exc)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain-error handler and the catch-all on ``app``."""
    handler: Callable[..., Any] = _store_error_handler
    app.add_exception_handler(StoreError, handler)
    validation_handler: Callable[..., Any] = _validation_error_handler
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_middleware(CatchAllMiddleware)
