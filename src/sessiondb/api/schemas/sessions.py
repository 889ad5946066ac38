"""Request bodies and response shapes of the ``/sessions`` endpoints (spec §4).

Field names, defaults and optionality follow Agno's AgentOS schemas, so ``AgentOSClient``
parses every response. Request models ignore unknown keys rather than reject them: a newer
client that sends one more field must keep working.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Json,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from sessiondb.db.query import MAX_LIMIT, MAX_PAGE, SQL_INT_MAX, SQL_INT_MIN, SortField, SortOrder

SessionTypeParam = Literal["agent", "team", "workflow"]

_TYPE_NAMES = [repr(value) for value in get_args(SessionTypeParam)]
_SESSION_TYPES = f"{', '.join(_TYPE_NAMES[:-1])} or {_TYPE_NAMES[-1]}"
"""``'agent', 'team' or 'workflow'``, as pydantic words the expected values."""


def _enum_error(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # AgentOS declares the type as an Enum, so a bad value is FastAPI's ``enum`` error, which
    # clients (and Agno's own tests) match on; a Literal alone would be ``literal_error``.
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "enum", "Input should be {expected}", {"expected": _SESSION_TYPES}
        ) from None


SessionTypeValue = Annotated[SessionTypeParam, WrapValidator(_enum_error)]
"""A session type in a request: the ``Literal``, whose bad values are ``enum`` errors as in AgentOS."""

_EXAMPLE_TIME = "2025-09-05T16:02:09Z"
_EXAMPLE_ID = "6f6cfbfd-9643-479a-ae47-b8f32eb4d710"


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class SessionSchema(_Response):
    """One item of a session listing. ``None`` fields are left out, except the three ids."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "session_id": _EXAMPLE_ID,
                "session_name": "What tools do you have?",
                "session_state": {},
                "created_at": _EXAMPLE_TIME,
                "updated_at": _EXAMPLE_TIME,
                "session_type": "agent",
                "agent_id": "basic-agent",
                "team_id": None,
                "workflow_id": None,
            }
        },
    )

    session_id: str = Field(description="Unique identifier of the session")
    session_name: str = Field(description="Explicit name, else derived from the first run, else empty")
    session_state: dict[str, Any] | None = Field(None, description="Current state of the session")
    created_at: datetime | None = Field(None, description="When the session was created (UTC)")
    updated_at: datetime | None = Field(None, description="When the session was last updated (UTC)")
    session_type: SessionTypeParam | None = Field(None, description="agent, team or workflow")
    user_id: str | None = Field(None, description="Owner of the session")
    agent_id: str | None = Field(None, description="Agent id; always present, null when not an agent session")
    team_id: str | None = Field(None, description="Team id; always present, null when unset")
    workflow_id: str | None = Field(None, description="Workflow id; always present, null when unset")
    session_summary: dict[str, Any] | None = Field(None, description="Summary of the session")
    metrics: dict[str, Any] | None = Field(None, description="Session metrics summed over runs")
    total_tokens: int | None = Field(None, description="Total tokens used in this session")
    metadata: dict[str, Any] | None = Field(None, description="Free-form metadata")


