"""``commit_run``: a run and its session's data in one transaction, under the row lock (every backend)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from db_builders import agent_run, agent_session, workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, SessionNotFound
from sessiondb.run import RunStatus
from sessiondb.session import SessionSummary


def _add_key(key: str, value: Any) -> Any:
    def merge(data: dict[str, Any]) -> dict[str, Any]:
        state = dict(data.get("session_state") or {})
        state[key] = value
        return {**data, "session_state": state}

    return merge


def test_commit_stores_the_run_and_the_merged_data(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))
    store.update_session("s1", session_state={"kept": 1})
    before = store.get_session("s1").version
    run = agent_run("s1-new", "the reply")
    seen: list[dict[str, Any]] = []

    def merge(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data)
        return _add_key("mine", 2)(data)

    committed = store.commit_run("s1", run, merge_data=merge, summary=SessionSummary(summary="short"))
    assert seen == [{"session_state": {"kept": 1}}]  # called once, with the data as stored
    assert (committed.session_data or {})["session_state"] == {"kept": 1, "mine": 2}
    assert committed.version == before + 1 and committed.runs is None
    loaded = store.get_session("s1")
    assert [r.run_id for r in loaded.runs or []] == ["s1-r0", "s1-new"]
    stored = store.get_run("s1-new")
    assert stored.content == "THE REPLY" and stored.status == RunStatus.COMPLETED
    assert (loaded.session_data or {})["session_state"] == {"kept": 1, "mine": 2}
    summary = loaded.get_session_summary()  # type: ignore[attr-defined]
    assert summary is not None and summary.summary == "short"


def test_commit_replaces_a_run_stored_at_its_start_in_place(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    store.upsert_run("s1", agent_run("s1-live", "", status=RunStatus.RUNNING))
    store.upsert_run("s1", agent_run("s1-later", "another run, appended meanwhile"))
    store.commit_run("s1", agent_run("s1-live", "done"), merge_data=_add_key("k", 1))
    assert [r.run_id for r in store.get_session("s1").runs or []] == ["s1-r0", "s1-r1", "s1-live", "s1-later"]
    assert store.get_run("s1-live").status == RunStatus.COMPLETED


def test_a_failing_merge_writes_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))

    def broken(data: dict[str, Any]) -> dict[str, Any]:
        raise ValueError("merge failed")

    with pytest.raises(ValueError, match="merge failed"):
        store.commit_run("s1", agent_run("s1-new"), merge_data=broken)
    assert [r.run_id for r in store.get_session("s1").runs or []] == ["s1-r0"]


def test_commit_into_a_missing_or_foreign_session_is_not_found(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        store.commit_run("nope", agent_run("r"), merge_data=_add_key("k", 1))
    store.upsert_session(agent_session("owned", user_id="ada"))
    with pytest.raises(SessionNotFound):
        store.commit_run("owned", agent_run("r"), merge_data=_add_key("k", 1), user_id="bob")
    assert store.get_session("owned").runs == []


def test_a_summary_for_a_workflow_session_is_refused(store: SessionStore) -> None:
    store.upsert_session(workflow_session("w1"))
    with pytest.raises(InvalidQuery, match="summary"):
        store.commit_run(
            "w1", agent_run("r"), merge_data=_add_key("k", 1), summary=SessionSummary(summary="x")
        )


def test_concurrent_commits_each_see_the_others_data(store: SessionStore) -> None:
    """Eight threads commit into one session at once: every key and every run lands."""
    store.upsert_session(agent_session("hot"))
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def commit(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            for round_ in range(5):
                key = f"w{number}-{round_}"
                store.commit_run("hot", agent_run(key), merge_data=_add_key(key, round_))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    loaded = store.get_session("hot")
    expected = {f"w{n}-{r}" for n in range(8) for r in range(5)}
    assert set((loaded.session_data or {})["session_state"]) == expected
    assert {r.run_id for r in loaded.runs or []} == expected
