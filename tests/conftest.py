"""Fixtures shared by every test directory (the helpers live in ``store_backends.py``).

- ``store``: a fresh, migrated store of each backend in ``BACKENDS`` (memory, SQLite file,
  PostgreSQL schema); a test directory may override it.
- ``sql_target``: a fresh SQL database of each SQL backend (``SqlTarget``), to open stores on.
- ``sql_store``: a migrated store on ``sql_target``.
- ``browser``: headless Chromium (``browser_support.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import fastapi.dependencies.models
import pytest

from browser_support import browser  # noqa: F401  (a fixture for every directory)
from sessiondb.db._sql import SqlStore
from sessiondb.db.base import SessionStore
from store_backends import BACKEND_PARAMS, BACKENDS, SQL_PARAMS, SqlTarget, sql_target_for


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the collected tests and every module imported so far out of the collector's walks.

    They live until the run ends, yet each full collection walked them all again (about 0.5 s
    each, a hundred times in ``tests/db`` alone); frozen, they are never walked.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _forget_fastapis_callables() -> Iterator[None]:
    """Let each test's apps go when it ends.

    FastAPI keeps the last 4,096 dependency callables it classified (``lru_cache`` in
    ``fastapi.dependencies.models``), and an app's dependencies close over the app: every app
    of the last hundred tests or so stayed alive, about 5 million objects by the end of
    ``tests/api``, and each full collection (4 s) walked them all.
    """
    yield
    for name in dir(fastapi.dependencies.models):
        cached = getattr(fastapi.dependencies.models, name)
        if name.endswith("_cached") and hasattr(cached, "cache_clear"):
            cached.cache_clear()


@pytest.fixture(params=BACKEND_PARAMS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """A fresh store of each backend in ``BACKENDS``."""
    with BACKENDS[request.param](tmp_path) as created:
        yield created


@pytest.fixture(params=SQL_PARAMS)
def sql_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlTarget]:
    """An empty database of each SQL backend; nothing is migrated yet."""
    with sql_target_for(request.param, tmp_path) as target:
        yield target


@pytest.fixture
def sql_store(sql_target: SqlTarget) -> Iterator[SqlStore]:
    """A migrated store on ``sql_target``."""
    created = sql_target.open()
    created.migrate()
    try:
        yield created
    finally:
        created.close()
