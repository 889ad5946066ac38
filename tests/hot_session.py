"""Many concurrent runs into one session ("a hot session"), over HTTP, and the checks that nothing was lost.

The hosted agent and team call the tool :func:`mark_run` once per run: it writes the key
``run-<run_id>`` into ``session_state``, so after a burst every run's state change can be
looked for by the run id its client was answered with.

``hot_app`` is the app factory a live server serves (``sessiondb serve --app hot_session:hot_app``):
``HOT_DB_FILE`` names a SQLite file, or ``HOT_DB_URL`` and ``HOT_DB_SCHEMA`` a PostgreSQL schema.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from sessiondb.agent import Agent
from sessiondb.api import create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.postgres import PostgresDb
from sessiondb.db.sqlite import SqliteDb
from sessiondb.models import FunctionModel, ModelRequest, TestModel
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.team import Team
from sessiondb.team.team import DELEGATE_TOOL

AGENT_ID = "hot-agent"
SLOW_AGENT_ID = "slow-agent"
SLOW_SECONDS = 1.5
"""How long the slow agent's model takes to answer: time for a client to hang up mid-run."""
TEAM_ID = "hot-team"
KINDS = {"agents": AGENT_ID, "teams": TEAM_ID}


def mark_run(session_state: dict[str, Any]) -> str:
    """Record that this run happened, under a key of its own."""
    session_state[f"run-{session_state['current_run_id']}"] = True
    return "marked"


def _echo(messages: list[Message], request: ModelRequest) -> str:
    return f"member: {request.last_user_text()}"


async def _slow(messages: list[Message], request: ModelRequest) -> str:
    await asyncio.sleep(SLOW_SECONDS)
    return f"slow reply to {request.last_user_text()}"


def hot_runtimes(store: SessionStore) -> tuple[Agent, Team]:
    """An agent and a team (with one member) on ``store``, each calling :func:`mark_run` once per run."""
    agent = Agent(id=AGENT_ID, model=TestModel(call_tools=["mark_run"]), db=store, tools=[mark_run])
    member = Agent(id="hot-member", name="Member", model=FunctionModel(function=_echo))
    coordinator = TestModel(
        call_tools=[DELEGATE_TOOL, "mark_run"],
        tool_args={DELEGATE_TOOL: {"member_id": "hot-member", "task": "say something"}},
    )
    team = Team(id=TEAM_ID, model=coordinator, db=store, members=[member], tools=[mark_run])
    return agent, team


def hot_store() -> SessionStore:
    """The store the environment names (see the module docstring)."""
    if "HOT_DB_FILE" in os.environ:
        return SqliteDb(db_file=os.environ["HOT_DB_FILE"], id="main")
    return PostgresDb(db_url=os.environ["HOT_DB_URL"], db_schema=os.environ["HOT_DB_SCHEMA"], id="main")


def hot_app() -> FastAPI:
    """The server of the hot-session tests and soak."""
    store = hot_store()
    agent, team = hot_runtimes(store)
    slow = Agent(id=SLOW_AGENT_ID, model=FunctionModel(function=_slow), db=store)
    return create_app(dbs=[store], agents=[agent, slow], teams=[team])


@dataclass
class Burst:
    """What the clients of one burst were answered.

    Attributes:
        run_ids: the run id of every 200 answer.
        statuses: how many answers had each HTTP status.
        failures: the non-200 answers and transport errors, for the assertion message.
        seconds: how long the burst took.
    """

    run_ids: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def runs_per_second(self) -> float:
        """Answered runs per second of the burst."""
        return len(self.run_ids) / self.seconds if self.seconds else 0.0


async def burst(
    base_url: str, kind: str, session_id: str, *, clients: int = 100, runs_each: int = 2, wait: float = 120
) -> Burst:
    """``clients`` concurrent clients each make ``runs_each`` runs in turn into ``session_id``.

    Args:
        wait: the bound on each request, in seconds.
    """
    result = Burst()
    url = f"{base_url}/{kind}/{KINDS[kind]}/runs"
    # A fresh connection per request: a kept-alive one can be closed by the server's idle
    # timeout just as the next request goes out on it (a ReadError that says nothing about
    # runs), which a starved event loop made likely on a loaded machine.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)

    async def client(http: httpx.AsyncClient, number: int) -> None:
        for turn in range(runs_each):
            form = {"message": f"client {number} turn {turn}", "session_id": session_id, "stream": "false"}
            try:
                response = await http.post(url, data=form)
            except httpx.HTTPError as exc:
                result.failures.append(f"client {number}: {exc!r}")
                continue
            result.statuses[response.status_code] += 1
            if response.status_code == 200:
                result.run_ids.append(response.json()["run_id"])
            else:
                result.failures.append(f"client {number}: {response.status_code} {response.text[:200]}")

    started = asyncio.get_running_loop().time()
    async with httpx.AsyncClient(limits=limits, timeout=wait) as http:
        await asyncio.gather(*(client(http, number) for number in range(clients)))
    result.seconds = asyncio.get_running_loop().time() - started
    return result


def lost_in(store: SessionStore, session_id: str, result: Burst) -> list[str]:
    """What the store lost of a burst: runs not COMPLETED or without content, and missing state keys."""
    problems: list[str] = []
    session = store.get_session(session_id)
    state = (session.session_data or {}).get("session_state") or {}
    top_level = {run.run_id: run for run in session.runs or [] if run.parent_run_id is None}
    for run_id in result.run_ids:
        run = top_level.get(run_id)
        if run is None:
            problems.append(f"run {run_id} is not stored")
            continue
        if run.status != RunStatus.COMPLETED or not run.content:
            problems.append(f"run {run_id} is stored {run.status} with content {run.content!r}")
        if state.get(f"run-{run_id}") is not True:
            problems.append(f"the state change of run {run_id} is missing")
    return problems


__all__ = [
    "AGENT_ID",
    "KINDS",
    "SLOW_AGENT_ID",
    "TEAM_ID",
    "Burst",
    "burst",
    "hot_app",
    "hot_runtimes",
    "lost_in",
    "mark_run",
]
