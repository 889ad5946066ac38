"""The storage contract for sessions, run against every backend in ``BACKENDS``."""

from __future__ import annotations

from typing import Any

import pytest
from db_builders import agent_run, agent_session, team_run, team_session, workflow_run, workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import (
    InvalidQuery,
    SessionAlreadyExists,
    SessionNotFound,
    SessionOwnedByAnotherUser,
    VersionConflict,
)
from sessiondb.session import AgentSession, SessionSummary, TeamSession, WorkflowSession


def _without_times(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in ("created_at", "updated_at")}


# -- upsert / create / get -------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    ("depth", "refused_field"),
    [(254, None), (255, "data"), (300, "session")],
    ids=["deepest-stored", "encoder-limit", "serialiser-limit"],
)
def test_a_session_nested_too_deep_is_an_invalid_query_and_stores_nothing(
    store: SessionStore, depth: int, refused_field: str | None
) -> None:
    # Every backend stores a field as deep as JSON encoders allow from that field down, and
    # refuses deeper with the same domain error (not pydantic's or orjson's own).
    session = agent_session(metadata=_nested(depth))
    if refused_field is None:
        store.upsert_session(session)
        assert store.get_session("s1").metadata == _nested(depth)
        return
    with pytest.raises(InvalidQuery) as raised:
        store.upsert_session(session)
    assert raised.value.field == refused_field
    with pytest.raises(SessionNotFound):
        store.get_session("s1")
    store.upsert_session(agent_session())
    with pytest.raises(InvalidQuery):
        store.update_session("s1", metadata=_nested(depth))
    assert store.get_session("s1").metadata is None


def test_non_string_keys_are_stored_as_strings_by_every_write(store: SessionStore) -> None:
    # A save goes through to_dict, which writes JSON keys as strings; an update writes the
    # given values itself and must store them the same way on every backend (InMemoryDb
    # refused them while the SQL stores accepted them).
    store.upsert_session(agent_session(session_data={"session_state": {1: "saved"}}))
    assert store.get_session("s1").session_data == {"session_state": {"1": "saved"}}

    store.update_session("s1", session_state={2: "updated"}, metadata={"nested": {3: [4]}})

    loaded = store.get_session("s1")
    assert loaded.session_data is not None
    assert loaded.session_data["session_state"] == {"2": "updated"}
    assert loaded.metadata == {"nested": {"3": [4]}}


def test_an_upserted_session_loads_back_equal_for_every_type(store: SessionStore) -> None:
    agent = agent_session(
        "a1",
        runs=2,
        team_id="team-9",
        session_data={"session_state": {"n": 1}, "session_metrics": {"input_tokens": 3}},
        agent_data={"name": "Helper"},
        metadata={"tag": "x"},
        summary=SessionSummary(summary="talked", topics=["greeting"]),
    )
    team = team_session("t1", team_data={"name": "Crew"}, metadata={"k": [1, 2]})
    team.upsert_run(team_run("t1-r0", members=[agent_run("m1", parent_run_id="t1-r0")]))
    flow = workflow_session("w1", workflow_data={"name": "Flow", "steps": []})
    flow.upsert_run(workflow_run("w1-r0"))
    for session in (agent, team, flow):
        store.upsert_session(session)
        loaded = store.get_session(session.session_id)
        assert type(loaded) is type(session)
        assert _without_times(loaded.to_dict()) == _without_times(session.to_dict())
        assert (loaded.created_at, loaded.updated_at) == (session.created_at, session.updated_at)


def test_a_first_upsert_sets_version_1_and_updated_at_to_created_at(store: SessionStore) -> None:
    session = agent_session(created_at=1_600_000_000)
    returned = store.upsert_session(session)
    assert returned is session
    assert session.version == 1
    assert (session.created_at, session.updated_at) == (1_600_000_000, 1_600_000_000)


def test_a_session_without_created_at_gets_now(store: SessionStore) -> None:
    session = agent_session()
    store.upsert_session(session)
    assert session.created_at is not None and session.created_at > 1_700_000_000
    assert session.updated_at == session.created_at


def test_every_write_bumps_the_version_and_updated_at_but_never_created_at(store: SessionStore) -> None:
    session = agent_session(created_at=1_600_000_000)
    store.upsert_session(session)
    session.created_at = 1_500_000_000
    store.upsert_session(session)
    assert session.version == 2
    assert session.created_at == 1_600_000_000
    assert session.updated_at is not None and session.updated_at > 1_600_000_000
    assert store.get_session("s1").created_at == 1_600_000_000


