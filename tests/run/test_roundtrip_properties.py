"""Property tests: from_dict(to_dict(x)).to_dict() == to_dict(x) for messages, runs and sessions.

Each serialised form must also be plain JSON, since that is what the stores write.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sessiondb.run import (
    Message,
    MessageMetrics,
    RunInput,
    RunMetrics,
    RunOutput,
    RunStatus,
    StepOutput,
    TeamRunInput,
    TeamRunOutput,
    WorkflowMetrics,
    WorkflowRunOutput,
)
from sessiondb.session import AgentSession, SessionSummary, TeamSession, WorkflowSession

# Few examples per property keep the suite fast; the strategies are broad rather than many.
ROUNDTRIP = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
maybe_id = st.none() | ids
words = st.text(max_size=12)
counts = st.integers(min_value=0, max_value=10_000)
timestamps = st.integers(min_value=0, max_value=4_000_000_000)
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | words
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=8,
)
json_dict = st.dictionaries(words, json_value, max_size=3)
statuses = st.sampled_from([*(s.value for s in RunStatus), "SOMETHING_NEW"])


def tool_call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "lookup", "arguments": "{}"}}


message_metrics = st.builds(
    MessageMetrics, input_tokens=counts, output_tokens=counts, duration=st.none() | st.floats(0, 10)
)
extra_keys = st.dictionaries(st.sampled_from(["x_trace", "x_vendor", "x_flag"]), json_value, max_size=2)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    fields: dict[str, Any] = {
        "id": draw(ids),
        "role": draw(st.sampled_from(["system", "user", "assistant", "tool", "model"])),
        "content": draw(
            st.none() | words | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": words}))
        ),
        "tool_calls": draw(st.none() | st.lists(ids.map(tool_call), max_size=2)),
        "tool_call_id": draw(maybe_id),
        "from_history": draw(st.booleans()),
        "stop_after_tool_call": draw(st.booleans()),
        "metrics": draw(message_metrics),
        "created_at": draw(timestamps),
        "provider_data": draw(st.none() | json_dict),
    }
    return Message(**fields, **draw(extra_keys))


run_metrics = st.builds(
    RunMetrics, input_tokens=counts, total_tokens=counts, duration=st.none() | st.floats(0, 10)
)
run_inputs = st.builds(RunInput, input_content=st.none() | words | json_dict)


def common_run_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "run_id": draw(ids),
        "session_id": draw(maybe_id),
        "parent_run_id": draw(maybe_id),
        "user_id": draw(maybe_id),
        "content": draw(json_value),
        "status": draw(statuses),
        "messages": draw(st.none() | st.lists(messages(), max_size=3)),
        "metadata": draw(st.none() | json_dict),
        "session_state": draw(st.none() | json_dict),
        "created_at": draw(timestamps),
        "events": draw(st.none() | st.lists(json_dict, max_size=2)),
    }


@st.composite
def agent_runs(draw: st.DrawFn) -> RunOutput:
    return RunOutput(
        **common_run_fields(draw),
        # A stored agent run is recognised by its agent_id key, so agent runs always carry one.
        agent_id=draw(ids),
        agent_name=draw(st.none() | words),
        workflow_id=draw(maybe_id),
        input=draw(st.none() | run_inputs),
        metrics=draw(st.none() | run_metrics),
        tools=draw(st.none() | st.lists(json_dict, max_size=2)),
        reasoning_messages=draw(st.none() | st.lists(messages(), max_size=1)),
        additional_input=draw(st.none() | st.lists(messages(), max_size=1)),
    )


def team_runs(depth: int = 2) -> st.SearchStrategy[TeamRunOutput]:
    members: st.SearchStrategy[Any] = agent_runs() if depth == 0 else agent_runs() | team_runs(depth - 1)

    @st.composite
    def build(draw: st.DrawFn) -> TeamRunOutput:
        return TeamRunOutput(
            **common_run_fields(draw),
            team_id=draw(ids),
            team_name=draw(st.none() | words),
            input=draw(st.none() | st.builds(TeamRunInput, input_content=st.none() | words)),
            metrics=draw(st.none() | run_metrics),
            member_responses=draw(st.lists(members, max_size=2)),
        )

    return build()


step_outputs = st.recursive(
    st.builds(StepOutput, step_name=st.none() | words, content=json_value, success=st.booleans()),
    lambda inner: st.builds(StepOutput, step_name=words, steps=st.lists(inner, max_size=2)),
    max_leaves=4,
)


def workflow_runs(nested: bool = True) -> st.SearchStrategy[WorkflowRunOutput]:
    executors: st.SearchStrategy[Any] = agent_runs() | team_runs(1)
    if nested:
        executors = executors | workflow_runs(nested=False)

    @st.composite
    def build(draw: st.DrawFn) -> WorkflowRunOutput:
        return WorkflowRunOutput(
            **common_run_fields(draw),
            # A stored nested workflow run is recognised by its workflow_id key.
            workflow_id=draw(ids),
            workflow_name=draw(st.none() | words),
            input=draw(json_value),
            step_results=draw(st.lists(step_outputs | st.lists(step_outputs, max_size=2), max_size=2)),
            step_executor_runs=draw(st.none() | st.lists(executors, max_size=2)),
            metrics=draw(st.none() | st.builds(WorkflowMetrics, duration=st.none() | st.floats(0, 10))),
        )

    return build()


summaries = st.builds(
    SessionSummary,
    summary=words,
    topics=st.none() | st.lists(words, max_size=2),
    updated_at=st.none() | st.datetimes(),
)


def session_fields(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "session_id": draw(ids),
        "workflow_id": draw(maybe_id),
        "user_id": draw(maybe_id),
        "session_data": draw(st.none() | json_dict),
        "metadata": draw(st.none() | json_dict),
        "created_at": draw(st.none() | timestamps),
        "updated_at": draw(st.none() | timestamps),
    }


@st.composite
def agent_sessions(draw: st.DrawFn) -> AgentSession:
    return AgentSession(
        **session_fields(draw),
        agent_id=draw(maybe_id),
        team_id=draw(maybe_id),
        agent_data=draw(st.none() | json_dict),
        runs=draw(st.none() | st.lists(agent_runs() | team_runs(1), max_size=3)),
        summary=draw(st.none() | summaries),
    )


@st.composite
def team_sessions(draw: st.DrawFn) -> TeamSession:
    return TeamSession(
        **session_fields(draw),
        team_id=draw(maybe_id),
        team_data=draw(st.none() | json_dict),
        runs=draw(st.none() | st.lists(team_runs(1) | agent_runs(), max_size=3)),
        summary=draw(st.none() | summaries),
    )


@st.composite
def workflow_sessions(draw: st.DrawFn) -> WorkflowSession:
    return WorkflowSession(
        **session_fields(draw),
        workflow_name=draw(st.none() | words),
        workflow_data=draw(st.none() | json_dict),
        runs=draw(st.none() | st.lists(workflow_runs(), max_size=2)),
    )


def assert_stable(data: dict[str, Any], reloaded: dict[str, Any]) -> None:
    assert reloaded == data
    assert json.loads(json.dumps(data)) == data


@ROUNDTRIP
@given(messages())
def test_message_round_trip(message: Message) -> None:
    data = message.to_dict()
    assert_stable(data, Message.from_dict(data).to_dict())


@ROUNDTRIP
@given(agent_runs())
def test_agent_run_round_trip(run: RunOutput) -> None:
    data = run.to_dict()
    assert_stable(data, RunOutput.from_dict(data).to_dict())


@ROUNDTRIP
@given(team_runs())
def test_team_run_round_trip_with_nested_members(run: TeamRunOutput) -> None:
    data = run.to_dict()
    assert_stable(data, TeamRunOutput.from_dict(data).to_dict())


@ROUNDTRIP
@given(workflow_runs())
def test_workflow_run_round_trip_with_steps(run: WorkflowRunOutput) -> None:
    data = run.to_dict()
    assert_stable(data, WorkflowRunOutput.from_dict(data).to_dict())


@ROUNDTRIP
@given(agent_sessions())
def test_agent_session_round_trip(session: AgentSession) -> None:
    data = session.to_dict()
    loaded = AgentSession.from_dict(data)
    assert loaded is not None
    assert_stable(data, loaded.to_dict())


@ROUNDTRIP
@given(team_sessions())
def test_team_session_round_trip(session: TeamSession) -> None:
    data = session.to_dict()
    loaded = TeamSession.from_dict(data)
    assert loaded is not None
    assert_stable(data, loaded.to_dict())


@ROUNDTRIP
@given(workflow_sessions())
def test_workflow_session_round_trip(session: WorkflowSession) -> None:
    data = session.to_dict()
    loaded = WorkflowSession.from_dict(data)
    assert loaded is not None
    assert_stable(data, loaded.to_dict())


SESSION_CLASSES = (AgentSession, TeamSession, WorkflowSession)
any_run = agent_runs() | team_runs() | workflow_runs()


def _decoded(build: Any) -> list[tuple[type, dict[str, Any]]] | str:
    try:
        return [(type(run), run.to_dict()) for run in build()]
    except ValidationError:
        return "refused"  # e.g. a workflow run's dict read as an agent session's run, either way


@ROUNDTRIP
@given(any_run, st.booleans())
def test_runs_from_stored_text_are_the_runs_from_its_dict(run: Any, spaced: bool) -> None:
    # Stored text as orjson writes it, or with spaces, as PostgreSQL rendered JSONB (runs stored
    # before migration 0003).
    text = json.dumps(run.to_dict()) if spaced else json.dumps(run.to_dict(), separators=(",", ":"))
    for session_class in SESSION_CLASSES:
        from_text = _decoded(lambda: session_class._runs_from_texts([text]))  # noqa: B023
        from_dict = _decoded(lambda: session_class._runs_from_dicts([json.loads(text)]))  # noqa: B023
        assert from_text == from_dict


def test_a_class_key_anywhere_in_the_text_or_an_escape_lets_the_dict_decide() -> None:
    nested = RunOutput(run_id="r1", metadata={"team_id": "not a team run"}).to_dict()
    escaped = json.dumps({"run_id": "r2", "team_id": "t"}).replace('"team_id"', '"team\\u005fid"')
    plain = json.dumps({"run_id": "r3", "agent_id": "a"}, separators=(",", ":"))
    team = json.dumps({"run_id": "r4", "team_id": "t"})

    runs = AgentSession._runs_from_texts([json.dumps(nested), escaped, plain, team])

    assert [type(run) for run in runs] == [RunOutput, TeamRunOutput, RunOutput, TeamRunOutput]
    assert [type(run) for run in TeamSession._runs_from_texts([plain, team])] == [RunOutput, TeamRunOutput]
    assert runs[0].metadata == {"team_id": "not a team run"}
    # A workflow session keeps only workflow runs, from text as from dicts.
    assert WorkflowSession._runs_from_texts([plain, escaped]) == []
