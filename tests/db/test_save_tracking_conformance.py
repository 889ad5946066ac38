"""Which in-place edits ``upsert_session`` writes, and that a save compares only what the caller touched.

Run against every backend in ``BACKENDS``. The rule (``SessionStore.upsert_session``): runs
reached through ``session.runs`` or ``get_run`` since the last save, and run objects the
caller still holds, are compared with their stored text; other runs are not looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from db_builders import agent_run, agent_session

from sessiondb.db.base import SessionStore
from sessiondb.run import Message, RunOutput
from sessiondb.session import Session


def _content(store: SessionStore, run_id: str) -> object:
    return store.get_run(run_id).content


def _stored(store: SessionStore, runs: int = 3) -> Session:
    store.upsert_session(agent_session(runs=runs))
    return store.get_session("s1")


def _via_index(session: Session) -> RunOutput:
    return session.runs[1]  # type: ignore[index,no-any-return]


def _via_negative_index(session: Session) -> RunOutput:
    return session.runs[-2]  # type: ignore[index,no-any-return]


def _via_slice(session: Session) -> RunOutput:
    return session.runs[1:2][0]  # type: ignore[index,no-any-return]


def _via_iteration(session: Session) -> RunOutput:
    return next(run for run in session.runs or [] if run.run_id == "s1-r1")


def _via_list(session: Session) -> RunOutput:
    return list(session.runs or [])[1]  # type: ignore[no-any-return]


def _via_get_run(session: Session) -> RunOutput:
    return session.get_run("s1-r1")  # type: ignore[no-any-return]


REACH: dict[str, Callable[[Session], RunOutput]] = {
    "index": _via_index,
    "negative-index": _via_negative_index,
    "slice": _via_slice,
    "iteration": _via_iteration,
    "list": _via_list,
    "get_run": _via_get_run,
}


@pytest.mark.parametrize("reach", REACH.values(), ids=REACH.keys())
def test_a_loaded_run_reached_and_edited_in_place_is_written(
    store: SessionStore, reach: Callable[[Session], RunOutput]
) -> None:
    loaded = _stored(store)
    run = reach(loaded)
    run.content = "edited in place"
    assert run.messages is not None
    run.messages.append(Message(role="assistant", content="added in place"))
    del run
    store.upsert_session(loaded)
    stored = store.get_run("s1-r1")
    assert stored.content == "edited in place"
    assert [m.content for m in stored.messages or []][-1] == "added in place"
    assert _content(store, "s1-r0") == "MESSAGE 0"


def test_a_run_kept_across_a_save_and_edited_afterwards_is_written(store: SessionStore) -> None:
    # The streaming pattern: store the run while it runs, finish it in place, save again.
    session = agent_session(runs=1)
    running = agent_run("live", "question", status="RUNNING")
    session.upsert_run(running)
    store.upsert_session(session)
    running.content = "the final answer"
    running.status = "COMPLETED"
    store.upsert_session(session)
    stored = store.get_run("live")
    assert stored.content == "the final answer" and stored.status_value == "COMPLETED"


def test_a_loaded_run_kept_across_saves_is_written_when_edited_later(store: SessionStore) -> None:
    loaded = _stored(store)
    kept = loaded.runs[0]  # type: ignore[index]
    store.upsert_session(loaded)
    loaded.upsert_run(agent_run("s1-new"))
    store.upsert_session(loaded)
    kept.content = "edited two saves later"
    store.upsert_session(loaded)
    assert _content(store, "s1-r0") == "edited two saves later"


def test_runs_given_to_the_constructor_and_edited_after_the_first_save_are_written(
    store: SessionStore,
) -> None:
    held = agent_run("mine", "hello")
    session = agent_session(runs=0)
    session.runs = [agent_run("other"), held]
    store.create_session(session)
    held.content = "edited after create"
    store.upsert_session(session)
    assert _content(store, "mine") == "edited after create"


def test_appending_to_session_runs_directly_writes_the_new_runs_in_order(store: SessionStore) -> None:
    loaded = _stored(store, runs=2)
    assert loaded.runs is not None
    loaded.runs.append(agent_run("a"))
    loaded.runs.extend([agent_run("b"), agent_run("c")])
    store.upsert_session(loaded)
    assert [run.run_id for run in store.get_session("s1").runs or []] == ["s1-r0", "s1-r1", "a", "b", "c"]


def test_a_reshaped_list_is_compared_whole(store: SessionStore) -> None:
    loaded = _stored(store, runs=3)
    assert loaded.runs is not None
    loaded.runs.insert(0, agent_run("first-in-list"))
    loaded.runs.pop()  # removed from the object, not from the store
    store.upsert_session(loaded)
    ids = [run.run_id for run in store.get_session("s1").runs or []]
    assert ids == ["s1-r0", "s1-r1", "s1-r2", "first-in-list"]


def test_a_plain_list_assigned_to_runs_is_compared_whole(store: SessionStore) -> None:
    loaded = _stored(store, runs=2)
    plain = list(loaded.runs or [])
    loaded.runs = plain
    store.upsert_session(loaded)
    plain[0].content = "edited through the plain list"
    store.upsert_session(loaded)
    assert _content(store, "s1-r0") == "edited through the plain list"


def test_a_message_from_get_messages_needs_mark_run_changed(store: SessionStore) -> None:
    # The documented limit: history reads hand out the stored messages without noting runs.
    loaded = _stored(store, runs=2)
    first = loaded.get_messages()[0]
    first.content = "edited through get_messages"
    store.upsert_session(loaded)
    assert store.get_run("s1-r0").messages[0].content == "message 0"  # type: ignore[index]
    loaded.mark_run_changed("s1-r0")
    store.upsert_session(loaded)
    assert store.get_run("s1-r0").messages[0].content == "edited through get_messages"  # type: ignore[index]


@pytest.fixture
def to_dict_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The run ids whose ``RunOutput.to_dict`` was called (a compare or an encode each)."""
    calls: list[str] = []
    original = RunOutput.to_dict

    def counting(self: RunOutput) -> dict[str, object]:
        calls.append(self.run_id)
        return original(self)

    monkeypatch.setattr(RunOutput, "to_dict", counting)
    yield calls


