"""Issue 16 §6: browser apps on allowed origins (Agno's Agent UI by default) may call the API."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from sessiondb.api import AuthConfig, create_app
from sessiondb.api.cors import DEFAULT_CORS_ORIGINS
from sessiondb.db import InMemoryDb

UI = "http://localhost:3000"


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


PREFLIGHT = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "content-type"}


async def _preflight(app: FastAPI, origin: str, path: str = "/health") -> httpx.Response:
    async with asgi_client(app) as client:
        return await client.options(path, headers={"Origin": origin, **PREFLIGHT})


@pytest.mark.parametrize("origin", DEFAULT_CORS_ORIGINS)
async def test_a_preflight_from_the_agent_ui_gets_the_cors_headers(origin: str) -> None:
    response = await _preflight(create_app(InMemoryDb()), origin)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "GET" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


async def test_a_preflight_from_another_origin_gets_no_cors_headers() -> None:
    response = await _preflight(create_app(InMemoryDb()), "http://evil.example")

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_other_origins_are_allowed_when_configured() -> None:
    app = create_app(InMemoryDb(), cors_origins=["https://ui.example.com"])

    allowed = await _preflight(app, "https://ui.example.com")
    default = await _preflight(app, UI)

    assert allowed.headers["access-control-allow-origin"] == "https://ui.example.com"
    assert "access-control-allow-origin" not in default.headers


async def test_auth_still_applies_to_the_real_request() -> None:
    app = create_app(InMemoryDb(), auth=AuthConfig(security_key="s3cret"))

    async with asgi_client(app) as client:
        preflight = await client.options("/sessions", headers={"Origin": UI, **PREFLIGHT})
        anonymous = await client.get("/sessions", headers={"Origin": UI})
        authorised = await client.get("/sessions", headers={"Origin": UI, "Authorization": "Bearer s3cret"})

    assert preflight.status_code == 200
    # The 401 carries the CORS header, so the UI's browser shows the real error.
    assert anonymous.status_code == 401
    assert anonymous.headers["access-control-allow-origin"] == UI
    assert authorised.status_code == 200
    assert authorised.headers["access-control-allow-origin"] == UI
