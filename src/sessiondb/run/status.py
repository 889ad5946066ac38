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
"""Runs in these states are left out of history by default (spec §1.3)."""


def status_value(status: RunStatus | str | None) -> str | None:
    """Return the stored string form of a status (an unknown string is kept as it is)."""
    if status is None:
        return None
    if isinstance(status, RunStatus):
        return status.value
    return str(status)
