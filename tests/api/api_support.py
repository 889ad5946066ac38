"""Support of the API tests: an in-process ASGI client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI


async def asgi_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``app`` in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
