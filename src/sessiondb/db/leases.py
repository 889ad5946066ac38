"""Run leases: how a run left in progress by a process that died is recognised and ended.

A run is stored ``RUNNING`` (a workflow run ``PENDING``) when it starts, so that clients see it
in progress. If the process executing it dies (``SIGKILL``, a crash, a host lost), nothing
would ever store its end. So the process *leases* the run: it records in the run's row when
the lease runs out (``lease_expires_at``, unix milliseconds; migration 0008) and renews it
while the run executes, every :data:`RENEW_FRACTION` of the lease, from a thread of its own
(:mod:`sessiondb.agent._lease`), so a model call or tool that takes minutes keeps it alive.

A lease is no write of the run (like a cancel request: no change feed entry, no new version).
A run in progress whose lease ran out is *abandoned*:
:meth:`~sessiondb.db.base.SessionStore.expire_run_leases` stores it ``ERROR`` (AgentOS's own
status for a run that failed: no new status value, so every Agno client reads it) with the
content :func:`abandoned_message`, through the ordinary run write (the change feed gets its
``run.updated``, the session's version moves), at most :data:`MAX_EXPIRED_PER_SWEEP` a call,
each only if it is still in progress with that same lease when written (a run that ended or
was renewed meanwhile is left alone). Until then it is ``RUNNING`` and, like every run
in progress, never history. The runtime of every process sweeps the stores it runs on while it
executes runs, and ``sessiondb serve`` sweeps the stores it serves, each every renewal period.

A run without a lease (stored in progress by a caller through ``upsert_run``, as the streaming
pattern does, or by a version before 0008) is never expired: nobody promised to renew it.
A process that was only slow, not dead (its renewals blocked for longer than the lease), and
then ends the run, stores its real end over the ``ERROR``: the last write wins. Leases are
taken and compared in each process's clock: hosts sharing a database need clocks that agree
to well within the lease.
"""

from __future__ import annotations

import time

from sessiondb.run.status import IN_PROGRESS_STATUSES

IN_PROGRESS_VALUES = frozenset(status.value for status in IN_PROGRESS_STATUSES)
"""The stored statuses a lease applies to."""

DEFAULT_LEASE_SECONDS = 30.0
"""How long a run's lease lasts unless renewed. A dead process's run is recognised this long
(plus at most one renewal period) after its last renewal; a live process must be able to
renew within it, so it is long next to a renewal's round trip and a loaded machine's stalls."""

RENEW_FRACTION = 1 / 3
"""The renewal period as a fraction of the lease: two renewals may fail before a lease lapses."""

MAX_EXPIRED_PER_SWEEP = 100
"""Runs a sweep ends at most; the next sweep takes the rest (each is a write of its own)."""


def now_ms() -> int:
    """The current time in unix milliseconds, as ``lease_expires_at`` is stored."""
    return int(time.time() * 1000)


def lease_until(seconds: float, *, now: int | None = None) -> int:
    """The ``lease_expires_at`` of a lease of ``seconds`` taken at ``now`` (ms, default now).

    Raises:
        ValueError: ``seconds`` is negative.
    """
    if seconds < 0:
        raise ValueError(f"a lease lasts 0 seconds or more, not {seconds}")
    return (now_ms() if now is None else now) + round(seconds * 1000)


def abandoned_message(run_id: str, expired_at_ms: int) -> str:
    """The content an abandoned run is stored with."""
    expired = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expired_at_ms / 1000))
    return (
        f"Run {run_id} was abandoned: the process executing it stopped renewing its lease, "
        f"which ran out at {expired}"
    )


__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "IN_PROGRESS_VALUES",
    "MAX_EXPIRED_PER_SWEEP",
    "RENEW_FRACTION",
    "abandoned_message",
    "lease_until",
    "now_ms",
]
