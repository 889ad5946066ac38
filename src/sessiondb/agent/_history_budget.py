"""The history a run sends when the runtime has ``max_history_tokens``: the newest that fits."""

from __future__ import annotations

from sessiondb.session import AgentSession, TeamSession
from sessiondb.session._history import default_skip_values, last_n
from sessiondb.session.history_budget import History, fit_history
from sessiondb.session.tokens import count_message_tokens


def budgeted_history(
    session: AgentSession | TeamSession, max_tokens: int, *, last_n_runs: int | None, limit: int | None
) -> History:
    """The newest history of ``session``'s loaded runs that fits ``max_tokens`` tokens.

    The runs are the ones ``get_messages`` reads (top level, status not in the history-skip
    set), the newest ``last_n_runs`` of them when set; system messages are left out (the run
    builds its own). See :mod:`sessiondb.session.history_budget` for what is kept.
    """
    skipped = default_skip_values(None)
    runs = [
        run for run in session.runs or [] if run.parent_run_id is None and run.status_value not in skipped
    ]
    return fit_history(
        [run.messages or [] for run in reversed(last_n(runs, last_n_runs))],
        max_tokens=max_tokens,
        count=count_message_tokens,
        limit=limit,
        skip_roles=("system",),
    )
