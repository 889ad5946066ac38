"""Waking change-feed readers on PostgreSQL's ``NOTIFY`` (see :mod:`sessiondb.db._sql.changes`).

Every write that records changes sends ``NOTIFY`` on its changes table's channel, delivered
at commit to every connection listening, in any process. :class:`ChangeListener` keeps one
``LISTEN`` connection per event loop while some reader watches, and wakes all of that loop's
watches on each notification. The notification carries nothing: readers then read the table,
which stays the only truth, so a lost or merged notification costs a delay, never a change.

While the connection is down (or not yet listening) a watch waits at most
:data:`~sessiondb.db.changes.POLL_INTERVAL_S`, as a polling one would; the listener reconnects
every :data:`RECONNECT_S` seconds. Right after ``LISTEN`` succeeds every watch is woken once,
since a change may have committed before it listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import psycopg
from psycopg import sql

from sessiondb.db.changes import POLL_INTERVAL_S, ChangeWatch

logger = logging.getLogger("sessiondb.db")

RECONNECT_S = 1.0
"""Seconds between attempts to (re)open a broken ``LISTEN`` connection."""


@dataclass(eq=False)
class _LoopListener:
    """One event loop's ``LISTEN`` task and the watches it wakes."""

    watches: set[NotifiedWatch] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    listening: bool = False

    def wake(self) -> None:
        for watch in self.watches:
            watch.woken.set()


class ChangeListener:
    """``LISTEN`` on one channel, one connection per event loop, shared by that loop's watches.

    Args:
        connect_args: keyword arguments of ``psycopg.AsyncConnection.connect``.
        channel: the channel to listen on.
    """

    def __init__(self, connect_args: Mapping[str, Any], channel: str) -> None:
        self._connect_args = dict(connect_args)
        self._channel = channel
        self._lock = threading.Lock()
        self._loops: dict[asyncio.AbstractEventLoop, _LoopListener] = {}

    def watch(self) -> NotifiedWatch:
        """A watch woken by this listener (use it as an async context manager)."""
        return NotifiedWatch(self)

    def _join(self, watch: NotifiedWatch) -> _LoopListener:
        loop = asyncio.get_running_loop()
        with self._lock:
            listener = self._loops.get(loop)
            if listener is None:
                listener = self._loops[loop] = _LoopListener()
            listener.watches.add(watch)
            if listener.task is None:
                listener.task = loop.create_task(self._listen(listener), name="sessiondb-changes-listen")
            return listener

    def _leave(self, watch: NotifiedWatch, listener: _LoopListener) -> asyncio.Task[None] | None:
        """Forget ``watch``; the listening task to stop when it was the loop's last one."""
        with self._lock:
            listener.watches.discard(watch)
            if listener.watches:
                return None
            task, listener.task = listener.task, None
            listener.listening = False
            return task

    async def _listen(self, listener: _LoopListener) -> None:
        statement = sql.SQL("LISTEN {}").format(sql.Identifier(self._channel))
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args)
                async with conn:
                    await conn.execute(statement)
                    listener.listening = True
                    listener.wake()
                    async for _notify in conn.notifies():
                        listener.wake()
            except psycopg.Error as exc:
                # Watches poll meanwhile (see the module docstring); the table loses nothing.
                logger.warning("sessiondb: change feed LISTEN connection failed (%s); retrying", exc)
            listener.listening = False
            await asyncio.sleep(RECONNECT_S)


class NotifiedWatch(ChangeWatch):
    """A :class:`~sessiondb.db.changes.ChangeWatch` woken by ``NOTIFY`` (see the module docstring)."""

    def __init__(self, listener: ChangeListener) -> None:
        self._listener = listener
        self._joined: _LoopListener | None = None
        self.woken = asyncio.Event()

    async def wait(self, at_most: float) -> None:
        """Return on the next notification since the last return, after at most ``at_most``
        seconds (:data:`POLL_INTERVAL_S` while not listening)."""
        joined = self._joined
        limit = at_most if joined is not None and joined.listening else min(at_most, POLL_INTERVAL_S)
        with anyio.move_on_after(max(limit, 0.0)):
            await self.woken.wait()
        self.woken.clear()

    async def __aenter__(self) -> NotifiedWatch:
        self._joined = self._listener._join(self)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        joined, self._joined = self._joined, None
        task = self._listener._leave(self, joined) if joined is not None else None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
