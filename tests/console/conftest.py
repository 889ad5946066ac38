"""Fixtures of the console tests: the app over each backend, an ASGI client, seeded sessions.

``store`` comes from ``tests/conftest.py`` (memory, a SQLite file, a PostgreSQL schema).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from console_seed import client_of, seed

from sessiondb.api import create_app
from sessiondb.db.base import SessionStore


@pytest.fixture
def seeded(store: SessionStore) -> SessionStore:
    """``store`` holding the sessions of :func:`console_seed.seed`."""
    seed(store)
    return store


@pytest.fixture
async def client(seeded: SessionStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over ``seeded``, auth off."""
    async for c in client_of(create_app(dbs=[seeded])):
        yield c


@pytest.fixture
async def memory_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app over an empty in-memory store, for behaviour of the console alone."""
    from sessiondb.db.memory import InMemoryDb

    async for c in client_of(create_app(dbs=[InMemoryDb(id="main")])):
        yield c
