"""The web console's list page at a large size: ``python -m bench.console [--sessions N]``.

Fills a listing dataset as the listing workloads do (100 sessions per user; reused when the
SQLite file is there already), gives each session of the first page :data:`RUNS_SHOWN` runs
(the page shows their run counts), then times ``GET /ui`` three ways through the app in process
(an httpx ASGI client, so the figure is the server's time plus a small client overhead): every
session, one user's, and the next page by cursor, next to the store's own counted listing and
the page's run counts two ways: ``run_counts`` (one grouped read, what the page does) against
one ``get_runs`` per session shown.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from bench import seed
from bench.env import DEFAULT_PG_URL, Env
from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.query import SessionQuery

CALLS = 60
RUNS_SHOWN = 40
"""Runs of each session on the first page: enough that counting them is not free."""
PAGE = 25


def _percentiles(times: list[float]) -> str:
    times.sort()
    return f"p50 {times[len(times) // 2] * 1000:.2f} ms, p90 {times[int(len(times) * 0.9)] * 1000:.2f} ms"


async def _timed(call: Callable[[], Awaitable[object]]) -> str:
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return _percentiles(times)


async def _measure(env: Env, total: int) -> None:
    dataset = env.dataset(f"list{total}")
    if dataset.store.get_sessions(SessionQuery(limit=1)).total_count < total:
        seed.listing(dataset, total, [], per_user=100)
    _give_runs(dataset.store)
    app = create_app(dbs=[dataset.store])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        first = await client.get("/ui")
        first.raise_for_status()
        found = re.search(r'id="next-page" href="([^"]+)"', first.text)
        assert found is not None, "a full first page links to the next"
        older = found.group(1).replace("&amp;", "&")

        for label, url in (("every session", "/ui"), ("one user's", "/ui?user=u4242"), ("next page", older)):

            async def page(url: str = url) -> None:
                response = await client.get(url)
                response.raise_for_status()

            figures = await _timed(page)
            print(f"{env.backend} {total:,} sessions, GET /ui {label}: {figures}")
    store = dataset.store

    async def counted() -> None:
        await store.aget_sessions(SessionQuery(limit=25))

    print(f"{env.backend} {total:,} sessions, store listing with the total count: {await _timed(counted)}")

    first_page = store.get_sessions(SessionQuery(limit=PAGE, count_total=False)).items
    shown = [item.session_id for item in first_page]

    async def grouped() -> None:
        await store.arun_counts(shown)

    async def one_by_one() -> None:
        for session_id in shown:
            await store.aget_runs(session_id)

    print(f"{env.backend} the first page's run counts, run_counts: {await _timed(grouped)}")
    print(f"{env.backend} the first page's run counts, get_runs per session: {await _timed(one_by_one)}")


def _give_runs(store: SessionStore) -> None:
    """Give each session of the first page :data:`RUNS_SHOWN` runs (once: kept with the data)."""
    page = store.get_sessions(SessionQuery(limit=PAGE, count_total=False)).items
    counts = store.run_counts([item.session_id for item in page])
    for item in page:
        if counts.get(item.session_id, 0) >= RUNS_SHOWN:
            continue
        session = store.get_session(item.session_id)
        for index in range(RUNS_SHOWN):
            session.upsert_run(seed.run_object(item.session_id, item.user_id or "u", index))
        store.upsert_session(session)


def main() -> None:
    """Parse the options and print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--dir", type=Path, help="where the SQLite file lives (reused between runs)")
    options = parser.parse_args()
    if options.backend == "sqlite" and options.dir is not None:
        options.dir.mkdir(parents=True, exist_ok=True)
        env = Env("sqlite", options.dir)
    else:
        env = Env.create(options.backend, pg_url=options.pg_url)
    try:
        asyncio.run(_measure(env, options.sessions))
    finally:
        if options.dir is None:
            env.close()  # a fresh directory (and PostgreSQL schema) is not kept


if __name__ == "__main__":
    main()
