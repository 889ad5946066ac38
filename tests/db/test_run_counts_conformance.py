"""``run_counts``: the runs of a page of sessions, counted in one read, against every backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from db_builders import agent_run, agent_session, team_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery
from sessiondb.db.query import MAX_RUN_COUNT_IDS, SessionQuery
from store_backends import BACKEND_PARAMS, BACKENDS


@pytest.fixture(params=BACKEND_PARAMS)
def trash_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """A fresh store of each backend whose deletes go to the trash."""
    with BACKENDS[request.param](tmp_path, soft_delete=timedelta(days=1)) as created:
        yield created


def test_counts_the_runs_of_the_sessions_named_and_no_others(store: SessionStore) -> None:
    store.upsert_session(agent_session("a", runs=3))
    store.upsert_session(agent_session("b", runs=1))
    store.upsert_session(agent_session("c", runs=5))
    store.upsert_session(agent_session("empty"))
    team = team_session("t")
    team.upsert_run(agent_run("lead", "plan"))
    store.upsert_session(team)
    store.upsert_run("t", agent_run("member", "part", parent_run_id="lead"))

    counts = store.run_counts(["a", "b", "empty", "t", "missing", "a"])

    # Member runs count; a session without runs, and one not stored, are left out.
    assert counts == {"a": 3, "b": 1, "t": 2}
    assert store.run_counts([]) == {}


def test_the_counts_follow_writes(store: SessionStore) -> None:
    store.upsert_session(agent_session("a", runs=2))
    store.upsert_run("a", agent_run("extra"))
    assert store.run_counts(["a"]) == {"a": 3}
    assert store.delete_run("extra", session_id="a")
    assert store.run_counts(["a"]) == {"a": 2}


def test_a_user_counts_only_its_own_sessions(store: SessionStore) -> None:
    store.upsert_session(agent_session("mine", user_id="alice", runs=2))
    store.upsert_session(agent_session("theirs", user_id="bob", runs=4))

    assert store.run_counts(["mine", "theirs"], user_id="alice") == {"mine": 2}
    assert store.run_counts(["mine", "theirs"], user_id="bob") == {"theirs": 4}
    assert store.run_counts(["mine", "theirs"]) == {"mine": 2, "theirs": 4}


def test_the_trash_is_counted_only_when_asked_for(trash_store: SessionStore) -> None:
    store = trash_store
    store.upsert_session(agent_session("live", runs=1))
    store.upsert_session(agent_session("binned", runs=2))
    store.delete_session("binned")

    assert store.run_counts(["live", "binned"]) == {"live": 1}
    assert store.run_counts(["live", "binned"], deleted=True) == {"binned": 2}


def test_the_counts_equal_the_runs_each_session_holds(store: SessionStore) -> None:
    """The grouped count and the plain read of every session's runs agree."""
    for index in range(12):
        store.upsert_session(agent_session(f"s{index:02}", runs=index % 4, user_id=f"u{index % 3}"))
    page = store.get_sessions(SessionQuery(limit=10, count_total=False))
    ids = [session.session_id for session in page.items]

    plain = {sid: len(runs) for sid in ids if (runs := store.get_runs(sid))}

    assert store.run_counts(ids) == plain


def test_too_many_ids_are_refused_naming_the_field(store: SessionStore) -> None:
    with pytest.raises(InvalidQuery, match="session_ids"):
        store.run_counts([f"s{i}" for i in range(MAX_RUN_COUNT_IDS + 1)])


async def test_the_async_twin_counts_the_same(store: SessionStore) -> None:
    store.upsert_session(agent_session("a", runs=2))
    assert await store.arun_counts(["a", "b"]) == store.run_counts(["a", "b"]) == {"a": 2}
