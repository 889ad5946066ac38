"""AgentOS's POST /agents/{id}/sessions/{sid}/fork and the teams twin, on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from api_support import asgi_client
from jwt_support import AUDIENCE, SECRET, headers_of
from run_support import Hosted

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.query import SessionQuery
from sessiondb.session import AgentSession, TeamSession


async def _run(client: httpx.AsyncClient, path: str, session_id: str, message: str, **form: str) -> None:
    data = {"message": message, "stream": "false", "session_id": session_id, **form}
    response = await client.post(path, data=data)
    assert response.status_code == 200, response.text


async def test_an_agent_session_forks_as_agentos_answers(client: httpx.AsyncClient, hosted: Hosted) -> None:
    await _run(client, "/agents/helper/runs", "s-1", "my name is Ada")
    await _run(client, "/agents/helper/runs", "s-1", "what is my name?")

    response = await client.post("/agents/helper/sessions/s-1/fork")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"session_id", "forked_from_session_id"}
    assert body["forked_from_session_id"] == "s-1" and body["session_id"] != "s-1"
    fork = hosted.store.get_session(body["session_id"])
    source = hosted.store.get_session("s-1")
    assert isinstance(fork, AgentSession) and fork.agent_id == "helper"
    assert [m.content for m in fork.get_messages()] == [m.content for m in source.get_messages()]
    # The fork is a session of its own: running in it leaves the source as it was.
    await _run(client, "/agents/helper/runs", body["session_id"], "and in the fork?")
    assert len(hosted.store.get_runs("s-1")) == 2 and len(hosted.store.get_runs(body["session_id"])) == 3


async def test_a_team_session_forks_with_its_member_runs(client: httpx.AsyncClient, hosted: Hosted) -> None:
    await _run(client, "/teams/research-team/runs", "t-1", "research this")

    response = await client.post("/teams/research-team/sessions/t-1/fork")

    assert response.status_code == 200, response.text
    fork = hosted.store.get_session(response.json()["session_id"])
    assert isinstance(fork, TeamSession) and fork.runs is not None
    [team_run] = [r for r in fork.runs if r.parent_run_id is None]
    members = [r for r in fork.runs if r.parent_run_id is not None]
    assert members and all(m.parent_run_id == team_run.run_id for m in members)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/agents/nobody/sessions/s-1/fork", 404),  # no such agent
        ("/agents/broken/sessions/s-1/fork", 404),  # another agent's session
        ("/teams/research-team/sessions/s-1/fork", 404),  # an agent's session through the team
        ("/agents/helper/sessions/missing/fork", 404),
        ("/agents/helper/sessions/empty/fork", 400),  # nothing to fork, as AgentOS
    ],
)
async def test_forks_of_sessions_not_the_runtimes_are_refused(
    client: httpx.AsyncClient, hosted: Hosted, path: str, code: int
) -> None:
    await _run(client, "/agents/helper/runs", "s-1", "hello")
    hosted.store.upsert_session(AgentSession(session_id="empty", agent_id="helper"))
    count = hosted.store.get_sessions(SessionQuery()).total_count
    response = await client.post(path)
    assert response.status_code == code, response.text
    assert hosted.store.get_sessions(SessionQuery()).total_count == count


@pytest.fixture
async def jwt_client(hosted: Hosted) -> AsyncIterator[httpx.AsyncClient]:
    auth = AuthConfig(jwt=JwtConfig(key=SECRET, audience=AUDIENCE))
    async for client in asgi_client(create_app(**hosted.app_options(), auth=auth)):
        yield client


async def test_a_jwt_caller_forks_only_its_own_sessions(
    jwt_client: httpx.AsyncClient, hosted: Hosted
) -> None:
    scopes = ["agents:run", "sessions:read"]
    bob = headers_of("bob", scopes)
    ran = await jwt_client.post(
        "/agents/helper/runs",
        data={"message": "secret", "stream": "false", "session_id": "bob-s"},
        headers=bob,
    )
    assert ran.status_code == 200, ran.text
    alice = headers_of("alice", scopes)
    stolen = await jwt_client.post(
        "/agents/helper/sessions/bob-s/fork", params={"user_id": "bob"}, headers=alice
    )
    assert stolen.status_code == 404
    own = await jwt_client.post("/agents/helper/sessions/bob-s/fork", headers=bob)
    assert own.status_code == 200
    assert hosted.store.get_session(own.json()["session_id"]).user_id == "bob"
    no_scope = await jwt_client.post(
        "/agents/helper/sessions/bob-s/fork", headers=headers_of("bob", ["sessions:read"])
    )
    assert no_scope.status_code == 403
