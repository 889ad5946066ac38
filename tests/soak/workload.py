"""The soak's workload: concurrent clients mixing every session operation, each keeping a ledger.

Each client owns the sessions of its own user, so it knows what each must hold: the name and
state it was last acknowledged, and every run it was told was stored. Runs are appended both
through the store (as a runtime in another process would) and through the agent run
endpoint; a fifth of the store appends are delivered twice. All clients also append to a few
shared sessions at once, race conditional PATCHes on them, and run the agent into one hot
session at once (each run with a ``session_state`` key of its own, all of which must land).
At the end the ledgers are checked against the server: every acknowledged write present
exactly once, every deleted session gone.

While PostgreSQL restarts (the opt-in soak), writes are retried until acknowledged; a 503 or a
dropped connection inside the outage window counts as an outage error, anywhere else as an error.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from soak_app import AGENT_ID
from soak_metrics import Metrics, Outage, SoakResult

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound, StoreUnavailable
from sessiondb.run import Message, RunInput, RunOutput
from sessiondb.session import AgentSession

SHARED = [f"shared-{n}" for n in range(4)]
HOT = "hot-runs"
"""The session every client runs the agent into at once, each run adding a state key of its own."""
RETRY_PAUSE = 0.2


@dataclass
class Expected:
    """What a session must hold, by its owner's ledger."""

    name: str
    state: dict[str, Any] | None = None
    runs: list[str] = field(default_factory=list)
    uncertain: bool = False  # an answer was lost: a run may be stored that nobody acknowledged


def soak_run(run_id: str, user_id: str, text: str) -> RunOutput:
    """A completed agent run as a runtime would append it."""
    return RunOutput(
        run_id=run_id,
        agent_id=AGENT_ID,
        user_id=user_id,
        status="COMPLETED",
        content=f"answer to {text}",
        input=RunInput(input_content=text),
        messages=[Message(role="user", content=text), Message(role="assistant", content=f"answer to {text}")],
    )


