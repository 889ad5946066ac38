"""JWT callers for the isolation tests of single endpoints (HS256, the test audience)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import jwt
from api_support import asgi_client

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.base import SessionStore

SECRET = "test-secret-that-is-long-enough-for-hs256"
AUDIENCE = "sessiondb-test"
USER_SCOPES = ["sessions:read", "sessions:write", "sessions:delete"]


def headers_of(sub: str, scopes: list[str] | None = None) -> dict[str, str]:
    """The ``Authorization`` header of a caller ``sub`` holding ``scopes`` (a plain user's by default)."""
    claims = {"sub": sub, "aud": AUDIENCE, "exp": int(time.time()) + 300, "scopes": scopes or USER_SCOPES}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def jwt_client_of(store: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API over ``store`` with JWT auth on."""
    auth = AuthConfig(jwt=JwtConfig(key=SECRET, audience=AUDIENCE))
    async for client in asgi_client(create_app(dbs=[store], auth=auth)):
        yield client
