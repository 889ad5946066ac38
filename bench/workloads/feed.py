"""The change feed's latency across two processes: a write here, its event on a server's feed.

``change_feed_latency`` times one write made in the benchmark process (``upsert_run`` into a
session) until a ``sessiondb serve`` subprocess over the same database has sent the matching
``run.created`` event on ``GET /changes`` to a client reading the stream. It is the delay a
dashboard or another server sees between a commit and its notification.

The baseline does the least the same job needs with the raw driver on the same tables:
PostgreSQL appends the run (the same two statements as the raw append) and sends
``pg_notify`` in that transaction, and a second connection, ``LISTEN``-ing, receives it;
SQLite has no notification, so a second connection polls for the run at the feed's own
interval (:data:`~sessiondb.db.changes.POLL_INTERVAL_S`), the floor any SQLite feed reader has.
The issue's bar is absolute: a change reaches another process's feed within a second.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import psycopg

from bench import data, seed
from bench.config import Sizes
from bench.driver import psycopg_url
from bench.env import Dataset, Env
from bench.raw import run_row
from bench.result import Result, latency_result
from bench.stats import interleave
from bench.workloads.http import sessiondb_server
from sessiondb.db.changes import POLL_INTERVAL_S

USER = "u-feed"
OURS, RAW = "feed-ours", "feed-raw"
CHANNEL = "bench_feed"
MAX_LATENCY_S = 1.0
WAIT_S = 10.0
"""The longest one write waits for its event before the workload fails."""


def _sizes(sizes: Sizes) -> tuple[int, int]:
    """Rounds and writes per round: every SQLite write waits up to a poll interval."""
    return (2, 3) if sizes.name == "quick" else (3, 10)


class _Arrivals:
    """Ids seen by a reader thread, handed to the timing thread as they arrive."""

    def __init__(self) -> None:
        self._seen: queue.Queue[str] = queue.Queue()
        self.failure: BaseException | None = None

    def put(self, key: str) -> None:
        self._seen.put(key)

    def wait_for(self, key: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while True:
            left = deadline - time.monotonic()
            if self.failure is not None:
                raise RuntimeError(f"feed reader failed: {self.failure!r}")
            if left <= 0:
                raise RuntimeError(f"{key} did not arrive within {WAIT_S:g} s")
            try:
                if self._seen.get(timeout=min(left, 0.5)) == key:
                    return
            except queue.Empty:
                continue


@contextmanager
def _feed_reader(port: int, arrivals: _Arrivals) -> Iterator[None]:
    """Read ``GET /changes`` in a thread; every ``run.created`` event's ``run_id`` arrives."""
    stop = threading.Event()
    connected = threading.Event()

    def read() -> None:
        timeout = httpx.Timeout(5.0, read=30.0)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout) as client:
                with client.stream("GET", "/changes") as response:
                    response.raise_for_status()
                    connected.set()
                    event = ""
                    for line in response.iter_lines():
                        if stop.is_set():
                            return
                        if line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: ") and event == "run.created":
                            arrivals.put(str(orjson.loads(line[6:])["run_id"]))
        except BaseException as error:  # handed to the timing thread, which raises it
            if not stop.is_set():
                arrivals.failure = error
            connected.set()

    thread = threading.Thread(target=read, name="feed-reader", daemon=True)
    thread.start()
    if not connected.wait(WAIT_S) or arrivals.failure is not None:
        raise RuntimeError(f"could not open the change feed: {arrivals.failure!r}")
    try:
        yield
    finally:
        stop.set()  # the daemon thread ends with the server's stream


@contextmanager
def _raw_listener(env: Env, arrivals: _Arrivals, dataset: Dataset) -> Iterator[None]:
    """The baseline's reader: ``LISTEN`` on PostgreSQL, a polling connection on SQLite."""
    stop = threading.Event()
    d = dataset.raw.driver
    runs = d.table(dataset.raw.runs)

    def listen() -> None:
        with psycopg.connect(psycopg_url(env.pg_url), autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            ready.set()
            while not stop.is_set():
                for note in conn.notifies(timeout=0.5, stop_after=1):
                    arrivals.put(note.payload)

    def poll() -> None:
        import sqlite3

        conn = sqlite3.connect(dataset.location["db_file"], isolation_level=None)
        query = f"SELECT run_id FROM {runs} WHERE session_id = ? AND run_index > ? ORDER BY run_index"
        newest = f"SELECT coalesce(max(run_index), -1) FROM {runs} WHERE session_id = ?"
        last = int(conn.execute(newest, (RAW,)).fetchone()[0])
        ready.set()
        while not stop.wait(POLL_INTERVAL_S):
            for (run_id,) in conn.execute(query, (RAW, last)).fetchall():
                arrivals.put(run_id)
                last += 1
        conn.close()

    ready = threading.Event()
    target: Callable[[], None] = listen if d.dialect == "postgres" else poll
    thread = threading.Thread(target=target, name="raw-listener", daemon=True)
    thread.start()
    if not ready.wait(WAIT_S):
        raise RuntimeError("the raw listener did not start")
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=WAIT_S)


def _raw_append_and_notify(dataset: Dataset, run: dict[str, Any]) -> None:
    """The raw append's two statements, plus ``pg_notify`` in the same transaction on PostgreSQL."""
    raw = dataset.raw
    d = raw.driver
    now = int(time.time())
    bump = (
        f"UPDATE {d.table(raw.sessions)} SET updated_at = ?, version = version + 1, "
        "next_run_index = next_run_index + 1 WHERE session_id = ? RETURNING next_run_index"
    )
    with d.transaction(write=True) as cursor:
        cursor.execute(d.sql(bump), (now, RAW))
        index = int(cursor.fetchone()[0]) - 1
        cursor.execute(d.sql(raw._insert_run()), run_row(run, RAW, index, now))
        if d.dialect == "postgres":
            cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, run["run_id"]))


def run(env: Env, sizes: Sizes) -> list[Result]:
    """The ``feed`` family: one result, the latency of a change across two processes."""
    dataset = env.dataset("feed")
    seed.sessions_with_runs(dataset, [OURS, RAW], USER, 1)
    rounds, per_round = _sizes(sizes)
    ours, theirs = _Arrivals(), _Arrivals()
    server = sessiondb_server(env, dataset, f"/sessions/{OURS}?type=agent")
    try:
        with _feed_reader(server.port, ours), _raw_listener(env, theirs, dataset):

            def write_ours(i: int) -> None:
                made = seed.run_object(OURS, USER, 1 + i)
                dataset.store.upsert_run(OURS, made)
                ours.wait_for(made.run_id)

            def write_raw(i: int) -> None:
                made = data.run_dict(RAW, USER, 1 + i)
                _raw_append_and_notify(dataset, made)
                theirs.wait_for(made["run_id"])

            measured = interleave(
                {"sessiondb": write_ours, "baseline": write_raw}, rounds=rounds, per_round=per_round, warmup=2
            )
    finally:
        server.stop()
    result = latency_result(
        env.backend,
        "change_feed_latency",
        {"processes": 2},
        measured,
        target=f"event on another process's feed ≤ {MAX_LATENCY_S:g} s",
    )
    # The bar is the delay itself, not a ratio: SQLite's floor is its poll interval.
    result.passed = measured["sessiondb"].median <= MAX_LATENCY_S
    result.extra["poll_interval_s"] = POLL_INTERVAL_S if env.backend == "sqlite" else None
    return [result]
