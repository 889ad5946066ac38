"""Workflow steps: an agent, a team, or a plain function, run in order.

A function step receives a :class:`StepInput` (and, if it declares it, ``session_state``) and
returns a :class:`~sessiondb.run.workflow.StepOutput`, or any value, which becomes the step's
content. It may be a coroutine function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sessiondb.agent.agent import Agent
from sessiondb.run._text import to_text
from sessiondb.run.workflow import StepOutput
from sessiondb.session import WorkflowSession
from sessiondb.team.team import Team


@dataclass
class StepInput:
    """What a step is given.

    Attributes:
        input: the workflow run's input.
        previous_step_content: the content of the step before (``None`` for the first step).
        previous_step_outputs: the outputs of every earlier step, by step name.
        additional_data: free-form data passed to the workflow run.
        workflow_session: the workflow's session as loaded at the start of the run.
        num_history_runs: how many runs :meth:`get_workflow_history_context` includes by default.
    """

    input: Any = None
    previous_step_content: Any = None
    previous_step_outputs: dict[str, StepOutput] = field(default_factory=dict)
    additional_data: dict[str, Any] | None = None
    workflow_session: WorkflowSession | None = None
    num_history_runs: int | None = None

    def get_input_as_string(self) -> str | None:
        """The workflow input as text (JSON for dicts, lists and models)."""
        return None if self.input is None else to_text(self.input, indent=True)

    def get_step_output(self, step_name: str) -> StepOutput | None:
        """The output of an earlier step, by name."""
        return self.previous_step_outputs.get(step_name)

    def get_step_content(self, step_name: str) -> Any:
        """The content of an earlier step, by name."""
        output = self.get_step_output(step_name)
        return output.content if output is not None else None

    def get_last_step_content(self) -> Any:
        """The content of the step just before."""
        return self.previous_step_content

    def get_workflow_history(self, num_runs: int | None = None) -> list[tuple[str, str]]:
        """``(input, output)`` pairs of the session's completed runs (spec §2.7)."""
        if self.workflow_session is None:
            return []
        return self.workflow_session.get_workflow_history(num_runs=num_runs or self.num_history_runs)

    def get_workflow_history_context(self, num_runs: int | None = None) -> str | None:
        """The history in ``<workflow_history_context>`` tags, or ``None`` (spec §2.7)."""
        if self.workflow_session is None:
            return None
        return self.workflow_session.get_workflow_history_context(num_runs=num_runs or self.num_history_runs)


StepFunction = Callable[..., Any]


@dataclass(kw_only=True)
class Step:
    """One named step: exactly one of ``agent``, ``team`` or ``executor``.

    Attributes:
        add_workflow_history: feed the workflow history to this step (default: the
            workflow's ``add_workflow_history_to_steps``).
        num_history_runs: how many past runs that history holds (default: the workflow's).
    """

    name: str | None = None
    agent: Agent | None = None
    team: Team | None = None
    executor: StepFunction | None = None
    description: str | None = None
    add_workflow_history: bool | None = None
    num_history_runs: int | None = None

    def __post_init__(self) -> None:
        given = [x for x in (self.agent, self.team, self.executor) if x is not None]
        if len(given) != 1:
            raise ValueError("a Step needs exactly one of agent=, team= or executor=")
        if self.name is None:
            self.name = self.executor_name

    @property
    def executor_type(self) -> str:
        """``"agent"``, ``"team"`` or ``"function"``."""
        return "agent" if self.agent is not None else "team" if self.team is not None else "function"

    @property
    def executor_name(self) -> str:
        """The agent's or team's name (else id), or the function's name."""
        runtime = self.agent or self.team
        if runtime is not None:
            return runtime.name or runtime.id or self.executor_type
        return getattr(self.executor, "__name__", "function")

    def to_dict(self) -> dict[str, Any]:
        """What ``workflow_data['steps']`` records about the step."""
        return {"name": self.name, "description": self.description, "type": "Step"}


def as_step(item: Step | Agent | Team | StepFunction) -> Step:
    """Accept a ready :class:`Step`, an agent, a team or a function."""
    if isinstance(item, Step):
        return item
    if isinstance(item, Agent):
        return Step(agent=item)
    if isinstance(item, Team):
        return Step(team=item)
    if callable(item):
        return Step(executor=item)
    raise TypeError(f"a workflow step must be a Step, Agent, Team or function, not {type(item).__name__}")


def call_executor(
    fn: StepFunction, step_input: StepInput, session_state: dict[str, Any]
) -> Callable[[], Any]:
    """A zero-argument callable running ``fn`` with the step input (and state, if declared)."""
    if "session_state" in inspect.signature(fn).parameters:
        return lambda: fn(step_input, session_state=session_state)
    return lambda: fn(step_input)


def is_async_executor(fn: StepFunction) -> bool:
    """Whether ``fn`` is a coroutine function (so the step must be awaited)."""
    return inspect.iscoroutinefunction(fn)


__all__ = ["Step", "StepInput", "as_step", "call_executor", "is_async_executor"]
