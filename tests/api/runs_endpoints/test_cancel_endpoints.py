"""``POST /agents|teams|workflows/{id}/runs/{run_id}/cancel``: AgentOS's cancel endpoints."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import jwt
import pytest
from api_support import asgi_client

from gate_model import Gate
from sessiondb.agent import Agent
from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb
from sessiondb.run.status import RunStatus
from sessiondb.team import Team
from sessiondb.workflow import Step, Workflow

SECRET = "cancel-endpoints-secret-long-enough-for-hs256"
AUTH = AuthConfig(jwt=JwtConfig(key=SECRET))


def bearer(sub: str, *scopes: str) -> dict[str, str]:
    """Headers with an HS256 token for ``sub`` holding ``scopes``."""
    claims = {"sub": sub, "exp": int(time.time()) + 300, "scopes": list(scopes)}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


class Gated:
    """An agent, a team and a workflow whose models wait at one gate, storing into ``store``."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.gate = Gate()
        self.agent = Agent(id="agent", model=self.gate.model(), db=store)
        self.team = Team(
            id="team", model=self.gate.model(), db=store, members=[Agent(id="m", model=Gate().model())]
        )
        self.workflow = Workflow(
            id="flow", db=store, steps=[Step(name="one", agent=Agent(model=self.gate.model()))]
        )

    def app_options(self) -> dict[str, Any]:
        return {"agents": [self.agent], "teams": [self.team], "workflows": [self.workflow]}


async def _cancel_while_waiting(
    client: httpx.AsyncClient,
    gated: Gated,
    kind: str,
    runtime_id: str,
    *,
    runner: dict[str, str] | None = None,
    canceller: dict[str, str] | None = None,
) -> tuple[httpx.Response, httpx.Response]:
    """Start a run (stream=false), ask to cancel it while its model waits; both answers."""
    answers: dict[str, httpx.Response] = {}
    form = {"message": "hi", "session_id": "s1", "stream": "false"}

    async def run() -> None:
        answers["run"] = await client.post(f"/{kind}/{runtime_id}/runs", data=form, headers=runner)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await gated.gate.entered.wait()
            [live] = [r for r in gated.store.get_runs("s1") if r.status == RunStatus.RUNNING]
            url = f"/{kind}/{runtime_id}/runs/{live.run_id}/cancel"
            answers["cancel"] = await client.post(url, headers=canceller)
            gated.gate.release.set()
    return answers["run"], answers["cancel"]


RUNTIMES = [("agents", "agent"), ("teams", "team"), ("workflows", "flow")]


@pytest.mark.parametrize(("kind", "runtime_id"), RUNTIMES)
async def test_cancel_stops_the_run_and_it_is_stored_cancelled(
    store: SessionStore, kind: str, runtime_id: str
) -> None:
    gated = Gated(store)
    async for client in asgi_client(create_app(**gated.app_options())):
        ran, cancelled = await _cancel_while_waiting(client, gated, kind, runtime_id)
    assert cancelled.status_code == 200 and cancelled.json() == {}
    assert ran.status_code == 200 and ran.json()["status"] == "CANCELLED"
    assert store.get_run(ran.json()["run_id"]).status == RunStatus.CANCELLED


@pytest.fixture
async def memory_client() -> AsyncIterator[httpx.AsyncClient]:
    async for client in asgi_client(create_app(**Gated(InMemoryDb()).app_options())):
        yield client


async def test_an_unknown_or_ended_run_is_answered_as_agentos_does(memory_client: httpx.AsyncClient) -> None:
    for kind, runtime_id in RUNTIMES:
        answer = await memory_client.post(f"/{kind}/{runtime_id}/runs/no-such-run/cancel")
        assert answer.status_code == 200 and answer.json() == {}
        missing = await memory_client.post(f"/{kind}/nobody/runs/r1/cancel")
        assert missing.status_code == 404


async def test_hostile_run_ids_are_refused_with_the_field_named(memory_client: httpx.AsyncClient) -> None:
    answer = await memory_client.post(f"/agents/agent/runs/{'x' * 256}/cancel")
    assert answer.status_code == 422 and "run_id" in answer.text
    # Odd bytes in the id are just an unknown run: never a 5xx.
    assert (await memory_client.post("/agents/agent/runs/%00%ff/cancel")).json() == {}
    assert (await memory_client.get("/agents/agent/runs/r1/cancel")).status_code == 405


async def test_with_jwt_another_users_run_is_not_cancelled() -> None:
    gated = Gated(InMemoryDb())
    async for client in asgi_client(create_app(**gated.app_options(), auth=AUTH)):
        ada, bob = bearer("ada", "agents:run"), bearer("bob", "agents:run")
        ran, cancelled = await _cancel_while_waiting(
            client, gated, "agents", "agent", runner=ada, canceller=bob
        )
        # Answered as for an unknown run: nothing about ada's run leaks to bob, and it finishes.
        assert cancelled.status_code == 200 and cancelled.json() == {}
        assert ran.status_code == 200 and ran.json()["status"] == "COMPLETED"


async def test_with_jwt_the_owner_and_an_admin_may_cancel() -> None:
    for canceller in ("ada", "root"):
        gated = Gated(InMemoryDb())
        app = create_app(
            **gated.app_options(),
            auth=AuthConfig(jwt=JwtConfig(key=SECRET, admin_scopes=frozenset({"admin"}))),
        )
        async for client in asgi_client(app):
            scopes = ("agents:run", "admin") if canceller == "root" else ("agents:run",)
            ran, _ = await _cancel_while_waiting(
                client,
                gated,
                "agents",
                "agent",
                runner=bearer("ada", "agents:run"),
                canceller=bearer(canceller, *scopes),
            )
            assert ran.json()["status"] == "CANCELLED", canceller


async def test_cancel_needs_the_run_scope() -> None:
    async for client in asgi_client(create_app(**Gated(InMemoryDb()).app_options(), auth=AUTH)):
        answer = await client.post("/agents/agent/runs/r1/cancel", headers=bearer("ada", "agents:read"))
        assert answer.status_code == 403
        assert (await client.post("/agents/agent/runs/r1/cancel")).status_code == 401
