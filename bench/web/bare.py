"""The HTTP baseline: a bare ASGI app answering each known path with fixed bytes from memory.

Standard library only, so the Agno peer environment could serve it too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

NOT_FOUND = b'{"detail":"Not Found"}'


def load_bodies(path: Path) -> dict[str, bytes]:
    """Read the ``{path with query: base64 body}`` file the orchestrator wrote."""
    raw: dict[str, str] = json.loads(path.read_text())
    return {target: base64.b64decode(body) for target, body in raw.items()}


def save_bodies(path: Path, bodies: dict[str, bytes]) -> None:
    """Write bodies for :func:`load_bodies`."""
    path.write_text(json.dumps({target: base64.b64encode(body).decode() for target, body in bodies.items()}))


class BareApp:
    """Answer ``GET <known path>`` with its bytes (200, JSON), anything else with 404."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self._responses = {
            target: (
                body,
                [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            )
            for target, body in bodies.items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point (HTTP and lifespan)."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        query = scope.get("query_string", b"").decode()
        target = scope["path"] + (f"?{query}" if query else "")
        found = self._responses.get(target)
        status = 200 if found is not None else 404
        body, headers = found or (NOT_FOUND, [(b"content-type", b"application/json")])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
