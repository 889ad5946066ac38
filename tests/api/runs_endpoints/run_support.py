"""Helpers of the run-endpoint tests: hosted runtimes over a store, and parsing server-sent events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from sessiondb.agent import Agent
from sessiondb.db.base import SessionStore
from sessiondb.models import FunctionModel, ModelRequest, TestModel
from sessiondb.run.message import Message
from sessiondb.team import Team
from sessiondb.team.team import DELEGATE_TOOL
from sessiondb.workflow import Step, StepInput, Workflow


def echo(messages: list[Message], request: ModelRequest) -> str:
    """The reply of the agents' model: it names the last user message."""
    return f"echo: {request.last_user_text()}"


def fail(messages: list[Message], request: ModelRequest) -> str:
    """The reply of a broken model."""
    raise RuntimeError("the model is down")


@dataclass
class Hosted:
    """The runtimes one test server hosts, all storing into one store.

    Attributes:
        model: the agent's model; its ``requests`` show what each run sent to it.
    """

    store: SessionStore
    model: FunctionModel = field(default_factory=lambda: FunctionModel(function=echo))

    def __post_init__(self) -> None:
        self.agent = Agent(name="Helper", model=self.model, db=self.store, add_history_to_context=True)
        self.broken = Agent(name="Broken", model=FunctionModel(function=fail), db=self.store)
        researcher = Agent(name="Researcher", model=FunctionModel(function=echo), role="Finds facts")
        coordinator = TestModel(
            call_tools=[DELEGATE_TOOL],
            tool_args={DELEGATE_TOOL: {"member_id": "researcher", "task": "find a fact"}},
        )
        self.team = Team(name="Research Team", model=coordinator, db=self.store, members=[researcher])
        self.workflow = Workflow(
            name="Draft",
            db=self.store,
            steps=[Step(name="Write", agent=Agent(name="Writer", model=FunctionModel(function=echo))), shout],
        )

    def app_options(self) -> dict[str, Any]:
        """The ``create_app`` arguments hosting these runtimes."""
        return {"agents": [self.agent, self.broken], "teams": [self.team], "workflows": [self.workflow]}


def shout(step_input: StepInput) -> str:
    """A function step: upper-case the previous answer."""
    return str(step_input.previous_step_content).upper()


@dataclass
class Sse:
    """One server-sent event."""

    event: str
    data: dict[str, Any]


def parse_sse(body: str) -> list[Sse]:
    """The events of a ``text/event-stream`` body; each must be one ``event:`` and one ``data:`` line."""
    events = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        lines = block.split("\n")
        assert len(lines) == 2, block
        name, data = lines
        assert name.startswith("event: ") and data.startswith("data: "), block
        events.append(Sse(name.removeprefix("event: "), orjson.loads(data.removeprefix("data: "))))
    return events
