"""sessiondb: durable sessions for AI agents, teams and workflows.

The names most programs need are importable from here; each subpackage has the rest:
:mod:`sessiondb.session` and :mod:`sessiondb.run` (the data model),
:mod:`sessiondb.db` (stores and errors), :mod:`sessiondb.agent`, :mod:`sessiondb.team`,
:mod:`sessiondb.workflow` and :mod:`sessiondb.models` (runtimes), :mod:`sessiondb.api` (HTTP).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessiondb.agent import Agent
    from sessiondb.db import (
        InMemoryDb,
        InvalidQuery,
        PostgresDb,
        RunNotFound,
        SchemaNotReady,
        SessionAlreadyExists,
        SessionInTrash,
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

# Imported on first use (PEP 562): `import sessiondb` stays cheap, so the `sessiondb` command
# starts fast and a Ctrl-C while it starts is handled by its own code (see sessiondb._entry).
_EXPORTS: dict[str, str] = {
    "Agent": "sessiondb.agent",
    "AgentSession": "sessiondb.session",
    "InMemoryDb": "sessiondb.db",
    "InvalidQuery": "sessiondb.db",
    "Message": "sessiondb.run",
    "PostgresDb": "sessiondb.db",
    "RunNotFound": "sessiondb.db",
    "RunOutput": "sessiondb.run",
    "RunStatus": "sessiondb.run",
    "SchemaNotReady": "sessiondb.db",
    "SessionAlreadyExists": "sessiondb.db",
    "SessionInTrash": "sessiondb.db",
    "SessionNotFound": "sessiondb.db",
    "SessionOwnedByAnotherUser": "sessiondb.db",
    "SessionQuery": "sessiondb.db",
    "SessionStore": "sessiondb.db",
    "SessionSummary": "sessiondb.session",
    "SessionTypeMismatch": "sessiondb.db",
    "SqliteDb": "sessiondb.db",
    "StoreError": "sessiondb.db",
    "StoreUnavailable": "sessiondb.db",
    "Team": "sessiondb.team",
    "TeamRunOutput": "sessiondb.run",
    "TeamSession": "sessiondb.session",
    "VersionConflict": "sessiondb.db",
    "Workflow": "sessiondb.workflow",
    "WorkflowChatInteraction": "sessiondb.session",
    "WorkflowRunOutput": "sessiondb.run",
    "WorkflowSession": "sessiondb.session",
}

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
    "SessionInTrash",
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sessiondb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