class PaginationInfo(BaseModel):
    """Where a page sits in the whole listing."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "page": 1,
                "limit": 20,
                "total_count": 1,
                "total_pages": 1,
                "search_time_ms": 0.8,
                "next_cursor": None,
            }
        }
    )

    page: int = Field(description="Page number (1-based)", ge=1)
    limit: int = Field(description="Items per page", ge=1)
    total_count: int = Field(description="Matching sessions in total, across pages", ge=0)
    total_pages: int = Field(description="ceil(total_count / limit)", ge=0)
    search_time_ms: float = Field(description="Time spent in the database, in milliseconds", ge=0)
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to fetch the next page by keyset; null on the last page"
    )


class PaginatedSessions(BaseModel):
    """A page of sessions and its pagination info."""

    data: list[SessionSchema] = Field(description="Sessions of this page")
    meta: PaginationInfo = Field(description="Pagination info")


class _SessionDetail(_Response):
    """What every session detail carries."""

    session_id: str = Field(description="Session identifier")
    session_name: str = Field(description="Explicit name, else derived from the first run, else empty")
    user_id: str | None = Field(None, description="Owner of the session")
    agent_id: str | None = Field(None, description="Agent id; always present, null when unset")
    team_id: str | None = Field(None, description="Team id; always present, null when unset")
    workflow_id: str | None = Field(None, description="Workflow id; always present, null when unset")
    session_state: dict[str, Any] | None = Field(None, description="Current state of the session")
    metadata: dict[str, Any] | None = Field(None, description="Free-form metadata")
    created_at: datetime | None = Field(None, description="When the session was created (UTC)")
    updated_at: datetime | None = Field(None, description="When the session was last updated (UTC)")


class _ChatDetail(_SessionDetail):
    session_summary: dict[str, Any] | None = Field(None, description="Summary of the session")
    total_tokens: int | None = Field(None, description="Total tokens used in this session")
    metrics: dict[str, Any] | None = Field(None, description="Session metrics summed over runs")
    chat_history: list[dict[str, Any]] | None = Field(
        None, description="User and assistant messages of the top-level runs, oldest first"
    )


class AgentSessionDetailSchema(_ChatDetail):
    """An agent session with its chat history."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "agent_session_id": _EXAMPLE_ID,
                "session_id": _EXAMPLE_ID,
                "session_name": "What tools do you have?",
                "user_id": "alice",
                "agent_id": "basic-agent",
                "team_id": None,
                "workflow_id": None,
                "session_state": {},
                "metrics": {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42},
                "total_tokens": 42,
                "chat_history": [
                    {"role": "user", "content": "What tools do you have?", "created_at": 1757088129},
                    {"role": "assistant", "content": "None yet.", "created_at": 1757088130},
                ],
                "created_at": _EXAMPLE_TIME,
                "updated_at": _EXAMPLE_TIME,
            }
        },
    )

    agent_session_id: str = Field(description="Same as session_id")
    agent_data: dict[str, Any] | None = Field(None, description="Agent name, id and model")


class TeamSessionDetailSchema(_ChatDetail):
    """A team session with the team's own chat history (member messages are left out)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "session_id": _EXAMPLE_ID,
                "session_name": "Plan a trip",
                "agent_id": None,
                "team_id": "travel-team",
                "workflow_id": None,
                "chat_history": [],
                "created_at": _EXAMPLE_TIME,
                "updated_at": _EXAMPLE_TIME,
            }
        },
    )

    team_data: dict[str, Any] | None = Field(None, description="Team name, id and model")


class WorkflowSessionDetailSchema(_SessionDetail):
    """A workflow session. It has no chat history and no summary."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "session_id": _EXAMPLE_ID,
                "session_name": "Research the market",
                "agent_id": None,
                "team_id": None,
                "workflow_id": "research",
                "workflow_name": "Research",
                "session_data": {"session_state": {}},
                "session_state": {},
                "workflow_data": {"workflow_id": "research", "name": "Research"},
                "created_at": _EXAMPLE_TIME,
                "updated_at": _EXAMPLE_TIME,
            }
        },
    )

    workflow_name: str | None = Field(None, description="Name of the workflow")
    session_data: dict[str, Any] | None = Field(None, description="The whole session_data blob")
    workflow_data: dict[str, Any] | None = Field(None, description="Workflow id, name and steps")


SessionDetail = AgentSessionDetailSchema | TeamSessionDetailSchema | WorkflowSessionDetailSchema


