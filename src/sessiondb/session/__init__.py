"""Sessions: pure data and history logic, no I/O."""

from sessiondb.session.agent import AgentSession
from sessiondb.session.base import BaseSession, SessionType
from sessiondb.session.summary import SessionSummary
from sessiondb.session.team import TeamSession
from sessiondb.session.workflow import WorkflowChatInteraction, WorkflowSession

Session = AgentSession | TeamSession | WorkflowSession

SESSION_CLASSES: dict[str, type[AgentSession] | type[TeamSession] | type[WorkflowSession]] = {
    "agent": AgentSession,
    "team": TeamSession,
    "workflow": WorkflowSession,
}

__all__ = [
    "SESSION_CLASSES",
    "AgentSession",
    "BaseSession",
    "Session",
    "SessionSummary",
    "SessionType",
    "TeamSession",
    "WorkflowChatInteraction",
    "WorkflowSession",
]
