"""A session of a team: team runs with their member runs, plus state and summary."""

from __future__ import annotations

from typing import Any, ClassVar

from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
from sessiondb.session.base import BaseSession, SessionType
from sessiondb.session.summary import SessionSummary


class TeamSession(BaseSession):
    """Everything a team and its members said and did in one conversation."""

    session_type: ClassVar[SessionType] = "team"

    team_id: str | None = None
    team_data: dict[str, Any] | None = None
    runs: list[TeamRunOutput | RunOutput] | None = None  # type: ignore[assignment]
    summary: SessionSummary | None = None

    @classmethod
    def _runs_from_dicts(cls, runs: list[Any]) -> list[Any]:
        # ``agent_id`` marks a member's agent run; anything else is a team run.
        return [
            RunOutput.from_dict(run) if "agent_id" in run else TeamRunOutput.from_dict(run)
            for run in runs
            if isinstance(run, dict)
        ]

    def get_messages(
        self,
        team_id: str | None = None,
        member_ids: list[str] | None = None,
        last_n_runs: int | None = None,
        limit: int | None = None,
        skip_roles: list[str] | None = None,
        skip_statuses: list[RunStatus] | None = None,
        skip_history_messages: bool = True,
        skip_member_messages: bool = True,
    ) -> list[Message]:
        """Return the messages of this session's runs that fit the filters (spec §2.4)."""
        raise NotImplementedError

    def get_chat_history(self, last_n_runs: int | None = None) -> list[Message]:
        """User and assistant messages of the team's own runs (spec §2.6)."""
        raise NotImplementedError

    def get_team_history(self, team_id: str | None = None, num_runs: int | None = None) -> list[tuple[str, str]]:
        """``(input, response)`` pairs of completed team runs (spec §2.7)."""
        raise NotImplementedError

    def get_team_history_context(self, team_id: str | None = None, num_runs: int | None = None) -> str | None:
        """The team history formatted inside ``<team_history_context>`` tags (spec §2.7)."""
        raise NotImplementedError
