"""The stored session name (spec §4) stays right under every kind of write, on every backend.

The name a listing shows comes from a column kept at write time on the SQL backends, and is
recomputed only when a write can change it. These tests drive the writes that can: a run
appended or deleted through the run methods of a workflow session (the ``"New <workflow>
Session"`` fallback), an earlier run replaced so that it now names the session, and a renamed
workflow. Each checks the name three ways: in a listing, on a windowed load (which, lacking the
first run, answers from the stored column) and through the name filter and sort. The last
tests check, on the SQL backends, that keeping the name right costs no read of the runs on an
append, and only a run id when a later run is replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from db_builders import agent_run, team_run, team_session, workflow_run, workflow_session
from sent_statements import statements

from sessiondb.db._sql import SqlStore
from sessiondb.db.base import SessionStore
from sessiondb.db.query import SessionQuery
from sessiondb.run import WorkflowRunOutput
from sessiondb.session import WorkflowSession


def _stored_name(store: SessionStore, session_id: str) -> str:
    """The name the store keeps, as a listing and a windowed load both report it."""
    listed = {s.session_id: s.get_session_name() for s in store.get_sessions(SessionQuery()).items}
    windowed = store.get_session(session_id, runs_limit=1)
    assert not windowed.runs_complete  # so the answer below is the stored column, not a recompute
    assert windowed.get_session_name() == listed[session_id]
    return listed[session_id]


def _matching(store: SessionStore, text: str) -> list[str]:
    return [s.session_id for s in store.get_sessions(SessionQuery(session_name=text)).items]


def _no_input_run(run_id: str) -> WorkflowRunOutput:
    """A workflow run without input: it cannot name its session, so the workflow's name does."""
    return WorkflowRunOutput(run_id=run_id, workflow_id="wf-1", content="done", status="COMPLETED")


def _named_by_data(session_id: str = "w1") -> WorkflowSession:
    """A workflow session whose name "Flow" is only in ``workflow_data`` (Agno's durable copy)."""
    return WorkflowSession(session_id=session_id, workflow_id="wf-1", workflow_data={"name": "Flow"})


# -- bug 1: the run methods know the workflow's name -----------------------------------------


@pytest.mark.parametrize("build", [workflow_session, _named_by_data], ids=["attribute", "workflow_data"])
def test_a_run_without_input_appended_by_upsert_run_gives_the_workflow_fallback(
    store: SessionStore, build: Callable[[], WorkflowSession]
) -> None:
    flow = build()
    store.upsert_session(flow)
    store.upsert_run(flow.session_id, _no_input_run("r0"))
    assert _stored_name(store, flow.session_id) == "New Flow Session"
    assert _matching(store, "new flow") == [flow.session_id]


def test_deleting_the_naming_run_falls_back_to_the_workflow_name(store: SessionStore) -> None:
    flow = workflow_session()
    flow.upsert_run(workflow_run("r0", "plan a trip"))
    flow.upsert_run(_no_input_run("r1"))
    store.upsert_session(flow)
    assert _stored_name(store, "w1") == "plan a trip"
    assert store.delete_run("r0", session_id="w1")
    assert _stored_name(store, "w1") == "New Flow Session"


# -- bug 2: an earlier run rewritten so that it now names the session ------------------------


def _team_named_by_its_second_run(store: SessionStore) -> None:
    session = team_session()
    session.upsert_run(agent_run("r1", "member says", agent_id="helper"))
    session.upsert_run(team_run("r2", "second question"))
    store.upsert_session(session)
    assert _stored_name(store, "t1") == "second question"


def test_an_earlier_run_replaced_by_upsert_run_takes_over_the_name(store: SessionStore) -> None:
    _team_named_by_its_second_run(store)
    store.upsert_run("t1", team_run("r1", "first question"))
    assert _stored_name(store, "t1") == "first question"


def test_an_earlier_run_replaced_by_a_session_save_takes_over_the_name(store: SessionStore) -> None:
    _team_named_by_its_second_run(store)
    loaded = store.get_session("t1")
    loaded.upsert_run(team_run("r1", "first question"))
    store.upsert_session(loaded)
    assert _stored_name(store, "t1") == "first question"


