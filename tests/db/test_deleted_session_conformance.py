"""Saving an object whose stored row was deleted raises ``SessionDeleted``; nothing comes back.

Run against every backend in ``BACKENDS``: client A loads a session, client B deletes it, A
saves. The session must not be recreated with only what A still had to write.
"""

from __future__ import annotations

import pytest
from db_builders import agent_run, agent_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import RunNotFound, SessionDeleted, SessionNotFound


def _ids(store: SessionStore, session_id: str = "s1") -> list[str]:
    return [run.run_id for run in store.get_session(session_id).runs or []]


def test_saving_a_loaded_session_deleted_since_raises_and_writes_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=4, session_data={"session_state": {"k": 1}}))
    loaded = store.get_session("s1")
    assert store.delete_session("s1")
    loaded.upsert_run(agent_run("after-delete"))
    with pytest.raises(SessionDeleted) as raised:
        store.upsert_session(loaded)
    assert "deleted after this object was loaded" in str(raised.value)
    with pytest.raises(SessionNotFound):
        store.get_session("s1")
    with pytest.raises(RunNotFound):
        store.get_run("after-delete")
    # A later save of the same object is refused the same way.
    with pytest.raises(SessionDeleted):
        store.upsert_session(loaded)


def test_a_session_deleted_after_its_own_save_is_not_recreated(store: SessionStore) -> None:
    session = agent_session(runs=2)
    store.upsert_session(session)
    store.delete_session("s1")
    session.upsert_run(agent_run("later"))
    with pytest.raises(SessionDeleted):
        store.upsert_session(session)
    with pytest.raises(SessionNotFound):
        store.get_session("s1")


def test_a_session_listed_then_deleted_is_not_recreated(store: SessionStore) -> None:
    from sessiondb.db.query import SessionQuery

    store.upsert_session(agent_session(runs=1))
    listed = store.get_sessions(SessionQuery()).items[0]
    store.delete_session("s1")
    with pytest.raises(SessionDeleted):
        store.upsert_session(listed)


def test_create_session_stores_the_deleted_object_again_with_all_its_runs(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=4))
    loaded = store.get_session("s1")
    store.delete_session("s1")
    loaded.upsert_run(agent_run("after-delete"))
    store.create_session(loaded)
    assert _ids(store) == ["s1-r0", "s1-r1", "s1-r2", "s1-r3", "after-delete"]
    loaded.upsert_run(agent_run("next"))
    store.upsert_session(loaded)
    assert _ids(store)[-1] == "next"


def test_a_new_object_still_creates_its_session(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    store.delete_session("s1")
    store.upsert_session(agent_session(runs=3))
    assert _ids(store) == ["s1-r0", "s1-r1", "s1-r2"]


def test_a_batch_holding_a_deleted_session_writes_nothing(store: SessionStore) -> None:
    store.upsert_sessions([agent_session("s1", runs=2), agent_session("s2", runs=1)])
    loaded = store.get_session("s2")
    store.delete_session("s2")
    fresh = agent_session("s3", runs=1)
    first = store.get_session("s1")
    first.upsert_run(agent_run("s1-new"))
    with pytest.raises(SessionDeleted):
        store.upsert_sessions([first, loaded, fresh])
    assert _ids(store, "s1") == ["s1-r0", "s1-r1"]
    for missing in ("s2", "s3"):
        with pytest.raises(SessionNotFound):
            store.get_session(missing)
