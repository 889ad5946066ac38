"""What only ``InMemoryDb`` can get wrong: sharing objects with callers, rollback, locking.

Everything a SQL backend must also do is in the conformance suite, run against this backend too.
"""

from __future__ import annotations

import threading

import pytest

from sessiondb.db.errors import InvalidQuery, SessionNotFound, SessionOwnedByAnotherUser
from sessiondb.db.memory import InMemoryDb
from sessiondb.db.query import Cursor, SessionQuery
from sessiondb.run import Message, RunOutput, RunStatus, WorkflowRunOutput
from sessiondb.session import AgentSession, WorkflowSession


def _run(run_id: str, text: str = "hello") -> RunOutput:
    return RunOutput(
        run_id=run_id,
        agent_id="a",
        status=RunStatus.COMPLETED,
        messages=[Message(role="user", content=text)],
    )


def _stored(db: InMemoryDb, session_id: str = "s", user_id: str | None = "u") -> AgentSession:
    session = AgentSession(session_id=session_id, agent_id="a", user_id=user_id, session_data={"k": [1]})
    session.upsert_run(_run(f"{session_id}-r1"))
    db.upsert_session(session)
    return session


def _loaded(db: InMemoryDb, session_id: str = "s") -> AgentSession:
    session = db.get_session(session_id)
    assert isinstance(session, AgentSession)
    return session


def test_mutating_the_saved_object_does_not_change_the_store() -> None:
    db = InMemoryDb()
    session = _stored(db)
    assert session.session_data is not None and session.runs is not None
    session.session_data["k"].append(2)
    session.runs[0].content = "changed after the save"
    loaded = _loaded(db)
    assert loaded.session_data == {"k": [1]}
    assert loaded.runs is not None and loaded.runs[0].content is None


def test_mutating_a_loaded_object_does_not_change_the_store() -> None:
    db = InMemoryDb()
    _stored(db)
    first = _loaded(db)
    assert first.session_data is not None and first.runs is not None
    first.session_data["k"].append(2)
    first.runs[0].messages = []
    second = _loaded(db)
    assert second is not first
    assert second.session_data == {"k": [1]}
    assert second.runs is not None and second.runs[0].messages


def test_mutating_a_run_after_upsert_run_does_not_change_the_store() -> None:
    db = InMemoryDb()
    _stored(db)
    run = _run("r2")
    db.upsert_run("s", run)
    run.content = "later"
    assert db.get_run("r2").content is None
    fetched = db.get_run("r2")
    fetched.content = "also later"
    assert db.get_run("r2").content is None


def test_close_drops_every_session_and_run() -> None:
    db = InMemoryDb()
    _stored(db)
    db.close()
    with pytest.raises(SessionNotFound):
        db.get_session("s")
    # The run id is free again: another session may store a run with it.
    fresh = AgentSession(session_id="other")
    fresh.upsert_run(_run("s-r1"))
    db.upsert_session(fresh)
    assert db.get_run("s-r1").run_id == "s-r1"


def test_a_failed_batch_leaves_rows_run_ids_and_objects_as_they_were() -> None:
    db = InMemoryDb()
    owned = _stored(db, "owned", user_id="alice")
    existing = _stored(db, "existing", user_id="bob")
    before = _loaded(db, "existing")

    changed = _loaded(db, "existing")
    changed.session_data = {"k": "new"}
    changed.upsert_run(_run("new-in-existing"))
    brand_new = AgentSession(session_id="brand-new", user_id="bob")
    brand_new.upsert_run(_run("new-in-brand-new"))
    intruder = AgentSession(session_id="owned", user_id="mallory")

    with pytest.raises(SessionOwnedByAnotherUser):
        db.upsert_sessions([changed, brand_new, intruder])

    with pytest.raises(SessionNotFound):
        db.get_session("brand-new")
    after = _loaded(db, "existing")
    assert after.to_dict() == before.to_dict()
    assert after.version == before.version == existing.version
    assert _loaded(db, "owned").version == owned.version
    # Nothing of the batch was recorded on the objects either.
    assert changed.version == before.version and brand_new.version is None
    # The run ids the failed batch wrote are not held by anyone.
    elsewhere = AgentSession(session_id="elsewhere")
    elsewhere.upsert_run(_run("new-in-existing"))
    elsewhere.upsert_run(_run("new-in-brand-new"))
    db.upsert_session(elsewhere)
    assert [run.run_id for run in db.get_runs("elsewhere")] == ["new-in-existing", "new-in-brand-new"]


def test_concurrent_upsert_run_gives_every_run_its_own_index() -> None:
    db = InMemoryDb()
    _stored(db)
    indexes: list[int] = []

    def append(worker: int) -> None:
        for n in range(25):
            indexes.append(db.upsert_run("s", _run(f"w{worker}-{n}")))

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(indexes) == list(range(1, 201))
    loaded = _loaded(db)
    assert loaded.runs is not None and len(loaded.runs) == 201
    assert loaded.version == 201


@pytest.mark.parametrize("value", ["not-a-number", True, None])
def test_a_cursor_with_a_value_of_the_wrong_type_is_rejected(value: object) -> None:
    db = InMemoryDb()
    _stored(db)
    query = SessionQuery(limit=1, cursor=Cursor("created_at", "desc", value, "s").encode())
    with pytest.raises(InvalidQuery, match="cursor"):
        db.get_sessions(query)


def test_the_store_id_defaults_and_can_be_chosen() -> None:
    assert InMemoryDb().id == "memory"
    assert InMemoryDb(id="scratch").id == "scratch"


def test_a_window_larger_than_the_history_returns_every_run() -> None:
    db = InMemoryDb()
    _stored(db)
    db.upsert_run("s", _run("r2"))
    loaded = db.get_session("s", runs_limit=5)
    assert loaded.runs is not None and [run.run_id for run in loaded.runs] == ["s-r1", "r2"]
    assert [run.run_id for run in db.get_runs("s", last_n=3)] == ["s-r1", "r2"]
    assert db.get_runs("s", last_n=0) == []


def test_a_run_is_read_back_as_the_class_it_was_stored_as() -> None:
    db = InMemoryDb()
    workflow = WorkflowSession(session_id="w", workflow_name="Flow")
    db.upsert_session(workflow)
    assert db.get_sessions(SessionQuery()).items[0].get_session_name() == "New Flow Session"
    # A step's agent run stored in the workflow session neither names it nor changes class.
    db.upsert_run("w", _run("step-run", "agent text"))
    db.upsert_run("w", WorkflowRunOutput(run_id="wf-run", input="workflow question"))
    assert isinstance(db.get_run("step-run"), RunOutput)
    assert isinstance(db.get_run("wf-run"), WorkflowRunOutput)
    assert db.get_sessions(SessionQuery()).items[0].get_session_name() == "workflow question"
