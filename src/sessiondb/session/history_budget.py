"""Fitting history into a token budget: the newest messages that fit, whole (no I/O here).

Runs are offered newest first, each as its stored messages, so a store can stop reading as
soon as the budget is full. The rules, on top of the history filters of
:mod:`sessiondb.session._history` (roles, replayed messages, the one system message):

- a message is never cut: it is in whole or left out;
- the newest run (the newest user turn and what answered it) is in whole or not at all;
- an assistant message that called tools and the tool results that follow it are one unit,
  so a tool result never appears without its call (a tool result whose call is not in the run
  is left out, as providers refuse it);
- the newest run comes first; then the system message, the newest run's (runs repeat it;
  the newest is the one in force), left out whole when it does not fit what is left (then
  nothing older is added either); then older runs, newest first;
- ``limit`` caps the number of messages as in ``get_messages`` (the system message counts).

``truncated`` says whether older history (of the runs the filters select) was left out.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from sessiondb.run.message import Message
from sessiondb.session.summary import SessionSummary

TokenCounter = Callable[[Message], int]


@dataclass
class History:
    """The newest history that fits a token budget.

    Attributes:
        messages: the messages, oldest first (the system message, if kept, first).
        tokens: their token count.
        truncated: whether older history was left out to fit.
        summary: the session's summary, which may stand in for what was left out.
    """

    messages: list[Message]
    tokens: int
    truncated: bool
    summary: SessionSummary | None = None


def _units(messages: Sequence[Message]) -> list[list[Message]]:
    """``messages`` grouped into units: a message and the tool results that follow it.

    Leading tool results, with no message before them in the run, are dropped.
    """
    units: list[list[Message]] = []
    for message in messages:
        if message.role == "tool":
            if units:
                units[-1].append(message)
            continue
        units.append([message])
    return units


@dataclass
class HistoryFitter:
    """Accumulates runs, newest first, into the newest history that fits ``max_tokens``.

    Args:
        max_tokens: the budget (``>= 0``).
        count: the tokens of one message.
        limit: at most this many messages (``None``: no cap).
        skip_roles: leave out messages with these roles.
        skip_history_messages: leave out messages replayed from earlier runs.
    """

    max_tokens: int
    count: TokenCounter
    limit: int | None = None
    skip_roles: Collection[str] = ()
    skip_history_messages: bool = True
    _system: Message | None = None
    _system_seen: bool = False
    _body: list[list[Message]] = field(default_factory=list)
    _tokens: int = 0
    _messages: int = 0
    _runs: int = 0
    _full: bool = False

    def offer(self, messages: Sequence[Message]) -> bool:
        """Add the next older run's messages (all of them, in order).

        Returns:
            False when the budget is full and no older run can be added (stop reading).
        """
        if self._full:
            return False
        kept = [
            m
            for m in messages
            if not (self.skip_history_messages and m.from_history) and m.role not in self.skip_roles
        ]
        system = next((m for m in kept if m.role == "system"), None)
        units = _units([m for m in kept if m.role != "system"])
        newest_turn = self._runs == 0
        self._runs += 1
        if newest_turn and units:
            # The newest turn is never cut, and comes before anything else: whole or not at all.
            if not self._fits([m for unit in units for m in unit]):
                self._full = True
                return False
            units = []
        if system is not None and not self._system_seen:
            self._take_system(system)
        for unit in reversed(units):
            if self._full or not self._fits(unit):
                self._full = True
                return False
        return not self._full

    def _take_system(self, system: Message) -> None:
        self._system_seen = True
        tokens = self.count(system)
        if tokens <= self.max_tokens - self._tokens and (self.limit is None or self._messages < self.limit):
            self._system, self._tokens, self._messages = system, self._tokens + tokens, self._messages + 1
        else:
            self._full = True  # a system message that cannot fit leaves no room for history either

    def _fits(self, unit: list[Message]) -> bool:
        if self.limit is not None and self._messages + len(unit) > self.limit:
            return False
        tokens = sum(self.count(m) for m in unit)
        if self._tokens + tokens > self.max_tokens:
            return False
        self._body.append(unit)
        self._tokens += tokens
        self._messages += len(unit)
        return True

    def result(self, summary: SessionSummary | None = None) -> History:
        """The history gathered so far."""
        body = [m for unit in reversed(self._body) for m in unit]
        messages = [self._system, *body] if self._system is not None else body
        return History(messages=messages, tokens=self._tokens, truncated=self._full, summary=summary)


def fit_history(
    runs_newest_first: Sequence[Sequence[Message]],
    *,
    max_tokens: int,
    count: TokenCounter,
    limit: int | None = None,
    skip_roles: Collection[str] = (),
    skip_history_messages: bool = True,
    summary: SessionSummary | None = None,
) -> History:
    """:class:`HistoryFitter` over runs already in memory (the runtimes' path)."""
    fitter = HistoryFitter(max_tokens, count, limit, skip_roles, skip_history_messages)
    for messages in runs_newest_first:
        if not fitter.offer(messages):
            break
    return fitter.result(summary)
