"""Fixtures of the run-endpoint tests: runtimes hosted over each backend, and a client of them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_support import asgi_client
from run_support import Hosted

from sessiondb.api import create_app
from sessiondb.db.base import SessionStore


@pytest.fixture
def hosted(store: SessionStore) -> Hosted:
    """An agent, a team and a workflow storing into ``store`` (every backend)."""
    return Hosted(store)


@pytest.fixture
async def client(hosted: Hosted) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app hosting ``hosted``; ``dbs`` is left out, so the runtimes' store is served."""
    app = create_app(**hosted.app_options())
    async for c in asgi_client(app):
        yield c
