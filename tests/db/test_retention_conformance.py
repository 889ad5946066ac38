"""Retention policies (``preview_retention``, ``apply_retention``) against every backend."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from db_builders import agent_run, agent_session, team_session

from sessiondb.db.base import SessionStore
from sessiondb.db.changes import MAX_CHANGES_LIMIT
from sessiondb.db.query import SessionQuery
from sessiondb.db.retention import RetentionPolicy
from store_backends import BACKEND_PARAMS, BACKENDS

DAY = 86400
NOW = int(time.time())


def _fill(store: SessionStore) -> None:
    old = NOW - 100 * DAY
    store.upsert_session(agent_session("old-a", runs=2, created_at=old))
    store.upsert_session(agent_session("old-b", user_id="u2", runs=1, created_at=old))
    store.upsert_session(team_session("old-team", created_at=old))
    store.upsert_session(agent_session("new", runs=1))
    # Created long ago, but written to today: old, yet not inactive.
    store.upsert_session(agent_session("old-busy", created_at=old))
    store.upsert_run("old-busy", agent_run("busy-run", "today"))


def _live(store: SessionStore) -> list[str]:
    return sorted(s.session_id for s in store.get_sessions(SessionQuery(limit=100)).items)


def test_a_dry_run_counts_sessions_and_runs_and_changes_nothing(store: SessionStore) -> None:
    _fill(store)
    preview = store.preview_retention(RetentionPolicy(older_than=timedelta(days=90)))
    assert (preview.sessions, preview.runs) == (4, 4)
    assert preview.session_ids == ["old-a", "old-b", "old-busy", "old-team"]
    assert store.preview_retention(RetentionPolicy(older_than=timedelta(days=90)), limit=1).session_ids == [
        "old-a"
    ]
    inactive = store.preview_retention(RetentionPolicy(inactive_for=timedelta(days=30)))
    assert inactive.session_ids == ["old-a", "old-b", "old-team"]
    assert len(_live(store)) == 5


@pytest.mark.parametrize(
    ("policy", "gone"),
    [
        (RetentionPolicy(inactive_for=timedelta(days=30), user_id="u1"), ["old-a", "old-team"]),
        (RetentionPolicy(inactive_for=timedelta(days=30), session_type="team"), ["old-team"]),
        (RetentionPolicy(inactive_for=timedelta(days=30), component_id="team-1"), ["old-team"]),
        (
            RetentionPolicy(older_than=timedelta(days=90), session_type="agent", component_id="agent-1"),
            ["old-a", "old-b", "old-busy"],
        ),
        (RetentionPolicy(older_than=timedelta(days=200)), []),
    ],
)
def test_a_policy_deletes_exactly_what_it_selects(
    store: SessionStore, policy: RetentionPolicy, gone: list[str]
) -> None:
    _fill(store)
    before = _live(store)
    assert store.preview_retention(policy).session_ids == gone
    report = store.apply_retention(policy, batch_size=1)
    assert report.sessions == len(gone) and not report.soft
    assert _live(store) == [session_id for session_id in before if session_id not in gone]


def test_a_run_in_small_batches_deletes_everything_selected_and_records_each(store: SessionStore) -> None:
    _fill(store)
    start = store.changes(limit=0).position
    report = store.apply_retention(RetentionPolicy(older_than=timedelta(days=90)), batch_size=3)
    assert (report.sessions, report.runs) == (4, 4)
    assert _live(store) == ["new"]
    deleted = store.changes(start, limit=MAX_CHANGES_LIMIT).items
    assert sorted((c.kind, c.session_id) for c in deleted) == [
        ("session.deleted", "old-a"),
        ("session.deleted", "old-b"),
        ("session.deleted", "old-busy"),
        ("session.deleted", "old-team"),
    ]
    assert store.apply_retention(RetentionPolicy(older_than=timedelta(days=90))).sessions == 0


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_with_soft_delete_retention_fills_the_trash_unless_hard(backend: str, tmp_path: Path) -> None:
    with BACKENDS[backend](tmp_path, soft_delete=timedelta(days=7)) as store:
        _fill(store)
        soft = store.apply_retention(RetentionPolicy(inactive_for=timedelta(days=30), user_id="u1"))
        assert soft.soft and soft.sessions == 2
        trash = sorted(s.session_id for s in store.get_sessions(SessionQuery(deleted=True)).items)
        assert trash == ["old-a", "old-team"]
        store.restore_session("old-a")
        assert len(store.get_session("old-a").runs or []) == 2
        hard = store.apply_retention(RetentionPolicy(inactive_for=timedelta(days=30), hard=True))
        assert not hard.soft and hard.sessions == 2  # old-a again, and old-b
        assert sorted(s.session_id for s in store.get_sessions(SessionQuery(deleted=True)).items) == [
            "old-team"
        ]
        assert _live(store) == ["new", "old-busy"]