def test_the_session_type_never_changes_on_update(store: SessionStore) -> None:
    store.upsert_session(agent_session("same"))
    store.upsert_session(team_session("same"))
    assert isinstance(store.get_session("same"), AgentSession)


def test_get_session_loads_as_the_type_asked_for(store: SessionStore) -> None:
    store.upsert_session(agent_session("a1", runs=1))
    assert isinstance(store.get_session("a1", session_type="team"), TeamSession)


def test_get_session_of_an_unknown_id_raises_not_found(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound, match="'nope'"):
        store.get_session("nope")


def test_get_session_filtered_by_another_user_raises_not_found(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice"))
    assert store.get_session("s1", user_id="alice").user_id == "alice"
    with pytest.raises(SessionNotFound):
        store.get_session("s1", user_id="bob")


def test_an_upsert_over_another_users_session_raises_and_writes_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice", runs=1, metadata={"v": 1}))
    intruder = agent_session(user_id="bob", runs=2, metadata={"v": 2})
    intruder.runs[1].run_id = "bobs-run"  # type: ignore[index]
    with pytest.raises(SessionOwnedByAnotherUser):
        store.upsert_session(intruder)
    stored = store.get_session("s1")
    assert stored.user_id == "alice" and stored.metadata == {"v": 1} and stored.version == 1
    assert [run.run_id for run in stored.runs or []] == ["s1-r0"]
    assert intruder.version is None


def test_an_anonymous_upsert_over_an_owned_session_is_refused(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice"))
    with pytest.raises(SessionOwnedByAnotherUser):
        store.upsert_session(agent_session(user_id=None))


def test_anyone_may_claim_a_session_without_owner(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id=None))
    store.upsert_session(agent_session(user_id="carol"))
    assert store.get_session("s1").user_id == "carol"


def test_upsert_sessions_is_all_or_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session("owned", user_id="alice"))
    batch = [agent_session("new-1", runs=1), agent_session("owned", user_id="bob"), agent_session("new-2")]
    with pytest.raises(SessionOwnedByAnotherUser):
        store.upsert_sessions(batch)
    for session_id in ("new-1", "new-2"):
        with pytest.raises(SessionNotFound):
            store.get_session(session_id)
    assert batch[0].version is None


def test_upsert_sessions_writes_every_session_and_returns_them_in_order(store: SessionStore) -> None:
    batch = [agent_session("b", runs=1), team_session("a"), workflow_session("c")]
    returned = store.upsert_sessions(batch)
    assert [s.session_id for s in returned] == ["b", "a", "c"]
    assert all(session.version == 1 for session in batch)
    assert [run.run_id for run in store.get_session("b").runs or []] == ["b-r0"]


def test_create_session_inserts_with_its_runs(store: SessionStore) -> None:
    store.create_session(agent_session(runs=3))
    assert [run.run_id for run in store.get_session("s1").runs or []] == ["s1-r0", "s1-r1", "s1-r2"]


def test_create_session_on_a_taken_id_raises_already_exists(store: SessionStore) -> None:
    store.create_session(agent_session(metadata={"first": True}))
    with pytest.raises(SessionAlreadyExists, match="already exists"):
        store.create_session(agent_session(metadata={"first": False}))
    assert store.get_session("s1").metadata == {"first": True}


def test_a_loaded_session_remembers_its_version(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_session(agent_session())
    assert store.get_session("s1").version == 2


# -- rename / update -------------------------------------------------------------------------


def test_rename_sets_the_name_bumps_version_and_returns_without_runs(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1, session_data={"session_state": {"a": 1}}))
    renamed = store.rename_session("s1", session_name="Trip plans")
    assert renamed.get_session_name() == "Trip plans"
    assert renamed.runs is None and not renamed.runs_complete
    assert renamed.version == 2
    loaded = store.get_session("s1")
    assert loaded.session_data == {"session_state": {"a": 1}, "session_name": "Trip plans"}
    assert len(loaded.runs or []) == 1


