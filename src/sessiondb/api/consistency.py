"""Read-your-writes over read replicas: the ``X-Sessiondb-Consistency`` token in HTTP.

Installed by :func:`~sessiondb.api.app.create_app` only when a served store reads from
replicas. For each request it sets the :data:`sessiondb.db.consistency.current` holder from the
token the client brings (the request header, else the cookie), so that the store serves the
request's reads from a replica only when that replica has caught up with it. When the request
wrote, the response carries the new token, as the header and as a cookie: a client that sends
either back on its next read never reads older data than it wrote. A response streamed before
its write finishes (server-sent events of a run) cannot carry it in its headers.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sessiondb.db import consistency
from sessiondb.db.errors import InvalidQuery

_HEADER = consistency.HEADER.lower().encode()


def _cookie_token(raw: bytes) -> str | None:
    try:
        morsel = SimpleCookie(raw.decode("latin-1")).get(consistency.COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


class ConsistencyMiddleware:
    """Reads the client's consistency token into the request's state; hands out the new one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = consistency.Consistency()
        headers = dict(scope["headers"])
        token = headers.get(_HEADER)
        try:
            if token is not None:
                state.floor = consistency.parse_position(token.decode("latin-1"))
            elif (cookie := headers.get(b"cookie")) is not None and (value := _cookie_token(cookie)):
                state.floor = consistency.parse_position(value)
        except InvalidQuery as error:
            if token is not None:
                await _refuse(send, str(error))
                return
            # A stale or mangled cookie is the browser's, not the caller's doing: ignore it.
        reset = consistency.current.set(state)

        async def send_with_token(message: Message) -> None:
            if message["type"] == "http.response.start" and state.written is not None:
                value = consistency.format_position(state.written).encode()
                cookie = f"{consistency.COOKIE}={value.decode()}; Path=/; SameSite=Lax; HttpOnly".encode()
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (_HEADER, value), (b"set-cookie", cookie)],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_token)
        finally:
            consistency.current.reset(reset)


async def _refuse(send: Send, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
