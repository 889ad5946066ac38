"""Run lifecycle statuses and the set of statuses that history skips."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field


class RunStatus(StrEnum):
    """Where a run is in its lifecycle. Stored as its string value."""

    pending = "PENDING"
    running = "RUNNING"
    completed = "COMPLETED"
    paused = "PAUSED"
    cancelled = "CANCELLED"
    error = "ERROR"
    regenerated = "REGENERATED"

    # Agno spells the members in upper case; both spellings resolve to the same member.
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    PAUSED = "PAUSED"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    REGENERATED = "REGENERATED"


StatusField = Annotated["RunStatus | str", Field(union_mode="left_to_right")]
"""A run's ``status`` field: a known string becomes the member, an unknown one is kept (spec §1.4).

``left_to_right`` tries the enum first inside pydantic-core, with no Python validator per run.
"""

HISTORY_SKIP_STATUSES: frozenset[RunStatus] = frozenset(
    {RunStatus.PAUSED, RunStatus.CANCELLED, RunStatus.ERROR, RunStatus.REGENERATED}
)
"""Agno's statuses that history skips by default (spec §1.3); see :data:`NOT_HISTORY_STATUSES`."""

IN_PROGRESS_STATUSES: frozenset[RunStatus] = frozenset({RunStatus.PENDING, RunStatus.RUNNING})
"""A run stored in these states has not ended: it is still executing, or the process executing
it died. Agno stores a run only when it ends; sessiondb stores it when it starts too."""

NOT_HISTORY_STATUSES: frozenset[RunStatus] = HISTORY_SKIP_STATUSES | IN_PROGRESS_STATUSES
"""What history leaves out by default (``get_messages`` with no ``skip_statuses``, the stores'
``history_only`` and ``runs_limit``): Agno's skip set, and runs that have not ended. A run still
in progress has no reply yet, and one left ``RUNNING`` by a process that died never will: neither
may take a slot of ``num_history_runs``."""


def status_value(status: RunStatus | str | None) -> str | None:
    """Return the stored string form of a status (an unknown string is kept as it is)."""
    if status is None:
        return None
    if isinstance(status, RunStatus):
        return status.value
    return str(status)
