"""The app ``sessiondb serve`` runs, built from its settings, in one process or in each worker.

With ``--workers N`` (N > 1) uvicorn starts every worker in a fresh interpreter (``spawn``) and
has it import the app by name. The parent therefore hands the resolved settings down in an
environment variable (:func:`export_settings`), and each worker builds the very app a single
process would (:func:`worker_app`), with its own connections to the same databases.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import orjson
from fastapi import FastAPI

from sessiondb.agent import _lease
from sessiondb.api.cors import DEFAULT_CORS_ORIGINS
from sessiondb.api.maintenance import Maintenance, maintaining
from sessiondb.api.serve import ServeSettings, replicas_by_db, split_db_arg
from sessiondb.api.startup import ServedDatabase, open_served, wait_for
from sessiondb.api.startup_heap import freeze_after_startup
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.retention import DEFAULT_INTERVAL, RetentionFile, load_retention_file
from sessiondb.db.sqlite import SqliteDb

SETTINGS_VARIABLE = "SESSIONDB_WORKER_SETTINGS"
"""The environment variable that carries the resolved settings from ``serve`` to its workers.

It holds what the flags, the ``SESSIONDB_*`` variables and the config file said, secrets
included, so it is as private as they are: only the same user's processes can read it.
"""

WORKER_APP = f"{__name__}:worker_app"
"""The import string uvicorn gives each worker (a factory: it is called once per worker)."""


@dataclass
class ServedApp:
    """An app ready to serve, and the databases ``serve`` opened for it (none for ``--app``)."""

    app: FastAPI
    databases: list[ServedDatabase] = field(default_factory=list)

    @property
    def stores(self) -> list[SessionStore]:
        """The stores serving the databases now."""
        return [store for database in self.databases for store in database.stores]

    def close(self) -> None:
        """Close the stores ``serve`` opened; an ``--app`` app's own stores are its business."""
        for database in self.databases:
            database.close()


def build_served_app(settings: ServeSettings, app_ref: str | None) -> ServedApp:
    """The app of ``settings``: the sessions API over ``settings.db``, or the ``--app`` app.

    A key or JWT given to ``serve`` overrides an ``--app`` app's own auth. Settings that must
    not be served are refused before any database is opened (a SQLite store creates its
    file's directory) where that is known up front, and otherwise before returning.

    Raises:
        CannotOpen: a ``--db`` file is not a SQLite database.
        StoreError: a database refused to be migrated.
        ValueError: a setting is invalid, a URL is not supported, ``app_ref`` does not name an
            app made by ``create_app``, the host is beyond loopback with auth off (without
            ``insecure``), or several workers would each hold their own in-memory store.
        OSError: the JWT public key file cannot be read.
    """
    from sessiondb.api import create_app
    from sessiondb.api.app import refuse_if_exposed
    from sessiondb.api.app_loader import load_app

    auth = settings.auth()
    field_limits = settings.field_limits()
    if app_ref is not None:
        if tuple(settings.cors_origins) != DEFAULT_CORS_ORIGINS:
            raise ValueError("--cors-origin does not apply to --app: give its create_app cors_origins=[...]")
        hosted = load_app(app_ref)
        if auth.enabled:
            hosted.state.auth = auth
        # Only the loaded app knows its own auth.
        refuse_if_exposed(settings.host, hosted.state.auth, insecure=settings.insecure)
        served = ServedApp(hosted)
    else:
        refuse_if_exposed(settings.host, auth, insecure=settings.insecure)
        policies = load_retention_file(Path(settings.retention)) if settings.retention else None
        options = settings.store_options()
        databases: list[ServedDatabase] = []
        try:
            replicas = replicas_by_db(settings)
            for value in settings.db:
                db_id = split_db_arg(value)[0]
                databases.append(
                    open_served(
                        value,
                        auto_migrate=settings.auto_migrate,
                        read_replicas=replicas.get(db_id, []),
                        timeouts=settings.timeouts(),
                        options=options,
                    )
                )
            stores = [store for database in databases for store in database.stores]
            app = create_app(
                stores,
                auth=auth,
                max_body_bytes=settings.max_body_bytes,
                field_limits=field_limits,
                cors_origins=settings.cors_origins,
                health_timeout_s=settings.health_timeout,
                read_cache=settings.read_cache,
            )
        except BaseException:
            for database in databases:
                database.close()
            raise
        served = ServedApp(app, databases)
        # Always: the change feed is pruned by the purge even without a trash or policies. The
        # stores are read at each turn: a database that answers only later gets its own.
        schedule_maintenance(app, _ServedStores(served), policies)
    # Last, so that the collector's view is frozen after every other start-up step.
    freeze_after_startup(served.app)
    try:
        refuse_per_process_stores(served, settings.workers)
    except ValueError:
        served.close()
        raise
    for database in served.databases:
        wait_for(database, served.app.state.registry, auto_migrate=settings.auto_migrate)
    return served


