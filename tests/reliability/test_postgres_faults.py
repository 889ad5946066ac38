"""PostgreSQL dropping every connection under load: 503s, self-healing, nothing acknowledged lost.

The outage is a TCP proxy between the server and PostgreSQL that the test cuts and restores
(``tcp_proxy.py`` in the API tests): it drops every open connection and refuses new ones, as
a database restart does, without disturbing anyone else using the real server. The opt-in
soak (``tests/soak``) restarts the real server as well.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from api_seed import agent_run
from tcp_proxy import TcpProxy

from live_server import live_server
from sessiondb.db.errors import StoreUnavailable
from sessiondb.db.postgres import PostgresDb
from sessiondb.session import AgentSession
from store_backends import PG_URL, postgres_schema

pytestmark = pytest.mark.postgres

WORKERS = 8


@dataclass
class Proxied:
    """A PostgreSQL schema reached through a proxy the test controls."""

    proxy: TcpProxy
    schema: str

    def url(self) -> str:
        """The proxied URL, as SQLAlchemy takes it."""
        url = sqlalchemy.make_url(PG_URL).set(port=self.proxy.port)
        return url.render_as_string(hide_password=False)

    def store(self) -> PostgresDb:
        """A store on the schema, through the proxy."""
        return PostgresDb(db_url=self.url(), db_schema=self.schema, id="main")


@pytest.fixture
def proxied() -> Iterator[Proxied]:
    """A fresh, migrated schema and a running proxy to the server."""
    url = sqlalchemy.make_url(PG_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    with postgres_schema("fault") as schema:
        proxy.start()
        target = Proxied(proxy, schema)
        store = target.store()
        store.migrate()
        store.close()
        try:
            yield target
        finally:
            proxy.cut()


# -- the live server through an outage -------------------------------------------------------


@dataclass
class Outcome:
    """One request of the load: when it ran and how it ended."""

    started: float
    ended: float
    status: int | None
    error: str | None = None


@dataclass
class Ledger:
    """What the server acknowledged (2xx) to one worker, and what it may have written."""

    created: set[str] = field(default_factory=set)
    state: dict[str, int] = field(default_factory=dict)
    # Writes answered with an error may still have committed (the answer was lost, not the
    # write), so the final state may be any value attempted after the last acknowledged one.
    maybe_state: dict[str, set[int]] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)


async def _request(
    client: httpx.AsyncClient, ledger: Ledger, method: str, url: str, body: dict[str, object]
) -> int | None:
    started = time.monotonic()
    try:
        response = await client.request(method, url, json=body)
    except httpx.HTTPError as exc:
        ledger.outcomes.append(Outcome(started, time.monotonic(), None, repr(exc)))
        return None
    ledger.outcomes.append(Outcome(started, time.monotonic(), response.status_code))
    return response.status_code


async def _worker(base_url: str, number: int, stop: asyncio.Event, ledger: Ledger) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=20) as client:
        for n in range(10_000):
            if stop.is_set():
                return
            session_id = f"w{number}-{n}"
            status = await _request(client, ledger, "POST", "/sessions", {"session_id": session_id})
            if status == 201:
                ledger.created.add(session_id)
            elif status != 503:
                continue
            if session_id not in ledger.created:
                continue
            for value in range(3):
                status = await _request(
                    client, ledger, "PATCH", f"/sessions/{session_id}", {"session_state": {"v": value}}
                )
                if status == 200:
                    ledger.state[session_id] = value
                    ledger.maybe_state[session_id] = set()
                else:
                    ledger.maybe_state.setdefault(session_id, set()).add(value)


async def _load_through_outage(
    base_url: str, proxy: TcpProxy, timeline: dict[str, float]
) -> tuple[list[Ledger], httpx.Response]:
    stop = asyncio.Event()
    ledgers = [Ledger() for _ in range(WORKERS)]
    workers = [asyncio.create_task(_worker(base_url, n, stop, ledgers[n])) for n in range(WORKERS)]
    await asyncio.sleep(1.5)
    timeline["cut"] = time.monotonic()
    await asyncio.to_thread(proxy.cut)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(proxy.start)
    timeline["restored"] = time.monotonic()
    await asyncio.sleep(2.0)
    stop.set()
    await asyncio.gather(*workers)
    async with httpx.AsyncClient(base_url=base_url) as client:
        health = await client.get("/health")
    return ledgers, health


@pytest.mark.slow
def test_an_outage_under_load_is_503_then_heals_and_loses_no_acknowledged_write(
    proxied: Proxied, tmp_path: Path
) -> None:
    timeline: dict[str, float] = {}
    args = ["--db", f"main={proxied.url()}?schema={proxied.schema}", "--log-level", "warning"]
    with live_server(args, log_path=tmp_path / "serve.log") as server:
        ledgers, health = asyncio.run(_load_through_outage(server.base_url, proxied.proxy, timeline))
        log = server.output()

    outcomes = [outcome for ledger in ledgers for outcome in ledger.outcomes]
    failures = [o for o in outcomes if o.status is None or o.status >= 400]
    assert all(o.status == 503 for o in failures), {(o.status, o.error) for o in failures}
    # Requests in flight when the connections dropped, and those sent during the outage, were 503.
    during = [o for o in outcomes if o.ended > timeline["cut"] and o.started < timeline["restored"]]
    assert any(o.status == 503 for o in during)
    # The server reconnected by itself: everything sent a moment after the restore succeeded.
    settled = [o for o in outcomes if o.started > timeline["restored"] + 0.5]
    assert settled and all(o.status is not None and o.status < 300 for o in settled)
    assert health.status_code == 200
    assert "Traceback" not in log

    store = proxied.store()
    try:
        for ledger in ledgers:
            for session_id in ledger.created:
                stored = store.get_session(session_id)
                if session_id in ledger.state:
                    allowed = {ledger.state[session_id], *ledger.maybe_state.get(session_id, set())}
                    assert (stored.session_data or {})["session_state"]["v"] in allowed
    finally:
        store.close()
    assert sum(len(ledger.created) for ledger in ledgers) > WORKERS


# -- a write retried after its connection dropped ----------------------------------------------


def _flap(proxy: TcpProxy, stop: threading.Event, seed: int) -> int:
    """Cut and restore the proxy at random moments until ``stop``; returns how many cuts."""
    rng = random.Random(seed)
    cuts = 0
    while not stop.wait(rng.uniform(0.01, 0.05)):
        proxy.cut()
        cuts += 1
        time.sleep(rng.uniform(0.005, 0.02))
        proxy.start()
    return cuts


def test_runs_retried_after_a_dropped_connection_are_stored_exactly_once(proxied: Proxied) -> None:
    store = proxied.store()
    store.upsert_session(AgentSession(session_id="retried", user_id="alice", agent_id="agent-1"))
    runs = [agent_run(f"run-{n}", f"message {n}") for n in range(40)]
    stop = threading.Event()
    cuts: list[int] = []
    flapper = threading.Thread(target=lambda: cuts.append(_flap(proxied.proxy, stop, seed=7)))
    failed_attempts = 0
    flapper.start()
    try:
        for run in runs:
            # The delivery whose answer is lost may or may not have committed: the client
            # cannot tell, so it delivers again until one delivery is acknowledged.
            while True:
                try:
                    store.upsert_run("retried", run)
                    break
                except StoreUnavailable:
                    failed_attempts += 1
                    time.sleep(0.01)
    finally:
        stop.set()
        flapper.join()
    # The last cut may have dropped a connection idling in the pool: by design (no pre-ping)
    # the first call on it is StoreUnavailable and the pool is discarded, so the read is
    # retried once, as a client would.
    try:
        stored_runs = store.get_runs("retried")
    except StoreUnavailable:
        stored_runs = store.get_runs("retried")
    stored = [run.run_id for run in stored_runs]
    store.close()

    assert failed_attempts > 0 and cuts[0] > 0  # the outage really hit deliveries
    assert stored == [run.run_id for run in runs]  # each once, in delivery order
