"""Workload sizes: ``--quick`` (the smoke test), the default run and ``--full``."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Sizes:
    """How big every workload is.

    Attributes:
        name: ``quick``, ``default`` or ``full``.
        rounds / per_round: timed rounds per side and operations per round (interleaved).
        append_runs: runs already in the session when one more is appended.
        history_runs: session sizes for ``get_messages(last_n_runs=3)``.
        session_runs: session sizes for a whole ``get_session``.
        list_totals: total sessions in each listing dataset (100 per ordinary user).
        list_probe_users: sessions-per-user probes added to the largest listing dataset.
        cursor_page: the page fetched through a keyset cursor (its user gets enough sessions).
        bulk_sessions / bulk_runs: one bulk import batch.
        bulk_rounds: batches imported per side.
        http_requests: requests per server per endpoint (split over ``rounds``).
        http_concurrency: concurrent client connections.
        search_runs: runs in each search dataset (100 per user, in sessions of 10).
    """

    name: str
    rounds: int
    per_round: int
    append_runs: tuple[int, ...]
    history_runs: tuple[int, ...]
    session_runs: tuple[int, ...]
    list_totals: tuple[int, ...]
    list_probe_users: tuple[int, ...]
    cursor_page: int
    bulk_sessions: int
    bulk_runs: int
    bulk_rounds: int
    http_requests: int
    http_concurrency: int
    search_runs: tuple[int, ...] = ()

    @property
    def ops(self) -> int:
        """Timed operations per side of a workload."""
        return self.rounds * self.per_round

    @property
    def cursor_user_sessions(self) -> int:
        """Sessions of the user whose page ``cursor_page`` is read (one page more than needed)."""
        return (self.cursor_page + 1) * 20


QUICK = Sizes(
    name="quick",
    rounds=2,
    per_round=5,
    append_runs=(10, 100),
    history_runs=(100,),
    session_runs=(10, 100),
    list_totals=(2_000,),
    list_probe_users=(10, 100),
    cursor_page=5,
    bulk_sessions=10,
    bulk_runs=5,
    bulk_rounds=1,
    http_requests=60,
    http_concurrency=8,
    search_runs=(2_000,),
)

DEFAULT = Sizes(
    name="default",
    rounds=5,
    per_round=30,
    append_runs=(10, 100, 1_000, 10_000),
    history_runs=(100, 1_000, 10_000),
    session_runs=(10, 100, 1_000),
    list_totals=(10_000, 100_000),
    list_probe_users=(10, 100, 1_000),
    cursor_page=500,
    bulk_sessions=100,
    bulk_runs=20,
    bulk_rounds=3,
    http_requests=3_000,
    http_concurrency=32,
    search_runs=(100_000,),
)

FULL = replace(
    DEFAULT, name="full", list_totals=(10_000, 100_000, 1_000_000), search_runs=(100_000, 1_000_000)
)
"""The default sizes plus the listing among 1,000,000 sessions of 10,000 users and the search
among 1,000,000 runs of 10,000 users."""

PRESETS = {sizes.name: sizes for sizes in (QUICK, DEFAULT, FULL)}


BRANCH_RUNS = {"quick": 200}
"""Runs of the long session that ``history_budget`` and ``fork`` read and copy, by preset
(10,000 unless named)."""


def branch_runs(sizes: Sizes) -> int:
    """Runs of the long session of the branching workloads at ``sizes``."""
    return BRANCH_RUNS.get(sizes.name, 10_000)


PER_USER = 100
"""Sessions of every ordinary user (``u0``, ``u1``, ...) in a listing dataset."""
HEAVY_USER = "heavy"
"""The user whose page ``cursor_page`` is read through a cursor."""


def listing_probes(sizes: Sizes, total: int) -> list[tuple[str, int]]:
    """Users with a set number of sessions, added to the largest listing dataset only."""
    if total != max(sizes.list_totals):
        return []
    probes = [(f"p{count}", count) for count in sizes.list_probe_users if count != PER_USER]
    return [*probes, (HEAVY_USER, sizes.cursor_user_sessions)]


def ordinary_users(total: int, probes: list[tuple[str, int]]) -> int:
    """How many ordinary users a listing dataset of ``total`` sessions has."""
    return max(1, (total - sum(count for _, count in probes)) // PER_USER)


def user_for_call(call: int, users: int) -> str:
    """The ordinary user the ``call``-th listing call asks for (spread over many users)."""
    return f"u{(call * 7919) % users}"
