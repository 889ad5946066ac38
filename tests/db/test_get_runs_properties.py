"""``get_runs`` agrees with its definition for any combination of filters, on every backend.

The SQL backends answer with one statement per filter shape (``db/_sql/run_reads.py``); this
checks them, and ``InMemoryDb``, against the filters applied in Python to the session's runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from db_builders import agent_run, agent_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessiondb.db.base import SessionStore
from sessiondb.run import RunOutput, RunStatus
from sessiondb.run.status import NOT_HISTORY_STATUSES

STATUSES = [RunStatus.COMPLETED, RunStatus.ERROR, RunStatus.CANCELLED, RunStatus.PAUSED, RunStatus.RUNNING]
RUNS = [
    agent_run(
        f"r{i}",
        status=STATUSES[i % len(STATUSES)],
        parent_run_id="r0" if i % 4 == 3 else None,
        created_at=100 + 10 * (i % 7),
    )
    for i in range(12)
]


def _expected(
    statuses: Sequence[str] | None,
    created_after: int | None,
    created_before: int | None,
    last_n: int | None,
    history_only: bool,
) -> list[str]:
    def keep(run: RunOutput) -> bool:
        if statuses is not None and run.status_value.upper() not in {s.upper() for s in statuses}:
            return False
        if created_after is not None and run.created_at < created_after:
            return False
        if created_before is not None and run.created_at > created_before:
            return False
        skipped = {status.value for status in NOT_HISTORY_STATUSES}
        return not history_only or (run.parent_run_id is None and run.status_value not in skipped)

    kept = [run.run_id for run in RUNS if keep(run)]
    if last_n is None:
        return kept
    return kept[max(len(kept) - last_n, 0) :] if last_n > 0 else []


@pytest.fixture
def filled(store: SessionStore) -> SessionStore:
    session = agent_session("s", user_id="ada")
    for run in RUNS:
        session.upsert_run(run.model_copy(deep=True))
    store.upsert_session(session)
    return store


status_names = st.sampled_from([s.value for s in STATUSES] + [s.value.lower() for s in STATUSES] + ["NOPE"])
# The runs' own times and their neighbours, so that the bounds' edges (inclusive) come up often.
times = st.none() | st.sampled_from([95, 99, 100, 101, 110, 130, 150, 160, 161, 170])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    statuses=st.none() | st.lists(status_names, max_size=4),
    created_after=times,
    created_before=times,
    last_n=st.none() | st.integers(min_value=-1, max_value=14),
    history_only=st.booleans(),
    by_user=st.booleans(),
)
def test_get_runs_is_its_filters_applied_to_the_runs(
    filled: SessionStore,
    statuses: list[str] | None,
    created_after: int | None,
    created_before: int | None,
    last_n: int | None,
    history_only: bool,
    by_user: bool,
) -> None:
    found = filled.get_runs(
        "s",
        user_id="ada" if by_user else None,
        statuses=statuses,
        created_after=created_after,
        created_before=created_before,
        last_n=last_n,
        history_only=history_only,
    )
    expected = _expected(statuses, created_after, created_before, last_n, history_only)
    assert [run.run_id for run in found] == expected