class CreateSessionRequest(BaseModel):
    """Body of ``POST /sessions``. Every field is optional; ``{}`` creates an empty session."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "session_id": "my-session",
                "session_name": "Trip planning",
                "session_state": {"destination": "Lisbon"},
                "user_id": "alice",
                "agent_id": "travel-agent",
            }
        },
    )

    session_id: str | None = Field(None, description="Session id; a UUID is made when absent or empty")
    session_name: str | None = Field(None, description="Name of the session")
    session_state: dict[str, Any] | None = Field(None, description="Initial session state")
    metadata: dict[str, Any] | None = Field(None, description="Free-form metadata")
    user_id: str | None = Field(
        None, description="Owner (ignored for a scoped JWT caller: its own id is used)"
    )
    agent_id: str | None = Field(None, description="Agent id (agent sessions)")
    team_id: str | None = Field(None, description="Team id (team sessions)")
    workflow_id: str | None = Field(None, description="Workflow id (workflow sessions)")


class SummaryUpdate(BaseModel):
    """A session summary as PATCH takes it; it replaces the stored one whole."""

    model_config = ConfigDict(extra="ignore")

    summary: str = Field(description="The summary text")
    topics: list[str] | None = Field(None, description="Topics of the session")
    updated_at: datetime | None = Field(None, description="When the summary was written")


class UpdateSessionRequest(BaseModel):
    """Body of ``PATCH /sessions/{session_id}``. Absent (or null) fields are left unchanged."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "session_name": "Trip to Lisbon",
                "session_state": {"destination": "Lisbon", "nights": 3},
                "metadata": {"source": "web"},
                "summary": {"summary": "Planning a trip to Lisbon.", "topics": ["travel"]},
            }
        },
    )

    session_name: str | None = Field(None, description="New name")
    session_state: dict[str, Any] | None = Field(None, description="Replaces the whole state (no merge)")
    metadata: dict[str, Any] | None = Field(None, description="Replaces the metadata")
    summary: SummaryUpdate | None = Field(None, description="Replaces the summary (topics too)")


class RenameSessionRequest(BaseModel):
    """Body of ``POST /sessions/{session_id}/rename``."""

    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"example": {"session_name": "Trip to Lisbon"}}
    )

    session_name: str = Field(description="New name of the session")


MAX_BULK_DELETE_IDS = 10_000
"""Ids at most in one ``DELETE /sessions`` (a 422 names the limit beyond). The store deletes any
number in one transaction, but that transaction holds the write lock (SQLite) or the rows'
locks while it runs: 10,000 takes well under a second; a client with more sends several."""


class DeleteSessionRequest(BaseModel):
    """Body of ``DELETE /sessions``: the ids to delete and, for each, its type."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={"example": {"session_ids": ["s1", "s2"], "session_types": ["agent", "team"]}},
    )

    session_ids: list[str] = Field(
        min_length=1, max_length=MAX_BULK_DELETE_IDS, description="Ids of the sessions to delete"
    )
    session_types: list[SessionTypeValue] = Field(
        min_length=1,
        max_length=MAX_BULK_DELETE_IDS,
        description="Type of each session, in the same order (must have the same length)",
    )


class SessionTypeQuery(BaseModel):
    """The ``type`` query parameter of ``GET /sessions/{session_id}``, validated by the route itself.

    See :class:`ListSessionsQuery` for why; the parameter is documented as
    ``routers.common.TypeQuery`` is.
    """

    session_type: SessionTypeValue | None = Field(None, alias="type")


class ListSessionsQuery(BaseModel):
    """The filter, sort and page query parameters of ``GET /sessions``.

    The route validates it with :func:`sessiondb.api.query.parse_query` rather than through
    FastAPI, which would introspect every field's annotation on every request; the OpenAPI
    document and the 422 error items are the same as if FastAPI did.
    """

    session_type: SessionTypeValue | None = Field(
        None, alias="type", description="agent, team or workflow; detected from the session when omitted"
    )
    component_id: str | None = Field(None, description="Agent, team or workflow id")
    session_name: str | None = Field(None, description="Case-insensitive part of the name")
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="Sessions per page")
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1")
    sort_by: SortField = Field("created_at", description="Field to sort by")
    sort_order: SortOrder = Field("desc", description="asc or desc")
    cursor: str | None = Field(
        None, description="next_cursor of the previous page; when given, page is ignored"
    )
    created_after: int | None = Field(
        None, ge=SQL_INT_MIN, le=SQL_INT_MAX, description="Created at or after (unix seconds)"
    )
    created_before: int | None = Field(
        None, ge=SQL_INT_MIN, le=SQL_INT_MAX, description="Created at or before (unix seconds)"
    )
    metadata: Json[dict[str, Any]] | None = Field(
        None,
        description=(
            "A JSON object the session's metadata must contain: objects match key by key, "
            "other values (arrays whole) must be equal"
        ),
        examples=['{"source": "web", "customer": {"tier": "gold"}}'],
    )
    deleted: bool = Field(
        False, description="List the trash (soft-deleted sessions not purged yet) instead of live sessions"
    )
