"""GET /sessions/{id}/runs, /run-previews and /runs/{run_id} on every backend."""

from __future__ import annotations

import httpx
import pytest
from api_seed import agent_run, seed_agent_session, seed_team_session, seed_workflow_session

from sessiondb.db.base import SessionStore


@pytest.fixture
def three_runs(store: SessionStore) -> None:
    seed_agent_session(
        store,
        "s1",
        runs=[
            agent_run("r1", "first", created_at=1_700_000_001),
            agent_run("r2", "second", created_at=1_700_000_002, status="ERROR"),
            agent_run("r3", "third", created_at=1_700_000_003),
        ],
    )


@pytest.mark.usefixtures("three_runs")
async def test_runs_are_listed_oldest_first_in_agno_run_schema(client: httpx.AsyncClient) -> None:
    response = await client.get("/sessions/s1/runs")

    assert response.status_code == 200
    runs = response.json()
    assert [run["run_id"] for run in runs] == ["r1", "r2", "r3"]
    first = runs[0]
    assert first["agent_id"] == "agent-1"
    assert first["run_input"] == "first"
    assert first["content"] == "answer to first"
    assert first["run_response_format"] == "text"
    assert first["parent_run_id"] == ""  # empty defaults are sent, not left out
    assert first["reasoning_steps"] == [] and first["metrics"] == {}
    assert first["input_media"] == {"images": [], "videos": [], "audios": [], "files": []}
    assert first["created_at"] == "2023-11-14T22:13:21Z"
    assert [m["role"] for m in first["messages"]] == ["system", "user", "assistant"]
    assert "tools" not in first and "citations" not in first  # None is left out in the listing


@pytest.mark.usefixtures("three_runs")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"created_after": 1_700_000_002}, ["r2", "r3"]),
        ({"created_before": 1_700_000_002}, ["r1", "r2"]),
        ({"status": "error"}, ["r2"]),
        ({"status": ["COMPLETED", "error"]}, ["r1", "r2", "r3"]),
    ],
)
async def test_runs_filters(
    client: httpx.AsyncClient, params: dict[str, object], expected: list[str]
) -> None:
    response = await client.get("/sessions/s1/runs", params=params)  # type: ignore[arg-type]

    assert response.status_code == 200
    assert [run["run_id"] for run in response.json()] == expected


async def test_unknown_status_is_400(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.get("/sessions/s1/runs", params={"status": "sleeping"})

    assert response.status_code == 400
    assert "SLEEPING" in response.json()["detail"]


async def test_runs_of_missing_session_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/sessions/nope/runs")).status_code == 404
    assert (await client.get("/sessions/nope/run-previews")).status_code == 404


async def test_team_and_workflow_runs_use_their_own_schemas(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    seed_team_session(store, "t1")
    seed_workflow_session(store, "w1")

    team_runs = (await client.get("/sessions/t1/runs")).json()
    workflow_runs = (await client.get("/sessions/w1/runs")).json()

    by_id = {run["run_id"]: run for run in team_runs}
    assert by_id["team-run-1"]["team_id"] == "team-1" and "agent_id" not in by_id["team-run-1"]
    assert by_id["member-1"]["agent_id"] == "researcher"
    assert by_id["member-1"]["parent_run_id"] == "team-run-1"
    [workflow_run] = workflow_runs
    assert workflow_run["workflow_id"] == "wf-1"
    assert workflow_run["run_input"] == '{\n  "topic": "markets"\n}'
    assert workflow_run["content_type"] == "str"
    assert [r["run_id"] for r in workflow_run["step_executor_runs"]] == ["step-run-1"]


@pytest.mark.usefixtures("three_runs")
async def test_previews_cut_input_and_output(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "long", runs=[agent_run("rl", "x" * 500)])

    previews = (await client.get("/sessions/s1/run-previews", params={"status": "completed"})).json()
    [long_preview] = (await client.get("/sessions/long/run-previews")).json()

    assert [p["run_id"] for p in previews] == ["r1", "r3"]
    assert previews[0] == {
        "run_id": "r1",
        "agent_id": "agent-1",
        "status": "COMPLETED",
        "run_input": "first",
        "content_preview": "answer to first",
        "created_at": "2023-11-14T22:13:21Z",
    }
    assert long_preview["run_input"] == "x" * 280
    assert len(long_preview["content_preview"]) == 280


@pytest.mark.usefixtures("three_runs")
async def test_single_run_includes_nulls(client: httpx.AsyncClient) -> None:
    response = await client.get("/sessions/s1/runs/r2")

    assert response.status_code == 200
    run = response.json()
    assert run["run_id"] == "r2" and run["status"] == "ERROR"
    assert run["tools"] is None and run["citations"] is None and run["metadata"] is None


async def test_single_run_404_messages(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "empty")
    seed_agent_session(store, "full", runs=[agent_run("r1", "hi")])

    no_session = await client.get("/sessions/nope/runs/r1")
    no_runs = await client.get("/sessions/empty/runs/r1")
    no_run = await client.get("/sessions/full/runs/zzz")
    wrong_session = await client.get("/sessions/empty/runs/r1")

    assert {r.status_code for r in (no_session, no_runs, no_run, wrong_session)} == {404}
    assert no_runs.json()["detail"] == "Session with ID empty has no runs"
    assert no_run.json()["detail"] == "Run with ID zzz not found in session full"
    assert "nope" in no_session.json()["detail"]


@pytest.mark.parametrize("field", ["created_after", "created_before"])
async def test_a_time_bound_past_64_bits_is_422_naming_it(client: httpx.AsyncClient, field: str) -> None:
    await client.post("/sessions", params={"type": "agent"}, json={"session_id": "big"})
    response = await client.get("/sessions/big/runs", params={field: str(2**63)})

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]
