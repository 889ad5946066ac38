"""The history-window algorithm shared by agent, team and workflow sessions (spec §2.3-2.5).

Each session type decides which runs are candidates (its own identity filters); everything
after that - the status filter, ``last_n_runs``, the role and ``from_history`` filters, the
single system message and the ``limit`` window - is the same and lives here, as pure functions
over a list of runs. Messages are returned as the stored objects, never copied.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import TypeVar

from pydantic import BaseModel

from sessiondb.run.agent import RunOutput
from sessiondb.run.base import RunBase
from sessiondb.run.message import Message
from sessiondb.run.status import NOT_HISTORY_STATUSES, RunStatus, status_value
from sessiondb.run.team import TeamRunOutput

RunT = TypeVar("RunT", bound=RunBase)
T = TypeVar("T")


def status_values(statuses: Iterable[RunStatus | str] | None) -> frozenset[str]:
    """The stored string forms of ``statuses`` (an empty set for ``None``)."""
    return frozenset(str(status_value(status)) for status in statuses or ())


_HISTORY_SKIP_VALUES = status_values(NOT_HISTORY_STATUSES)


def default_skip_values(skip_statuses: Iterable[RunStatus | str] | None) -> frozenset[str]:
    """The status strings agent and team sessions skip: ``NOT_HISTORY_STATUSES`` for ``None``."""
    return _HISTORY_SKIP_VALUES if skip_statuses is None else status_values(skip_statuses)


def select_runs(runs: Sequence[RunT], keep: Callable[[RunT], bool], last_n_runs: int | None) -> list[RunT]:
    """The runs ``keep`` accepts, oldest first; only the newest ``last_n_runs`` of them when set.

    With ``last_n_runs`` the scan starts at the newest run and stops after N matches, so asking
    for the last 3 runs of a long session touches only the runs it needs.
    """
    if last_n_runs is None:
        return [run for run in runs if keep(run)]
    if last_n_runs <= 0:
        return []
    picked: list[RunT] = []
    for run in reversed(runs):
        if keep(run):
            picked.append(run)
            if len(picked) == last_n_runs:
                break
    picked.reverse()
    return picked


def window_messages(
    runs: Iterable[RunBase],
    *,
    limit: int | None = None,
    skip_roles: Collection[str] | None = None,
    skip_history_messages: bool = True,
) -> list[Message]:
    """The messages of ``runs`` in order, keeping only the first system message (spec §2.3 steps 6-8).

    Args:
        runs: the runs to read, oldest first.
        limit: keep at most this many messages, counting from the newest; the system message
            (when there is one) always stays first and counts towards the limit.
        skip_roles: leave out messages with these roles.
        skip_history_messages: leave out messages replayed from earlier runs (``from_history``).

    Returns:
        The messages. With ``limit``, a window never starts (after the system message) with a
        tool result whose tool call was cut away; Agno keeps one right after the system message.
    """
    skipped_roles = frozenset(skip_roles or ())
    system: Message | None = None
    system_position = 0
    body: list[Message] = []
    for run in runs:
        for message in run.messages or ():
            if (skip_history_messages and message.from_history) or message.role in skipped_roles:
                continue
            if message.role == "system":
                # Later runs repeat the system prompt; only the first one found is history.
                if system is None:
                    system = message
                    system_position = len(body)
                continue
            body.append(message)
    if limit is None:
        if system is not None:
            body.insert(system_position, system)
        return body
    return _limit_window(system, body, limit)


def _limit_window(system: Message | None, body: list[Message], limit: int) -> list[Message]:
    if system is not None:
        window = [system] if limit <= 1 else [system, *body[-(limit - 1) :]]
        start = 1
    else:
        window = body[-limit:] if limit > 0 else []
        start = 0
    # A tool result whose assistant tool call fell outside the window is rejected by model
    # providers, so it is dropped - also right after the system message (deliberate deviation).
    end = start
    while end < len(window) and window[end].role == "tool":
        end += 1
    del window[start:end]
    return window


def history_messages(
    runs: Sequence[RunT],
    *,
    keep: Callable[[RunT], bool] | None = None,
    skip_statuses: Collection[str] = frozenset(),
    last_n_runs: int | None = None,
    limit: int | None = None,
    skip_roles: Collection[str] | None = None,
    skip_history_messages: bool = True,
) -> list[Message]:
    """Filter runs, take the newest ``last_n_runs`` and return their message window.

    Args:
        runs: candidate runs, oldest first.
        keep: an extra run filter applied before the status filter (identity, parentage).
        skip_statuses: stored status strings (see :func:`status_values`) whose runs are left out.
        last_n_runs: keep only the newest N remaining runs; ``<= 0`` gives ``[]``.
        limit: see :func:`window_messages`.
        skip_roles: see :func:`window_messages`.
        skip_history_messages: see :func:`window_messages`.

    Returns:
        The selected messages, oldest first.
    """

    def accept(run: RunT) -> bool:
        return (keep is None or keep(run)) and run.status_value not in skip_statuses

    selected = select_runs(runs, accept, last_n_runs)
    return window_messages(
        selected, limit=limit, skip_roles=skip_roles, skip_history_messages=skip_history_messages
    )


def walk_runs(runs: Iterable[RunBase]) -> Iterator[RunBase]:
    """Every run and, depth first, every member run nested in team runs' ``member_responses``."""
    for run in runs:
        yield run
        if isinstance(run, TeamRunOutput) and run.member_responses:
            yield from walk_runs(run.member_responses)


