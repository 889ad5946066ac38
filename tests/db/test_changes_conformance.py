"""The change feed (``changes``), run against every backend: each write records what it did,
in its own transaction, and a reader that follows ``position`` misses nothing and sees nothing twice."""

from __future__ import annotations

import time
from typing import Any

import pytest
from db_builders import agent_run, agent_session, team_session

from sessiondb.db.base import SessionStore
from sessiondb.db.changes import MAX_CHANGES_LIMIT, Change
from sessiondb.db.errors import (
    InvalidQuery,
    SessionAlreadyExists,
    SessionNotFound,
    SessionOwnedByAnotherUser,
)
from sessiondb.run import RunStatus
from sessiondb.session import SessionSummary
from sessiondb.transfer.importer import import_sessions


def _all(store: SessionStore, **kwargs: object) -> list[Change]:
    return store.changes(None, limit=MAX_CHANGES_LIMIT, **kwargs).items  # type: ignore[arg-type]


def _kinds(changes: list[Change]) -> list[tuple[str, str, str | None]]:
    return [(change.kind, change.session_id, change.run_id) for change in changes]


def test_every_write_records_its_change_with_the_version_it_made(store: SessionStore) -> None:
    session = store.create_session(agent_session("s1", runs=2))
    created = _all(store)
    assert _kinds(created) == [
        ("session.created", "s1", None),
        ("run.created", "s1", "s1-r0"),
        ("run.created", "s1", "s1-r1"),
    ]
    assert {(c.version, c.user_id, c.session_type) for c in created} == {(session.version, "u1", "agent")}

    store.upsert_run("s1", agent_run("s1-r2", "new"))
    store.upsert_run("s1", agent_run("s1-r0", "edited"))
    store.rename_session("s1", session_name="renamed")
    store.update_session("s1", summary=SessionSummary(summary="short"))
    store.delete_run("s1-r1")
    version_before_delete = store.get_session("s1").version
    assert store.delete_session("s1") is True

    later = _all(store)[3:]
    assert _kinds(later) == [
        ("run.created", "s1", "s1-r2"),
        ("run.updated", "s1", "s1-r0"),
        ("session.updated", "s1", None),
        ("session.updated", "s1", None),
        ("session.updated", "s1", None),
        ("session.deleted", "s1", None),
    ]
    assert [change.version for change in later] == [2, 3, 4, 5, 6, version_before_delete]
    ids = [change.change_id for change in _all(store)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(change.at >= int(time.time()) - 60 for change in later)


def test_a_save_of_a_stored_session_records_an_update_and_its_new_and_changed_runs(
    store: SessionStore,
) -> None:
    session = agent_session("s1", runs=1)
    store.upsert_session(session)
    session.upsert_run(agent_run("s1-r0", "changed"))
    session.upsert_run(agent_run("s1-r1", "added"))
    store.upsert_session(session)
    assert _kinds(_all(store)[2:]) == [
        ("session.updated", "s1", None),
        ("run.updated", "s1", "s1-r0"),
        ("run.created", "s1", "s1-r1"),
    ]


def test_a_batch_records_each_session_and_a_bulk_delete_each_deletion(store: SessionStore) -> None:
    store.upsert_sessions([agent_session("b", runs=1), agent_session("a"), team_session("t")])
    assert sorted(_kinds(_all(store))) == sorted(
        [
            ("session.created", "a", None),
            ("session.created", "b", None),
            ("run.created", "b", "b-r0"),
            ("session.created", "t", None),
        ]
    )
    assert store.delete_sessions(["a", "t", "missing"]) == 2
    assert _kinds(_all(store)[4:]) == [("session.deleted", "a", None), ("session.deleted", "t", None)]


def test_a_failed_write_records_nothing(store: SessionStore) -> None:
    store.create_session(agent_session("s1"))
    before = _all(store)
    with pytest.raises(SessionAlreadyExists):
        store.create_session(agent_session("s1"))
    with pytest.raises(SessionOwnedByAnotherUser):
        store.upsert_sessions([agent_session("new", runs=2), agent_session("s1", user_id="intruder")])
    assert _all(store) == before


def test_a_reader_following_its_position_sees_every_change_once(store: SessionStore) -> None:
    for k in range(3):
        store.upsert_session(agent_session(f"s{k}", runs=2))
    everything = _all(store)
    seen: list[Change] = []
    position = None
    for _ in range(20):
        page = store.changes(position, limit=2)
        seen.extend(page.items)
        position = page.position
        if not page.items:
            break
    assert seen == everything
    store.upsert_run("s0", agent_run("late", "late"))
    assert _kinds(store.changes(position).items) == [("run.created", "s0", "late")]


def test_limit_zero_gives_the_newest_position_and_no_items(store: SessionStore) -> None:
    assert store.changes(limit=0).position == 0
    store.upsert_session(agent_session("s1", runs=1))
    now = store.changes(limit=0)
    assert now.items == [] and now.position == _all(store)[-1].change_id
    store.upsert_run("s1", agent_run("next", "next"))
    assert _kinds(store.changes(now.position).items) == [("run.created", "s1", "next")]


def test_a_user_sees_only_its_sessions_changes_and_its_position_still_moves_on(
    store: SessionStore,
) -> None:
    store.upsert_session(agent_session("mine", user_id="u1"))
    store.upsert_session(agent_session("theirs", user_id="u2", runs=3))
    page = store.changes(None, user_id="u1")
    assert _kinds(page.items) == [("session.created", "mine", None)]
    # Past the other user's changes too: the next read starts after them.
    assert page.position == _all(store)[-1].change_id
    assert store.changes(page.position, user_id="u1").items == []


@pytest.mark.parametrize(
    ("after", "limit", "field"), [(-1, 10, "after"), (0, -1, "limit"), (0, 10_001, "limit")]
)
def test_out_of_range_arguments_are_refused_naming_them(
    store: SessionStore, after: int, limit: int, field: str
) -> None:
    with pytest.raises(InvalidQuery, match=field):
        store.changes(after, limit=limit)


def test_purge_prunes_changes_past_the_window_and_positions_keep_growing(store: SessionStore) -> None:
    store.upsert_session(agent_session("s1", runs=2))
    last = _all(store)[-1].change_id
    assert store.purge().changes == 0
    report = store.purge(now=int(time.time()) + 8 * 86400)  # the default window is 7 days
    assert report.changes == 3 and _all(store) == []
    assert store.changes(last).items == []
    store.upsert_run("s1", agent_run("after", "after"))
    # An id is never reused, even once pruning emptied the table: the old position still works.
    assert _kinds(store.changes(last).items) == [("run.created", "s1", "after")]


def test_a_large_batch_records_every_change(store: SessionStore) -> None:
    # 20 changes: past COPY_FROM, so PostgreSQL records them with COPY.
    store.upsert_sessions([agent_session(f"s{k}", runs=3) for k in range(5)])
    changes = _all(store)
    assert len(changes) == 20
    assert sorted(_kinds(changes)) == sorted(
        [("session.created", f"s{k}", None) for k in range(5)]
        + [("run.created", f"s{k}", f"s{k}-r{i}") for k in range(5) for i in range(3)]
    )
    assert all(change.version == 1 and change.user_id == "u1" for change in changes)


def _merge_state(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "session_state": {"done": True}}


def test_the_end_of_a_run_records_the_session_update_and_the_run(store: SessionStore) -> None:
    store.upsert_session(agent_session("s1", runs=1))
    start = len(_all(store))
    added = store.commit_run("s1", agent_run("s1-new", "end"), merge_data=_merge_state)
    rewritten = store.commit_run("s1", agent_run("s1-r0", "again"), merge_data=_merge_state)
    later = _all(store)[start:]
    assert _kinds(later) == [
        ("session.updated", "s1", None),
        ("run.created", "s1", "s1-new"),
        ("session.updated", "s1", None),
        ("run.updated", "s1", "s1-r0"),
    ]
    assert [change.version for change in later] == [added.version] * 2 + [rewritten.version] * 2
    with pytest.raises(SessionNotFound):
        store.commit_run("missing", agent_run("m-r0"), merge_data=_merge_state)
    assert len(_all(store)) == start + 4  # a refused commit records nothing


def test_a_fork_records_the_new_session_and_each_copied_run(store: SessionStore) -> None:
    store.upsert_session(agent_session("s1", runs=3))
    start = len(_all(store))
    fork = store.fork_session("s1", new_session_id="f1", at_run_id="s1-r1")
    later = _all(store)[start:]
    copies = [run.run_id for run in store.get_session("f1").runs or []]
    assert len(copies) == 2
    assert _kinds(later) == [("session.created", "f1", None)] + [("run.created", "f1", c) for c in copies]
    assert {(c.version, c.user_id, c.session_type) for c in later} == {(fork.version, "u1", "agent")}
    with pytest.raises(SessionAlreadyExists):
        store.fork_session("s1", new_session_id="f1")
    assert len(_all(store)) == start + 3  # a refused fork records nothing


def test_a_cancel_request_records_no_change(store: SessionStore) -> None:
    store.upsert_session(agent_session("s1"))
    store.upsert_run("s1", agent_run("s1-live", status=RunStatus.RUNNING))
    before = _all(store)
    assert store.request_run_cancel("s1-live") is True
    assert _all(store) == before


def test_an_import_records_what_it_writes(store: SessionStore) -> None:
    store.upsert_session(agent_session("old"))
    start = len(_all(store))
    incoming = [agent_session("new", runs=1), agent_session("old", runs=1)]
    report = import_sessions(store, incoming, on_conflict="replace")
    assert (report.created, report.replaced) == (1, 1)
    assert sorted(_kinds(_all(store)[start:])) == sorted(
        [
            ("session.created", "new", None),
            ("run.created", "new", "new-r0"),
            ("session.updated", "old", None),
            ("run.created", "old", "old-r0"),
        ]
    )
