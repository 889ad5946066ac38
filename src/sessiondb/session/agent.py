"""A session of an agent: its runs (and, inside a team, its member runs) plus state and summary."""

from __future__ import annotations

from typing import Any, ClassVar

from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
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
    runs: list[RunOutput | TeamRunOutput] | None = None  # type: ignore[assignment]
    summary: SessionSummary | None = None

    @classmethod
    def _runs_from_dicts(cls, runs: list[Any]) -> list[Any]:
        # A dict with ``team_id`` is a team run; anything else is an agent run. Agno drops a run
        # dict with neither key; we keep it as an agent run rather than lose data silently.
        return [
            TeamRunOutput.from_dict(run) if "team_id" in run else RunOutput.from_dict(run)
            for run in runs
            if isinstance(run, dict)
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
    ) -> list[Message]:
        """Return the messages of this session's runs that fit the filters (spec §2.3)."""
        raise NotImplementedError

    def get_chat_history(self, last_n_runs: int | None = None) -> list[Message]:
        """User and assistant messages of every top-level run, whatever its status (spec §2.6)."""
        raise NotImplementedError
