"""``Workflow``: steps (agents, teams, functions) run in order, recorded as a workflow session.

A run is stored as soon as it starts (``RUNNING``) and again after every step, so a client
sees its progress. Each agent or team step runs as a member of the workflow run: its run gets
``parent_run_id`` set to the workflow run and lands in ``step_executor_runs``; every step's
result lands in ``step_results``. With ``add_workflow_history_to_steps`` each agent or team
step gets ``get_workflow_history_context`` in front of its input, and function steps can read
it from their :class:`~sessiondb.workflow.step.StepInput`.
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import uuid4

from sessiondb.agent import _cancel, _lease, _persist
from sessiondb.agent._effects import Blocking, Emit, Steps, call
from sessiondb.agent._run_api import RunAPI
from sessiondb.agent._runtime import ParentRun
from sessiondb.agent._session_api import SessionAPI
from sessiondb.agent._state import initial_state
from sessiondb.agent.events import EventFactory
from sessiondb.db.base import SessionStore
from sessiondb.run.metrics import WorkflowMetrics
from sessiondb.run.status import RunStatus
from sessiondb.run.workflow import StepOutput, WorkflowRunOutput
from sessiondb.session import SessionType, WorkflowSession
from sessiondb.workflow.step import Step, StepFunction, StepInput, as_step, call_executor, is_async_executor


@dataclass(kw_only=True)
class Workflow(SessionAPI, RunAPI[WorkflowRunOutput]):
    """An ordered pipeline of steps whose runs are recorded as a workflow session.

    Args:
        steps: agents, teams, functions or :class:`Step` objects, run in order; each step's
            input is the previous step's content (the workflow input for the first).
        db: where sessions are stored; without one they live in process memory.
        session_id / user_id: the defaults for runs (a new uuid4 session id if not given).
        session_state: the default state of new sessions; shared with every step.
        add_workflow_history_to_steps: give steps the history of earlier runs.
        num_history_runs: how many earlier runs that history holds (default 3).
    """

    session_type: ClassVar[SessionType] = "workflow"

    name: str | None = None
    id: str | None = None
    description: str | None = None
    steps: list[Step | Any] = field(default_factory=list)
    db: SessionStore | None = None
    session_id: str | None = None
    user_id: str | None = None
    session_state: dict[str, Any] | None = None
    overwrite_db_session_state: bool = False
    add_workflow_history_to_steps: bool = False
    num_history_runs: int = 3
    metadata: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.id is None:
            self.id = (
                "-".join("".join(c if c.isalnum() else " " for c in self.name.lower()).split())
                if self.name
                else str(uuid4())
            )
        if self.session_id is None:
            self.session_id = str(uuid4())
        self._steps = [as_step(step) for step in self.steps]

    @property
    def workflow_id(self) -> str | None:
        """Agno's name for ``id``."""
        return self.id

    def _new_session(self, session_id: str, user_id: str | None) -> WorkflowSession:
        data = {"workflow_id": self.id, "name": self.name, "steps": [step.to_dict() for step in self._steps]}
        return WorkflowSession(
            session_id=session_id,
            workflow_id=self.id,
            workflow_name=self.name,
            user_id=user_id,
            workflow_data=data,
            session_data={"session_state": copy.deepcopy(self.session_state or {})},
            metadata=copy.deepcopy(self.metadata) if self.metadata else {},
        )

    def _open(self, session_id: str, user_id: str | None) -> _persist.Opened:
        return _persist.read_or_create(
            self.get_db(),
            session_id=session_id,
            user_id=user_id,
            session_type="workflow",
            new_session=lambda: self._new_session(session_id, user_id),
        )

    def _run_steps(
        self,
        input: Any,
        *,
        stream: bool = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        parent: Any = None,
    ) -> Steps[WorkflowRunOutput]:
        """The whole workflow run as effects (see the module docstring)."""
        if parent is not None:
            raise ValueError("a workflow cannot run inside another runtime")
        started = time.perf_counter()
        sid, uid = session_id or self._sid(None), user_id or self.user_id
        db = self.get_db()
        opened: _persist.Opened = yield Blocking(lambda: self._open(sid, uid))
        session = opened.session
        assert isinstance(session, WorkflowSession)
        state = initial_state(
            stored=opened.stored_state,
            is_new_session=False,
            default=None,
            run_state=session_state,
            overwrite=self.overwrite_db_session_state,
        )
        run = WorkflowRunOutput(
            workflow_id=self.id,
            workflow_name=self.name,
            session_id=sid,
            user_id=uid,
            input=input,
            status=RunStatus.running,
            metadata={**(self.metadata or {}), **(session.metadata or {}), **(metadata or {})} or None,
            step_executor_runs=[],
        )
        events = EventFactory("", {"run_id": run.run_id, "session_id": sid, "workflow_id": self.id})
        events.identity["workflow_name"] = self.name
        live = _cancel.register(run.run_id, self.id, uid, db)
        try:
            yield Blocking(lambda: _persist.start_run(db, sid, run))
            yield Emit(events.make("WorkflowStarted"))
            step_input = StepInput(
                input=input, workflow_session=session, num_history_runs=self.num_history_runs
            )
            try:
                for index, step in enumerate(self._steps):
                    yield Emit(events.make("StepStarted", step_name=step.name, step_index=index))
                    step_steps = self._run_step(step, step_input, run, state, stream)
                    output = yield from _cancel.until_cancelled(step_steps, live)
                    run.step_results.append(output)
                    step_input.previous_step_outputs[step.name or str(index)] = output
                    step_input.previous_step_content = output.content
                    snapshot = run.model_copy(deep=True)
                    yield Blocking(functools.partial(_persist.save_run, db, sid, snapshot))
                    yield Emit(
                        events.make(
                            "StepCompleted", step_name=step.name, step_index=index, content=output.content
                        )
                    )
                    if output.stop:
                        break
                run.content = step_input.previous_step_content
                run.status = RunStatus.completed
                run.session_state = copy.deepcopy(state)
                run.metrics = WorkflowMetrics(duration=time.perf_counter() - started)
                commit = _persist.Commit(opened.stored_state, state)
                yield Blocking(lambda: _persist.commit_run(db, sid, uid, run, commit))
            except _cancel.RunCancelled as cancelled:
                # Stopped on request between steps: stored CANCELLED; its state changes are not saved.
                run.status = RunStatus.cancelled
                run.content = str(cancelled)
                yield Blocking(lambda: _persist.save_run(db, sid, run))
                yield Emit(events.make("WorkflowCancelled", content=str(cancelled)))
                return run
            except Exception as exc:
                run.status = RunStatus.error
                run.content = str(exc)
                yield Blocking(lambda: _persist.save_run(db, sid, run))
                yield Emit(events.make("WorkflowError", content=str(exc)))
                raise
            yield Emit(events.make("WorkflowCompleted", content=run.content, run=run))
            return run
        finally:
            _cancel.unregister(run.run_id)
            _lease.release(run.run_id)

    def _run_step(
        self, step: Step, step_input: StepInput, run: WorkflowRunOutput, state: dict[str, Any], stream: bool
    ) -> Steps[StepOutput]:
        output = StepOutput(step_name=step.name, step_type="Step", executor_type=step.executor_type)
        output.executor_name = step.executor_name
        if step.executor is not None:
            value = yield from self._run_function(step.executor, step_input, state)
            if isinstance(value, StepOutput):
                value.step_name = value.step_name or step.name
                return value
            output.content = value
            return output
        runtime = step.agent if step.agent is not None else step.team
        assert runtime is not None
        message = (
            step_input.previous_step_content if step_input.previous_step_content is not None else run.input
        )
        with_history = step.add_workflow_history
        if with_history if with_history is not None else self.add_workflow_history_to_steps:
            context = step_input.get_workflow_history_context(step.num_history_runs)
            if context:
                message = f"{context}\n{message}"
        parent = ParentRun(
            session_id=run.session_id or "",
            user_id=run.user_id,
            run_id=run.run_id,
            state=state,
            session=step_input.workflow_session,
            workflow_id=self.id,
            stream=stream,
        )
        member_run = yield from runtime._run_steps(message, stream=stream, parent=parent)
        stored = runtime._for_storage(member_run)
        assert run.step_executor_runs is not None
        run.step_executor_runs.append(stored)
        output.content = member_run.content
        output.step_run_id = member_run.run_id
        return output

    def _run_function(self, fn: StepFunction, step_input: StepInput, state: dict[str, Any]) -> Steps[Any]:
        value = yield from call(call_executor(fn, step_input, state), is_async=is_async_executor(fn))
        return value


__all__ = ["Workflow"]
