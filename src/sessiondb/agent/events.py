"""Events a streamed run emits, with Agno's event names.

Agent runs emit ``RunStarted``, ``RunContent``, ``ToolCallStarted``, ``ToolCallCompleted``,
``RunCompleted`` and ``RunError``; team runs emit the same names prefixed with ``Team``;
workflow runs emit ``WorkflowStarted``, ``StepStarted``, ``StepCompleted``,
``WorkflowCompleted`` and ``WorkflowError``. Every event serialises to a dict (``to_dict``) and
to one server-sent event (``to_sse``), so a server can relay a stream unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field


class RunEvent(BaseModel):
    """One thing that happened during a run.

    Attributes:
        event: the event name (``"RunContent"``, ``"TeamToolCallStarted"``, ...).
        run_id / session_id: which run, in which session.
        agent_id / agent_name / team_id / team_name / workflow_id / workflow_name: who ran it.
        parent_run_id: set on the events of a team member's or workflow step's run.
        content: the text piece (``*Content``), the final content (``*Completed``), or the
            error message (``*Error``).
        tool: the tool execution (``*ToolCall*``): name, arguments, and result once completed.
        step_name / step_index: the workflow step (``Step*``).
        run: the finished run object on ``*Completed`` events (not serialised).
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    event: str
    created_at: int = Field(default_factory=lambda: int(time.time()))
    run_id: str | None = None
    session_id: str | None = None
    parent_run_id: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    team_id: str | None = None
    team_name: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    content: Any | None = None
    tool: dict[str, Any] | None = None
    step_name: str | None = None
    step_index: int | None = None
    metrics: dict[str, Any] | None = None
    run: Any | None = Field(default=None, exclude=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, leaving out ``None`` values."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_sse(self) -> str:
        """This event as one server-sent event: ``event: <name>`` and a JSON ``data`` line."""
        return f"event: {self.event}\ndata: {orjson.dumps(self.to_dict(), default=str).decode()}\n\n"


@dataclass
class EventFactory:
    """Builds the events of one run: its name prefix (``""`` or ``"Team"``) and identity fields."""

    prefix: str
    identity: dict[str, Any] = field(default_factory=dict)

    def make(self, name: str, **fields: Any) -> RunEvent:
        """An event named ``prefix + name`` carrying the run's identity and ``fields``."""
        return RunEvent(event=f"{self.prefix}{name}", **self.identity, **fields)

    def content(self, text: str) -> RunEvent:
        """A ``RunContent`` event for one streamed piece of text."""
        return self.make("RunContent", content=text)


__all__ = ["EventFactory", "RunEvent"]
