"""``SharedRead``: concurrent callers share a read, and each gets one sent after it asked."""

from __future__ import annotations

import asyncio

from sessiondb.db._sql.shared_read import SharedRead


class Counter:
    """A read answering how many reads were sent before it, taking a while to answer."""

    def __init__(self) -> None:
        self.sent = 0
        self.release = asyncio.Event()

    async def read(self) -> int:
        self.sent += 1
        number = self.sent
        await self.release.wait()
        return number


async def test_callers_asking_together_share_one_read() -> None:
    counter = Counter()
    shared = SharedRead(counter.read)
    callers = [asyncio.create_task(shared()) for _ in range(10)]
    await asyncio.sleep(0)
    counter.release.set()

    assert await asyncio.gather(*callers) == [1] * 10
    assert counter.sent == 1


async def test_a_caller_arriving_during_a_read_gets_the_next_one() -> None:
    counter = Counter()
    shared = SharedRead(counter.read)
    first = asyncio.create_task(shared())
    await asyncio.sleep(0.01)  # the first read is in flight
    later = [asyncio.create_task(shared()) for _ in range(5)]
    await asyncio.sleep(0.01)
    counter.release.set()

    assert await first == 1
    assert await asyncio.gather(*later) == [2] * 5  # sent after they asked, and shared
    assert counter.sent == 2
    assert await shared() == 3  # a read once everything is idle is a new one


async def test_a_caller_giving_up_leaves_the_read_to_the_others() -> None:
    counter = Counter()
    shared = SharedRead(counter.read)
    quitter, stayer = asyncio.create_task(shared()), asyncio.create_task(shared())
    await asyncio.sleep(0.01)
    quitter.cancel()
    counter.release.set()

    assert await stayer == 1
    assert quitter.cancelled()