class _ServedStores(Sequence[SessionStore]):
    """The stores serving an app's databases at the time they are read (see :func:`wait_for`)."""

    def __init__(self, served: ServedApp) -> None:
        self._served = served

    @overload
    def __getitem__(self, index: int) -> SessionStore: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SessionStore]: ...
    def __getitem__(self, index: int | slice) -> SessionStore | Sequence[SessionStore]:
        return self._served.stores[index]

    def __len__(self) -> int:
        return len(self._served.stores)

    def __iter__(self) -> Iterator[SessionStore]:
        return iter(self._served.stores)


def schedule_maintenance(
    app: FastAPI, stores: Sequence[SessionStore], policies: RetentionFile | None
) -> None:
    """Run the retention policies and the purge on a schedule while ``app`` serves
    (see :mod:`sessiondb.api.maintenance`), inside its lifespan; and sweep each store for runs
    abandoned by a process that died, every lease renewal period (:mod:`sessiondb.agent._lease`)."""
    maintenance = Maintenance(
        stores,
        policies.policies if policies is not None else [],
        policies.interval if policies is not None else DEFAULT_INTERVAL,
    )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with inner(served), maintaining(maintenance, served.state.closing):
            for store in stores:
                _lease.watch(store)
            yield

    app.router.lifespan_context = lifespan


def _per_process(store: SessionStore) -> bool:
    return isinstance(store, InMemoryDb) or (isinstance(store, SqliteDb) and store.in_memory)


def refuse_per_process_stores(served: ServedApp, workers: int) -> None:
    """Refuse several workers over a store that lives in one process's memory.

    Each worker would hold its own empty copy, and a client would see whichever one its
    connection landed on: ``InMemoryDb``, and SQLite's in-memory databases.

    Raises:
        ValueError: ``workers`` > 1 and the app serves an in-memory store.
    """
    if workers <= 1:
        return
    in_memory = [db_id for db_id, store in served.app.state.registry.items() if _per_process(store)]
    if in_memory:
        raise ValueError(
            f"--workers {workers} needs databases the worker processes share, but {in_memory} "
            "is in memory (one copy per process): serve a SQLite file or PostgreSQL, or use --workers 1"
        )


def export_settings(settings: ServeSettings, app_ref: str | None) -> None:
    """Put the settings where the workers :func:`worker_app` starts will read them."""
    payload = {"settings": dataclasses.asdict(settings), "app": app_ref}
    os.environ[SETTINGS_VARIABLE] = orjson.dumps(payload).decode()


def worker_app() -> FastAPI:
    """Build one worker's app from the settings its parent exported (uvicorn's app factory).

    Raises:
        RuntimeError: the process was not started by ``sessiondb serve --workers``.
    """
    exported = os.environ.get(SETTINGS_VARIABLE)
    if exported is None:
        raise RuntimeError(
            f"{WORKER_APP} is started by 'sessiondb serve --workers N', which sets {SETTINGS_VARIABLE}"
        )
    payload = orjson.loads(exported)
    settings = ServeSettings(**payload["settings"])
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s")
    served = build_served_app(settings, payload["app"])
    # uvicorn returns from a worker's serve loop and lets the process exit normally.
    atexit.register(served.close)
    return served.app