def test_rename_of_a_missing_or_foreign_session_raises_not_found(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice"))
    with pytest.raises(SessionNotFound):
        store.rename_session("nope", session_name="x")
    with pytest.raises(SessionNotFound):
        store.rename_session("s1", session_name="x", user_id="bob")


def test_rename_with_a_stale_version_raises_conflict_and_writes_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.rename_session("s1", session_name="one", expected_version=1)
    with pytest.raises(VersionConflict) as caught:
        store.rename_session("s1", session_name="two", expected_version=1)
    assert (caught.value.expected, caught.value.current) == (1, 2)
    assert store.get_session("s1").get_session_name() == "one"


def test_update_replaces_state_metadata_and_summary(store: SessionStore) -> None:
    store.upsert_session(
        agent_session(
            session_data={"session_state": {"a": 1, "b": 2}, "session_name": "keep"},
            metadata={"old": True},
            summary=SessionSummary(summary="old", topics=["t"]),
        )
    )
    updated = store.update_session(
        "s1",
        session_state={"c": 3},
        metadata={"new": True},
        summary=SessionSummary(summary="new"),
        session_metrics={"total_tokens": 9},
    )
    assert isinstance(updated, AgentSession)
    assert updated.session_data == {
        "session_state": {"c": 3},
        "session_name": "keep",
        "session_metrics": {"total_tokens": 9},
    }
    assert updated.metadata == {"new": True}
    assert updated.summary is not None and updated.summary.summary == "new" and updated.summary.topics is None
    assert updated.version == 2
    assert _without_times(store.get_session("s1").to_dict()) == _without_times(
        {**updated.to_dict(), "runs": []}
    )


def test_update_leaves_unset_fields_alone_and_none_clears(store: SessionStore) -> None:
    store.upsert_session(agent_session(metadata={"m": 1}, summary=SessionSummary(summary="s")))
    store.update_session("s1", session_name="named")
    kept = store.get_session("s1")
    assert isinstance(kept, AgentSession)
    assert kept.metadata == {"m": 1} and kept.summary is not None
    store.update_session("s1", metadata=None, summary=None)
    cleared = store.get_session("s1")
    assert isinstance(cleared, AgentSession)
    assert cleared.metadata is None and cleared.summary is None
    assert cleared.get_session_name() == "named"


def test_update_bumps_updated_at(store: SessionStore) -> None:
    store.upsert_session(agent_session(created_at=1_600_000_000))
    updated = store.update_session("s1", session_state={})
    assert updated.updated_at is not None and updated.updated_at > 1_600_000_000
    assert updated.created_at == 1_600_000_000


def test_update_with_the_current_version_succeeds_and_a_stale_one_conflicts(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.update_session("s1", session_state={"v": 1}, expected_version=1)
    with pytest.raises(VersionConflict):
        store.update_session("s1", session_state={"v": 2}, expected_version=1)
    loaded = store.get_session("s1")
    assert loaded.session_data == {"session_state": {"v": 1}}
    assert loaded.version == 2


def test_update_of_a_foreign_session_raises_not_found(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice"))
    with pytest.raises(SessionNotFound):
        store.update_session("s1", user_id="bob", session_state={})


def test_a_summary_on_a_workflow_session_is_refused(store: SessionStore) -> None:
    store.upsert_session(workflow_session())
    with pytest.raises(InvalidQuery):
        store.update_session("w1", summary=SessionSummary(summary="no"))
    assert isinstance(store.update_session("w1", metadata={"ok": 1}), WorkflowSession)


# -- delete ----------------------------------------------------------------------------------


def test_delete_session_removes_it_and_its_runs(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    assert store.delete_session("s1") is True
    with pytest.raises(SessionNotFound):
        store.get_session("s1")
    assert store.delete_session("s1") is False
    # The run ids are free again: another session may now use them.
    reused = agent_session("s2")
    reused.upsert_run(agent_run("s1-r0"))
    store.upsert_session(reused)
    assert store.get_run("s1-r0").run_id == "s1-r0"


def test_delete_session_of_another_user_deletes_nothing(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice"))
    assert store.delete_session("s1", user_id="bob") is False
    assert store.delete_session("s1", user_id="alice") is True


def test_delete_session_with_a_stale_version_conflicts(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_session(agent_session())
    with pytest.raises(VersionConflict):
        store.delete_session("s1", expected_version=1)
    assert store.delete_session("s1", expected_version=2) is True


def test_delete_sessions_counts_what_it_deleted(store: SessionStore) -> None:
    store.upsert_sessions([agent_session("a", user_id="alice"), agent_session("b", user_id="bob", runs=1)])
    store.upsert_session(agent_session("c", user_id="alice"))
    assert store.delete_sessions(["a", "b", "c", "missing"], user_id="alice") == 2
    assert store.get_session("b").user_id == "bob"
    assert store.delete_sessions(["b"]) == 1
    assert store.delete_sessions([]) == 0