def test_the_seeds_save_pattern_looks_only_at_the_new_run(
    store: SessionStore, to_dict_calls: list[str]
) -> None:
    store.upsert_session(agent_session(runs=300))
    loaded = store.get_session("s1")
    for turn in range(3):
        new = agent_run(f"turn-{turn}")
        loaded.upsert_run(new)
        to_dict_calls.clear()
        store.upsert_session(loaded)
        # The new run is encoded once; the previous turn's run, which the caller held until
        # this turn, is compared once. None of the 300 loaded runs is looked at.
        assert set(to_dict_calls) <= {f"turn-{turn}", f"turn-{turn - 1}"}
        assert len(to_dict_calls) <= 3
    assert len(store.get_session("s1").runs or []) == 303


def test_a_reshaped_lazy_list_compares_only_the_runs_it_decoded(
    store: SessionStore, to_dict_calls: list[str]
) -> None:
    # Lazy runs: a run never decoded was never handed out, so even a save that compares every
    # run (the list was reshaped) leaves it alone; the decoded one is compared and written.
    store.upsert_session(agent_session(runs=300))
    loaded = store.get_session("s1")
    assert loaded.runs is not None
    loaded.runs[5].content = "edited"
    loaded.runs.insert(0, agent_run("first"))
    to_dict_calls.clear()
    store.upsert_session(loaded)
    assert sorted(set(to_dict_calls)) == ["first", "s1-r5"]
    assert store.get_run("s1-r5").content == "edited"


# -- the session row: rewritten only when its fields changed ---------------------------------


def test_a_save_that_changed_only_runs_keeps_a_concurrent_change_of_the_fields(store: SessionStore) -> None:
    kept = _stored(store, runs=1)
    store.upsert_session(kept)  # the object now knows what this store last wrote
    store.update_session("s1", session_state={"from": "another writer"}, session_name="Renamed")
    kept.upsert_run(agent_run("s1-more"))
    store.upsert_session(kept)
    stored = store.get_session("s1")
    assert stored.session_data is not None
    assert stored.session_data["session_state"] == {"from": "another writer"}
    assert stored.get_session_name() == "Renamed"
    assert [run.run_id for run in stored.runs or []] == ["s1-r0", "s1-more"]
    assert stored.version == kept.version


def test_a_save_that_changed_the_fields_writes_them(store: SessionStore) -> None:
    kept = _stored(store, runs=1)
    store.upsert_session(kept)
    store.update_session("s1", session_state={"from": "another writer"})
    kept.session_data = {"session_state": {"from": "this object"}}
    store.upsert_session(kept)
    assert store.get_session("s1").session_data == {"session_state": {"from": "this object"}}


def test_a_save_of_unchanged_fields_still_refuses_a_session_another_user_took(store: SessionStore) -> None:
    from sessiondb.db.errors import SessionOwnedByAnotherUser

    kept = agent_session(user_id=None, runs=1)
    store.upsert_session(kept)
    store.upsert_session(agent_session(user_id="bob"))  # an unowned session may be claimed
    kept.upsert_run(agent_run("late"))
    with pytest.raises(SessionOwnedByAnotherUser):
        store.upsert_session(kept)
    assert [run.run_id for run in store.get_session("s1").runs or []] == ["s1-r0"]


def test_a_run_the_caller_let_go_of_is_not_compared_again(
    store: SessionStore, to_dict_calls: list[str]
) -> None:
    loaded = _stored(store, runs=5)
    loaded.upsert_run(agent_run("dropped"))
    store.upsert_session(loaded)
    loaded.upsert_run(agent_run("next"))
    to_dict_calls.clear()
    store.upsert_session(loaded)
    assert to_dict_calls == ["next"]
