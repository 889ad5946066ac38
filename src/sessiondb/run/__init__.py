"""Runs and messages: pure data, no I/O."""

from sessiondb.run.agent import RunInput, RunOutput
from sessiondb.run.message import Message
from sessiondb.run.metrics import MessageMetrics, Metrics, RunMetrics, SessionMetrics, WorkflowMetrics
from sessiondb.run.status import HISTORY_SKIP_STATUSES, IN_PROGRESS_STATUSES, NOT_HISTORY_STATUSES, RunStatus
from sessiondb.run.team import TeamRunInput, TeamRunOutput
from sessiondb.run.workflow import AnyRun, StepOutput, WorkflowRunOutput, classify_run

__all__ = [
    "HISTORY_SKIP_STATUSES",
    "IN_PROGRESS_STATUSES",
    "NOT_HISTORY_STATUSES",
    "AnyRun",
    "Message",
    "MessageMetrics",
    "Metrics",
    "RunInput",
    "RunMetrics",
    "RunOutput",
    "RunStatus",
    "SessionMetrics",
    "StepOutput",
    "TeamRunInput",
    "TeamRunOutput",
    "WorkflowMetrics",
    "WorkflowRunOutput",
    "classify_run",
]
