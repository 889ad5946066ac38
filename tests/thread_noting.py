"""Stores that note the thread each read ran on: for the tests of where reads run.

An event-loop view of a store is a shallow copy of it, so a view's reads land in the same
list as the store's.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sessiondb.db.postgres import PostgresDb
from sessiondb.db.query import Page, SessionQuery
from sessiondb.db.sqlite import SqliteDb
from sessiondb.run.workflow import AnyRun
from sessiondb.session import Session


class ThreadNoting:
    """Mixed in before a store class (whose reads ``super()`` reaches): notes the thread of
    every read in ``read_threads``."""

    read_threads: list[int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read_threads = []

    def _note(self) -> None:
        self.read_threads.append(threading.get_ident())

    def get_session(self, session_id: str, **kwargs: Any) -> Session:
        self._note()
        return super().get_session(session_id, **kwargs)

    def get_sessions(self, query: SessionQuery) -> Page[Session]:
        self._note()
        return super().get_sessions(query)

    def get_run(self, run_id: str, **kwargs: Any) -> AnyRun:
        self._note()
        return super().get_run(run_id, **kwargs)

    def get_runs(self, session_id: str, **kwargs: Any) -> list[AnyRun]:
        self._note()
        return super().get_runs(session_id, **kwargs)

    def run_counts(self, session_ids: Sequence[str], **kwargs: Any) -> dict[str, int]:
        self._note()
        return super().run_counts(session_ids, **kwargs)


class ThreadNotingSqliteDb(ThreadNoting, SqliteDb):
    """A ``SqliteDb`` noting the thread of every read; its event-loop views share the list."""


class ThreadNotingPostgresDb(ThreadNoting, PostgresDb):
    """A ``PostgresDb`` noting the thread of every read."""
