"""``POST /{agents,teams,workflows}/{id}/runs`` over every backend: runs are stored as sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from run_support import Hosted, parse_sse

from sessiondb.agent import RunEvent
from sessiondb.run import RunStatus
from sessiondb.session import AgentSession, TeamSession, WorkflowSession


async def test_agent_run_json_reply_is_stored_and_served(client: httpx.AsyncClient, hosted: Hosted) -> None:
    response = await client.post(
        "/agents/helper/runs", data={"message": "hello", "stream": "false", "user_id": "alice"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["content"] == "echo: hello"
    assert body["status"] == "COMPLETED"
    assert body["agent_id"] == "helper" and body["user_id"] == "alice"
    assert body["input"] == {"input_content": "hello"}
    session_id, run_id = body["session_id"], body["run_id"]
    # A request without session_id gets a new session, not the agent's own default one.
    assert session_id != hosted.agent.session_id

    listed = (await client.get("/sessions", params={"type": "agent"})).json()
    assert [(s["session_id"], s["agent_id"], s["user_id"]) for s in listed["data"]] == [
        (session_id, "helper", "alice")
    ]
    runs = (await client.get(f"/sessions/{session_id}/runs")).json()
    assert [(r["run_id"], r["status"], r["content"]) for r in runs] == [(run_id, "COMPLETED", "echo: hello")]
    stored = hosted.store.get_session(session_id)
    assert isinstance(stored, AgentSession)


async def test_streamed_agent_run_ends_completed_and_is_stored(
    client: httpx.AsyncClient, hosted: Hosted
) -> None:
    response = await client.post("/agents/helper/runs", data={"message": "tell me more", "stream": "true"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    names = [e.event for e in events]
    assert names[0] == "RunStarted" and names[-1] == "RunCompleted"
    assert "RunContent" in names
    # The data line is the event itself: its name, and the run's identity.
    assert all(e.data["event"] == e.event for e in events)
    run_ids = {e.data["run_id"] for e in events}
    session_ids = {e.data["session_id"] for e in events}
    assert len(run_ids) == 1 and len(session_ids) == 1
    streamed = "".join(e.data["content"] for e in events if e.event == "RunContent")
    assert streamed == "echo: tell me more" == events[-1].data["content"]

    run = hosted.store.get_run(run_ids.pop(), session_id=session_ids.pop())
    assert run.status == RunStatus.completed and run.content == "echo: tell me more"


async def test_stream_is_the_default_as_in_agentos(client: httpx.AsyncClient) -> None:
    response = await client.post("/agents/helper/runs", data={"message": "hi"})

    assert response.headers["content-type"].startswith("text/event-stream")
    assert parse_sse(response.text)[-1].event == "RunCompleted"


async def test_session_id_reuse_continues_the_history(client: httpx.AsyncClient, hosted: Hosted) -> None:
    first = await client.post(
        "/agents/helper/runs", data={"message": "my name is Ada", "stream": "false", "session_id": "s-1"}
    )
    assert first.json()["session_id"] == "s-1"
    second = await client.post(
        "/agents/helper/runs", data={"message": "what is my name?", "stream": "true", "session_id": "s-1"}
    )
    assert parse_sse(second.text)[-1].event == "RunCompleted"

    sent = [(m.role, m.content) for m in hosted.model.requests[-1].messages]
    assert sent == [
        ("user", "my name is Ada"),
        ("assistant", "echo: my name is Ada"),
        ("user", "what is my name?"),
    ]
    runs = (await client.get("/sessions/s-1/runs")).json()
    assert [r["run_input"] for r in runs] == ["my name is Ada", "what is my name?"]


async def test_multipart_form_and_json_state_and_metadata_fields(
    client: httpx.AsyncClient, hosted: Hosted
) -> None:
    response = await client.post(
        "/agents/helper/runs",
        data={
            "message": "hi",
            "stream": "false",
            "session_state": '{"step": 2}',
            "metadata": '{"source": "form"}',
            "dependencies": "{}",  # Agno sends options sessiondb ignores; they must not be refused
        },
        files={"files": ("note.txt", b"ignored", "text/plain")},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["session_state"] == {"step": 2} and body["metadata"] == {"source": "form"}
    stored = hosted.store.get_session(body["session_id"])
    assert (stored.session_data or {})["session_state"] == {"step": 2}


async def test_team_run_streams_member_events_and_stores_a_team_session(
    client: httpx.AsyncClient, hosted: Hosted
) -> None:
    response = await client.post(
        "/teams/research-team/runs", data={"message": "research", "stream": "true", "session_id": "t-1"}
    )

    events = parse_sse(response.text)
    names = [e.event for e in events]
    assert names[0] == "TeamRunStarted" and names[-1] == "TeamRunCompleted"
    assert "TeamToolCallStarted" in names
    # The member's own events carry the team run as their parent.
    team_run_id = events[0].data["run_id"]
    assert any(e.event == "RunCompleted" and e.data["parent_run_id"] == team_run_id for e in events)

    session = hosted.store.get_session("t-1")
    assert isinstance(session, TeamSession) and session.team_id == "research-team"
    statuses = {run.run_id: run.status for run in session.runs or []}
    assert statuses[team_run_id] == RunStatus.completed
    assert len(statuses) == 2  # the team run and its member's run


async def test_workflow_run_json_reply_and_stored_workflow_session(
    client: httpx.AsyncClient, hosted: Hosted
) -> None:
    response = await client.post("/workflows/draft/runs", data={"message": "draft it", "stream": "false"})

    body = response.json()
    assert body["workflow_id"] == "draft" and body["status"] == "COMPLETED"
    assert body["content"] == "ECHO: DRAFT IT"
    assert [step["content"] for step in body["step_results"]] == ["echo: draft it", "ECHO: DRAFT IT"]
    assert body["metrics"]["steps"] == {}  # Agno's WorkflowMetrics.from_dict needs the key
    session = hosted.store.get_session(body["session_id"])
    assert isinstance(session, WorkflowSession) and len(session.runs or []) == 1


async def test_workflow_run_streams_step_events(client: httpx.AsyncClient) -> None:
    response = await client.post("/workflows/draft/runs", data={"message": "go", "stream": "true"})

    names = [e.event for e in parse_sse(response.text)]
    assert names[0] == "WorkflowStarted" and names[-1] == "WorkflowCompleted"
    assert names.count("StepStarted") == names.count("StepCompleted") == 2


async def test_unknown_runtime_is_404_and_stores_nothing(client: httpx.AsyncClient) -> None:
    for kind, noun in (("agents", "Agent"), ("teams", "Team"), ("workflows", "Workflow")):
        response = await client.post(f"/{kind}/nobody/runs", data={"message": "hi", "session_id": "ghost"})
        assert response.status_code == 404 and response.json() == {"detail": f"{noun} not found"}
        assert (await client.get(f"/{kind}/nobody")).status_code == 404
    assert (await client.get("/sessions/ghost")).status_code == 404


async def test_missing_message_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/agents/helper/runs", data={"stream": "false"})

    assert response.status_code == 422
    assert [item["loc"] for item in response.json()["detail"]] == [["body", "message"]]
    assert (await client.get("/sessions")).json()["meta"]["total_count"] == 0


@pytest.mark.parametrize("store", ["memory"], indirect=True)  # validation never reaches the store
async def test_a_form_field_parsing_to_an_integer_past_64_bits_is_a_422_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    # Found by schemathesis: the 422 echoes the refused input, which orjson could not write.
    huge = "9" * 30
    response = await client.post("/agents/helper/runs", data={"stream": "false", "metadata": huge})

    assert response.status_code == 422
    items = {tuple(item["loc"]): item for item in response.json()["detail"]}
    assert set(items) == {("body", "message"), ("body", "metadata")}
    assert items[("body", "metadata")]["input"] == huge


@pytest.mark.parametrize("store", ["memory"], indirect=True)  # validation never reaches the store
async def test_session_state_that_is_not_a_json_object_is_422(client: httpx.AsyncClient) -> None:
    for bad in ("not json", "[1, 2]"):
        response = await client.post(
            "/agents/helper/runs", data={"message": "hi", "stream": "false", "session_state": bad}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "session_state"]


async def test_failed_run_is_500_and_stored_as_error(client: httpx.AsyncClient, hosted: Hosted) -> None:
    response = await client.post(
        "/agents/broken/runs", data={"message": "hi", "stream": "false", "session_id": "b-1"}
    )

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error (RuntimeError)"}
    [run] = hosted.store.get_runs("b-1")
    assert run.status == RunStatus.error


async def test_failed_streamed_run_ends_with_one_error_event(
    client: httpx.AsyncClient, hosted: Hosted
) -> None:
    response = await client.post("/agents/broken/runs", data={"message": "hi", "session_id": "b-2"})

    assert response.status_code == 200  # the stream had started: the error travels as an event
    names = [e.event for e in parse_sse(response.text)]
    assert names == ["RunStarted", "RunError"]
    [run] = hosted.store.get_runs("b-2")
    assert run.status == RunStatus.error
    # The server keeps serving.
    again = await client.post("/agents/helper/runs", data={"message": "hi", "stream": "false"})
    assert again.status_code == 200


@pytest.mark.parametrize("store", ["memory"], indirect=True)
async def test_a_stream_dying_without_its_error_event_still_ends_with_one(
    client: httpx.AsyncClient, hosted: Hosted, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def dying_stream(input: object, **options: object) -> AsyncIterator[RunEvent]:
        yield RunEvent(event="RunStarted", run_id="r-1", session_id="s-1")
        raise ConnectionError("the database went away")

    monkeypatch.setattr(hosted.agent, "arun_stream", dying_stream)
    response = await client.post("/agents/helper/runs", data={"message": "hi"})

    events = parse_sse(response.text)
    assert [e.event for e in events] == ["RunStarted", "RunError"]
    assert events[-1].data == {
        "event": "RunError",
        "created_at": events[-1].data["created_at"],
        "run_id": "r-1",
        "session_id": "s-1",
        "content": "the database went away",
    }
