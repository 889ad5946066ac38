"""Keep what a served app built at start-up out of the cyclic garbage collector's walks.

Everything a server builds before it serves (the app's routes and their pydantic schemas,
the stores and their statements, the imported modules: about 150,000 objects) lives until
the process exits, yet every full collection walked it all again. Under load on PostgreSQL,
where each request keeps more objects alive across its awaits, full collections came every
second or so and each stopped the event loop for 80-140 ms: the p99 of ``GET /sessions`` at
32 clients was 90-130 ms against a p50 of 5-9 ms. Once start-up is over, the server moves
those objects to the collector's permanent generation (``gc.freeze()``): p99 7-12 ms
(docs/benchmarks.md). Objects built later are collected as before.

``sessiondb serve`` does this for the app it serves (every worker too). An application that
mounts ``create_app`` in its own server decides for its own process: call
:func:`freeze_after_startup` on the app, or ``gc.freeze()`` where its start-up ends.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI


def freeze_after_startup(app: FastAPI) -> None:
    """Make ``app``'s lifespan freeze the collector's view of the heap once its start-up is done."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with inner(served):
            # The garbage start-up left goes first, so only what lives on is frozen.
            gc.collect()
            gc.freeze()
            yield

    app.router.lifespan_context = lifespan
