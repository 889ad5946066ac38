"""Workflows run agents, teams and functions in order and record step results and step runs."""

from __future__ import annotations

from typing import Any

import pytest
from runtime_support import calls, echo_model, scripted, stored_state

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest
from sessiondb.run import RunOutput, RunStatus, StepOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.run.message import Message
from sessiondb.session import WorkflowSession
from sessiondb.team import Team
from sessiondb.workflow import Step, StepInput, Workflow


def shout(step_input: StepInput) -> str:
    previous = step_input.get_last_step_content()
    return str(previous if previous is not None else step_input.get_input_as_string()).upper()


def test_steps_run_in_order_and_are_recorded(store: SessionStore) -> None:
    writer = Agent(name="Writer", model=echo_model("draft"))
    flow = Workflow(name="Pipeline", steps=[writer, shout], db=store, session_id="w1", user_id="u1")
    result = flow.run("topic")
    assert isinstance(result, WorkflowRunOutput)
    assert (result.status, result.content) == (RunStatus.completed, "DRAFT: TOPIC")
    assert [
        (s.step_name, s.executor_type, s.content) for s in result.step_results if isinstance(s, StepOutput)
    ] == [
        ("Writer", "agent", "draft: topic"),
        ("shout", "function", "DRAFT: TOPIC"),
    ]
    (agent_run,) = result.step_executor_runs or []
    assert isinstance(agent_run, RunOutput)
    assert (agent_run.agent_id, agent_run.parent_run_id, agent_run.workflow_id) == (
        "writer",
        result.run_id,
        "pipeline",
    )
    assert agent_run.session_id == "w1"

    session = store.get_session("w1")
    assert isinstance(session, WorkflowSession)
    assert (session.workflow_id, session.user_id) == ("pipeline", "u1")
    assert session.workflow_data == {
        "workflow_id": "pipeline",
        "name": "Pipeline",
        "steps": [
            {"name": "Writer", "description": None, "type": "Step"},
            {"name": "shout", "description": None, "type": "Step"},
        ],
    }
    (stored,) = session.runs or []
    assert stored.content == "DRAFT: TOPIC"
    assert [run.run_id for run in stored.step_executor_runs or []] == [agent_run.run_id]
    assert [(m.role, m.content) for m in session.get_messages(agent_id="writer")] == [
        ("user", "topic"),
        ("assistant", "draft: topic"),
    ]


def test_the_run_is_stored_running_and_after_each_step(store: SessionStore) -> None:
    seen: list[tuple[Any, int]] = []

    def peek(step_input: StepInput) -> str:
        (run,) = store.get_session("w1").runs or []
        assert isinstance(run, WorkflowRunOutput)
        seen.append((run.status, len(run.step_results)))
        return "peeked"

    Workflow(steps=[peek, peek], db=store, session_id="w1").run("go")
    assert seen == [(RunStatus.running, 0), (RunStatus.running, 1)]


def test_history_is_fed_to_agent_and_function_steps(store: SessionStore) -> None:
    model = echo_model("answer")
    contexts: list[str | None] = []

    def record(step_input: StepInput) -> str:
        contexts.append(step_input.get_workflow_history_context())
        return str(step_input.previous_step_content)

    flow = Workflow(
        steps=[Agent(name="Tutor", model=model), record],
        db=store,
        session_id="w1",
        add_workflow_history_to_steps=True,
    )
    flow.run("first q")
    flow.run("second q")
    expected = (
        "<workflow_history_context>\n[Workflow Run-1]\nUser input: first q\n"
        "Workflow output: answer: first q\n\n</workflow_history_context>\n"
    )
    assert contexts == [None, expected]
    assert model.requests[-1].messages[-1].content == f"{expected}\nsecond q"


def test_function_steps_get_state_inputs_and_may_be_async(store: SessionStore) -> None:
    def count(step_input: StepInput, session_state: dict[str, Any]) -> StepOutput:
        session_state["count"] = session_state.get("count", 0) + 1
        return StepOutput(content={"input": step_input.input, "extra": step_input.additional_data})

    async def finish(step_input: StepInput) -> str:
        return f"last was {step_input.get_step_content('count')}"

    flow = Workflow(steps=[count, Step(name="finish", executor=finish)], db=store, session_id="w1")
    import anyio

    result = anyio.run(lambda: flow.arun("x"))
    assert result.content == "last was {'input': 'x', 'extra': None}"
    flow.run("y")
    assert stored_state(store, "w1") == {"count": 2}
    with pytest.raises(RuntimeError, match="use arun"):

        async def inside_loop() -> None:
            flow.run("z")

        anyio.run(inside_loop)


