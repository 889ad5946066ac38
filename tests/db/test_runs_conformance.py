"""The storage contract for runs, run against every backend in ``BACKENDS``.

Covers how ``upsert_session`` decides which runs to write (new, marked, changed in place), the
windowed load (``runs_limit``), the run methods, and the session name kept at write time.
"""

from __future__ import annotations

import pytest
from db_builders import agent_run, agent_session, team_run, team_session, workflow_run, workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import InvalidQuery, RunNotFound, SessionNotFound
from sessiondb.db.query import SessionQuery
from sessiondb.run import Message, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput


def _ids(store: SessionStore, session_id: str = "s1", **kwargs: object) -> list[str]:
    return [run.run_id for run in store.get_session(session_id, **kwargs).runs or []]  # type: ignore[arg-type]


# -- what upsert_session writes --------------------------------------------------------------


def test_runs_appended_to_a_loaded_session_are_stored_in_order(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    loaded = store.get_session("s1")
    loaded.upsert_run(agent_run("s1-r2"))
    loaded.upsert_run(agent_run("s1-r3"))
    store.upsert_session(loaded)
    assert _ids(store) == ["s1-r0", "s1-r1", "s1-r2", "s1-r3"]


def test_a_run_mutated_in_place_without_upsert_run_is_written(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    loaded = store.get_session("s1")
    first = loaded.runs[0]  # type: ignore[index]
    first.content = "edited in place"
    first.status = RunStatus.ERROR
    store.upsert_session(loaded)
    stored = store.get_run("s1-r0")
    assert stored.content == "edited in place" and stored.status == RunStatus.ERROR
    assert _ids(store) == ["s1-r0", "s1-r1"]


def test_a_replaced_run_keeps_its_place(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=3))
    loaded = store.get_session("s1")
    loaded.upsert_run(agent_run("s1-r0", "replaced"))
    store.upsert_session(loaded)
    assert _ids(store) == ["s1-r0", "s1-r1", "s1-r2"]
    assert store.get_run("s1-r0").content == "REPLACED"


def test_two_writers_appending_to_the_same_loaded_session_both_land(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))
    first, second = store.get_session("s1"), store.get_session("s1")
    first.upsert_run(agent_run("from-first"))
    second.upsert_run(agent_run("from-second"))
    store.upsert_session(first)
    store.upsert_session(second)
    assert _ids(store) == ["s1-r0", "from-first", "from-second"]


def test_a_fresh_object_with_a_stored_run_does_not_duplicate_or_move_it(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=3))
    fresh = agent_session()
    fresh.upsert_run(agent_run("s1-r1", "again"))
    fresh.upsert_run(agent_run("brand-new"))
    store.upsert_session(fresh)
    assert _ids(store) == ["s1-r0", "s1-r1", "s1-r2", "brand-new"]


def test_a_run_id_stored_in_another_session_is_never_moved(store: SessionStore) -> None:
    store.upsert_session(agent_session("a", runs=1))
    thief = agent_session("b")
    thief.upsert_run(agent_run("a-r0"))
    with pytest.raises(InvalidQuery, match="a-r0"):
        store.upsert_session(thief)
    assert _ids(store, "a") == ["a-r0"]
    with pytest.raises(SessionNotFound):
        store.get_session("b")
    store.upsert_session(agent_session("c"))
    with pytest.raises(InvalidQuery):
        store.upsert_run("c", agent_run("a-r0"))


