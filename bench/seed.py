"""Fill sessiondb datasets: sessions with many runs, and large listing tables.

Rows are written by sessiondb wherever that stays fast: each session is created through the
store, and bulk history beyond its first run is appended by the raw baseline writer (whose
rows the smoke test proves identical to sessiondb's), then listing tables are grown by
:mod:`bench.clone`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench import clone, data
from bench.clone import grow_listing
from bench.env import Dataset
from sessiondb.run.agent import RunOutput
from sessiondb.session import AgentSession

SEED_BATCH = 2_000


def canonical_run(session_id: str, user_id: str, index: int) -> dict[str, Any]:
    """The run as sessiondb stores it (``RunOutput.to_dict()`` of the generated run)."""
    return RunOutput.from_dict(data.run_dict(session_id, user_id, index)).to_dict()


def run_object(session_id: str, user_id: str, index: int) -> RunOutput:
    """The generated run as a sessiondb object."""
    return RunOutput.from_dict(data.run_dict(session_id, user_id, index))


def session_with_runs(dataset: Dataset, session_id: str, user_id: str, runs: int) -> None:
    """Create a session through sessiondb with its first run, then append ``runs - 1`` more raw."""
    first = [run_object(session_id, user_id, 0)] if runs else []
    session = AgentSession(session_id=session_id, agent_id=data.AGENT_ID, user_id=user_id, runs=first)
    dataset.store.create_session(session)
    index = 1
    while index < runs:
        upto = min(runs, index + SEED_BATCH)
        batch = [canonical_run(session_id, user_id, number) for number in range(index, upto)]
        dataset.raw.append_many(session_id, batch, now=data.BASE_TIME + upto)
        index = upto


def sessions_with_runs(dataset: Dataset, ids: Iterable[str], user_id: str, runs: int) -> list[str]:
    """:func:`session_with_runs` for each id; returns the ids."""
    made = list(ids)
    for session_id in made:
        session_with_runs(dataset, session_id, user_id, runs)
    return made


def listing(dataset: Dataset, total: int, probes: Iterable[tuple[str, int]], *, per_user: int = 100) -> None:
    """Fill a listing dataset: ``total`` sessions, ``per_user`` per ordinary user, plus probe users.

    Ordinary users are ``u0``, ``u1``, ...; probe ``(user, count)`` gives ``user`` exactly
    ``count`` sessions (part of ``total``). Names come from :func:`bench.data.session_name`.
    """
    store, raw = dataset.store, dataset.raw
    template_ids = clone.TEMPLATE_IDS
    templates = [
        AgentSession(
            session_id=session_id,
            agent_id=data.AGENT_ID,
            user_id="template",
            session_data={"session_name": data.session_name(number)},
            metadata=data.SESSION_METADATA,
            created_at=data.BASE_TIME,
        )
        for number, session_id in enumerate(template_ids)
    ]
    store.upsert_sessions(templates)
    grow_listing(raw.driver, raw.sessions, template_ids, total, list(probes), per_user)
    analyze(dataset)


def analyze(dataset: Dataset) -> None:
    """Planner statistics for both tables (PostgreSQL only; see :func:`bench.clone.analyze`)."""
    clone.analyze(dataset.raw.driver, [dataset.raw.sessions, dataset.raw.runs])
