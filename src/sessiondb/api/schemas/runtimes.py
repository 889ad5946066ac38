"""Shapes of the runtime endpoints: ``/agents``, ``/teams``, ``/workflows`` and their ``/runs``.

The descriptions follow AgentOS's ``AgentResponse``, ``TeamResponse`` and ``WorkflowResponse``
(the fields sessiondb has); a run's reply is the run's own dict (``RunOutput.to_dict()``),
as AgentOS returns it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, Json, field_validator


class ModelSummary(BaseModel):
    """The chat model a runtime uses."""

    name: str | None = Field(None, description="Name of the model class, e.g. OpenAIChat")
    model: str | None = Field(None, description="Model identifier, e.g. gpt-4o-mini")
    provider: str | None = Field(None, description="Model provider, e.g. OpenAI")


class AgentSummary(BaseModel):
    """An agent the server hosts (``GET /agents``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"id": "support", "name": "Support", "db_id": "main", "model": {"model": "gpt-4o"}}
        }
    )

    id: str = Field(description="The agent's id, as used in /agents/{agent_id}/runs")
    name: str | None = Field(None, description="Display name")
    db_id: str | None = Field(None, description="Database its sessions are stored in")
    description: str | None = Field(None, description="What the agent does")
    role: str | None = Field(None, description="Its role when it is a team member")
    model: ModelSummary | None = Field(None, description="The chat model")
    sessions: dict[str, Any] | None = Field(None, description="Session settings (history, summaries)")
    metadata: dict[str, Any] | None = Field(None, description="Metadata merged into every run")


class TeamSummary(BaseModel):
    """A team the server hosts (``GET /teams``)."""

    id: str = Field(description="The team's id, as used in /teams/{team_id}/runs")
    name: str | None = Field(None, description="Display name")
    db_id: str | None = Field(None, description="Database its sessions are stored in")
    description: str | None = Field(None, description="What the team does")
    role: str | None = Field(None, description="Its role when it is itself a member")
    model: ModelSummary | None = Field(None, description="The coordinator's chat model")
    sessions: dict[str, Any] | None = Field(None, description="Session settings (history, summaries)")
    members: list[AgentSummary | TeamSummary] = Field(default_factory=list, description="Its members")
    metadata: dict[str, Any] | None = Field(None, description="Metadata merged into every run")


class WorkflowSummary(BaseModel):
    """A workflow the server hosts (``GET /workflows``)."""

    id: str = Field(description="The workflow's id, as used in /workflows/{workflow_id}/runs")
    name: str | None = Field(None, description="Display name")
    db_id: str | None = Field(None, description="Database its sessions are stored in")
    description: str | None = Field(None, description="What the workflow does")
    steps: list[dict[str, Any]] = Field(
        default_factory=list, description="Its steps: name, description, type"
    )
    metadata: dict[str, Any] | None = Field(None, description="Metadata merged into every run")


class RunForm(BaseModel):
    """The form fields of ``POST /{agents,teams,workflows}/{id}/runs`` (urlencoded or multipart).

    Unknown fields are ignored rather than refused: Agno's clients send options sessiondb has no
    use for (``dependencies``, ``stream_events``, media), and refusing them would break those clients.
    """

    model_config = ConfigDict(extra="ignore")

    message: str = Field(description="The input message")
    stream: bool = Field(
        True,
        description="Answer with server-sent events (the default, as in AgentOS); false for one JSON reply",
    )
    session_id: str | None = Field(
        None, description="Session to continue; a new session (new uuid4) when omitted or empty"
    )
    user_id: str | None = Field(
        None, description="User the run is for (a JWT caller without admin scope always runs as itself)"
    )
    session_state: Json[dict[str, Any]] | None = Field(
        None, description="JSON object merged onto the stored session_state for this run"
    )
    metadata: Json[dict[str, Any]] | None = Field(
        None, description="JSON object merged into the run's metadata"
    )

    @field_validator("session_state", "metadata", mode="before")
    @classmethod
    def _null_is_absent(cls, value: Any) -> Any:
        # A form field cannot hold a JSON null: "null" (how the OpenAPI document's nullable
        # fields are sent as form data) and "" mean "not given".
        return None if value in ("", "null") else value


class RunResponse(BaseModel):
    """The finished run, as the runtime's ``RunOutput.to_dict()`` writes it (``None`` values left out).

    An agent run also has ``agent_id``, ``agent_name``, ``messages``, ``metrics`` and ``input``;
    a team run ``team_id`` and ``member_responses``; a workflow run ``workflow_id`` and
    ``step_results``.
    """

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "run_id": "0b5e...",
                "agent_id": "support",
                "session_id": "5f1c...",
                "content": "Hello! How can I help?",
                "content_type": "str",
                "status": "COMPLETED",
                "created_at": 1757088129,
            }
        },
    )

    run_id: str = Field(description="Id of the run")
    session_id: str | None = Field(None, description="Session the run was stored in")
    user_id: str | None = Field(None, description="User the run was made for")
    content: Any = Field(None, description="The reply")
    content_type: str = Field("str", description="Type of content")
    status: str = Field(description="COMPLETED for a successful run")
    created_at: int = Field(description="When the run started (unix seconds)")


class CancelRunResponse(BaseModel):
    """The answer to a cancel request: an empty object, as AgentOS answers.

    It does not say whether a run was stopped: as in AgentOS, a run that is unknown, has ended
    or belongs to another user is answered the same way (so the answer reveals nothing about
    other users' runs). Read the run to see its final status.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {}})


__all__ = [
    "AgentSummary",
    "CancelRunResponse",
    "ModelSummary",
    "RunForm",
    "RunResponse",
    "TeamSummary",
    "WorkflowSummary",
]
