"""Request and response shapes of the HTTP API; they feed the OpenAPI document."""

from sessiondb.api.schemas.runs import (
    AnyRunSchema,
    RunSchema,
    SessionRunPreviewSchema,
    TeamRunSchema,
    WorkflowRunSchema,
)
from sessiondb.api.schemas.sessions import (
    AgentSessionDetailSchema,
    CreateSessionRequest,
    DeleteSessionRequest,
    PaginatedSessions,
    PaginationInfo,
    RenameSessionRequest,
    SessionDetail,
    SessionSchema,
    SessionTypeParam,
    SummaryUpdate,
    TeamSessionDetailSchema,
    UpdateSessionRequest,
    WorkflowSessionDetailSchema,
)
from sessiondb.api.schemas.system import (
    ConfigResponse,
    ErrorResponse,
    HealthResponse,
    ValidationErrorResponse,
    VersionConflictResponse,
)

__all__ = [
    "AgentSessionDetailSchema",
    "AnyRunSchema",
    "ConfigResponse",
    "CreateSessionRequest",
    "DeleteSessionRequest",
    "ErrorResponse",
    "HealthResponse",
    "PaginatedSessions",
    "PaginationInfo",
    "RenameSessionRequest",
    "RunSchema",
    "SessionDetail",
    "SessionRunPreviewSchema",
    "SessionSchema",
    "SessionTypeParam",
    "SummaryUpdate",
    "TeamRunSchema",
    "TeamSessionDetailSchema",
    "UpdateSessionRequest",
    "ValidationErrorResponse",
    "VersionConflictResponse",
    "WorkflowRunSchema",
    "WorkflowSessionDetailSchema",
]
