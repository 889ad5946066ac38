"""``RunList``: which runs a session's list notes as reached by the caller, and when it gives up."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from sessiondb.run import Message, RunOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, TeamSession, WorkflowSession, _runs
from sessiondb.session._runs import RunList, quietly, run_objects
from sessiondb.session.base import StoreState


def _run(run_id: str) -> RunOutput:
    return RunOutput(
        run_id=run_id,
        agent_id="a",
        status="COMPLETED",
        content=f"answer {run_id}",
        messages=[Message(role="user", content=f"q {run_id}"), Message(role="assistant", content="a")],
    )


def _settled(count: int) -> tuple[RunList, StoreState]:
    """A list of ``count`` runs nobody else holds, just settled (as after a load)."""
    runs = RunList(_run(f"r{k}") for k in range(count))
    owner = StoreState()
    runs.settle(owner, fresh=True)
    return runs, owner


def _noted_ids(runs: RunList) -> list[str]:
    return [run.run_id for run in runs.noted()]


def test_a_session_holds_its_runs_in_a_run_list() -> None:
    session = AgentSession(session_id="s", runs=[_run("r0")])
    assert type(session.runs) is RunList
    fresh = AgentSession(session_id="s")
    fresh.upsert_run(_run("r0"))
    assert type(fresh.runs) is RunList


@pytest.mark.parametrize(
    ("reach", "expected"),
    [
        (lambda runs: runs[1], ["r1"]),
        (lambda runs: runs[-1], ["r3"]),
        (lambda runs: runs[1:3], ["r1", "r2"]),
        (lambda runs: list(runs), ["r0", "r1", "r2", "r3"]),
        (lambda runs: next(iter(runs)), ["r0"]),
        (lambda runs: next(reversed(runs)), ["r3"]),
        (lambda runs: runs.copy(), ["r0", "r1", "r2", "r3"]),
        (lambda runs: runs.__add__([]), ["r0", "r1", "r2", "r3"]),
        (lambda runs: sorted(runs, key=lambda run: run.run_id)[:1], ["r0", "r1", "r2", "r3"]),
        (lambda runs: len(runs), []),
        (lambda runs: _run("r1") in runs, []),
    ],
    ids=["index", "negative", "slice", "list", "iter", "reversed", "copy", "add", "sorted", "len", "in"],
)
def test_every_way_of_handing_a_run_out_notes_it(
    reach: Callable[[RunList], Any], expected: list[str]
) -> None:
    runs, _ = _settled(4)
    reach(runs)
    assert _noted_ids(runs) == expected


def test_a_lazy_iteration_notes_only_what_it_handed_out() -> None:
    runs, _ = _settled(1_000)
    for run in reversed(runs):
        if run.run_id == "r997":
            break
    assert _noted_ids(runs) == ["r999", "r998", "r997"]


def test_appended_runs_are_noted_in_order_and_the_list_stays_attached() -> None:
    runs, owner = _settled(2)
    runs.append(_run("n1"))
    runs.extend([_run("n2")])
    runs += [_run("n3")]
    assert _noted_ids(runs) == ["n1", "n2", "n3"]
    assert runs.tracked_by(owner)


@pytest.mark.parametrize(
    "reshape",
    [
        lambda runs: runs.insert(0, _run("x")),
        lambda runs: runs.__setitem__(0, _run("x")),
        lambda runs: runs.__delitem__(0),
        lambda runs: runs.pop(),
        lambda runs: runs.remove(list.__getitem__(runs, 0)),
        lambda runs: runs.clear(),
        lambda runs: runs.sort(key=lambda run: run.run_id),
        lambda runs: runs.reverse(),
        lambda runs: runs.__imul__(2),
    ],
    ids=["insert", "setitem", "delitem", "pop", "remove", "clear", "sort", "reverse", "imul"],
)
def test_any_other_change_of_shape_detaches_the_list(reshape: Callable[[RunList], Any]) -> None:
    runs, owner = _settled(3)
    reshape(runs)
    assert not runs.tracked_by(owner)
    runs.settle(owner)  # the save that compared every run re-attaches it
    assert runs.tracked_by(owner)


def test_the_sessions_own_reads_note_nothing() -> None:
    agent = AgentSession(session_id="a", runs=[_run(f"r{k}") for k in range(5)])
    team = TeamSession(session_id="t", runs=[TeamRunOutput(run_id="t0", team_id="team", status="COMPLETED")])
    workflow = WorkflowSession(session_id="w", runs=[WorkflowRunOutput(run_id="w0", input="i", content="c")])
    agent.get_messages()
    agent.get_messages(last_n_runs=2)
    agent.get_chat_history()
    agent.get_tool_calls()
    agent.get_session_name()
    agent.to_dict()
    agent.model_dump()
    team.get_messages()
    team.get_team_history()
    team.get_chat_history()
    workflow.get_chat_history()
    workflow.get_workflow_history()
    workflow.get_messages(agent_id="a")
    for session in (agent, team, workflow):
        assert isinstance(session.runs, RunList)
        assert session.runs.noted() == []


def test_get_run_notes_only_the_run_it_returns() -> None:
    session = AgentSession(session_id="s", runs=[_run(f"r{k}") for k in range(5)])
    assert isinstance(session.runs, RunList)
    assert session.get_run("r3") is list.__getitem__(session.runs, 3)
    assert session.get_run("missing") is None
    assert _noted_ids(session.runs) == ["r3"]


def test_upsert_run_replaces_through_the_index_and_forgets_the_replaced_run() -> None:
    session = AgentSession(session_id="s", runs=[_run(f"r{k}") for k in range(5)])
    assert isinstance(session.runs, RunList)
    old = session.runs[2]
    replacement = _run("r2")
    session.upsert_run(replacement)
    session.upsert_run(_run("r5"))
    assert [run.run_id for run in quietly(session.runs)] == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert list.__getitem__(session.runs, 2) is replacement
    assert all(run is not old for run in session.runs.noted())
    assert _noted_ids(session.runs) == ["r2", "r5"]


def test_a_run_renamed_in_place_is_found_by_its_new_id() -> None:
    session = AgentSession(session_id="s", runs=[_run(f"r{k}") for k in range(3)])
    assert isinstance(session.runs, RunList)
    assert session.runs.index_of("r1") == 1  # builds the index
    session.runs[1].run_id = "renamed"
    replacement = _run("renamed")
    session.upsert_run(replacement)
    assert [run.run_id for run in quietly(session.runs)] == ["r0", "renamed", "r2"]
    assert session.runs.index_of("r1") is None


def test_after_a_save_only_runs_the_caller_still_holds_stay_noted() -> None:
    runs, owner = _settled(3)
    kept = runs[0]
    runs[1].content = "edited, then let go"
    runs.append(_run("new"))
    runs.settle(owner)
    assert runs.noted() == [kept]
    del kept
    runs.settle(owner)
    assert runs.noted() == []


def test_without_exact_reference_counts_every_noted_run_stays_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    # A free-threaded build may defer counts: a held run could look alone, so none is let go.
    monkeypatch.setattr(_runs, "REFCOUNTS_EXACT", False)
    runs, owner = _settled(3)
    runs[1].content = "edited, then let go"
    runs.append(_run("new"))
    runs.settle(owner)
    assert _noted_ids(runs) == ["r1", "new"]


def test_a_detached_list_looks_for_held_runs_among_all_its_runs() -> None:
    # Runs the caller built and handed to the constructor were never noted, but the caller
    # may still change them: after the save that compared every run, they stay watched.
    held = _run("held")
    session = AgentSession(session_id="s", runs=[_run("a"), held, _run("b")])
    assert isinstance(session.runs, RunList)
    session.runs.settle(StoreState())
    assert session.runs.noted() == [held]


def test_a_deep_copy_notes_all_its_runs_and_is_not_tracked_by_the_original_bookkeeping() -> None:
    runs, owner = _settled(2)
    clone = copy.deepcopy(runs)
    assert type(clone) is RunList and [run.run_id for run in quietly(clone)] == ["r0", "r1"]
    assert not clone.tracked_by(owner)
    assert runs.tracked_by(owner)


def test_run_objects_is_a_plain_list_that_notes_nothing() -> None:
    runs, _ = _settled(2)
    assert run_objects(runs) == list(quietly(runs)) and type(run_objects(runs)) is list
    assert run_objects(None) == []
