"""``get_history``: what it asks for, and the read loop every backend shares.

A backend supplies one primitive, *the next older batch of a session's candidate runs*; the
loop offers their messages, newest first, to the pure budget rule
(:class:`~sessiondb.session.history_budget.HistoryFitter`) and stops reading as soon as the
budget is full, so a long session costs the runs that fit, not all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import orjson

from sessiondb.db.errors import InvalidQuery
from sessiondb.run.agent import RunOutput
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.run.team import TeamRunOutput
from sessiondb.run.workflow import WorkflowRunOutput
from sessiondb.session import SESSION_CLASSES, SessionType
from sessiondb.session._history import default_skip_values, status_values
from sessiondb.session.history_budget import History, HistoryFitter, TokenCounter
from sessiondb.session.summary import SessionSummary
from sessiondb.session.tokens import count_message_tokens

FIRST_BATCH = 8
"""Runs read by the first batch; each next batch is twice as large, up to :data:`MAX_BATCH`."""
MAX_BATCH = 256


@dataclass(frozen=True)
class RunRows:
    """Which stored runs of a session are candidates: what a backend's batch read filters on.

    Attributes:
        skipped: upper-cased statuses whose runs are left out.
        only_status: keep only runs in this (upper-cased) status.
        top_level: only runs without ``parent_run_id``.
        run_type: only runs of this class (``"agent"``, ``"team"``, ``"workflow"``).
        agent_id / team_id: only runs of this agent (team).
        member_ids: only runs of these agents.
        members_of_team: only runs whose parent is a run of this team.
    """

    skipped: tuple[str, ...] = ()
    only_status: str | None = None
    top_level: bool = True
    run_type: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    member_ids: tuple[str, ...] = ()
    members_of_team: str | None = None


@dataclass(frozen=True, kw_only=True)
class HistoryQuery:
    """The filters of ``get_history``: those of ``get_messages`` plus the budget.

    In agent and team sessions the candidates are runs stored as rows: top-level ones, or with
    ``team_id`` / ``member_ids`` / ``skip_member_messages=False`` member runs too (every store
    stores a member run as a row of its own as well as inside its team run). A workflow
    session's history is, with ``agent_id`` or ``team_id``, the messages of that agent's
    (team's) step runs, read from each workflow run's ``step_executor_runs`` as
    ``WorkflowSession.get_messages`` reads them (``last_n_runs`` counts step runs); without
    either, one turn per workflow run, its input as the user's message and its output as the
    assistant's, completed runs only by default, as ``get_workflow_history`` pairs them.

    Attributes:
        max_tokens: the budget, ``>= 0``.
        agent_id / team_id: only runs of this agent (team); in a workflow session, the step
            runs this agent (team) made (one of the two).
        member_ids: only runs of these team members (team sessions).
        last_n_runs: only the newest N runs that pass the filters (``<= 0``: none).
        limit: at most this many messages, counting from the newest.
        skip_roles: leave out messages with these roles.
        skip_statuses: leave out runs in these states (``None``: the history-skip set; in a
            workflow session none for step runs, and all but ``COMPLETED`` for its own runs).
        skip_history_messages: leave out messages replayed from earlier runs.
        skip_member_messages: only top-level runs; off when ``team_id`` or ``member_ids`` is
            given (as ``TeamSession.get_messages``).
    """

    max_tokens: int
    agent_id: str | None = None
    team_id: str | None = None
    member_ids: tuple[str, ...] | None = None
    last_n_runs: int | None = None
    limit: int | None = None
    skip_roles: Sequence[str] = ()
    skip_statuses: Sequence[RunStatus | str] | None = None
    skip_history_messages: bool = True
    skip_member_messages: bool = True

    def __post_init__(self) -> None:
        if self.max_tokens < 0:
            raise InvalidQuery("max_tokens", f"must be 0 or more, not {self.max_tokens}")
        if self.limit is not None and self.limit < 0:
            raise InvalidQuery("limit", f"must be 0 or more, not {self.limit}")

    @property
    def skipped_statuses(self) -> tuple[str, ...]:
        """The upper-cased stored statuses whose runs are left out, sorted."""
        return _upper(default_skip_values(self.skip_statuses))

    def rows(self, session_type: SessionType) -> RunRows:
        """The stored runs that are candidates in a session of ``session_type``.

        Raises:
            InvalidQuery: a workflow session's history was asked with both ``agent_id`` and
                ``team_id``.
        """
        if session_type == "workflow":
            if self.agent_id and self.team_id:
                raise InvalidQuery("agent_id", "pass agent_id or team_id for a workflow session, not both")
            # Its step runs live inside its own runs (step_executor_runs): those rows are read.
            if self.agent_id or self.team_id:
                return RunRows(run_type="workflow")
            if self.skip_statuses is None:
                return RunRows(run_type="workflow", only_status=RunStatus.COMPLETED.value)
            return RunRows(run_type="workflow", skipped=_upper(status_values(self.skip_statuses)))
        members = tuple(self.member_ids) if self.member_ids else ()
        with_members = not self.skip_member_messages or bool(self.team_id) or self.member_ids is not None
        if members and self.team_id:
            # Member runs of that team's runs, stored as rows of their own under their parent.
            return RunRows(
                skipped=self.skipped_statuses,
                top_level=False,
                run_type="agent",
                agent_id=self.agent_id,
                member_ids=members,
                members_of_team=self.team_id,
            )
        return RunRows(
            skipped=self.skipped_statuses,
            top_level=not with_members,
            run_type="agent" if members else "team" if self.team_id and with_members else None,
            agent_id=self.agent_id,
            team_id=self.team_id,
            member_ids=members,
        )

    def units(self, session_type: SessionType, text: str) -> list[list[Message]]:
        """The message lists a stored run offers, newest first (one per run it stands for)."""
        data = orjson.loads(text)
        if not isinstance(data, dict):
            return []
        if session_type != "workflow":
            messages = run_messages(session_type, data)
            return [] if messages is None else [messages]
        run = WorkflowRunOutput.from_dict(data)
        if self.agent_id or self.team_id:
            return [step.messages or [] for step in reversed(self._steps(run))]
        pair = [
            Message(role=role, content=text)
            for role, text in (("user", _text(run.input)), ("assistant", _text(run.content)))
            if text
        ]
        return [pair] if pair else []

    def _steps(self, run: WorkflowRunOutput) -> list[RunOutput | TeamRunOutput]:
        """The step runs of the agent (team) asked for, oldest first, as ``WorkflowSession.get_messages``."""
        skipped = status_values(self.skip_statuses)
        found: list[RunOutput | TeamRunOutput] = []
        for step in run.step_executor_runs or ():
            if step.status_value in skipped:
                continue
            if self.agent_id and isinstance(step, RunOutput) and step.agent_id == self.agent_id:
                found.append(step)
            elif self.team_id and isinstance(step, TeamRunOutput) and step.team_id == self.team_id:
                found.append(step)
        return found

    def one_run_per_row(self, session_type: SessionType) -> bool:
        """Whether each candidate row is one run (so ``last_n_runs`` can bound the rows read)."""
        return session_type != "workflow" or not (self.agent_id or self.team_id)


def _upper(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({value.upper() for value in values}))


def _text(value: object) -> str:
    if not value:
        return ""
    return value if isinstance(value, str) else str(value)


Batch = tuple[SessionType, SessionSummary | None, Sequence[tuple[int, str]]]
ReadBatch = Callable[[RunRows, int | None, int], Batch]
"""``(rows, before_index, size)`` → the session's type and summary, and up to ``size`` candidate
runs (as ``rows`` filters them) with ``index < before_index`` (any when ``None``), newest
first, as ``(index, JSON text)``.

Raises ``SessionNotFound`` when the session does not exist (for the caller)."""


def run_messages(session_type: SessionType, data: dict[str, object]) -> list[Message] | None:
    """The messages of a stored run, or ``None`` for a run the session class would not read
    (an agent session drops a run dict with neither ``agent_id`` nor ``team_id``, as Agno).

    Only the messages are built: the budget needs nothing else, and a whole run object costs
    several times more to build.
    """
    if SESSION_CLASSES[session_type]._run_class(data) is None:
        return None
    stored = data.get("messages")
    if not isinstance(stored, list):
        return []
    return [Message.from_dict(m) for m in stored if isinstance(m, dict)]


def collect_history(
    query: HistoryQuery, read_batch: ReadBatch, count: TokenCounter = count_message_tokens
) -> History:
    """Read batches of runs, newest first, into the newest history that fits ``query``.

    The first read filters as for an agent or team session; when it finds a workflow session,
    the reads start again with that session's rules (one small read more for such sessions).

    Raises:
        InvalidQuery: a workflow session asked with both ``agent_id`` and ``team_id``.
    """
    fitter = HistoryFitter(
        query.max_tokens, count, query.limit, tuple(query.skip_roles), query.skip_history_messages
    )
    remaining = query.last_n_runs
    session_type: SessionType | None = None
    rows = query.rows("agent")
    per_row = True
    before: int | None = None
    size = FIRST_BATCH
    while True:
        # The first read always runs (with size 0 for last_n_runs <= 0): it finds the session.
        if remaining is not None and remaining <= 0:
            want = 0
        else:
            want = min(size, remaining) if remaining is not None and per_row else size
        found_type, summary, batch = read_batch(rows, before, want)
        if session_type is None:
            session_type = found_type
            if query.rows(found_type) != rows:
                rows, per_row = query.rows(found_type), query.one_run_per_row(found_type)
                continue
        for _index, text in batch:
            for messages in query.units(session_type, text):
                if remaining is not None:
                    if remaining <= 0:
                        return fitter.result(summary)
                    remaining -= 1
                if not fitter.offer(messages):
                    return fitter.result(summary)
        if want == 0 or len(batch) < want:
            return fitter.result(summary)
        before = batch[-1][0]
        size = min(size * 2, MAX_BATCH)
