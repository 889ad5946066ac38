"""One read in flight per event loop, shared by every caller that asked before it was sent.

PostgreSQL's data version (``pg_current_snapshot()``, see ``PostgresDb.aread_version``) is one
round trip, whose client side alone costs ~180 µs of CPU in psycopg: as much as the rest of a
cached answer. Under load many requests ask for it at once, and one answer serves them all,
provided it was read *after* each of them asked (an older answer might predate a commit the
caller already saw acknowledged). So the callers queue for the next read, as a group commit
does: while a read is in flight, those who ask wait for the one sent when it returns; a read
is sent only after everyone it answers had asked.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

_T = TypeVar("_T")


@dataclass(eq=False)
class _Rounds(Generic[_T]):
    """One event loop's state: the read being made, and the callers waiting for the next one."""

    running: asyncio.Task[None] | None = None
    waiting: asyncio.Future[_T] | None = None


class SharedRead(Generic[_T]):
    """``read()`` made once for every group of concurrent callers, each answered by a read sent
    after it asked.

    Args:
        read: the read; it must not raise (answer a value that says it failed instead).
    """

    def __init__(self, read: Callable[[], Awaitable[_T]]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Rounds[_T]] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self) -> _T:
        """The answer of a read sent after this call began."""
        loop = asyncio.get_running_loop()
        with self._lock:
            rounds = self._loops.get(loop)
            if rounds is None:
                rounds = self._loops[loop] = _Rounds()
        if rounds.waiting is None:
            rounds.waiting = loop.create_future()
        waiting = rounds.waiting
        if rounds.running is None:
            rounds.running = loop.create_task(self._rounds(rounds))
        # Shielded: a caller that gives up must not cancel the others' read.
        return await asyncio.shield(waiting)

    async def _rounds(self, rounds: _Rounds[_T]) -> None:
        """Read for the waiting group, then for the group that gathered meanwhile, until none."""
        try:
            while (group := rounds.waiting) is not None:
                # From here on, callers wait for the next read: this one may be sent before they ask.
                rounds.waiting = None
                try:
                    answer = await self._read()
                except BaseException:
                    group.cancel()
                    raise
                group.set_result(answer)
        finally:
            rounds.running = None
            if rounds.waiting is not None and not rounds.waiting.done():
                rounds.waiting.cancel()
                rounds.waiting = None
