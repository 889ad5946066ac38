"""A session of a workflow: its runs, each with step results and the runs its steps made."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.workflow import WorkflowRunOutput
from sessiondb.session.base import BaseSession, SessionType


@dataclass
class WorkflowChatInteraction:
    """One exchange of a workflow session: the run's input and its output."""

    input: Any
    output: Any


class WorkflowSession(BaseSession):
    """Everything a workflow did in one session. Session data, workflow data and metadata default to ``{}``."""

    session_type: ClassVar[SessionType] = "workflow"

    workflow_name: str | None = None
    session_data: dict[str, Any] | None = Field(default_factory=dict)
    workflow_data: dict[str, Any] | None = Field(default_factory=dict)
    metadata: dict[str, Any] | None = Field(default_factory=dict)
    runs: list[WorkflowRunOutput] | None = Field(default_factory=list)  # type: ignore[assignment]
    created_at: int | None = Field(default_factory=lambda: int(time.time()))
    updated_at: int | None = Field(default_factory=lambda: int(time.time()))

    @classmethod
    def _runs_from_dicts(cls, runs: list[Any]) -> list[Any]:
        # Step runs share the workflow's session_id; only workflow runs belong in ``runs``.
        return [
            WorkflowRunOutput.from_dict(run)
            for run in runs
            if isinstance(run, dict) and "agent_id" not in run and "team_id" not in run
        ]

    def get_messages(
        self,
        agent_id: str | None = None,
        team_id: str | None = None,
        last_n_runs: int | None = None,
        limit: int | None = None,
        skip_roles: list[str] | None = None,
        skip_statuses: list[RunStatus] | None = None,
        skip_history_messages: bool = True,
        skip_member_messages: bool = True,
    ) -> list[Message]:
        """Messages of the step runs of exactly one agent or team (spec §2.5)."""
        raise NotImplementedError

    def get_chat_history(self, last_n_runs: int | None = None) -> list[WorkflowChatInteraction]:
        """``WorkflowChatInteraction`` for each run whose input and content are both set (spec §2.6)."""
        raise NotImplementedError

    def get_workflow_history(self, num_runs: int | None = None) -> list[tuple[str, str]]:
        """``(input, content)`` pairs of completed runs, optionally the last ``num_runs`` (spec §2.7)."""
        raise NotImplementedError

    def get_workflow_history_context(self, num_runs: int | None = None) -> str | None:
        """The workflow history inside ``<workflow_history_context>`` tags, byte-exact (spec §2.7)."""
        raise NotImplementedError
