"""Lifecycle chores while serving: retention policies, purging the trash, pruning the change feed.

``sessiondb serve`` runs them every ``interval`` (``--retention FILE``'s, else an hour), in a
worker thread, first right after start-up: the policies of the file if any, then the purge
(the trash with ``--soft-delete``, and the change feed's changes older than its window). When several servers
serve one database only the one holding the store's
:meth:`~sessiondb.db.base.SessionStore.maintenance_lock` runs them; the others skip that turn.
A failure is logged and the next turn tries again: the chores are idempotent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import anyio
import anyio.to_thread

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import StoreError
from sessiondb.db.retention import DEFAULT_INTERVAL, RetentionPolicy

logger = logging.getLogger("sessiondb.api")


@dataclass(frozen=True)
class Maintenance:
    """What to do to which stores, and how often.

    Attributes:
        stores: the stores served.
        policies: retention policies applied to each store, in order.
        interval: time between two turns.
    """

    stores: Sequence[SessionStore]
    policies: Sequence[RetentionPolicy]
    interval: timedelta = DEFAULT_INTERVAL

    def run_once(self) -> None:
        """One turn over every store whose maintenance lock this process gets (blocking)."""
        for store in self.stores:
            try:
                with store.maintenance_lock() as mine:
                    if not mine:
                        logger.info("sessiondb: another server maintains %s; skipping this turn", store.id)
                        continue
                    for policy in self.policies:
                        report = store.apply_retention(policy)
                        if report.sessions:
                            done = "moved to the trash" if report.soft else "deleted"
                            logger.info(
                                "sessiondb: retention %s %d sessions (%d runs) of %s",
                                done,
                                report.sessions,
                                report.runs,
                                store.id,
                            )
                    purged = store.purge()
                    if purged.sessions or purged.changes:
                        logger.info(
                            "sessiondb: purged %d sessions (%d runs) from the trash and %d old changes of %s",
                            purged.sessions,
                            purged.runs,
                            purged.changes,
                            store.id,
                        )
            except (StoreError, OSError) as exc:
                # A chore must not take the server down: the next turn tries again.
                logger.warning("sessiondb: maintenance of %s failed (%s); retrying next turn", store.id, exc)


async def _loop(maintenance: Maintenance, closing: threading.Event) -> None:
    seconds = maintenance.interval.total_seconds()
    while not closing.is_set():
        await anyio.to_thread.run_sync(maintenance.run_once)
        # A thread waits on the (thread-safe) shutdown flag, so the loop ends with the server;
        # on cancellation it is abandoned, and returns once the lifespan sets the flag.
        await anyio.to_thread.run_sync(closing.wait, seconds, abandon_on_cancel=True)


@asynccontextmanager
async def maintaining(maintenance: Maintenance, closing: threading.Event) -> AsyncIterator[None]:
    """Run :class:`Maintenance` turns in the background for the block (a lifespan's)."""
    async with anyio.create_task_group() as group:
        group.start_soon(_loop, maintenance, closing)
        try:
            yield
        finally:
            group.cancel_scope.cancel()
