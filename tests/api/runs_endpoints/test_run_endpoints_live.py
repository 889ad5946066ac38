"""Agno's ``AgentOSClient`` runs agents, teams and workflows on ``sessiondb serve --app``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("agno", reason="agno is a test dependency: pip install -e '.[test]'")

from agno.client.os import AgentOSClient
from agno.os.schema import AgentSessionDetailSchema
from agno.run.agent import RunCompletedEvent, RunContentEvent, RunOutput, RunStartedEvent
from agno.utils.http import aclose_default_clients

ROOT = Path(__file__).resolve().parents[3]
KEY = "live-run-key"
HEADERS = {"Authorization": f"Bearer {KEY}"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def served_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``sessiondb serve --app examples.serve_app:app`` in a child process, offline, with a key."""
    db_file = tmp_path_factory.mktemp("live-runs") / "serve_app.db"
    port = _free_port()
    command = [
        *(sys.executable, "-m", "sessiondb.cli", "serve"),
        *("--app", "examples.serve_app:app", "--port", str(port)),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SESSIONDB_"))}
    env |= {"SESSIONDB_EXAMPLE_DB_FILE": str(db_file), "SESSIONDB_SECURITY_KEY": KEY}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base_url, process)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            pytest.fail(f"sessiondb serve --app exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("sessiondb serve --app did not become healthy in 30 s")


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
