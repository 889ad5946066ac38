"""``get_history``: what it asks for, and the read loop every backend shares.

A backend supplies one primitive, *the next older batch of a session's candidate runs*; the
loop offers their messages, newest first, to the pure budget rule
(:class:`~sessiondb.session.history_budget.HistoryFitter`) and stops reading as soon as the
budget is full, so a long session costs the runs that fit, not all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from sessiondb.db.errors import InvalidQuery
from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus
from sessiondb.session import SESSION_CLASSES, SessionType
from sessiondb.session._history import default_skip_values
from sessiondb.session.history_budget import History, HistoryFitter, TokenCounter
from sessiondb.session.summary import SessionSummary
from sessiondb.session.tokens import count_message_tokens

FIRST_BATCH = 8
"""Runs read by the first batch; each next batch is twice as large, up to :data:`MAX_BATCH`."""
MAX_BATCH = 256


@dataclass(frozen=True, kw_only=True)
class HistoryQuery:
    """The filters of ``get_history``: those of ``get_messages`` plus the budget.

    Attributes:
        max_tokens: the budget, ``>= 0``.
        agent_id / team_id: only runs of this agent (team).
        last_n_runs: only the newest N runs that pass the filters (``<= 0``: none).
        limit: at most this many messages, counting from the newest.
        skip_roles: leave out messages with these roles.
        skip_statuses: leave out runs in these states (``None``: the history-skip set).
        skip_history_messages: leave out messages replayed from earlier runs.
    """

    max_tokens: int
    agent_id: str | None = None
    team_id: str | None = None
    last_n_runs: int | None = None
    limit: int | None = None
    skip_roles: Sequence[str] = ()
    skip_statuses: Sequence[RunStatus | str] | None = None
    skip_history_messages: bool = True

    def __post_init__(self) -> None:
        if self.max_tokens < 0:
            raise InvalidQuery("max_tokens", f"must be 0 or more, not {self.max_tokens}")
        if self.limit is not None and self.limit < 0:
            raise InvalidQuery("limit", f"must be 0 or more, not {self.limit}")

    @property
    def skipped_statuses(self) -> tuple[str, ...]:
        """The upper-cased stored statuses whose runs are left out, sorted."""
        return tuple(sorted({value.upper() for value in default_skip_values(self.skip_statuses)}))


Batch = tuple[SessionType, SessionSummary | None, Sequence[tuple[int, str]]]
ReadBatch = Callable[[int | None, int], Batch]
"""``(before_index, size)`` → the session's type and summary, and up to ``size`` candidate
runs with ``index < before_index`` (any when ``None``), newest first, as ``(index, JSON text)``.

Raises ``SessionNotFound`` when the session does not exist (for the caller)."""


def run_messages(session_type: SessionType, text: str) -> list[Message] | None:
    """The messages of a stored run, or ``None`` for a run the session class would not read
    (an agent session drops a run dict with neither ``agent_id`` nor ``team_id``, as Agno).

    Only the messages are built: the budget needs nothing else, and a whole run object costs
    several times more to build.
    """
    data = orjson.loads(text)
    if not isinstance(data, dict) or SESSION_CLASSES[session_type]._run_class(data) is None:
        return None
    return [Message.from_dict(m) for m in data.get("messages") or () if isinstance(m, dict)]


def collect_history(
    query: HistoryQuery, read_batch: ReadBatch, count: TokenCounter = count_message_tokens
) -> History:
    """Read batches of runs, newest first, into the newest history that fits ``query``.

    Raises:
        InvalidQuery: the session is a workflow session (its history lives in step runs).
    """
    fitter = HistoryFitter(
        query.max_tokens, count, query.limit, tuple(query.skip_roles), query.skip_history_messages
    )
    remaining = query.last_n_runs
    before: int | None = None
    size = FIRST_BATCH
    while True:
        # The first read always runs (with size 0 for last_n_runs <= 0): it finds the session.
        want = size if remaining is None else max(min(size, remaining), 0)
        session_type, summary, batch = read_batch(before, want)
        if session_type == "workflow":
            raise InvalidQuery("session_id", "a workflow session has no message history to budget")
        for _index, text in batch:
            messages = run_messages(session_type, text)
            if messages is not None and not fitter.offer(messages):
                return fitter.result(summary)
        if want == 0 or len(batch) < want:
            return fitter.result(summary)
        before = batch[-1][0]
        if remaining is not None:
            remaining -= len(batch)
        size = min(size * 2, MAX_BATCH)
