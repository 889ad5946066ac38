"""A session of an agent: its runs (and, inside a team, its member runs) plus state and summary."""

from __future__ import annotations

from typing import Any, ClassVar

from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
from sessiondb.session._history import default_skip_values, history_messages
from sessiondb.session._runs import QuietRuns
from sessiondb.session.base import BaseSession, SessionType
from sessiondb.session.summary import SessionSummary


class AgentSession(BaseSession):
    """Everything an agent has said and done in one conversation.

    Attributes follow the seeds: ``session_id`` is required, everything else is optional.
    """

    session_type: ClassVar[SessionType] = "agent"

    agent_id: str | None = None
    team_id: str | None = None
    agent_data: dict[str, Any] | None = None
    runs: list[RunOutput | TeamRunOutput] | None = None
    summary: SessionSummary | None = None

    _run_class_keys = ("team_id",)

    @classmethod
    def _run_class(cls, run: dict[str, Any]) -> type[RunOutput] | type[TeamRunOutput] | None:
        # A dict with ``team_id`` is a team run; any other dict is an agent run. Agno drops a run
        # dict with neither key; we keep it as an agent run rather than lose data silently.
        return TeamRunOutput if "team_id" in run else RunOutput

    def get_messages(
        self,
        agent_id: str | None = None,
        team_id: str | None = None,
        last_n_runs: int | None = None,
        limit: int | None = None,
        skip_roles: list[str] | None = None,
        skip_statuses: list[RunStatus] | None = None,
        skip_history_messages: bool = True,
    ) -> list[Message]:
        """Return the messages of this session's runs that fit the filters (spec §2.3).

        Member and child runs (``parent_run_id`` set) are never included. Only the first system
        message found is kept, at its original position (first when ``limit`` is set).

        Args:
            agent_id: keep only runs of this agent.
            team_id: keep only runs of this team.
            last_n_runs: read only the newest N runs left after filtering; ``<= 0`` gives ``[]``.
            limit: return at most this many messages, counting from the newest. A window never
                starts with a tool result whose tool call was cut away (not even right after the
                system message, where Agno keeps one).
            skip_roles: leave out messages with these roles.
            skip_statuses: leave out runs in these states; ``None`` means
                :data:`~sessiondb.run.status.NOT_HISTORY_STATUSES`, ``[]`` means none.
            skip_history_messages: leave out messages replayed from earlier runs.

        Returns:
            The messages, oldest first (the stored objects, not copies).
        """
        if not self.runs:
            return []

        def keep(run: RunOutput | TeamRunOutput) -> bool:
            if run.parent_run_id is not None:
                return False
            if agent_id and getattr(run, "agent_id", None) != agent_id:
                return False
            return not team_id or getattr(run, "team_id", None) == team_id

        return history_messages(
            # A view that decodes lazily loaded runs only as far as the read goes (last_n_runs).
            QuietRuns(self.runs),
            keep=keep,
            skip_statuses=default_skip_values(skip_statuses),
            last_n_runs=last_n_runs,
            limit=limit,
            skip_roles=skip_roles,
            skip_history_messages=skip_history_messages,
        )

    def get_chat_history(self, last_n_runs: int | None = None) -> list[Message]:
        """User and assistant messages of every top-level run, whatever its status (spec §2.6).

        Args:
            last_n_runs: read only the newest N top-level runs.

        Returns:
            The messages, oldest first.
        """
        return self.get_messages(skip_roles=["system", "tool"], skip_statuses=[], last_n_runs=last_n_runs)
