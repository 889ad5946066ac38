"""Which browser origins may call the API (CORS), as AgentOS allows them.

A browser app served from another origin, such as Agno's Agent UI on ``http://localhost:3000``,
sends ``Content-Type: application/json`` even on GETs, so every call is preceded by a CORS
preflight (``OPTIONS`` with an ``Origin``). Starlette's ``CORSMiddleware`` answers the
preflights of allowed origins and adds the CORS headers to their responses; other origins get
no CORS headers, so their browsers refuse the responses. Auth is unchanged: a preflight carries
no credentials, the real request still needs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

DEFAULT_CORS_ORIGINS: tuple[str, ...] = ("http://localhost:3000", "http://127.0.0.1:3000")
"""AgentOS's defaults: where Agno's Agent UI runs in development."""


def install_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Allow ``origins`` (exact matches, ``"*"`` for any) to call every endpoint of ``app``.

    Added last, so it wraps every other middleware: the 401s, 413s and 503s of allowed origins
    carry CORS headers too, and their browsers show the real error rather than a CORS one.
    """
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        # A bearer token travels in a header, not a cookie; credentials let the UI send either.
        allow_credentials="*" not in origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["ETag"],
    )
