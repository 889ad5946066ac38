"""``Team``: a coordinator model that delegates to member agents (or teams) through a tool.

The coordinator gets one tool, ``delegate_task_to_member(member_id, task)``. Each delegation
runs the member inside the team's run: the member's run gets ``parent_run_id`` set to the
team run, is stored as its own row in the team's session as soon as it ends, and is kept in
the team run's ``member_responses``. Members share the team's ``session_state``. So
``TeamSession.get_messages(member_ids=[...])`` finds a member's messages, and the team's own
history (``skip_member_messages``) leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from sessiondb.agent import _persist
from sessiondb.agent._effects import Blocking, Steps
from sessiondb.agent._runtime import ModelRuntime, ParentRun, RunContext
from sessiondb.agent.agent import Agent
from sessiondb.models.tools import Function
from sessiondb.run.message import Message
from sessiondb.run.team import TeamRunInput, TeamRunOutput
from sessiondb.session import Session, SessionType, TeamSession, WorkflowSession

DELEGATE_TOOL = "delegate_task_to_member"


@dataclass(kw_only=True)
class Team(ModelRuntime[TeamRunOutput]):
    """A team of agents led by a coordinator model; its runs are recorded as team sessions.

    Takes every session-related argument :class:`~sessiondb.agent.Agent` takes (``db``,
    ``session_id``, ``add_history_to_context``, ``session_state``, summaries, ...).

    Args:
        members: the agents (or nested teams) the coordinator can delegate to, by ``id``.
        model: the coordinator's model.
        role: how a parent team describes this team when it is itself a member.
    """

    session_type: ClassVar[SessionType] = "team"

    members: list[Agent | Team] = field(default_factory=list)
    role: str | None = None

    @property
    def team_id(self) -> str | None:
        """Agno's name for ``id``."""
        return self.id

    def _new_session(self, session_id: str, user_id: str | None) -> Session:
        data = {**self._component_data(), "team_id": self.id}
        return TeamSession(session_id=session_id, team_id=self.id, user_id=user_id, team_data=data)

    def _new_run(
        self, session_id: str, user_id: str | None, input: Any, parent: ParentRun | None
    ) -> TeamRunOutput:
        return TeamRunOutput(
            team_id=self.id,
            team_name=self.name,
            session_id=session_id,
            user_id=user_id,
            parent_run_id=parent.run_id if parent is not None else None,
            workflow_id=parent.workflow_id if parent is not None else None,
            model=self.model.id if self.model is not None else None,
            model_provider=self.model.provider if self.model is not None else None,
            input=TeamRunInput(input_content=input) if input is not None else None,
        )

    def _event_prefix(self) -> str:
        return "Team"

    def _runs_limit(self) -> int | None:
        # Member history lives in member runs, which a history-only partial load leaves out.
        if any(member.add_history_to_context for member in self.members):
            return None
        return super()._runs_limit()

    def _extra_sections(self) -> list[str]:
        lines = ["You are the leader of a team of AI agents. Delegate to members when they can help.", ""]
        lines.append("<team_members>")
        for number, member in enumerate(self.members, start=1):
            lines.append(f" - Member {number}:")
            lines.append(f"   - ID: {member.id}")
            if member.name:
                lines.append(f"   - Name: {member.name}")
            if member.role:
                lines.append(f"   - Role: {member.role}")
        lines.append("</team_members>")
        lines.append("")
        lines.append(
            f"To delegate, call `{DELEGATE_TOOL}` with the member's ID and a clear task; "
            "then answer the user using the members' replies. Answer directly when no member is needed."
        )
        return ["\n".join(lines)]

    def _member(self, member_id: str) -> Agent | Team | None:
        for member in self.members:
            if member_id in (member.id, member.name):
                return member
        return None

    def _extra_functions(self, ctx: RunContext) -> list[Function]:
        if not self.members:
            return []
        team_run, parent = ctx.run, ctx.parent
        session_id = team_run.session_id or self._sid(None)
        db = self.get_db()

        def delegate_task_to_member(member_id: str, task: str) -> Steps[str]:
            """Give a task to one team member and get back its answer.

            Args:
                member_id: the ID of the member, as listed in <team_members>.
                task: what the member should do, with all the context it needs.
            """
            member = self._member(member_id)
            if member is None:
                known = ", ".join(repr(m.id) for m in self.members)
                raise LookupError(f"no member with ID {member_id!r}; members are {known}")
            member_parent = ParentRun(
                session_id=session_id,
                user_id=team_run.user_id,
                run_id=team_run.run_id,
                state=ctx.state,
                session=ctx.session,
                workflow_id=team_run.workflow_id,
                stream=ctx.stream,
            )
            member_run = yield from member._run_steps(task, stream=ctx.stream, parent=member_parent)
            assert isinstance(team_run, TeamRunOutput)
            team_run.member_responses.append(member_run)
            if parent is None:
                stored = member._for_storage(member_run)
                yield Blocking(lambda: _persist.save_run(db, session_id, stored))
            return str(member_run.content or "")

        return [Function.from_callable(delegate_task_to_member, effectful=True)]

    def _member_history(self, parent: ParentRun) -> list[Message]:
        session = parent.session
        options: dict[str, Any] = dict(last_n_runs=self.num_history_runs, limit=self.num_history_messages)
        if isinstance(session, TeamSession):
            return session.get_messages(team_id=self.id, skip_roles=["system"], **options)
        if isinstance(session, WorkflowSession):
            return session.get_messages(team_id=self.id, skip_roles=["system"], **options)
        return []


__all__ = ["Team"]
