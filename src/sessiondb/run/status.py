"""Run lifecycle statuses and the set of statuses that history skips."""

from __future__ import annotations

from enum import StrEnum


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


HISTORY_SKIP_STATUSES: frozenset[RunStatus] = frozenset(
    {RunStatus.PAUSED, RunStatus.CANCELLED, RunStatus.ERROR, RunStatus.REGENERATED}
)
"""Runs in these states are left out of history by default (spec §1.3)."""


def status_value(status: RunStatus | str | None) -> str | None:
    """Return the stored string form of a status (an unknown string is kept as it is)."""
    if status is None:
        return None
    if isinstance(status, RunStatus):
        return status.value
    return str(status)
