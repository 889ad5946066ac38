"""Ending long responses (the change feed) when the server is asked to stop.

uvicorn, on SIGINT or SIGTERM, stops accepting connections and then waits for every response
in progress to finish before it runs the app's lifespan shutdown, so an endless stream would
hold the server up forever (or until it is killed). The app's lifespan therefore puts a
handler in front of the server's own for those signals: it sets ``app.state.closing`` (a
:class:`threading.Event` that streams check between events) and then calls the server's
handler as before. Outside the main thread (a test client) signals cannot be handled, and
``closing`` is set when the lifespan ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _chain(closing: threading.Event) -> Callable[[], None]:
    """Install the handlers; returns what puts the previous ones back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        closing.set()
        before = previous.get(signum)
        if callable(before):
            before(signum, frame)
        elif before == signal.SIG_DFL:
            # No server handler in front of ours: behave as the default would have.
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    for signum in _SIGNALS:
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handler)

    def restore() -> None:
        for signum, before in previous.items():
            if signal.getsignal(signum) is handler and before is not None:
                signal.signal(signum, before)

    return restore


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: streams end on SIGINT/SIGTERM, and at the latest when it ends."""
    closing: threading.Event = app.state.closing
    restore = _chain(closing)
    try:
        yield
    finally:
        closing.set()
        restore()