def test_saving_a_session_whose_runs_are_none_keeps_the_stored_runs(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    listed = store.get_sessions(SessionQuery()).items[0]
    assert listed.runs is None and not listed.runs_complete
    listed.metadata = {"touched": True}
    store.upsert_session(listed)
    assert _ids(store) == ["s1-r0", "s1-r1"]
    assert store.get_session("s1").metadata == {"touched": True}


def test_a_run_holding_u0000_round_trips(store: SessionStore) -> None:
    # PostgreSQL's JSONB refused "\u0000"; run payloads are json there, which keeps it.
    store.upsert_session(agent_session(runs=1))
    run = agent_run("s1-nul", "nul \x00 inside")
    store.upsert_run("s1", run)
    # As a session's first run too, whose input names the session (without the U+0000).
    batch = agent_session("s2")
    batch.upsert_run(agent_run("s2-nul", "also \x00 here"))
    store.upsert_sessions([batch])
    assert store.get_run("s1-nul").to_dict() == run.to_dict()
    assert [r.content for r in store.get_session("s2").runs or []] == ["ALSO \x00 HERE"]
    assert store.get_session("s2").get_session_name() == "also  here"
    assert [s.get_session_name() for s in store.get_sessions(SessionQuery(session_name="also")).items] == [
        "also  here"
    ]
    assert store.get_session("s1", runs_limit=1).get_messages()[0].content == "nul \x00 inside"


def _unencodable_run(run_id: str) -> RunOutput:
    """A run whose metadata is nested deeper than JSON encoders allow."""
    deep: object = "bottom"
    for _ in range(300):
        deep = {"d": deep}
    run = agent_run(run_id, "too deep")
    run.metadata = deep  # type: ignore[assignment]
    return run


def test_a_run_that_cannot_be_encoded_is_refused_before_anything_is_written(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))
    loaded = store.get_session("s1")
    loaded.upsert_run(agent_run("s1-good"))
    loaded.upsert_run(_unencodable_run("s1-deep"))
    with pytest.raises(InvalidQuery, match="s1-deep") as raised:
        store.upsert_session(loaded)
    assert raised.value.field == "runs"
    stored = store.get_session("s1")
    assert _ids(store) == ["s1-r0"] and stored.version == loaded.version
    fresh = agent_session("s2", runs=1)
    fresh.upsert_run(_unencodable_run("s2-deep"))
    with pytest.raises(InvalidQuery, match="s2-deep"):
        store.upsert_session(fresh)
    with pytest.raises(SessionNotFound):
        store.get_session("s2")
    with pytest.raises(InvalidQuery, match="s1-deep"):
        store.upsert_run("s1", _unencodable_run("s1-deep"))
    assert _ids(store) == ["s1-r0"]


# -- windowed load ---------------------------------------------------------------------------


def _session_with_history(store: SessionStore) -> None:
    session = agent_session()
    session.upsert_run(agent_run("r0", "first question"))
    for index in range(1, 9):
        session.upsert_run(agent_run(f"r{index}", f"question {index}"))
    session.upsert_run(agent_run("errored", status=RunStatus.ERROR))
    session.upsert_run(agent_run("member", parent_run_id="r8"))
    session.upsert_run(agent_run("paused", status=RunStatus.PAUSED))
    store.upsert_session(session)


def test_runs_limit_loads_the_newest_history_runs_in_order(store: SessionStore) -> None:
    _session_with_history(store)
    windowed = store.get_session("s1", runs_limit=3)
    assert [run.run_id for run in windowed.runs or []] == ["r6", "r7", "r8"]
    assert not windowed.runs_complete
    assert store.get_session("s1", runs_limit=0).runs == []
    assert store.get_session("s1").runs_complete


def test_saving_a_windowed_session_neither_rewrites_nor_loses_the_rest(store: SessionStore) -> None:
    _session_with_history(store)
    before = {run.run_id: run.to_dict() for run in store.get_session("s1").runs or []}
    windowed = store.get_session("s1", runs_limit=3)
    windowed.upsert_run(agent_run("r9", "question 9"))
    store.upsert_session(windowed)
    after = store.get_session("s1")
    assert [run.run_id for run in after.runs or []] == [*before, "r9"]
    assert {run.run_id: run.to_dict() for run in after.runs or [] if run.run_id != "r9"} == before


def test_a_derived_name_survives_a_windowed_save(store: SessionStore) -> None:
    _session_with_history(store)
    windowed = store.get_session("s1", runs_limit=2)
    assert windowed.get_session_name() == "first question"
    windowed.upsert_run(agent_run("r9", "something else"))
    store.upsert_session(windowed)
    assert store.get_session("s1").get_session_name() == "first question"
    assert store.get_sessions(SessionQuery()).items[0].get_session_name() == "first question"


# -- the stored name -------------------------------------------------------------------------


def _listed_name(store: SessionStore, session_id: str) -> str:
    return next(
        s for s in store.get_sessions(SessionQuery()).items if s.session_id == session_id
    ).get_session_name()


