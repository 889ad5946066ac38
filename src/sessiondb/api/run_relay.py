"""A streamed run that outlives its client: the run is driven by a task of its own.

A client that hangs up mid-stream used to end the run with it: the response stopped pulling
events, and the run stayed ``RUNNING`` in the store with no content. Now the run's events are
pulled by a background task into a queue, and the response only reads the queue: when the
client goes away the response ends, and the run carries on to its final status (``COMPLETED``
with its reply, or ``ERROR``), stored as usual. The events nobody reads any more are dropped
with the queue when the run ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from sessiondb.agent import RunEvent

_running: set[asyncio.Task[None]] = set()
"""The relays' tasks: the event loop keeps only weak references to tasks."""


@dataclass(frozen=True)
class _Failed:
    error: Exception


class _End:
    pass


_END = _End()


class RunRelay:
    """Drive a run's event stream in a background task; iterate the relay to read its events.

    Iterating ends after the last event, or raises what the run raised.
    """

    def __init__(self, events: AsyncGenerator[RunEvent, None]) -> None:
        """Start pulling ``events`` (on the running event loop) right away."""
        self._queue: asyncio.Queue[RunEvent | _Failed | _End] = asyncio.Queue()
        task = asyncio.get_running_loop().create_task(self._drain(events))
        _running.add(task)
        task.add_done_callback(_running.discard)

    async def _drain(self, events: AsyncGenerator[RunEvent, None]) -> None:
        try:
            async for event in events:
                self._queue.put_nowait(event)
        except Exception as exc:  # handed to the reader, which reports it to the client
            self._queue.put_nowait(_Failed(exc))
        else:
            self._queue.put_nowait(_END)
        finally:
            await events.aclose()

    async def __aiter__(self) -> AsyncIterator[RunEvent]:
        """The run's events, as they come."""
        while True:
            item = await self._queue.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item


__all__ = ["RunRelay"]
