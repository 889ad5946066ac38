"""A session of a team: team runs with their member runs, plus state and summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
from sessiondb.session._history import (
    content_text,
    default_skip_values,
    format_history_context,
    history_messages,
    last_n,
    member_runs_of,
    team_runs_of,
)
from sessiondb.session._runs import QuietRuns, quietly
from sessiondb.session.base import BaseSession, SessionType
from sessiondb.session.summary import SessionSummary


class TeamSession(BaseSession):
    """Everything a team and its members said and did in one conversation."""

    session_type: ClassVar[SessionType] = "team"

    team_id: str | None = None
    team_data: dict[str, Any] | None = None
    runs: list[TeamRunOutput | RunOutput] | None = None
    summary: SessionSummary | None = None

    _run_class_keys = ("agent_id",)

    @classmethod
    def _run_class(cls, run: dict[str, Any]) -> type[RunOutput] | type[TeamRunOutput] | None:
        # ``agent_id`` marks a member's agent run; any other dict is a team run.
        return RunOutput if "agent_id" in run else TeamRunOutput

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
        """Return the messages of this session's runs that fit the filters (spec §2.4).

        Args:
            team_id: keep only runs of this team, found at any nesting depth.
            member_ids: keep only agent runs of these members, whether stored as runs of their
                own or inside a team run's ``member_responses`` (each run counted once).
            last_n_runs: read only the newest N runs left after filtering; ``<= 0`` gives ``[]``.
            limit: return at most this many messages, counting from the newest; see
                :meth:`AgentSession.get_messages`.
            skip_roles: leave out messages with these roles.
            skip_statuses: leave out runs in these states; ``None`` means
                :data:`~sessiondb.run.status.NOT_HISTORY_STATUSES`, ``[]`` means none.
            skip_history_messages: leave out messages replayed from earlier runs.
            skip_member_messages: keep only top-level runs (``parent_run_id`` unset). Passing
                ``team_id`` or ``member_ids`` turns this off.

        Returns:
            The messages, oldest first (the stored objects, not copies).
        """
        if team_id is not None or member_ids is not None:
            skip_member_messages = False
        if not self.runs:
            return []
        runs: Sequence[Any] = QuietRuns(self.runs)
        if team_id:
            runs = team_runs_of(runs, team_id)
        if member_ids:
            runs = member_runs_of(runs, member_ids)

        def keep(run: RunOutput | TeamRunOutput) -> bool:
            return not skip_member_messages or run.parent_run_id is None

        return history_messages(
            runs,
            keep=keep,
            skip_statuses=default_skip_values(skip_statuses),
            last_n_runs=last_n_runs,
            limit=limit,
            skip_roles=skip_roles,
            skip_history_messages=skip_history_messages,
        )

    def get_chat_history(self, last_n_runs: int | None = None) -> list[Message]:
        """User and assistant messages of the session's top-level runs, whatever their status (spec §2.6).

        Member messages are left out, as in Agno's REST ``chat_history``.

        Args:
            last_n_runs: read only the newest N top-level runs.

        Returns:
            The messages, oldest first.
        """
        return self.get_messages(
            skip_roles=["system", "tool"],
            skip_statuses=[],
            skip_member_messages=True,
            last_n_runs=last_n_runs,
        )

    def get_team_history(
        self, team_id: str | None = None, num_runs: int | None = None
    ) -> list[tuple[str, str]]:
        """``(input, response)`` pairs of the completed top-level runs, oldest first (spec §2.7).

        This is the team leader's history, not the members'.

        Args:
            team_id: keep only runs of this team.
            num_runs: keep only the newest N completed runs; ``<= 0`` gives ``[]``.

        Returns:
            Pairs of the input as text and the response as text (a pydantic response as indented
            JSON); either is ``""`` when empty.
        """
        completed = [
            run
            for run in quietly(self.runs)
            if run.status_value == RunStatus.COMPLETED.value
            and run.parent_run_id is None
            and (not team_id or getattr(run, "team_id", None) == team_id)
        ]
        return [
            (run.input.input_content_string() if run.input is not None else "", content_text(run.content))
            for run in last_n(completed, num_runs)
        ]

    def get_team_history_context(self, team_id: str | None = None, num_runs: int | None = None) -> str | None:
        """The team history inside ``<team_history_context>`` tags, or ``None`` when empty (spec §2.7).

        Args:
            team_id: keep only runs of this team.
            num_runs: keep only the newest N completed runs.

        Returns:
            ``[run-i]`` blocks with ``input: ...`` and ``response: ...`` lines, ending in a newline.
        """
        return format_history_context(
            self.get_team_history(team_id=team_id, num_runs=num_runs),
            tag="team_history_context",
            label="run",
            input_prefix="input: ",
            output_prefix="response: ",
        )
