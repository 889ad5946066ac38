"""sessiondb: durable sessions for AI agents, teams and workflows.

The names most programs need are importable from here; each subpackage has the rest:
:mod:`sessiondb.session` and :mod:`sessiondb.run` (the data model),
:mod:`sessiondb.db` (stores and errors), :mod:`sessiondb.agent`, :mod:`sessiondb.team`,
:mod:`sessiondb.workflow` and :mod:`sessiondb.models` (runtimes), :mod:`sessiondb.api` (HTTP).
"""

from sessiondb.agent import Agent
from sessiondb.db import (
    InMemoryDb,
    InvalidQuery,
    PostgresDb,
    RunNotFound,
    SchemaNotReady,
    SessionAlreadyExists,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    SessionQuery,
    SessionStore,
    SessionTypeMismatch,
    SqliteDb,
    StoreError,
    StoreUnavailable,
    VersionConflict,
)
from sessiondb.run import Message, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import (
    AgentSession,
    SessionSummary,
    TeamSession,
    WorkflowChatInteraction,
    WorkflowSession,
)
from sessiondb.team import Team
from sessiondb.workflow import Workflow

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AgentSession",
    "InMemoryDb",
    "InvalidQuery",
    "Message",
    "PostgresDb",
    "RunNotFound",
    "RunOutput",
    "RunStatus",
    "SchemaNotReady",
    "SessionAlreadyExists",
    "SessionNotFound",
    "SessionOwnedByAnotherUser",
    "SessionQuery",
    "SessionStore",
    "SessionSummary",
    "SessionTypeMismatch",
    "SqliteDb",
    "StoreError",
    "StoreUnavailable",
    "Team",
    "TeamRunOutput",
    "TeamSession",
    "VersionConflict",
    "Workflow",
    "WorkflowChatInteraction",
    "WorkflowRunOutput",
    "WorkflowSession",
    "__version__",
]
