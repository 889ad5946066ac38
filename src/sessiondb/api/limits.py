"""A cap on request body size: a larger body is a 413, never read into memory whole.

Not Starlette's ``RequestBodyLimitMiddleware`` (FastAPI's ``max_body_size``): it answers a
declared oversize ``Content-Length`` in plain text, and every error here is ``{"detail": ...}``;
it also needs a newer FastAPI than the one this package supports.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessiondb.api.responses import JsonResponse

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
"""10 MiB: room for a large ``session_state``, far below what would strain the server."""


STREAMED_MEDIA_TYPE = b"application/x-ndjson"
"""The media type of a body a streamed path reads line by line (JSON Lines)."""


def _streamed(scope: Scope, paths: frozenset[str]) -> bool:
    if scope["path"] not in paths:
        return False
    content_type: bytes = dict(scope["headers"]).get(b"content-type", b"")
    return content_type.split(b";", 1)[0].strip().lower() == STREAMED_MEDIA_TYPE


def _too_large_detail(limit: int) -> str:
    return f"Request body too large: the limit is {limit} bytes"


class BodySizeLimitMiddleware:
    """Answers 413 when a request body is over ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before anything is read; a body
    sent without one (chunked) is counted as it streams and refused as soon as it passes the
    limit. A request to one of ``streamed_paths`` with a body of media type
    :data:`STREAMED_MEDIA_TYPE` is let through: its route reads the body as a stream and bounds
    what it holds itself (``POST /import`` caps each line). Any other body there keeps the cap,
    as the app-wide JSON screening reads a JSON (or untyped) body whole.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int = DEFAULT_MAX_BODY_BYTES,
        streamed_paths: frozenset[str] = frozenset(),
    ) -> None:
        """Wrap ``app``, allowing bodies up to ``max_bytes`` except on ``streamed_paths``."""
        self.app = app
        self.max_bytes = max_bytes
        self.streamed_paths = streamed_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, or refuse it with 413."""
        if scope["type"] != "http" or _streamed(scope, self.streamed_paths):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = JsonResponse(
                {"detail": _too_large_detail(self.max_bytes)}, status_code=status.HTTP_413_CONTENT_TOO_LARGE
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised while the route reads its body, so FastAPI's HTTPException handler
                    # turns it into the JSON 413.
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, _too_large_detail(self.max_bytes))
            return message

        await self.app(scope, counting_receive, send)
