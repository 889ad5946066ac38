"""Agno's ``AgentOSClient`` runs agents, teams and workflows on ``sessiondb serve --app``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from live_server import live_server as serve_live

pytest.importorskip("agno", reason="agno is a test dependency: pip install -e '.[test]'")

from agno.client.os import AgentOSClient
from agno.os.schema import AgentSessionDetailSchema
from agno.run.agent import RunCompletedEvent, RunContentEvent, RunOutput, RunStartedEvent
from agno.utils.http import aclose_default_clients

ROOT = Path(__file__).resolve().parents[3]
KEY = "live-run-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def served_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sessiondb serve --app examples.serve_app:app`` in a child process, offline, with a key."""
    workdir = tmp_path_factory.mktemp("live-runs")
    env = {"SESSIONDB_EXAMPLE_DB_FILE": str(workdir / "serve_app.db"), "SESSIONDB_SECURITY_KEY": KEY}
    with ExitStack() as stack:
        with pytest.MonkeyPatch.context() as patch:
            # Offline and unconfigured: no model key or sessiondb setting of this shell reaches
            # the child; the environment is restored once the child has started.
            for name in list(os.environ):
                if name.startswith(("OPENAI_", "SESSIONDB_")):
                    patch.delenv(name)
            server = stack.enter_context(
                serve_live(
                    ["--app", "examples.serve_app:app"], env=env, cwd=ROOT, log_path=workdir / "serve.log"
                )
            )
        assert httpx.get(f"{server.base_url}/health", timeout=5).status_code == 200, server.output()
        yield server.base_url


@pytest.fixture
async def agno_http_clients() -> AsyncIterator[None]:
    """Agno pools one global httpx client; close it so no socket outlives the test's event loop."""
    yield
    await aclose_default_clients()


@pytest.mark.slow
@pytest.mark.usefixtures("agno_http_clients")
async def test_agentos_client_runs_the_hosted_runtimes(served_example: str) -> None:
    client = AgentOSClient(base_url=served_example, timeout=10)

    run = await client.run_agent("assistant", "hello", session_id="live-1", user_id="ada", headers=HEADERS)
    assert isinstance(run, RunOutput)
    assert run.content == "TestModel reply to: hello"
    assert run.session_id == "live-1" and run.agent_id == "assistant" and run.run_id

    events = [
        event
        async for event in client.run_agent_stream(
            "assistant", "and again", session_id="live-1", user_id="ada", headers=HEADERS
        )
    ]
    assert isinstance(events[0], RunStartedEvent) and isinstance(events[-1], RunCompletedEvent)
    assert (
        "".join(e.content for e in events if isinstance(e, RunContentEvent))
        == "TestModel reply to: and again"
    )

    detail = await client.get_session("live-1", headers=HEADERS)
    assert isinstance(detail, AgentSessionDetailSchema) and detail.user_id == "ada"
    assert [m["content"] for m in detail.chat_history or []] == [
        "hello",
        "TestModel reply to: hello",
        "and again",
        "TestModel reply to: and again",
    ]

    team_run = await client.run_team("research-team", "hi team", headers=HEADERS)
    assert team_run.team_id == "research-team" and team_run.content == "TestModel reply to: hi team"
    workflow_run = await client.run_workflow("draft-and-shout", "draft", headers=HEADERS)
    assert workflow_run.content == "TESTMODEL REPLY TO: DRAFT"

    with pytest.raises(httpx.HTTPStatusError) as denied:
        await client.run_agent("assistant", "no key")
    assert denied.value.response.status_code == 401
    with pytest.raises(httpx.HTTPStatusError) as missing:
        await client.run_agent("nobody", "hi", headers=HEADERS)
    assert missing.value.response.status_code == 404
