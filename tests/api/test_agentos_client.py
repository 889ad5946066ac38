"""Agno's own ``AgentOSClient`` drives every session method against a live ``sessiondb serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from api_seed import agent_run, seed_agent_session

from live_server import live_server as serve_live

pytest.importorskip("agno", reason="agno is a test dependency: pip install -e '.[test]'")

from agno.client.os import AgentOSClient
from agno.db.base import SessionType
from agno.os.schema import AgentSessionDetailSchema, RunSchema, TeamSessionDetailSchema
from agno.utils.http import aclose_default_clients, close_sync_client

from sessiondb.db.sqlite import SqliteDb

KEY = "live-test-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sessiondb serve`` in a child process, on SQLite seeded with a session that has runs."""
    workdir = tmp_path_factory.mktemp("live")
    db_file = workdir / "live.db"
    store = SqliteDb(db_file=db_file, id="main")
    seed_agent_session(
        store, "seeded", runs=[agent_run("r1", "hello"), agent_run("r2", "again", status="ERROR")]
    )
    store.close()
    args = ["--db", f"main={db_file}"]
    env = {"SESSIONDB_SECURITY_KEY": KEY}
    with serve_live(args, env=env, log_path=workdir / "serve.log") as server:
        assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200, server.output()
        yield server.base_url


@pytest.fixture
async def agno_http_clients() -> AsyncIterator[None]:
    """Agno pools one global httpx client; close it so no socket outlives the test's event loop."""
    yield
    await aclose_default_clients()


@pytest.mark.slow
@pytest.mark.usefixtures("agno_http_clients")
async def test_agentos_client_session_methods(live_server: str) -> None:
    client = AgentOSClient(base_url=live_server, timeout=10)

    created = await client.create_session(
        session_id="c1",
        user_id="alice",
        session_name="From the client",
        session_state={"step": 1},
        metadata={"source": "client"},
        agent_id="agent-1",
        headers=HEADERS,
    )
    assert isinstance(created, AgentSessionDetailSchema)
    assert created.session_name == "From the client" and created.session_state == {"step": 1}

    team = await client.create_session(
        session_type=SessionType.TEAM, session_id="c2", team_id="t", headers=HEADERS
    )
    assert isinstance(team, TeamSessionDetailSchema) and team.team_id == "t"

    page = await client.get_sessions(limit=2, headers=HEADERS)
    assert page.meta.total_count == 3 and page.meta.total_pages == 2
    assert len(page.data) == 2
    agents = await client.get_sessions(session_type=SessionType.AGENT, user_id="alice", headers=HEADERS)
    assert {s.session_id for s in agents.data} == {"c1", "seeded"}

    # Without session_type the client picks the schema from the ids the server sends.
    detail = await client.get_session("seeded", headers=HEADERS)
    assert isinstance(detail, AgentSessionDetailSchema)
    assert [m["content"] for m in detail.chat_history or []] == [
        "hello",
        "answer to hello",
        "again",
        "answer to again",
    ]

    runs = await client.get_session_runs("seeded", headers=HEADERS)
    assert [run.run_id for run in runs] == ["r1", "r2"]
    assert all(isinstance(run, RunSchema) for run in runs)
    errored = await client.get_session_runs("seeded", status=["error"], headers=HEADERS)
    assert [run.run_id for run in errored] == ["r2"]

    previews = await client.aget_session_run_previews("seeded", headers=HEADERS)
    assert [p.run_input for p in previews] == ["hello", "again"]
    sync_previews = client.get_session_run_previews("seeded", created_before=1_700_000_000, headers=HEADERS)
    assert [p.run_id for p in sync_previews] == ["r1", "r2"]

    run = await client.get_session_run("seeded", "r2", headers=HEADERS)
    assert isinstance(run, RunSchema) and run.status == "ERROR" and run.run_input == "again"

    renamed = await client.rename_session("c1", "Renamed", headers=HEADERS)
    assert renamed.session_name == "Renamed"

    updated = await client.update_session(
        "c1", session_state={"step": 2}, summary={"summary": "short", "topics": ["t"]}, headers=HEADERS
    )
    assert isinstance(updated, AgentSessionDetailSchema)
    assert updated.session_state == {"step": 2}
    assert updated.session_summary == {"summary": "short", "topics": ["t"]}

    await client.delete_session("c1", headers=HEADERS)
    await client.delete_sessions(["c2"], [SessionType.TEAM], headers=HEADERS)
    remaining = await client.get_sessions(headers=HEADERS)
    assert [s.session_id for s in remaining.data] == ["seeded"]

    config = await client.aget_config(headers=HEADERS)
    assert config.databases == ["main"]


@pytest.mark.slow
def test_client_without_the_key_is_refused(live_server: str) -> None:
    client = AgentOSClient(base_url=live_server, timeout=10)

    try:
        with pytest.raises(httpx.HTTPStatusError) as caught:
            client.get_session_run_previews("seeded")
    finally:
        close_sync_client()

    assert caught.value.response.status_code == 401