def test_a_later_run_replaced_leaves_the_name_alone(store: SessionStore) -> None:
    _team_named_by_its_second_run(store)
    store.upsert_run("t1", team_run("r3", "third question"))
    store.upsert_run("t1", team_run("r3", "third question, edited"))
    assert _stored_name(store, "t1") == "second question"


def test_listing_filters_and_sorts_by_the_corrected_name(store: SessionStore) -> None:
    _team_named_by_its_second_run(store)
    other = team_session("t2")
    other.upsert_run(team_run("t2-r0", "middle"))
    store.upsert_session(other)
    # "second question" sorts after "middle"; the corrected "a first question" sorts before it.
    store.upsert_run("t1", team_run("r1", "a first question"))
    assert _matching(store, "first") == ["t1"]
    assert _matching(store, "second") == []
    ascending = store.get_sessions(SessionQuery(sort_by="session_name", sort_order="asc")).items
    assert [s.session_id for s in ascending] == ["t1", "t2"]


# -- bug 3: a renamed workflow renames a session named after it ------------------------------


def test_renaming_the_workflow_renames_a_session_named_after_it(store: SessionStore) -> None:
    flow = workflow_session()
    flow.upsert_run(_no_input_run("r0"))
    store.upsert_session(flow)
    assert _stored_name(store, "w1") == "New Flow Session"
    flow.workflow_name = "Pipeline"
    store.upsert_session(flow)
    assert _stored_name(store, "w1") == "New Pipeline Session"
    assert _matching(store, "flow") == []


def test_renaming_the_workflow_in_workflow_data_renames_the_session(store: SessionStore) -> None:
    flow = _named_by_data()
    flow.upsert_run(_no_input_run("r0"))
    store.upsert_session(flow)
    flow.workflow_data = {"name": "Pipeline"}
    store.upsert_session(flow)
    assert _stored_name(store, "w1") == "New Pipeline Session"


def test_renaming_the_workflow_keeps_a_name_that_came_from_an_input(store: SessionStore) -> None:
    flow = workflow_session()
    flow.upsert_run(workflow_run("r0", "plan a trip"))
    store.upsert_session(flow)
    flow.workflow_name = "Pipeline"
    store.upsert_session(flow)
    assert _stored_name(store, "w1") == "plan a trip"


def test_an_input_that_looks_like_the_fallback_is_kept(store: SessionStore) -> None:
    flow = workflow_session()
    flow.upsert_run(workflow_run("r0", "New Other Session"))
    store.upsert_session(flow)
    store.upsert_run("w1", _no_input_run("r1"))
    assert _stored_name(store, "w1") == "New Other Session"


# -- what keeping the name costs (SQL backends) ----------------------------------------------


def _run_reads(store: SqlStore) -> AbstractContextManager[list[str]]:
    """Collect the SELECT statements on the runs table that ``store`` sends while the block runs."""
    runs = store._tables.names.runs
    return statements(store, lambda sent: sent.lstrip().upper().startswith("SELECT") and runs in sent)


def test_appending_runs_reads_no_run(sql_store: SqlStore) -> None:
    _team_named_by_its_second_run(sql_store)
    flow = workflow_session()
    flow.upsert_run(_no_input_run("w-r0"))
    sql_store.upsert_session(flow)
    loaded = sql_store.get_session("t1", runs_limit=1)
    loaded.upsert_run(team_run("r4", "fourth question"))
    with _run_reads(sql_store) as sent:
        sql_store.upsert_run("t1", team_run("r3", "third question"))
        sql_store.upsert_run("w1", _no_input_run("w-r1"))
        sql_store.upsert_session(loaded)
    assert sent == []


def test_replacing_a_later_run_reads_one_run_id_and_no_run_data(sql_store: SqlStore) -> None:
    _team_named_by_its_second_run(sql_store)
    sql_store.upsert_run("t1", team_run("r3", "third question"))
    with _run_reads(sql_store) as sent:
        sql_store.upsert_run("t1", team_run("r3", "third question, edited"))
    assert len(sent) == 1 and "run_data" not in sent[0]
