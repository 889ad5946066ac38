"""A session of a workflow: its runs, each with step results and the runs its steps made."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field

from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
from sessiondb.run.workflow import WorkflowRunOutput
from sessiondb.session._history import format_history_context, history_messages, last_n, status_values
from sessiondb.session._runs import quietly, run_objects
from sessiondb.session.base import BaseSession, SessionType


@dataclass
class WorkflowChatInteraction:
    """One exchange of a workflow session: the run's input and its output."""

    input: Any
    output: Any


class WorkflowSession(BaseSession):
    """Everything a workflow did in one session.

    ``session_data``, ``workflow_data``, ``metadata`` and ``runs`` default to empty containers, and
    ``created_at`` / ``updated_at`` to now (spec §1.1).
    """

    session_type: ClassVar[SessionType] = "workflow"

    workflow_name: str | None = None
    session_data: dict[str, Any] | None = Field(default_factory=dict)
    workflow_data: dict[str, Any] | None = Field(default_factory=dict)
    metadata: dict[str, Any] | None = Field(default_factory=dict)
    runs: list[WorkflowRunOutput] | None = Field(default_factory=list)
    created_at: int | None = Field(default_factory=lambda: int(time.time()))
    updated_at: int | None = Field(default_factory=lambda: int(time.time()))

    _run_class_keys = ("agent_id", "team_id")

    @classmethod
    def _run_class(cls, run: dict[str, Any]) -> type[WorkflowRunOutput] | None:
        # Step runs share the workflow's session_id; only workflow runs belong in ``runs``.
        return None if "agent_id" in run or "team_id" in run else WorkflowRunOutput

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
        """Messages of the step runs of exactly one agent or team (spec §2.5).

        The runs are collected from every workflow run's ``step_executor_runs``, oldest first.

        Args:
            agent_id: read the runs this agent made in workflow steps.
            team_id: read the runs this team made in workflow steps.
            last_n_runs: read only the newest N collected runs; ``<= 0`` gives ``[]``.
            limit: return at most this many messages, counting from the newest; see
                :meth:`AgentSession.get_messages`.
            skip_roles: leave out messages with these roles.
            skip_statuses: leave out runs in these states. Unlike agent and team sessions there
                is no default: ``None`` or ``[]`` skips nothing.
            skip_history_messages: leave out messages replayed from earlier runs.
            skip_member_messages: accepted for compatibility. Only the team's own runs are
                collected (never its members' runs), so there is nothing more to skip.

        Returns:
            The messages, oldest first (the stored objects, not copies).

        Raises:
            ValueError: when both or neither of ``agent_id`` and ``team_id`` are given.
        """
        if agent_id and team_id:
            raise ValueError("pass agent_id or team_id, not both")
        if not agent_id and not team_id:
            raise ValueError("pass one of agent_id or team_id")
        step_runs = [
            run for workflow_run in quietly(self.runs) for run in workflow_run.step_executor_runs or ()
        ]
        if agent_id:
            runs: list[Any] = [r for r in step_runs if isinstance(r, RunOutput) and r.agent_id == agent_id]
        else:
            runs = [r for r in step_runs if isinstance(r, TeamRunOutput) and r.team_id == team_id]
        return history_messages(
            runs,
            skip_statuses=status_values(skip_statuses),
            last_n_runs=last_n_runs,
            limit=limit,
            skip_roles=skip_roles,
            skip_history_messages=skip_history_messages,
        )

    def get_chat_history(self, last_n_runs: int | None = None) -> list[WorkflowChatInteraction]:
        """One :class:`WorkflowChatInteraction` per run whose input and content are both set (spec §2.6).

        Args:
            last_n_runs: look only at the newest N runs (before dropping runs without input or
                content); ``<= 0`` gives ``[]``. Status is not filtered.

        Returns:
            The interactions, oldest first.
        """
        return [
            WorkflowChatInteraction(input=run.input, output=run.content)
            for run in last_n(run_objects(self.runs), last_n_runs)
            if run.input and run.content
        ]

    def get_workflow_history(self, num_runs: int | None = None) -> list[tuple[str, str]]:
        """``(input, content)`` pairs of completed runs, optionally the last ``num_runs`` (spec §2.7).

        Args:
            num_runs: keep only the newest N completed runs; ``<= 0`` gives ``[]``.

        Returns:
            Pairs of text; a non-string input or content is rendered with ``str()``, an empty
            one is ``""``.
        """
        completed = [run for run in quietly(self.runs) if run.status_value == RunStatus.COMPLETED.value]
        return [(_as_str(run.input), _as_str(run.content)) for run in last_n(completed, num_runs)]

    def get_workflow_history_context(self, num_runs: int | None = None) -> str | None:
        """The workflow history inside ``<workflow_history_context>`` tags, byte-exact (spec §2.7).

        Args:
            num_runs: keep only the newest N completed runs.

        Returns:
            ``[Workflow Run-i]`` blocks with ``User input: ...`` and ``Workflow output: ...``
            lines, ending in a newline; ``None`` when there is no history.
        """
        return format_history_context(
            self.get_workflow_history(num_runs),
            tag="workflow_history_context",
            label="Workflow Run",
            input_prefix="User input: ",
            output_prefix="Workflow output: ",
        )


def _as_str(value: Any) -> str:
    if not value:
        return ""
    return value if isinstance(value, str) else str(value)
