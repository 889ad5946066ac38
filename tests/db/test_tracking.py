"""The shared store bookkeeping: which runs a save writes, and what a load or a save records."""

from __future__ import annotations

import orjson

from sessiondb.db._tracking import (
    encode_run,
    first_naming_run,
    is_history_run,
    mark_loaded,
    mark_saved,
    name_for_store,
    runs_to_write,
)
from sessiondb.run import Message, RunInput, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, TeamSession, WorkflowSession
from sessiondb.session.base import StoreToken

STORE = StoreToken("the store of these tests")


def _run(run_id: str, text: str = "hi") -> RunOutput:
    return RunOutput(run_id=run_id, agent_id="a", messages=[Message(role="user", content=text)])


def _loaded(*runs: RunOutput) -> AgentSession:
    """A session as a store hands it out: every run stored exactly as it is now."""
    session = AgentSession(session_id="s", runs=list(runs))
    mark_loaded(
        session,
        store=STORE,
        version=3,
        stored_runs={run.run_id: encode_run(run) for run in runs},
        complete=True,
        stored_name="",
    )
    return session


def test_encode_run_is_the_json_of_to_dict() -> None:
    run = _run("r1")
    assert orjson.loads(encode_run(run)) == run.to_dict()


def test_unchanged_stored_runs_are_not_written() -> None:
    assert runs_to_write(_loaded(_run("r1"), _run("r2")), STORE) == []


def test_a_run_that_is_not_stored_is_written() -> None:
    session = _loaded(_run("r1"))
    new = _run("r2")
    assert session.runs is not None
    session.runs.append(new)
    assert runs_to_write(session, STORE) == [new]


def test_a_run_changed_in_place_is_written_without_being_marked() -> None:
    session = _loaded(_run("r1"), _run("r2"))
    assert session.runs is not None
    second = session.runs[1]
    second.content = "edited after the load"
    assert runs_to_write(session, STORE) == [second]


def test_a_run_marked_changed_is_written_even_when_equal() -> None:
    run = _run("r1")
    session = _loaded(run)
    session.mark_run_changed("r1")
    assert runs_to_write(session, STORE) == [run]


def test_upsert_run_marks_the_replaced_run_dirty() -> None:
    session = _loaded(_run("r1"), _run("r2"))
    replacement = _run("r1")
    session.upsert_run(replacement)
    assert runs_to_write(session, STORE) == [replacement]


def test_stored_text_is_compared_decoded_so_key_order_does_not_matter() -> None:
    run = _run("r1")
    session = _loaded(run)
    # JSONB hands keys back in its own order (PostgreSQL runs stored before migration 0003):
    # that is not a change.
    reordered = dict(sorted(run.to_dict().items(), reverse=True))
    session._store_state.stored_runs["r1"] = orjson.dumps(reordered).decode()
    assert runs_to_write(session, STORE) == []


def test_mark_loaded_records_everything_and_clears_dirty_runs() -> None:
    session = AgentSession(session_id="s")
    session.mark_run_changed("old")
    mark_loaded(session, store=STORE, version=7, stored_runs={"r": "{}"}, complete=False, stored_name="n")
    assert session.version == 7
    assert session._store_state.stored_runs == {"r": "{}"}
    assert session._store_state.dirty_run_ids == set()
    assert session.runs_complete is False
    assert session._store_state.stored_name == "n"


def test_mark_saved_merges_written_runs_and_keeps_completeness() -> None:
    session = _loaded(_run("r1"))
    mark_loaded(session, store=STORE, version=1, stored_runs={"r1": "a"}, complete=False, stored_name="")
    session.mark_run_changed("r2")
    mark_saved(session, store=STORE, version=2, written={"r2": "b"}, stored_name="name")
    assert session.version == 2
    assert session._store_state.stored_runs == {"r1": "a", "r2": "b"}
    assert session._store_state.dirty_run_ids == set()
    assert session.runs_complete is False
    assert session._store_state.stored_name == "name"


def test_name_for_store_prefers_the_explicit_name() -> None:
    session = AgentSession(session_id="s", session_data={"session_name": "Mine"})
    assert name_for_store(session, _run("r1", "derived")) == "Mine"


def test_name_for_store_derives_from_the_first_run() -> None:
    session = AgentSession(session_id="s")
    assert name_for_store(session, _run("r1", "What is the weather?")) == "What is the weather?"
    assert name_for_store(session, None) == ""


def test_name_for_store_of_a_workflow_without_runs_uses_the_workflow_name() -> None:
    from_attribute = WorkflowSession(session_id="w", workflow_name="Research")
    from_data = WorkflowSession(session_id="w", workflow_data={"name": "Stored"})
    assert name_for_store(from_attribute, None) == "New Research Session"
    assert name_for_store(from_data, None) == "New Stored Session"
    assert name_for_store(from_data, WorkflowRunOutput(input="find papers")) == "find papers"


def test_team_sessions_are_not_named_by_member_runs() -> None:
    member = RunOutput(run_id="m", agent_id="member", input=RunInput(input_content="member says"))
    team_run = TeamRunOutput(run_id="t", team_id="team", messages=[Message(role="user", content="team q")])
    assert first_naming_run("team", [member, team_run]) is team_run
    assert first_naming_run("agent", [member, team_run]) is member
    first = first_naming_run("team", [member, team_run])
    assert name_for_store(TeamSession(session_id="s"), first) == "team q"


def test_history_runs_have_no_parent_and_a_status_outside_the_skip_set() -> None:
    assert is_history_run(None, RunStatus.COMPLETED)
    assert is_history_run(None, "SOMETHING_NEW")
    assert not is_history_run("parent", RunStatus.COMPLETED)
    # A run that has not ended (or never will: its process died) is no history either.
    for skipped in ("PAUSED", "CANCELLED", "ERROR", RunStatus.REGENERATED, "RUNNING", RunStatus.PENDING):
        assert not is_history_run(None, skipped)
