"""What agents and teams share: configuration, and the run logic with hooks for the differences.

A top-level run (spec §5):

1. loads or creates the session and resolves ``session_state`` (run > stored > default);
2. stores the run as ``RUNNING``, so clients see it in progress;
3. sends system message, history copies and the new input to the model, running its tools;
4. on success: summarises the session if enabled, and stores the final run (history copies
   stripped unless ``store_history_messages``) with state, summary and metrics in one
   transaction under the session's row lock; on failure: stores the run as ``ERROR`` and
   re-raises.

A member run (inside a team or a workflow step) is given a :class:`ParentRun` instead and
never touches the store: its parent records it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import uuid4

from sessiondb.agent import _cancel, _lease, _persist
from sessiondb.agent._context import build_system_message, history_copies, user_message
from sessiondb.agent._default_tools import (
    agentic_state_tool,
    chat_history_tool,
    past_session_tools,
    tool_call_history_tool,
)
from sessiondb.agent._effects import Blocking, Emit, Steps
from sessiondb.agent._loop import model_loop, run_metrics
from sessiondb.agent._run_api import RunAPI
from sessiondb.agent._session_api import SessionAPI
from sessiondb.agent._state import RUNTIME_KEYS, initial_state, inject_runtime_keys, without_runtime_keys
from sessiondb.agent.events import EventFactory
from sessiondb.agent.summary import SessionSummaryManager
from sessiondb.db.base import SessionStore
from sessiondb.models.base import Model
from sessiondb.models.tools import Function, as_function
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
from sessiondb.session import AgentSession, Session, SessionSummary, TeamSession
from sessiondb.session.history_budget import History

ModelRun = RunOutput | TeamRunOutput
RunT = TypeVar("RunT", RunOutput, TeamRunOutput)
StoredT = TypeVar("StoredT", bound=ModelRun)


@dataclass
class ParentRun:
    """The run a member or step run belongs to; its owner stores the member's run.

    Attributes:
        session_id / user_id: the parent's session and user.
        run_id: becomes the member run's ``parent_run_id``.
        state: the parent's live ``session_state``, shared with (and changed by) the member.
        session: the parent's loaded session, the source of the member's own history.
        workflow_id: set when the parent is a workflow run.
        stream: stream the member's reply too.
    """

    session_id: str
    user_id: str | None
    run_id: str
    state: dict[str, Any]
    session: Session | None = None
    workflow_id: str | None = None
    stream: bool = False


@dataclass
class RunContext:
    """The mutable state of one run while it executes."""

    run: ModelRun
    session: Session | None
    state: dict[str, Any]
    base_state: dict[str, Any]
    parent: ParentRun | None
    stream: bool
    events: EventFactory = field(default_factory=lambda: EventFactory(""))
    history: History | None = None
    """The history read from the store under ``max_history_tokens`` (``get_history``)."""


@dataclass(kw_only=True)
class ModelRuntime(SessionAPI, RunAPI[RunT], Generic[RunT]):
    """Configuration and run logic shared by :class:`~sessiondb.agent.Agent` and ``Team``."""

    model: Model | None = None
    name: str | None = None
    id: str | None = None
    db: SessionStore | None = None
    session_id: str | None = None
    user_id: str | None = None
    description: str | None = None
    instructions: str | list[str] | None = None
    system_message: str | None = None
    tools: list[Function | Callable[..., Any]] = field(default_factory=list)
    tool_call_limit: int | None = None
    session_state: dict[str, Any] | None = None
    add_session_state_to_context: bool = False
    overwrite_db_session_state: bool = False
    enable_agentic_state: bool = False
    add_history_to_context: bool = False
    num_history_runs: int | None = None
    num_history_messages: int | None = None
    max_history_tokens: int | None = None
    max_tool_calls_from_history: int | None = None
    store_history_messages: bool = False
    store_tool_messages: bool = True
    enable_session_summaries: bool = False
    session_summary_manager: SessionSummaryManager | None = None
    add_session_summary_to_context: bool | None = None
    cache_session: bool = False
    read_chat_history: bool = False
    read_tool_call_history: bool = False
    search_past_sessions: bool = False
    num_past_sessions_to_search: int | None = None
    metadata: dict[str, Any] | None = None
    introduction: str | None = None
    markdown: bool = False

    def __post_init__(self) -> None:
        if self.id is None:
            self.id = _slug(self.name) if self.name else str(uuid4())
        if self.session_id is None:
            self.session_id = str(uuid4())
        if self.max_history_tokens is not None and self.max_history_tokens < 0:
            raise ValueError(f"max_history_tokens must be 0 or more, not {self.max_history_tokens}")
        if (
            self.num_history_runs is None
            and self.num_history_messages is None
            and self.max_history_tokens is None
        ):
            self.num_history_runs = 3
        if self.enable_session_summaries and self.session_summary_manager is None:
            self.session_summary_manager = SessionSummaryManager()
        if self.add_session_summary_to_context is None:
            self.add_session_summary_to_context = self.session_summary_manager is not None
        self._functions = [as_function(tool) for tool in self.tools]
        self._cache_key: tuple[str, str | None, int] | None = None

    # -- hooks -----------------------------------------------------------------------------

    def _new_session(self, session_id: str, user_id: str | None) -> Session:
        raise NotImplementedError

    def _new_run(
        self, ctx_session_id: str, user_id: str | None, input: Any, parent: ParentRun | None
    ) -> RunT:
        raise NotImplementedError

    def _event_prefix(self) -> str:
        return ""

    def _extra_sections(self) -> list[str]:
        return []

    def _extra_functions(self, ctx: RunContext) -> list[Function]:
        return []

    def _member_history(self, parent: ParentRun) -> list[Message]:
        return []

    def _naming_model(self) -> Model | None:
        return self.model

    # -- helpers ---------------------------------------------------------------------------

    def _require_model(self) -> Model:
        if self.model is None:
            raise ValueError(f"{type(self).__name__} {self.name or self.id!r} has no model")
        return self.model

    def _component_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name}
        if self.model is not None:
            data["model"] = self.model.to_dict()
        return {key: value for key, value in data.items() if value is not None}

    def _runs_limit(self) -> int | None:
        """Load only the newest history runs when nothing in the run needs older ones."""
        manager = self.session_summary_manager
        budgeted = self.max_history_tokens is not None
        needs_all = (
            self.read_chat_history
            or self.read_tool_call_history
            or (manager is not None and manager.last_n_runs is None)
            or (self.add_history_to_context and self.num_history_runs is None and not budgeted)
        )
        if needs_all or not self.add_history_to_context:
            return None
        if budgeted:
            # The history is read by the store's get_history, newest run first, only as far as
            # the budget goes: the session is loaded without runs (the summary's window aside).
            return manager.last_n_runs if manager is not None else 0
        return self.num_history_runs

    def _open(self, session_id: str, user_id: str | None) -> _persist.Opened:
        db = self.get_db()
        key = (session_id, user_id, id(db))
        if self.cache_session and self._cached_session is not None and self._cache_key == key:
            session = self._cached_session
            return _persist.Opened(session, False, copy.deepcopy(_persist.session_state_of(session)))
        opened = _persist.read_or_create(
            db,
            session_id=session_id,
            user_id=user_id,
            session_type=self.session_type,
            new_session=lambda: self._seeded_session(session_id, user_id),
            runs_limit=self._runs_limit(),
        )
        if self.cache_session:
            self._cached_session, self._cache_key = opened.session, key
        return opened

    def _seeded_session(self, session_id: str, user_id: str | None) -> Session:
        session = self._new_session(session_id, user_id)
        session.session_data = {"session_state": copy.deepcopy(self.session_state or {})}
        session.metadata = copy.deepcopy(self.metadata) if self.metadata else None
        session.created_at = int(time.time())
        if self.introduction and isinstance(session, AgentSession | TeamSession):
            intro = self._new_run(session_id, user_id, None, None)
            intro.messages = [Message(role="assistant", content=self.introduction)]
            intro.content = self.introduction
            intro.status = RunStatus.completed
            session.upsert_run(intro)
        return session

    def _messages(self, ctx: RunContext, input: Any) -> list[Message]:
        session = ctx.session
        summary = session.get_session_summary() if session is not None else None
        past: list[Message] = []
        truncated = False
        if self.add_history_to_context:
            if ctx.parent is not None:
                past = self._member_history(ctx.parent)
            elif ctx.history is not None:
                past, truncated = ctx.history.messages, ctx.history.truncated
            elif isinstance(session, AgentSession | TeamSession):
                past = session.get_messages(
                    last_n_runs=self.num_history_runs, limit=self.num_history_messages, skip_roles=["system"]
                )
        # Older history left out by the token budget: the summary, when there is one, stands
        # in for it (the compaction Agno and the OpenAI SDK do on the client).
        with_summary = self.add_session_summary_to_context or truncated
        system = build_system_message(
            system_message=self.system_message,
            description=self.description,
            instructions=self.instructions,
            extra_sections=self._extra_sections(),
            summary=summary if with_summary and isinstance(summary, SessionSummary) else None,
            session_state=without_runtime_keys(ctx.state) if self.add_session_state_to_context else None,
        )
        messages = [system] if system is not None else []
        messages.extend(history_copies(past, max_tool_calls=self.max_tool_calls_from_history))
        messages.append(user_message(input))
        return messages

    def _budgeted(self, ctx: RunContext) -> bool:
        """Whether this run's history is the store's token-budgeted history."""
        return (
            ctx.parent is None
            and self.add_history_to_context
            and self.max_history_tokens is not None
            and isinstance(ctx.session, AgentSession | TeamSession)
        )

    def _read_history(self, db: SessionStore, session_id: str, user_id: str | None) -> History:
        """The newest history that fits ``max_history_tokens``, read by the store (never the
        whole session): top-level runs, the history-skip statuses left out, no system message
        (the run builds its own)."""
        assert self.max_history_tokens is not None
        return db.get_history(
            session_id,
            max_tokens=self.max_history_tokens,
            last_n_runs=self.num_history_runs,
            limit=self.num_history_messages,
            skip_roles=["system"],
            user_id=user_id,
        )

    def _run_functions(self, ctx: RunContext) -> dict[str, Function]:
        functions = list(self._functions)
        session = ctx.session
        if self.enable_agentic_state:
            functions.append(agentic_state_tool(ctx.state))
        if session is not None and self.read_chat_history:
            functions.append(chat_history_tool(session))
        if session is not None and self.read_tool_call_history:
            functions.append(tool_call_history_tool(session))
        if session is not None and self.search_past_sessions:
            functions.extend(
                past_session_tools(
                    self.get_db(),
                    session_type=self.session_type,
                    current_session_id=session.session_id,
                    user_id=ctx.run.user_id,
                    component_id=self.id,
                    limit=self.num_past_sessions_to_search,
                )
            )
        functions.extend(self._extra_functions(ctx))
        return {function.name: function for function in functions}

    def _for_storage(self, run: StoredT) -> StoredT:
        """A copy of ``run`` as it is stored: history copies (and maybe tool messages) stripped."""
        stored = copy.deepcopy(run)
        messages = [m for m in stored.messages or [] if self.store_history_messages or not m.from_history]
        if not self.store_tool_messages:
            messages = [m for m in messages if m.role != "tool"]
            for message in messages:
                message.tool_calls = None
            messages = [m for m in messages if m.role != "assistant" or m.content]
            stored.tools = None
        stored.messages = messages or None
        return stored

    # -- the run ---------------------------------------------------------------------------

    def _run_steps(
        self,
        input: Any,
        *,
        stream: bool = False,
        session_id: str | None = None,
        user_id: str | None = None,
        session_state: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        parent: ParentRun | None = None,
    ) -> Steps[RunT]:
        """The whole run as effects (see the module docstring)."""
        model = self._require_model()
        started = time.perf_counter()
        if parent is None:
            sid, uid = session_id or self._sid(None), user_id or self.user_id
            opened: _persist.Opened = yield Blocking(lambda: self._open(sid, uid))
            state = initial_state(
                stored=opened.stored_state,
                is_new_session=False,
                default=None,
                run_state=session_state,
                overwrite=self.overwrite_db_session_state,
            )
            ctx_session: Session | None = opened.session
            base_state = opened.stored_state
        else:
            sid, uid, ctx_session, state, base_state = (
                parent.session_id,
                parent.user_id,
                None,
                parent.state,
                {},
            )
            if session_state:
                state.update(copy.deepcopy(dict(session_state)))
        run = self._new_run(sid, uid, input, parent)
        run.metadata = _merged_metadata(self.metadata, ctx_session, metadata)
        ctx = RunContext(run, ctx_session, state, base_state, parent, stream)
        ctx.events = EventFactory(self._event_prefix(), _identity(run))
        live = _cancel.register(run.run_id, self.id, uid, self.get_db()) if parent is None else None
        try:
            db = self.get_db()
            if parent is None:
                yield Blocking(lambda: _persist.start_run(db, sid, self._for_storage(run)))
            yield Emit(ctx.events.make("RunStarted"))
            try:
                if parent is None:
                    # A member shares its parent's state and keeps the parent's runtime keys.
                    inject_runtime_keys(state, session_id=sid, user_id=uid, run_id=run.run_id)
                if self._budgeted(ctx):
                    ctx.history = yield Blocking(lambda: self._read_history(db, sid, uid))
                messages = self._messages(ctx, input)
                run.messages = messages
                context = {"session_state": state, "agent": self, "team": self}
                loop_steps = model_loop(
                    model=model,
                    messages=messages,
                    functions=self._run_functions(ctx),
                    tool_context=context,
                    events=ctx.events,
                    stream=stream,
                    tool_call_limit=self.tool_call_limit,
                )
                # A member's steps pass through its parent's check; only top-level runs register.
                loop = yield from (_cancel.until_cancelled(loop_steps, live) if live else loop_steps)
                run.content = loop.response.content
                run.reasoning_content = loop.response.reasoning_content
                run.tools = loop.tools or None
                run.metrics = run_metrics(model, loop, started)
                run.status = RunStatus.completed
                if parent is None:
                    _drop_runtime_keys(state)
                run.session_state = without_runtime_keys(state)
                if parent is None:
                    yield from self._finish(run, opened, sid, uid)
            except _cancel.RunCancelled as cancelled:
                # Stopped on request: stored CANCELLED; its state changes are not saved.
                _drop_runtime_keys(state)
                run.status = RunStatus.cancelled
                run.content = str(cancelled)
                yield Blocking(lambda: _persist.save_run(db, sid, self._for_storage(run)))
                yield Emit(ctx.events.make("RunCancelled", content=str(cancelled)))
                return run
            except Exception as exc:
                if parent is None:
                    _drop_runtime_keys(state)
                run.status = RunStatus.error
                run.content = str(exc)
                if parent is None:
                    yield Blocking(lambda: _persist.save_run(db, sid, self._for_storage(run)))
                yield Emit(ctx.events.make("RunError", content=str(exc)))
                raise
            yield Emit(
                ctx.events.make("RunCompleted", content=run.content, run=run, metrics=run.metrics.to_dict())
            )
            return run
        finally:
            if live is not None:
                _cancel.unregister(run.run_id)
                _lease.release(run.run_id)

    def _finish(self, run: RunT, opened: _persist.Opened, sid: str, uid: str | None) -> Steps[None]:
        """Summarise (when enabled), store the final run, and commit state, summary and metrics."""
        session = opened.session
        stored = self._for_storage(run)
        session.upsert_run(stored)
        summary: SessionSummary | None = None
        manager = self.session_summary_manager
        if manager is not None and isinstance(session, AgentSession | TeamSession):
            summary = yield from manager.summarize_steps(session, self._require_model())
            session.summary = summary
        db = self.get_db()
        commit = _persist.Commit(opened.stored_state, run.session_state or {}, summary, run.metrics)
        saved = yield Blocking(lambda: _persist.commit_run(db, sid, uid, stored, commit))
        state = copy.deepcopy(_persist.session_state_of(saved))
        session.session_data = {**(session.session_data or {}), "session_state": state}


def _drop_runtime_keys(state: dict[str, Any]) -> None:
    for key in RUNTIME_KEYS:
        state.pop(key, None)


def _merged_metadata(
    default: Mapping[str, Any] | None, session: Session | None, run: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    merged = {**(default or {}), **((session.metadata if session is not None else None) or {}), **(run or {})}
    return merged or None


def _identity(run: ModelRun) -> dict[str, Any]:
    names = ("run_id", "session_id", "parent_run_id", "agent_id", "agent_name", "team_id", "team_name")
    return {name: getattr(run, name, None) for name in names}


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


__all__ = ["ModelRun", "ModelRuntime", "ParentRun", "RunContext"]