def unique_runs(runs: Iterable[RunT]) -> list[RunT]:
    """``runs`` without repeated ``run_id`` values, keeping the first occurrence.

    A member run is stored both as a run of its own and inside its team run's
    ``member_responses``; without this its messages would appear twice (Agno issue #7341).
    """
    seen: set[str] = set()
    unique: list[RunT] = []
    for run in runs:
        if run.run_id not in seen:
            seen.add(run.run_id)
            unique.append(run)
    return unique


def team_runs_of(runs: Iterable[RunBase], team_id: str) -> list[RunBase]:
    """Team runs with ``team_id`` at any nesting depth, de-duplicated by ``run_id``."""
    return unique_runs(r for r in walk_runs(runs) if isinstance(r, TeamRunOutput) and r.team_id == team_id)


def member_runs_of(runs: Iterable[RunBase], member_ids: Collection[str]) -> list[RunBase]:
    """Agent runs of ``member_ids``, top level or nested in team runs, de-duplicated by ``run_id``."""
    wanted = frozenset(member_ids)
    return unique_runs(r for r in walk_runs(runs) if isinstance(r, RunOutput) and r.agent_id in wanted)


def content_text(content: object) -> str:
    """A run's content for the history context: ``""`` when empty, models as indented JSON."""
    if not content:
        return ""
    if isinstance(content, BaseModel):
        return content.model_dump_json(indent=2, exclude_none=True)
    return content if isinstance(content, str) else str(content)


def last_n(items: list[T], num_runs: int | None) -> list[T]:
    """The newest ``num_runs`` items (all for ``None``, none for ``<= 0``)."""
    if num_runs is None:
        return items
    return items[-num_runs:] if num_runs > 0 else []


def format_history_context(
    pairs: Sequence[tuple[str, str]], *, tag: str, label: str, input_prefix: str, output_prefix: str
) -> str | None:
    """Render ``(input, output)`` pairs inside ``<tag>`` ... ``</tag>``, byte-exact with Agno (spec §2.7).

    Each pair becomes ``[<label>-i]`` (numbered from 1), the input and output lines (each left
    out when empty) and a blank line; the text ends with the closing tag and a newline.
    Returns ``None`` when there are no pairs.
    """
    if not pairs:
        return None
    lines = [f"<{tag}>"]
    for number, (input_text, output_text) in enumerate(pairs, 1):
        lines.append(f"[{label}-{number}]")
        if input_text:
            lines.append(f"{input_prefix}{input_text}")
        if output_text:
            lines.append(f"{output_prefix}{output_text}")
        lines.append("")
    lines.append(f"</{tag}>")
    lines.append("")
    return "\n".join(lines)
