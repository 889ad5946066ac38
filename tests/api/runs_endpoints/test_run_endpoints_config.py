"""``GET /config`` lists the hosted runtimes, and a run into a session of another kind is a 409."""

from __future__ import annotations

import time

import httpx
import jwt
from api_support import asgi_client
from run_support import Hosted

from sessiondb.api import AuthConfig, JwtConfig, create_app
from sessiondb.db.base import SessionStore
from sessiondb.db.memory import InMemoryDb

SECRET = "config-endpoint-secret-long-enough-for-hs256"


def _token(*scopes: str) -> dict[str, str]:
    claims = {"sub": "u1", "exp": int(time.time()) + 300, "scopes": list(scopes)}
    return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}


async def test_config_lists_every_hosted_runtime_in_agentos_shape() -> None:
    store = InMemoryDb(id="main")
    hosted = Hosted(store)
    hosted.agent.description = "Answers questions"
    async for client in asgi_client(create_app(**hosted.app_options())):
        config = (await client.get("/config")).json()

        assert config["agents"] == [
            {"id": "helper", "name": "Helper", "description": "Answers questions", "db_id": "main"},
            {"id": "broken", "name": "Broken", "description": None, "db_id": "main"},
        ]
        assert config["teams"] == [
            {"id": "research-team", "name": "Research Team", "description": None, "db_id": "main"}
        ]
        assert config["workflows"] == [{"id": "draft", "name": "Draft", "description": None, "db_id": "main"}]
        assert config["databases"] == ["main"]


async def test_config_lists_only_the_runtimes_the_caller_may_read() -> None:
    app = create_app(
        **Hosted(InMemoryDb(id="main")).app_options(), auth=AuthConfig(jwt=JwtConfig(key=SECRET))
    )
    async for client in asgi_client(app):
        one_agent = (await client.get("/config", headers=_token("agents:helper:read"))).json()
        teams_only = (await client.get("/config", headers=_token("teams:read"))).json()

        assert [agent["id"] for agent in one_agent["agents"]] == ["helper"]
        assert one_agent["teams"] == one_agent["workflows"] == []
        assert teams_only["agents"] == teams_only["workflows"] == []
        assert [team["id"] for team in teams_only["teams"]] == ["research-team"]


async def test_a_team_run_into_an_agent_session_is_a_409_before_streaming(
    client: httpx.AsyncClient, hosted: Hosted, store: SessionStore
) -> None:
    first = await client.post(
        "/agents/helper/runs", data={"message": "hi", "stream": "false", "session_id": "s"}
    )
    assert first.status_code == 200, first.text
    before = store.get_session("s").to_dict()

    clash = await client.post("/teams/research-team/runs", data={"message": "go", "session_id": "s"})

    assert clash.status_code == 409, clash.text
    assert clash.headers["content-type"].startswith("application/json")
    assert "'agent'" in clash.json()["detail"] and "'team'" in clash.json()["detail"]
    assert store.get_session("s").to_dict() == before
