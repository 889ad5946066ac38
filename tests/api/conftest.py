"""Fixtures of the API tests: the app over each backend, and an ASGI client.

``store`` comes from ``tests/conftest.py``: it is parametrized over every backend (memory, a
SQLite file under ``tmp_path``, PostgreSQL in a schema of its own), so each endpoint test runs
against all three; PostgreSQL tests skip with a reason when the server is down, unless
``CI=true``: then they fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_support import asgi_client
from fastapi import FastAPI

from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb


@pytest.fixture
def memory_store() -> SessionStore:
    """An in-memory store, for tests of the HTTP layer itself (auth, limits, errors)."""
    return InMemoryDb(id="main")


@pytest.fixture
def app(store: SessionStore) -> FastAPI:
    """The API over ``store``, auth off."""
    return create_app(dbs=[store])


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client of ``app``."""
    async for c in asgi_client(app):
        yield c


@pytest.fixture
async def memory_client(memory_store: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API over ``memory_store``: for behaviour of the HTTP layer alone."""
    async for c in asgi_client(create_app(dbs=[memory_store])):
        yield c