def test_the_listed_name_is_derived_from_the_first_run(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    assert _listed_name(store, "s1") == "message 0"


def test_the_explicit_name_wins_and_the_derived_one_returns_without_it(store: SessionStore) -> None:
    session = agent_session(runs=1, session_data={"session_name": "Explicit"})
    store.upsert_session(session)
    assert _listed_name(store, "s1") == "Explicit"
    session.session_data = {}
    store.upsert_session(session)
    assert _listed_name(store, "s1") == "message 0"


def test_a_team_session_is_named_by_its_own_first_run_not_a_member_run(store: SessionStore) -> None:
    session = team_session()
    session.upsert_run(agent_run("member-first", "member says", agent_id="helper"))
    session.upsert_run(team_run("team-run", "what the team was asked"))
    store.upsert_session(session)
    assert _listed_name(store, "t1") == "what the team was asked"


def test_a_workflow_session_is_named_by_its_first_input_else_by_its_workflow(store: SessionStore) -> None:
    session = workflow_session()
    store.upsert_session(session)
    assert _listed_name(store, "w1") == "New Flow Session"
    session.upsert_run(workflow_run("w-r0", "plan a trip"))
    store.upsert_session(session)
    assert _listed_name(store, "w1") == "plan a trip"


def test_the_name_follows_the_first_run_when_it_is_rewritten_or_deleted(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=2))
    store.upsert_run("s1", agent_run("s1-r0", "reworded"))
    assert _listed_name(store, "s1") == "reworded"
    store.delete_run("s1-r0")
    assert _listed_name(store, "s1") == "message 1"


def test_upsert_run_names_a_session_that_had_no_runs(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    assert _listed_name(store, "s1") == ""
    store.upsert_run("s1", agent_run("r0", "first words"))
    store.upsert_run("s1", agent_run("r1", "later words"))
    assert _listed_name(store, "s1") == "first words"


# -- run methods -----------------------------------------------------------------------------


def test_upsert_run_appends_returns_the_index_and_replaces_in_place(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=1))
    first = store.upsert_run("s1", agent_run("x"))
    second = store.upsert_run("s1", agent_run("y"))
    assert second > first
    assert store.upsert_run("s1", agent_run("x", "changed")) == first
    assert _ids(store) == ["s1-r0", "x", "y"]
    assert store.get_run("x").content == "CHANGED"