def test_team_steps_are_recorded_too(store: SessionStore) -> None:
    member = Agent(name="Helper", model=echo_model("help"))
    team = Team(
        name="Crew",
        members=[member],
        model=scripted(calls("delegate_task_to_member", member_id="helper", task="do"), "team done"),
    )
    result = Workflow(steps=[team], db=store, session_id="w1").run("start")
    (team_run,) = result.step_executor_runs or []
    assert isinstance(team_run, TeamRunOutput)
    assert (team_run.team_id, team_run.parent_run_id, team_run.content) == (
        "crew",
        result.run_id,
        "team done",
    )
    assert [m.content for m in team_run.member_responses] == ["help: do"]
    session = store.get_session("w1")
    assert isinstance(session, WorkflowSession)
    assert [m.content for m in session.get_messages(team_id="crew", skip_roles=["system", "tool"])] == [
        "start",
        None,
        "team done",
    ]


def test_a_failing_step_stores_the_run_as_error(store: SessionStore) -> None:
    def fail(step_input: StepInput) -> str:
        raise KeyError("missing")

    flow = Workflow(steps=[shout, fail], db=store, session_id="w1")
    events: list[str] = []
    with pytest.raises(KeyError):
        for event in flow.run("x", stream=True):
            events.append(event.event)
    assert events == ["WorkflowStarted", "StepStarted", "StepCompleted", "StepStarted", "WorkflowError"]
    (run,) = store.get_session("w1").runs or []
    assert run.status == RunStatus.error and len(run.step_results) == 1


def test_workflow_events_and_streamed_agent_steps(store: SessionStore) -> None:
    flow = Workflow(name="Flow", steps=[Agent(name="A", model=echo_model())], db=store, session_id="w1")
    events = list(flow.run("hi", stream=True))
    assert [e.event for e in events] == [
        "WorkflowStarted",
        "StepStarted",
        "RunStarted",
        "RunContent",
        "RunContent",
        "RunCompleted",
        "StepCompleted",
        "WorkflowCompleted",
    ]
    assert events[0].workflow_id == "flow" and events[-1].content == "echo: hi"
    assert isinstance(events[-1].run, WorkflowRunOutput) and flow.last_run is events[-1].run


def test_a_step_output_with_stop_ends_the_workflow(store: SessionStore) -> None:
    def halt(step_input: StepInput) -> StepOutput:
        return StepOutput(content="halted", stop=True)

    result = Workflow(steps=[halt, shout], db=store, session_id="w1").run("x")
    assert result.content == "halted" and len(result.step_results) == 1


def test_step_needs_exactly_one_executor() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Step(name="empty")
    with pytest.raises(TypeError, match="must be a Step"):
        Workflow(steps=[42])


def test_workflow_session_methods(store: SessionStore) -> None:
    flow = Workflow(name="Flow", steps=[shout], db=store, session_id="w1", session_state={"k": 1})
    flow.run("a")
    flow.set_session_name(session_name="My flow")
    assert flow.get_session_name() == "My flow"
    assert flow.get_session_state() == {"k": 1}
    history = flow.get_chat_history()
    assert [(h.input, h.output) for h in history] == [("a", "A")]
    with pytest.raises(ValueError, match="needs a model"):
        flow.set_session_name(autogenerate=True)
    assert flow.delete_session() is True


def test_agent_step_with_history_sees_its_own_earlier_step_runs(store: SessionStore) -> None:
    def answer(messages: list[Message], request: ModelRequest) -> str:
        return f"seen {len(messages)}"

    agent = Agent(name="Mem", model=FunctionModel(function=answer), add_history_to_context=True)
    flow = Workflow(steps=[agent], db=store, session_id="w1")
    flow.run("one")
    assert flow.run("two").content == "seen 3"
