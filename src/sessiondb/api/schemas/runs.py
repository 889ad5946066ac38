"""Response shapes of the run endpoints (spec §4): agent, team and workflow runs, and previews.

Empty values are written as ``""``, ``[]`` or ``{}`` rather than left out, as Agno does, so
clients that index into them keep working.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_EXAMPLE_TIME = "2025-09-05T16:02:09Z"


class _RunCommon(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str = Field(description="Unique identifier of the run")
    user_id: str | None = Field(None, description="User the run was made for")
    status: str | None = Field(None, description="PENDING, RUNNING, COMPLETED, PAUSED, CANCELLED, ERROR, ...")
    cancellation_stage: str | None = Field(None, description="For a cancelled run, where it was cancelled")
    run_input: str | None = Field(None, description="The input as text")
    content: Any = Field(None, description="Output of the run (text, or JSON for structured output)")
    reasoning_content: str | None = Field(None, description="Reasoning text, if any")
    reasoning_steps: list[Any] | None = Field(None, description="Reasoning steps")
    metrics: dict[str, Any] | None = Field(None, description="Token and timing metrics")
    events: list[Any] | None = Field(None, description="Events, when the run stored them")
    created_at: datetime | None = Field(None, description="When the run was created (UTC)")
    references: list[Any] | None = Field(None, description="References cited")
    citations: Any = Field(None, description="Citations from the model")
    reasoning_messages: list[Any] | None = Field(None, description="Reasoning messages")
    images: list[Any] | None = Field(None, description="Images produced")
    videos: list[Any] | None = Field(None, description="Videos produced")
    audio: list[Any] | None = Field(None, description="Audio produced")
    files: list[Any] | None = Field(None, description="Files produced")
    response_audio: Any = Field(None, description="Audio response")


class _ModelRunCommon(_RunCommon):
    parent_run_id: str | None = Field(None, description="Run this one belongs to; empty for a top-level run")
    run_response_format: str | None = Field(None, description="text, or json for structured output")
    messages: list[dict[str, Any]] | None = Field(None, description="Messages of the run")
    tools: list[Any] | None = Field(None, description="Tool executions")
    session_state: dict[str, Any] | None = Field(None, description="Session state at the end of the run")
    input_media: dict[str, Any] | None = Field(None, description="Media given as input")
    followups: list[Any] | None = Field(None, description="Follow-up suggestions")
    forked_from_run_id: str | None = Field(None, description="Run this one was forked from")
    forked_from_message_index: int | None = Field(None, description="Message index of the fork")
    forked_from_session_id: str | None = Field(None, description="Session this run was branched from")
    regenerated_from: str | None = Field(None, description="Run this one regenerates")
    last_checkpoint_at_message_index: int | None = Field(None, description="Index of the last checkpoint")


class RunSchema(_ModelRunCommon):
    """An agent run."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "run_id": "r1",
                "parent_run_id": "",
                "agent_id": "basic-agent",
                "user_id": "alice",
                "status": "COMPLETED",
                "run_input": "What tools do you have?",
                "content": "None yet.",
                "run_response_format": "text",
                "metrics": {"total_tokens": 42},
                "messages": [{"role": "user", "content": "What tools do you have?"}],
                "created_at": _EXAMPLE_TIME,
            }
        },
    )

    agent_id: str | None = Field(None, description="Agent that made the run")
    metadata: dict[str, Any] | None = Field(None, description="Run metadata")


class TeamRunSchema(_ModelRunCommon):
    """A team run."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "run_id": "t1",
                "parent_run_id": "",
                "team_id": "travel-team",
                "status": "COMPLETED",
                "run_input": "Plan a trip",
                "content": "Here is a plan.",
                "run_response_format": "text",
                "created_at": _EXAMPLE_TIME,
            }
        },
    )

    team_id: str | None = Field(None, description="Team that made the run")


class WorkflowRunSchema(_RunCommon):
    """A workflow run with its step results and the runs its steps made."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "run_id": "w1",
                "workflow_id": "research",
                "run_input": "Research the market",
                "content": "Report",
                "content_type": "str",
                "status": "COMPLETED",
                "step_results": [{"step_name": "search", "content": "..."}],
                "step_executor_runs": [],
                "created_at": _EXAMPLE_TIME,
            }
        },
    )

    workflow_id: str | None = Field(None, description="Workflow that made the run")
    content_type: str | None = Field(None, description="Type of the content")
    step_results: list[Any] | None = Field(None, description="Output of each step")
    step_executor_runs: list[Any] | None = Field(None, description="Agent and team runs made by steps")
    step_requirements: list[Any] | None = Field(None, description="Human-in-the-loop step requirements")
    pause_kind: str | None = Field(None, description="step or executor, when paused")
    paused_step_name: str | None = Field(None, description="Step that paused the run")
    paused_step_index: int | None = Field(None, description="Index of the step that paused the run")


AnyRunSchema = RunSchema | TeamRunSchema | WorkflowRunSchema


class SessionRunPreviewSchema(BaseModel):
    """A run without its messages, events, media or metrics; input and output cut to 280 characters."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "run_id": "r1",
                "agent_id": "basic-agent",
                "status": "COMPLETED",
                "run_input": "What tools do you have?",
                "content_preview": "None yet.",
                "created_at": _EXAMPLE_TIME,
            }
        },
    )

    run_id: str = Field(description="Unique identifier of the run")
    parent_run_id: str | None = Field(None, description="Run this one belongs to")
    agent_id: str | None = Field(None, description="Agent, for an agent run")
    team_id: str | None = Field(None, description="Team, for a team run")
    workflow_id: str | None = Field(None, description="Workflow, for a workflow run")
    user_id: str | None = Field(None, description="User the run was made for")
    status: str | None = Field(None, description="Status of the run")
    run_input: str | None = Field(None, description="Input, cut to 280 characters")
    content_preview: str | None = Field(None, description="Output, cut to 280 characters")
    created_at: datetime | None = Field(None, description="When the run was created (UTC)")
