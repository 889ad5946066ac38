"""Soft delete, restore and purge (the store option ``soft_delete``), against every backend."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from db_builders import agent_run, agent_session

from sessiondb.db.base import SessionStore
from sessiondb.db.changes import MAX_CHANGES_LIMIT
from sessiondb.db.errors import RunNotFound, SessionAlreadyExists, SessionInTrash, SessionNotFound
from sessiondb.db.query import SessionQuery
from sessiondb.db.retention import RetentionPolicy
from sessiondb.db.transfer import ExportFilter
from sessiondb.run import RunStatus
from sessiondb.session import SessionSummary
from store_backends import BACKEND_PARAMS, BACKENDS

GRACE = timedelta(days=7)


@pytest.fixture(params=BACKEND_PARAMS)
def trash_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    """A fresh store of each backend whose deletes go to the trash for :data:`GRACE`."""
    with BACKENDS[request.param](tmp_path, soft_delete=GRACE) as created:
        yield created


def _stored(store: SessionStore) -> dict[str, object]:
    session = store.get_session("s1")
    data = session.to_dict()
    data.pop("updated_at")
    return data


def _full_session(store: SessionStore) -> None:
    session = agent_session(
        "s1", runs=3, metadata={"tag": "keep"}, session_data={"session_state": {"step": 2}}
    )
    store.upsert_session(session)
    store.update_session("s1", summary=SessionSummary(summary="all about it"))


def _listed(store: SessionStore, *, deleted: bool) -> list[str]:
    return [s.session_id for s in store.get_sessions(SessionQuery(deleted=deleted)).items]


def test_a_soft_deleted_session_is_gone_from_every_read_and_restored_intact(
    trash_store: SessionStore,
) -> None:
    store = trash_store
    _full_session(store)
    store.upsert_session(agent_session("other"))
    before, version = _stored(store), store.get_session("s1").version
    assert store.delete_session("s1") is True

    with pytest.raises(SessionNotFound):
        store.get_session("s1")
    with pytest.raises(SessionNotFound):
        store.get_session("s1", runs_limit=2)
    with pytest.raises(SessionNotFound):
        store.get_runs("s1")
    with pytest.raises(RunNotFound):
        store.get_run("s1-r0")
    with pytest.raises(SessionNotFound):
        store.upsert_run("s1", agent_run("late", "late"))
    with pytest.raises(SessionNotFound):
        store.rename_session("s1", session_name="nope")
    assert store.delete_run("s1-r0") is False
    assert store.delete_session("s1") is False
    assert _listed(store, deleted=False) == ["other"]
    assert _listed(store, deleted=True) == ["s1"]

    restored = store.restore_session("s1")
    assert restored.session_id == "s1" and restored.version == version + 2
    # Runs, state, summary, metadata, owner and creation time: everything as it was.
    assert _stored(store) == before
    after = store.get_session("s1")
    assert [run.run_id for run in after.runs or []] == ["s1-r0", "s1-r1", "s1-r2"]
    assert after.session_data == {"session_state": {"step": 2}} and after.metadata == {"tag": "keep"}
    assert after.summary is not None and after.summary.summary == "all about it"
    assert _listed(store, deleted=True) == []
    assert sorted(_listed(store, deleted=False)) == ["other", "s1"]
    store.upsert_run("s1", agent_run("s1-r3", "writable again"))
    assert len(store.get_session("s1").runs or []) == 4


def test_writing_over_a_session_in_the_trash_is_refused_and_changes_nothing(
    trash_store: SessionStore,
) -> None:
    store = trash_store
    _full_session(store)
    store.delete_session("s1")
    with pytest.raises(SessionInTrash, match="trash"):
        store.upsert_session(agent_session("s1", runs=1))
    with pytest.raises(SessionInTrash):
        store.upsert_sessions([agent_session("fresh"), agent_session("s1")])
    with pytest.raises(SessionAlreadyExists, match="trash"):
        store.create_session(agent_session("s1"))
    assert _listed(store, deleted=False) == []
    store.restore_session("s1")
    assert [run.run_id for run in store.get_session("s1").runs or []] == ["s1-r0", "s1-r1", "s1-r2"]


def test_restore_finds_only_the_trash_of_the_caller(trash_store: SessionStore) -> None:
    store = trash_store
    store.upsert_session(agent_session("s1", user_id="u1"))
    with pytest.raises(SessionNotFound):
        store.restore_session("s1")  # live, not in the trash
    store.delete_sessions(["s1"], user_id="u1")
    with pytest.raises(SessionNotFound):
        store.restore_session("s1", user_id="u2")
    with pytest.raises(SessionNotFound):
        store.restore_session("missing")
    store.restore_session("s1", user_id="u1")
    assert store.get_session("s1").user_id == "u1"


def test_purge_removes_the_trash_only_after_the_grace_period(trash_store: SessionStore) -> None:
    store = trash_store
    store.upsert_session(agent_session("s1", runs=2))
    store.upsert_session(agent_session("kept"))
    store.delete_session("s1")
    now = int(time.time())
    early = store.purge(now=now + int(GRACE.total_seconds()) - 60)
    assert (early.sessions, early.runs) == (0, 0)
    assert _listed(store, deleted=True) == ["s1"]
    late = store.purge(now=now + int(GRACE.total_seconds()) + 60)
    assert (late.sessions, late.runs) == (1, 2)
    assert _listed(store, deleted=True) == []
    with pytest.raises(SessionNotFound):
        store.restore_session("s1")
    assert _listed(store, deleted=False) == ["kept"]
    # The id is free again once purged.
    store.create_session(agent_session("s1"))


def test_the_trash_records_deleted_and_restored_changes(trash_store: SessionStore) -> None:
    store = trash_store
    store.upsert_session(agent_session("s1"))
    store.delete_session("s1")
    store.restore_session("s1")
    changes = store.changes(None, limit=MAX_CHANGES_LIMIT).items
    assert [(c.kind, c.version) for c in changes] == [
        ("session.created", 1),
        ("session.deleted", 2),
        ("session.restored", 3),
    ]


def test_without_soft_delete_deletes_are_hard(store: SessionStore) -> None:
    store.upsert_session(agent_session("s1", runs=1))
    store.delete_session("s1")
    assert _listed(store, deleted=True) == []
    with pytest.raises(SessionNotFound):
        store.restore_session("s1")
    store.create_session(agent_session("s1"))  # the id is free at once


async def test_the_async_twins_do_what_the_calls_do(trash_store: SessionStore) -> None:
    store = trash_store
    await store.aupsert_session(agent_session("s1", runs=1, created_at=int(time.time()) - 40 * 86400))
    report = await store.aapply_retention(RetentionPolicy(inactive_for=timedelta(days=30)))
    assert (report.sessions, report.runs, report.soft) == (1, 1, True)
    restored = await store.arestore_session("s1")
    assert restored.session_id == "s1"
    kinds = [change.kind for change in (await store.achanges(None)).items]
    assert kinds == ["session.created", "run.created", "session.deleted", "session.restored"]
    purged = await store.apurge(now=int(time.time()) + 30 * 86400)
    assert (purged.sessions, purged.changes) == (0, 4)


def test_an_export_leaves_the_trash_out(trash_store: SessionStore) -> None:
    store = trash_store
    store.upsert_session(agent_session("kept", runs=1))
    store.upsert_session(agent_session("trashed", runs=1))
    store.delete_session("trashed")
    assert [found.session.session_id for found in store.export_sessions(ExportFilter())] == ["kept"]


def test_the_trash_is_hidden_from_history_fork_commit_cancel_and_the_metadata_filter(
    trash_store: SessionStore,
) -> None:
    trash_store.upsert_session(agent_session("s1", runs=1, metadata={"tag": "keep"}))
    trash_store.upsert_run("s1", agent_run("s1-live", status=RunStatus.RUNNING))
    trash_store.upsert_session(agent_session("s2", metadata={"tag": "keep"}))
    assert trash_store.delete_session("s1") is True
    before = trash_store.changes(None, limit=MAX_CHANGES_LIMIT).items

    with pytest.raises(SessionNotFound):
        trash_store.get_history("s1", max_tokens=10_000)
    with pytest.raises(SessionNotFound):
        trash_store.fork_session("s1", new_session_id="f1")
    with pytest.raises(SessionNotFound):
        trash_store.commit_run("s1", agent_run("s1-end"), merge_data=lambda data: data)
    assert trash_store.request_run_cancel("s1-live") is False
    # A fork may not take the id of a session in the trash (as a create may not).
    with pytest.raises(SessionInTrash):
        trash_store.fork_session("s2", new_session_id="s1")
    listed = trash_store.get_sessions(SessionQuery(metadata={"tag": "keep"})).items
    assert [session.session_id for session in listed] == ["s2"]
    assert trash_store.changes(None, limit=MAX_CHANGES_LIMIT).items == before  # nothing written

    restored = trash_store.restore_session("s1")
    assert restored.session_id == "s1"
    assert trash_store.get_history("s1", max_tokens=10_000).messages


def test_search_skips_the_trash_and_finds_a_restored_session_again(trash_store: SessionStore) -> None:
    store = trash_store
    for session_id in ("gone", "kept"):
        session = agent_session(session_id)
        session.upsert_run(agent_run(f"{session_id}-r0", "the quarterly invoice is late"))
        store.upsert_session(session)
    assert sorted(hit.run_id for hit in store.search("invoice").items) == ["gone-r0", "kept-r0"]
    assert store.delete_session("gone") is True
    assert [hit.run_id for hit in store.search("invoice").items] == ["kept-r0"]
    store.restore_session("gone")
    assert sorted(hit.run_id for hit in store.search("invoice").items) == ["gone-r0", "kept-r0"]
