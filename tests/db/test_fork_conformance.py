"""``fork_session`` against every backend: what is copied, the fresh ids, the cut, the errors."""

from __future__ import annotations

import pytest
from db_builders import agent_run, agent_session, team_run, team_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import RunNotFound, SessionAlreadyExists, SessionNotFound
from sessiondb.db.query import SessionQuery
from sessiondb.run import RunOutput, TeamRunOutput
from sessiondb.session import SessionSummary, TeamSession


@pytest.fixture
def source(store: SessionStore) -> SessionStore:
    session = agent_session(
        "src",
        runs=4,
        session_data={"session_state": {"cart": ["tea"]}, "session_metrics": {"total_tokens": 9}},
        metadata={"channel": "web"},
        summary=SessionSummary(summary="talked about tea", topics=["tea"]),
    )
    store.upsert_session(session)
    return store


def test_a_fork_copies_every_run_with_fresh_ids_and_records_its_origin(source: SessionStore) -> None:
    fork = source.fork_session("src", new_session_id="copy")
    assert fork.session_id == "copy" and fork.runs is None and fork.version == 1
    assert fork.session_data is not None
    assert fork.session_data["forked_from_session_id"] == "src"
    assert "forked_from_run_id" not in fork.session_data
    assert fork.session_data["session_state"] == {"cart": ["tea"]}
    assert fork.metadata == {"channel": "web"} and fork.user_id == "u1"
    assert fork.get_session_summary() == SessionSummary(summary="talked about tea", topics=["tea"])
    original = source.get_session("src")
    copied = source.get_session("copy")
    assert copied.runs is not None and original.runs is not None
    assert [r.content for r in copied.runs] == [r.content for r in original.runs]
    assert [m.content for m in copied.get_messages()] == [m.content for m in original.get_messages()]
    new_ids = [r.run_id for r in copied.runs]
    assert len(set(new_ids)) == 4 and not set(new_ids) & {r.run_id for r in original.runs}
    assert all(r.session_id == "copy" and r.forked_from_session_id == "src" for r in copied.runs)
    # Each copy is a run of the fork, and only of the fork.
    assert source.get_run(new_ids[0], session_id="copy").run_id == new_ids[0]
    with pytest.raises(RunNotFound):
        source.get_run(new_ids[0], session_id="src")
    assert copied.get_session_name() == original.get_session_name() == "message 0"
    # The source is untouched and the fork grows on its own.
    assert original.session_data is not None and "forked_from_session_id" not in original.session_data
    source.upsert_run("copy", agent_run("copy-new", "only in the fork"))
    assert [r.run_id for r in source.get_runs("copy")][-1] == "copy-new"
    assert len(source.get_runs("src")) == 4


def test_a_fork_at_a_run_keeps_the_runs_up_to_it_and_records_it(source: SessionStore) -> None:
    fork = source.fork_session("src", at_run_id="src-r1", session_name="what if")
    assert fork.session_id != "src" and len(fork.session_id) == 36
    assert fork.session_data is not None and fork.session_data["forked_from_run_id"] == "src-r1"
    assert fork.get_session_name() == "what if"
    runs = source.get_runs(fork.session_id)
    assert [r.content for r in runs] == ["MESSAGE 0", "MESSAGE 1"]
    assert [s.session_id for s in source.get_sessions(_named("what if")).items] == [fork.session_id]


def _named(name: str) -> SessionQuery:
    return SessionQuery(session_name=name)


def _team(store: SessionStore) -> None:
    """t1: team run A with two member runs stored after it, then team run B with one."""
    session = team_session("t1")
    for name, members in (("A", ["a1", "a2"]), ("B", ["b1"])):
        member_runs = [agent_run(f"{name}-{m}", f"task {m}", parent_run_id=f"team-{name}") for m in members]
        session.upsert_run(team_run(f"team-{name}", f"team {name}", members=member_runs))
        for member in member_runs:
            session.upsert_run(member)
    store.upsert_session(session)


@pytest.mark.parametrize("cut", ["team-A", "A-a2"])
def test_member_runs_follow_their_team_run_under_the_copied_parent(store: SessionStore, cut: str) -> None:
    _team(store)
    fork = store.fork_session("t1", at_run_id=cut, new_session_id="t2")
    copied = store.get_session("t2")
    assert isinstance(copied, TeamSession) and copied.runs is not None
    [team] = [r for r in copied.runs if isinstance(r, TeamRunOutput)]
    members = [r for r in copied.runs if isinstance(r, RunOutput)]
    assert team.content is None and [m.content for m in members] == ["TASK A1", "TASK A2"]
    assert team.run_id != "team-A" and all(m.parent_run_id == team.run_id for m in members)
    # The copies nested in the team run are the member rows' copies.
    assert [m.run_id for m in team.member_responses] == [m.run_id for m in members]
    assert all(m.session_id == "t2" and m.parent_run_id == team.run_id for m in team.member_responses)
    assert [m.content for m in copied.get_messages(member_ids=["agent-1"])] == [
        "task a1",
        "TASK A1",
        "task a2",
        "TASK A2",
    ]
    assert fork.session_type == "team"


def test_a_fork_of_a_fork_keeps_the_first_origin_on_runs(source: SessionStore) -> None:
    source.fork_session("src", new_session_id="mid")
    leaf = source.fork_session("mid", new_session_id="leaf", at_run_id=source.get_runs("mid")[0].run_id)
    assert leaf.session_data is not None and leaf.session_data["forked_from_session_id"] == "mid"
    [run] = source.get_runs("leaf")
    assert run.forked_from_session_id == "src" and run.session_id == "leaf"


def test_the_fork_belongs_to_the_user_who_may_read_the_source(source: SessionStore) -> None:
    with pytest.raises(SessionNotFound):
        source.fork_session("src", user_id="mallory")
    assert source.fork_session("src", user_id="u1", new_session_id="mine").user_id == "u1"
    assert {s.session_id for s in source.get_sessions(SessionQuery(user_id="u1")).items} == {"mine", "src"}


def test_bad_requests_fail_and_write_nothing(source: SessionStore) -> None:
    source.upsert_session(agent_session("other", runs=1))
    before = source.get_sessions(_named("")).total_count
    with pytest.raises(RunNotFound, match="nope"):
        source.fork_session("src", at_run_id="nope")
    with pytest.raises(RunNotFound, match="other-r0"):
        source.fork_session("src", at_run_id="other-r0")
    with pytest.raises(SessionAlreadyExists):
        source.fork_session("src", new_session_id="other")
    with pytest.raises(SessionNotFound):
        source.fork_session("missing")
    assert source.get_sessions(_named("")).total_count == before
    assert len(source.get_runs("other")) == 1


def test_an_empty_session_forks_into_an_empty_one(store: SessionStore) -> None:
    store.upsert_session(agent_session("empty", session_data={"session_name": "blank"}))
    fork = store.fork_session("empty", new_session_id="empty-2")
    assert store.get_runs("empty-2") == [] and fork.get_session_name() == "blank"


async def test_the_async_twin_forks_too(source: SessionStore) -> None:
    fork = await source.afork_session("src", at_run_id="src-r0")
    assert len(await source.aget_runs(fork.session_id)) == 1