def test_delivering_the_same_run_twice_stores_it_once(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    run = agent_run("dup")
    assert store.upsert_run("s1", run) == store.upsert_run("s1", run)
    assert _ids(store) == ["dup"]


def test_upsert_run_bumps_the_session_version(store: SessionStore) -> None:
    store.upsert_session(agent_session())
    store.upsert_run("s1", agent_run("x"))
    assert store.get_session("s1").version == 2


def test_upsert_run_into_a_missing_session_raises_not_found(store: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        store.upsert_run("nope", agent_run("x"))


def test_get_run_returns_the_right_run_class(store: SessionStore) -> None:
    agent = agent_session(runs=1)
    team = team_session()
    team.upsert_run(team_run("team-r0", members=[agent_run("m", parent_run_id="team-r0")]))
    flow = workflow_session()
    flow.upsert_run(workflow_run("wf-r0"))
    store.upsert_sessions([agent, team, flow])
    assert type(store.get_run("s1-r0")) is RunOutput
    team_loaded = store.get_run("team-r0")
    assert isinstance(team_loaded, TeamRunOutput) and team_loaded.member_responses[0].run_id == "m"
    assert type(store.get_run("wf-r0")) is WorkflowRunOutput
    assert store.get_run("s1-r0").to_dict() == agent.runs[0].to_dict()  # type: ignore[index]


def test_get_run_filters_by_session_and_user(store: SessionStore) -> None:
    store.upsert_session(agent_session("a", user_id="alice", runs=1))
    store.upsert_session(agent_session("b", user_id="bob"))
    assert store.get_run("a-r0", session_id="a", user_id="alice").run_id == "a-r0"
    for kwargs in ({"session_id": "b"}, {"user_id": "bob"}, {}):
        run_id = "missing" if not kwargs else "a-r0"
        with pytest.raises(RunNotFound):
            store.get_run(run_id, **kwargs)  # type: ignore[arg-type]


def test_get_runs_filters_statuses_times_and_history(store: SessionStore) -> None:
    session = agent_session()
    session.upsert_run(agent_run("ok1", created_at=100))
    session.upsert_run(agent_run("bad", status=RunStatus.ERROR, created_at=200))
    session.upsert_run(agent_run("child", parent_run_id="ok1", created_at=300))
    session.upsert_run(agent_run("ok2", created_at=400))
    store.upsert_session(session)

    def ids(**kwargs: object) -> list[str]:
        return [run.run_id for run in store.get_runs("s1", **kwargs)]  # type: ignore[arg-type]

    assert ids() == ["ok1", "bad", "child", "ok2"]
    assert ids(statuses=["error"]) == ["bad"]
    assert ids(statuses=["COMPLETED", "Error"]) == ["ok1", "bad", "child", "ok2"]
    assert ids(created_after=200, created_before=300) == ["bad", "child"]
    assert ids(history_only=True) == ["ok1", "ok2"]
    assert ids(last_n=2) == ["child", "ok2"]
    assert ids(last_n=1, history_only=True) == ["ok2"]
    assert ids(last_n=0) == []


def test_get_runs_takes_repeated_statuses_no_statuses_and_any_last_n(store: SessionStore) -> None:
    session = agent_session(runs=2)
    session.upsert_run(agent_run("bad", status=RunStatus.ERROR))
    store.upsert_session(session)

    def ids(**kwargs: object) -> list[str]:
        return [run.run_id for run in store.get_runs("s1", **kwargs)]  # type: ignore[arg-type]

    assert ids(statuses=["ERROR", "error", RunStatus.ERROR]) == ["bad"]
    assert ids(statuses=[]) == []
    # No session has 2**63 runs: a larger N is "all of them", not an overflow.
    assert ids(last_n=2**70) == ["s1-r0", "s1-r1", "bad"]
    assert ids(last_n=-1) == []
    # Filters combine, and the same shape with other values gives other runs.
    assert ids(statuses=["completed"], last_n=1) == ["s1-r1"]
    assert ids(statuses=["error"], last_n=1) == ["bad"]


def test_get_runs_of_a_missing_or_foreign_session_raises_not_found(store: SessionStore) -> None:
    store.upsert_session(agent_session(user_id="alice"))
    assert store.get_runs("s1", user_id="alice") == []
    with pytest.raises(SessionNotFound):
        store.get_runs("s1", user_id="bob")
    with pytest.raises(SessionNotFound):
        store.get_runs("nope")


def test_delete_run_removes_one_run_and_reports_it(store: SessionStore) -> None:
    store.upsert_session(agent_session(runs=3))
    assert store.delete_run("s1-r1", session_id="other") is False
    assert store.delete_run("s1-r1") is True
    assert store.delete_run("s1-r1") is False
    assert _ids(store) == ["s1-r0", "s1-r2"]
    with pytest.raises(RunNotFound):
        store.get_run("s1-r1")
    # A new run still goes after every remaining one.
    store.upsert_run("s1", agent_run("s1-r3"))
    assert _ids(store) == ["s1-r0", "s1-r2", "s1-r3"]


def test_run_payloads_survive_exactly(store: SessionStore) -> None:
    run = agent_run("rich")
    run.metadata = {"nested": {"list": [1, 2.5, None, "ü"], "empty": {}}, "zz": 1, "aa": 2}
    run.messages = [Message(role="user", content=[{"type": "text", "text": "hi"}])]
    session = agent_session()
    session.upsert_run(run)
    store.upsert_session(session)
    assert store.get_run("rich").to_dict() == run.to_dict()


@pytest.mark.parametrize("bound", ["created_after", "created_before"])
def test_a_time_bound_past_64_bits_is_an_invalid_query(store: SessionStore, bound: str) -> None:
    store.upsert_session(agent_session("a"))
    with pytest.raises(InvalidQuery) as raised:
        store.get_runs("a", **{bound: 2**63})  # type: ignore[arg-type]
    assert raised.value.field == bound
