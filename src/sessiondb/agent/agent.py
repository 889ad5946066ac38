"""``Agent``: a model with instructions and tools whose conversations are recorded as sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sessiondb.agent._runtime import ModelRuntime, ParentRun
from sessiondb.run.agent import RunInput, RunOutput
from sessiondb.run.message import Message
from sessiondb.session import AgentSession, Session, SessionType, TeamSession, WorkflowSession


@dataclass(kw_only=True)
class Agent(ModelRuntime[RunOutput]):
    """An agent: every run is stored in its session, with history, state and summary (spec §5).

    The session-related arguments follow Agno's ``Agent``:

    Args:
        model: the chat model (``OpenAIChat``, or ``TestModel`` offline).
        db: where sessions are stored; without one they live in process memory.
        session_id: the session runs go to by default (a new uuid4 if not given, kept by
            the instance); ``user_id`` the same for the user.
        instructions / description / system_message: what the system message says.
        tools: plain functions or :class:`~sessiondb.models.tools.Function` objects.
        add_history_to_context: replay earlier runs' messages (marked ``from_history``).
        num_history_runs: how many runs of history (default 3 unless
            ``num_history_messages`` or ``max_history_tokens`` is set); ``num_history_messages``
            limits messages instead.
        max_history_tokens: send the newest history that fits this many tokens (messages never
            cut, the newest run whole); when older history was left out and the session has a
            summary, the summary goes into the system message in its place. Without
            ``num_history_runs`` every stored run is a candidate, so the session is loaded whole.
        session_state: the default state of new sessions; ``add_session_state_to_context``
            shows the state to the model; ``enable_agentic_state`` lets the model change it.
        enable_session_summaries: summarise the session after each successful run;
            ``add_session_summary_to_context`` shows the summary to the model.
        cache_session: keep the last loaded session in memory between runs.
        search_past_sessions / read_chat_history / read_tool_call_history: built-in tools.
        store_history_messages: also store the replayed history copies (off by default, so
            storage grows linearly).

    Example:
        >>> from sessiondb.models import TestModel
        >>> agent = Agent(model=TestModel(reply="hi"), add_history_to_context=True)
        >>> agent.run("hello").content
        'hi'
    """

    session_type: ClassVar[SessionType] = "agent"

    role: str | None = None

    @property
    def agent_id(self) -> str | None:
        """Agno's name for ``id``."""
        return self.id

    def _new_session(self, session_id: str, user_id: str | None) -> Session:
        data = {**self._component_data(), "agent_id": self.id}
        return AgentSession(session_id=session_id, agent_id=self.id, user_id=user_id, agent_data=data)

    def _new_run(
        self, session_id: str, user_id: str | None, input: Any, parent: ParentRun | None
    ) -> RunOutput:
        return RunOutput(
            agent_id=self.id,
            agent_name=self.name,
            session_id=session_id,
            user_id=user_id,
            parent_run_id=parent.run_id if parent is not None else None,
            workflow_id=parent.workflow_id if parent is not None else None,
            model=self.model.id if self.model is not None else None,
            model_provider=self.model.provider if self.model is not None else None,
            input=RunInput(input_content=input) if input is not None else None,
        )

    def _member_history(self, parent: ParentRun) -> list[Message]:
        session = parent.session
        skip = ["system"]
        if isinstance(session, TeamSession):
            return session.get_messages(
                member_ids=[self.id or ""],
                last_n_runs=self.num_history_runs,
                limit=self.num_history_messages,
                skip_roles=skip,
            )
        if isinstance(session, WorkflowSession):
            return session.get_messages(
                agent_id=self.id,
                last_n_runs=self.num_history_runs,
                limit=self.num_history_messages,
                skip_roles=skip,
            )
        return []


__all__ = ["Agent"]