class SoakClient:
    """One client: a user, an HTTP connection, the shared store, and its ledger."""

    def __init__(
        self, number: int, http: httpx.AsyncClient, store: SessionStore, metrics: Metrics, outage: Outage
    ) -> None:
        self.number = number
        self.user = f"user-{number}"
        self.http = http
        self.store = store
        self.metrics = metrics
        self.outage = outage
        self.rng = random.Random(number)
        self.own: dict[str, Expected] = {}
        self.deleted: set[str] = set()
        self.shared_runs: list[str] = []
        self.hot_runs: dict[str, str] = {}  # run id -> the state key the run added
        self.counter = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    # -- plumbing ------------------------------------------------------------------------------

    async def request(
        self, op: str, method: str, url: str, ok: set[int], **kwargs: Any
    ) -> httpx.Response | None:
        """Send a request; the response when its status is in ``ok``, else ``None`` (recorded)."""
        started = time.perf_counter()
        moment = time.monotonic()
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self._failed(moment, f"{op} {method} {url}: {exc!r}")
            return None
        self.metrics.record(op, started, response.status_code)
        if response.status_code in ok:
            return response
        if response.status_code == 503:
            self._failed(moment, f"{op} {method} {url} -> 503 {response.text[:200]}")
        elif response.status_code == 412 and op == "contended-patch":
            self.metrics.conflicts += 1
        else:
            self.metrics.errors.append(f"{op} {method} {url} -> {response.status_code} {response.text[:300]}")
        return None

    def _failed(self, moment: float, what: str) -> None:
        if self.outage.covers(moment):
            self.metrics.outage_errors += 1
        else:
            self.metrics.errors.append(what)

    async def until_acked(
        self, attempt: Callable[[int], Awaitable[httpx.Response | None]]
    ) -> httpx.Response | None:
        """Retry a write while the database is out; give up on any other failure."""
        for number in range(200):
            response = await attempt(number)
            if response is not None or not self.outage.covers(time.monotonic()):
                return response
            await asyncio.sleep(RETRY_PAUSE)
        return None

    async def store_append(self, session_id: str, run: RunOutput) -> None:
        """Append through the store, retrying (the same run) while the database is out."""
        while True:
            started = time.perf_counter()
            try:
                await self.store.aupsert_run(session_id, run)
            except StoreUnavailable:
                self._failed(time.monotonic(), f"store append to {session_id}")
                if not self.outage.covers(time.monotonic()):
                    raise
                await asyncio.sleep(RETRY_PAUSE)
                continue
            self.metrics.store_latencies.append((time.perf_counter() - started) * 1000)
            return

    def pick(self) -> str | None:
        return self.rng.choice(sorted(self.own)) if self.own else None

    # -- operations ------------------------------------------------------------------------------

    async def create(self) -> None:
        session_id = f"c{self.number}-{self._next()}"
        name = f"soak {session_id}"
        body = {"session_id": session_id, "user_id": self.user, "agent_id": AGENT_ID, "session_name": name}
        # A retry may find its own first attempt stored: 409 then acknowledges it.
        created = await self.until_acked(
            lambda n: self.request("create", "POST", "/sessions", {201} | ({409} if n else set()), json=body)
        )
        if created is not None:
            self.own[session_id] = Expected(name)

    async def append_store(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return await self.create()
        run = soak_run(f"{session_id}-s{self._next()}", self.user, f"question {self.counter}")
        await self.store_append(session_id, run)
        self.own[session_id].runs.append(run.run_id)
        if self.rng.random() < 0.2:  # the same run delivered again, as after a timeout
            await self.store_append(session_id, run)
            self.metrics.duplicates += 1

    async def append_http(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return await self.create()
        form = {
            "message": f"hello {self._next()}",
            "session_id": session_id,
            "user_id": self.user,
            "stream": "false",
        }
        ran = await self.request("run", "POST", f"/agents/{AGENT_ID}/runs", {200}, data=form)
        if ran is None:
            self.own[session_id].uncertain = True
        else:
            self.own[session_id].runs.append(ran.json()["run_id"])

    async def append_shared(self) -> None:
        run = soak_run(f"shared-{self.number}-{self._next()}", "shared", f"shared {self.counter}")
        await self.store_append(self.rng.choice(SHARED), run)
        self.shared_runs.append(run.run_id)

    async def run_hot(self) -> None:
        key = f"hot-{self.number}-{self._next()}"
        form = {
            "message": f"hot {key}",
            "session_id": HOT,
            "user_id": "hot",
            "session_state": f'{{"{key}": true}}',
            "stream": "false",
        }
        ran = await self.request("hot-run", "POST", f"/agents/{AGENT_ID}/runs", {200}, data=form)
        if ran is not None:
            self.hot_runs[ran.json()["run_id"]] = key

    async def read(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return
        read = await self.request("read", "GET", f"/sessions/{session_id}", {200})
        if read is not None:
            self.check(session_id, read.json())

    def check(self, session_id: str, detail: dict[str, Any]) -> None:
        expected = self.own[session_id]
        state = detail.get("session_state") or {}  # a detail leaves out a null state
        if detail["session_name"] != expected.name or state != (expected.state or {}):
            found = (detail["session_name"], state)
            self.metrics.errors.append(
                f"stale read of {session_id}: {found} != {(expected.name, expected.state)}"
            )

    async def read_runs(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return
        listed = await self.request("read-runs", "GET", f"/sessions/{session_id}/runs", {200})
        if listed is not None:
            self.check_runs(session_id, [run["run_id"] for run in listed.json()])

    def check_runs(self, session_id: str, stored: list[str]) -> None:
        expected = self.own[session_id]
        counts = Counter(stored)
        if expected.uncertain:
            bad = [run for run in expected.runs if counts[run] != 1]
        else:
            bad = [] if stored == expected.runs else [f"{stored} != {expected.runs}"]
        if bad:
            self.metrics.errors.append(f"runs of {session_id}: {bad}")

    async def read_deleted(self) -> None:
        if self.deleted:
            await self.request(
                "read-deleted", "GET", f"/sessions/{self.rng.choice(sorted(self.deleted))}", {404}
            )

    async def list(self) -> None:
        params = {
            "user_id": self.user,
            "limit": self.rng.randint(1, 20),
            "sort_by": self.rng.choice(["created_at", "updated_at", "session_name"]),
            "sort_order": self.rng.choice(["asc", "desc"]),
        }
        listed = await self.request("list", "GET", "/sessions", {200}, params=params)
        if listed is not None and listed.json()["meta"]["total_count"] != len(self.own):
            self.metrics.errors.append(
                f"{self.user} lists {listed.json()['meta']['total_count']} != {len(self.own)}"
            )

    async def rename(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return
        name = f"renamed {session_id} {self._next()}"
        url = f"/sessions/{session_id}/rename"
        if await self.until_acked(
            lambda _: self.request("rename", "POST", url, {200}, json={"session_name": name})
        ):
            self.own[session_id].name = name

    async def patch(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return
        state = {"n": self._next(), "by": self.user}
        headers = {}
        if self.rng.random() < 0.5:  # conditional on the version just read: the sole writer wins
            read = await self.request("read", "GET", f"/sessions/{session_id}", {200})
            if read is None:
                return
            headers["If-Match"] = read.headers["etag"]
        url = f"/sessions/{session_id}"
        body = {"session_state": state}
        # A conditional retry whose first attempt landed (its answer lost) finds the version
        # moved on: 412. Then the stored state tells whether that first attempt was ours.
        retry_ok = {412} if headers else set()
        patched = await self.until_acked(
            lambda n: self.request(
                "patch", "PATCH", url, {200} | (retry_ok if n else set()), json=body, headers=headers
            )
        )
        if patched is not None and patched.status_code == 412:
            read = await self.request("read", "GET", url, {200})
            if read is None or read.json().get("session_state") != state:
                self.metrics.errors.append(
                    f"conditional PATCH of {session_id} lost: neither applied nor refused"
                )
                return
        if patched is not None:
            self.own[session_id].state = state

    async def contended_patch(self) -> None:
        session_id = self.rng.choice(SHARED)
        read = await self.request("read", "GET", f"/sessions/{session_id}", {200})
        if read is None:
            return
        headers = {"If-Match": read.headers["etag"]}
        body = {"session_state": {"last": self.user}}
        await self.request(
            "contended-patch", "PATCH", f"/sessions/{session_id}", {200}, json=body, headers=headers
        )

    async def delete(self) -> None:
        session_id = self.pick()
        if session_id is None:
            return
        if await self.until_acked(
            lambda _: self.request("delete", "DELETE", f"/sessions/{session_id}", {204})
        ):
            self.deleted.add(session_id)
            del self.own[session_id]

    async def bulk_delete(self) -> None:
        chosen = sorted(self.own)[:2]
        if not chosen:
            return
        body = {"session_ids": chosen, "session_types": ["agent"] * len(chosen)}
        if await self.until_acked(
            lambda _: self.request("bulk-delete", "DELETE", "/sessions", {204}, json=body)
        ):
            for session_id in chosen:
                self.deleted.add(session_id)
                del self.own[session_id]

    async def run(self, deadline: float, *, run_endpoint: bool) -> None:
        """Draw operations at random until ``deadline``."""
        weighted: list[tuple[Callable[[], Awaitable[None]], int]] = [
            (self.create, 8),
            (self.append_store, 20),
            (self.append_http, 8 if run_endpoint else 0),
            (self.append_shared, 8),
            (self.run_hot, 8 if run_endpoint else 0),
            (self.read, 14),
            (self.read_runs, 6),
            (self.read_deleted, 2),
            (self.list, 10),
            (self.rename, 5),
            (self.patch, 8),
            (self.contended_patch, 4),
            (self.delete, 4),
            (self.bulk_delete, 1),
        ]
        operations = [operation for operation, _ in weighted]
        weights = [weight for _, weight in weighted]
        while time.monotonic() < deadline:
            await self.rng.choices(operations, weights)[0]()


async def verify(clients: list[SoakClient], http: httpx.AsyncClient, store: SessionStore) -> list[str]:
    """Check every ledger against the server and the store; the problems found."""
    problems: list[str] = []
    for client in clients:
        listed = await http.get("/sessions", params={"user_id": client.user, "limit": 1})
        if listed.json()["meta"]["total_count"] != len(client.own):
            problems.append(
                f"{client.user}: {listed.json()['meta']['total_count']} listed, {len(client.own)} live"
            )
        for session_id in client.own:
            detail = await http.get(f"/sessions/{session_id}")
            runs = await http.get(f"/sessions/{session_id}/runs")
            if detail.status_code != 200 or runs.status_code != 200:
                problems.append(f"{session_id}: acknowledged but {detail.status_code}/{runs.status_code}")
                continue
            before = len(client.metrics.errors)
            client.check(session_id, detail.json())
            client.check_runs(session_id, [run["run_id"] for run in runs.json()])
            problems += client.metrics.errors[before:]
        for session_id in client.deleted:
            gone = await http.get(f"/sessions/{session_id}")
            if gone.status_code != 404:
                problems.append(f"{session_id}: deleted but {gone.status_code}")
            try:
                store.get_runs(session_id)
                problems.append(f"{session_id}: deleted but its runs remain")
            except SessionNotFound:
                pass
    stored_shared = Counter(run.run_id for session_id in SHARED for run in store.get_runs(session_id))
    acknowledged = [run_id for client in clients for run_id in client.shared_runs]
    problems += [
        f"shared run {run_id} stored {stored_shared[run_id]} times"
        for run_id in acknowledged
        if stored_shared[run_id] != 1
    ]
    problems += hot_problems(clients, store)
    if set(stored_shared) - set(acknowledged):
        problems.append(
            f"unacknowledged shared runs stored: {sorted(set(stored_shared) - set(acknowledged))[:5]}"
        )
    return problems


def hot_problems(clients: list[SoakClient], store: SessionStore) -> list[str]:
    """Every acknowledged run into the hot session stored COMPLETED with its reply and its state key."""
    acknowledged = {run_id: key for client in clients for run_id, key in client.hot_runs.items()}
    if not acknowledged:
        return []
    session = store.get_session(HOT)
    state = (session.session_data or {}).get("session_state") or {}
    stored = {run.run_id: run for run in session.runs or []}
    problems = []
    for run_id, key in acknowledged.items():
        run = stored.get(run_id)
        if run is None or run.status != "COMPLETED" or not run.content:
            found = "missing" if run is None else f"{run.status} {run.content!r}"
            problems.append(f"hot run {run_id}: {found}")
        if state.get(key) is not True:
            problems.append(f"hot run {run_id}: state key {key} missing")
    return problems


async def run_soak(
    base_url: str,
    store: SessionStore,
    *,
    seconds: float,
    clients: int = 16,
    run_endpoint: bool = True,
    outage: Outage | None = None,
) -> SoakResult:
    """Run ``clients`` clients against the server at ``base_url`` for ``seconds``, then verify."""
    for session_id in SHARED:
        store.upsert_session(AgentSession(session_id=session_id, user_id="shared", agent_id=AGENT_ID))
    metrics = Metrics()
    outage = outage or Outage()
    https = [httpx.AsyncClient(base_url=base_url, timeout=60) for _ in range(clients)]
    try:
        soakers = [SoakClient(n, https[n], store, metrics, outage) for n in range(clients)]
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(client.run(deadline, run_endpoint=run_endpoint) for client in soakers))
        problems = await verify(soakers, https[0], store)
    finally:
        for http in https:
            await http.aclose()
    return SoakResult(seconds, clients, metrics, problems)
