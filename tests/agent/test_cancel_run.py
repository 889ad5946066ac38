"""``cancel_run``: a run executing in this process stops at its next step and is stored CANCELLED."""

from __future__ import annotations

import threading
from typing import Any

import anyio

from gate_model import Gate
from sessiondb.agent import Agent
from sessiondb.agent.events import RunEvent
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest
from sessiondb.models.base import ModelResponse, ToolCall
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.team import Team
from sessiondb.team.team import DELEGATE_TOOL
from sessiondb.workflow import Step, Workflow


def _running_run_id(store: SessionStore, session_id: str) -> str:
    [run] = [run for run in store.get_runs(session_id) if run.status == RunStatus.RUNNING]
    return run.run_id


async def _cancel_mid_run(runtime: Any, store: SessionStore, gate: Gate, **run_options: Any) -> Any:
    """Start ``runtime.arun`` into session s1, cancel it while its model waits, then open the gate."""
    outcome: dict[str, Any] = {}

    async def run() -> None:
        outcome["run"] = await runtime.arun("hi", session_id="s1", **run_options)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await gate.entered.wait()
            run_id = _running_run_id(store, "s1")
            assert runtime.cancel_run(run_id) is True
            gate.release.set()
    assert outcome["run"].run_id == run_id
    return outcome["run"]


def _state(store: SessionStore) -> dict[str, Any]:
    return dict((store.get_session("s1").session_data or {}).get("session_state") or {})


async def test_a_cancelled_agent_run_is_stored_cancelled_without_its_state(store: SessionStore) -> None:
    gate = Gate()
    agent = Agent(id="a", model=gate.model(), db=store)
    run = await _cancel_mid_run(agent, store, gate, session_state={"mine": 1})
    assert run.status == RunStatus.CANCELLED
    assert run.content == f"Run {run.run_id} was cancelled"
    stored = store.get_run(run.run_id)
    assert stored.status == RunStatus.CANCELLED and stored.content == run.content
    assert "mine" not in _state(store)
    # It has ended: a second request finds nothing to cancel.
    assert agent.cancel_run(run.run_id) is False


async def test_a_cancelled_team_run_is_stored_cancelled(store: SessionStore) -> None:
    gate = Gate()
    coordinator = FunctionModel(function=gate.answer)
    team = Team(id="t", model=coordinator, db=store, members=[Agent(id="m", model=Gate().model())])
    run = await _cancel_mid_run(team, store, gate)
    assert run.status == RunStatus.CANCELLED
    assert store.get_run(run.run_id).status == RunStatus.CANCELLED


async def test_cancelling_a_team_inside_a_members_run_stops_both(store: SessionStore) -> None:
    member_gate = Gate()

    def delegate(messages: list[Message], request: ModelRequest) -> ModelResponse | str:
        call = ToolCall(id="c1", name=DELEGATE_TOOL, arguments='{"member_id": "m", "task": "t"}')
        return ModelResponse(tool_calls=[call]) if request.index == 0 else "team answer"

    team = Team(
        id="t",
        model=FunctionModel(function=delegate),
        db=store,
        members=[Agent(id="m", model=member_gate.model())],
    )
    run = await _cancel_mid_run(team, store, member_gate)
    assert run.status == RunStatus.CANCELLED
    # The member's run never finished, so it was never stored.
    assert [r.run_id for r in store.get_runs("s1")] == [run.run_id]


async def test_a_cancelled_workflow_stops_before_its_next_step(store: SessionStore) -> None:
    gate = Gate()
    later: list[str] = []

    def second(step_input: Any) -> str:
        later.append("ran")
        return "second"

    workflow = Workflow(id="w", db=store, steps=[Step(name="first", agent=Agent(model=gate.model())), second])
    events: list[RunEvent] = []

    async def consume() -> None:
        async for event in workflow.arun_stream("hi", session_id="s1"):
            events.append(event)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await gate.entered.wait()
            assert workflow.cancel_run(_running_run_id(store, "s1")) is True
            gate.release.set()
    assert later == []
    assert events[-1].event == "WorkflowCancelled"
    [stored] = store.get_runs("s1")
    assert stored.status == RunStatus.CANCELLED


async def test_only_the_runs_own_runtime_and_user_may_cancel_it(store: SessionStore) -> None:
    gate = Gate()
    agent = Agent(id="a", model=gate.model(), db=store)
    other = Agent(id="b", model=gate.model(), db=store)
    outcome: dict[str, Any] = {}

    async def run() -> None:
        outcome["run"] = await agent.arun("hi", session_id="s1", user_id="ada")

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await gate.entered.wait()
            run_id = _running_run_id(store, "s1")
            assert other.cancel_run(run_id) is False
            assert agent.cancel_run(run_id, user_id="bob") is False
            assert agent.cancel_run("no-such-run") is False
            gate.release.set()
    assert outcome["run"].status == RunStatus.COMPLETED
    assert store.get_run(run_id).status == RunStatus.COMPLETED


def test_a_sync_run_is_cancelled_from_another_thread(store: SessionStore) -> None:
    entered, release = threading.Event(), threading.Event()

    def answer(messages: list[Message], request: ModelRequest) -> str:
        entered.set()
        assert release.wait(timeout=20)
        return "done"

    agent = Agent(id="a", model=FunctionModel(function=answer), db=store, session_id="s1")
    outcome: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: outcome.update(run=agent.run("hi")))
    worker.start()
    assert entered.wait(timeout=20)
    assert agent.cancel_run(_running_run_id(store, "s1")) is True
    release.set()
    worker.join(timeout=20)
    assert outcome["run"].status == RunStatus.CANCELLED
    assert store.get_run(outcome["run"].run_id).status == RunStatus.CANCELLED


async def test_a_streamed_cancelled_run_ends_with_run_cancelled(store: SessionStore) -> None:
    gate = Gate()
    agent = Agent(id="a", model=gate.model(), db=store)
    events: list[RunEvent] = []

    async def consume() -> None:
        async for event in agent.arun_stream("hi", session_id="s1"):
            events.append(event)

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(consume)
            await gate.entered.wait()
            assert agent.cancel_run(_running_run_id(store, "s1")) is True
            gate.release.set()
    assert [events[0].event, events[-1].event] == ["RunStarted", "RunCancelled"]


async def test_a_cancel_flagged_in_the_store_by_another_process_stops_the_run(store: SessionStore) -> None:
    """What another server's cancel does: it flags the stored run; this process reads the flag."""
    gate = Gate()
    answered: list[int] = []

    async def answer(messages: list[Message], request: ModelRequest) -> ModelResponse | str:
        answered.append(request.index)
        if request.index == 0:
            await gate.answer(messages, request)
            return ModelResponse(tool_calls=[ToolCall(name="noop")])
        return "second answer"

    def noop() -> str:
        """Do nothing."""
        return "ok"

    agent = Agent(id="a", model=FunctionModel(function=answer), db=store, tools=[noop])
    outcome: dict[str, Any] = {}

    async def run() -> None:
        outcome["run"] = await agent.arun("hi", session_id="s1")

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(run)
            await gate.entered.wait()
            # Not through cancel_run: this process's registry is not told, only the store.
            assert store.request_run_cancel(_running_run_id(store, "s1"), runtime_id="a") is True
            gate.release.set()
    assert outcome["run"].status == RunStatus.CANCELLED
    assert answered == [0]  # stopped before its next model call
    assert store.get_run(outcome["run"].run_id).status == RunStatus.CANCELLED
