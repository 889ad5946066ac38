"""WorkflowSession: step-run messages, chat history and workflow history (spec §2.5-2.7, §1.1)."""

from __future__ import annotations

import time

import pytest
from history_builders import agent_run, contents, msg, team_run, turn

from sessiondb.run import RunStatus, WorkflowRunOutput
from sessiondb.session import WorkflowChatInteraction, WorkflowSession


def workflow_run(run_id: str, *step_runs: object, **fields: object) -> WorkflowRunOutput:
    fields.setdefault("status", RunStatus.COMPLETED)
    return WorkflowRunOutput(run_id=run_id, workflow_id="wf", step_executor_runs=list(step_runs), **fields)


def steps_session() -> WorkflowSession:
    return WorkflowSession(
        session_id="s",
        runs=[
            workflow_run(
                "w1",
                agent_run("a1", msg("system", "sys-1"), *turn("a1"), agent_id="writer", parent_run_id="w1"),
                agent_run("x1", *turn("x1"), agent_id="critic", parent_run_id="w1"),
                team_run("t1", *turn("t1"), team_id="crew", parent_run_id="w1"),
            ),
            workflow_run("w2"),
            workflow_run(
                "w3",
                agent_run(
                    "a3",
                    msg("system", "sys-3"),
                    *turn("a3"),
                    agent_id="writer",
                    parent_run_id="w3",
                    status=RunStatus.ERROR,
                ),
                team_run("t3", *turn("t3"), team_id="crew", parent_run_id="w3"),
            ),
        ],
    )


@pytest.mark.parametrize("ids", [{}, {"agent_id": "writer", "team_id": "crew"}])
def test_exactly_one_of_agent_id_and_team_id(ids: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        steps_session().get_messages(**ids)


def test_agent_messages_come_from_step_runs_without_a_default_status_filter() -> None:
    got = steps_session().get_messages(agent_id="writer")
    assert contents(got) == ["sys-1", "u-a1", "a-a1", "u-a3", "a-a3"]


def test_status_filter_applies_only_when_given() -> None:
    session = steps_session()
    assert contents(session.get_messages(agent_id="writer", skip_statuses=[RunStatus.ERROR])) == [
        "sys-1",
        "u-a1",
        "a-a1",
    ]
    assert contents(session.get_messages(agent_id="writer", skip_statuses=[])) == contents(
        session.get_messages(agent_id="writer")
    )


def test_team_messages_come_from_the_teams_step_runs() -> None:
    assert contents(steps_session().get_messages(team_id="crew")) == ["u-t1", "a-t1", "u-t3", "a-t3"]


def test_last_n_runs_and_limit_apply_to_the_collected_runs() -> None:
    session = steps_session()
    assert contents(session.get_messages(agent_id="writer", last_n_runs=1)) == ["sys-3", "u-a3", "a-a3"]
    assert session.get_messages(agent_id="writer", last_n_runs=0) == []
    assert contents(session.get_messages(agent_id="writer", limit=2)) == ["sys-1", "a-a3"]


def test_unknown_agent_gives_empty_list() -> None:
    assert steps_session().get_messages(agent_id="nobody") == []
    assert WorkflowSession(session_id="s").get_messages(agent_id="writer") == []


def test_chat_history_pairs_runs_with_input_and_content() -> None:
    session = WorkflowSession(
        session_id="s",
        runs=[
            workflow_run("w1", input="q1", content="a1"),
            workflow_run("w2", input="q2", content=None),
            workflow_run("w3", input={"topic": "x"}, content="a3", status=RunStatus.ERROR),
            workflow_run("w4", input="", content="a4"),
        ],
    )
    assert session.get_chat_history() == [
        WorkflowChatInteraction(input="q1", output="a1"),
        WorkflowChatInteraction(input={"topic": "x"}, output="a3"),
    ]
    # The newest N runs are taken first, then runs without input or content are dropped.
    assert session.get_chat_history(last_n_runs=2) == [
        WorkflowChatInteraction(input={"topic": "x"}, output="a3")
    ]
    assert session.get_chat_history(last_n_runs=0) == []


def history_session() -> WorkflowSession:
    return WorkflowSession(
        session_id="s",
        runs=[
            workflow_run("w1", input="first q", content="first a"),
            workflow_run("w2", input="second q", content="second a", status=RunStatus.ERROR),
            workflow_run("w3", input="third q", content=None),
            workflow_run("w4", input="fourth q", content="running", status=RunStatus.RUNNING),
        ],
    )


def test_workflow_history_uses_completed_runs() -> None:
    assert history_session().get_workflow_history() == [("first q", "first a"), ("third q", "")]
    assert history_session().get_workflow_history(num_runs=1) == [("third q", "")]
    assert history_session().get_workflow_history(num_runs=0) == []
    assert history_session().get_workflow_history(num_runs=-2) == []


def test_workflow_history_renders_non_strings_with_str() -> None:
    session = WorkflowSession(session_id="s", runs=[workflow_run("w1", input={"n": 1}, content=[1, 2])])
    assert session.get_workflow_history() == [("{'n': 1}", "[1, 2]")]


def test_workflow_history_context_matches_the_verified_example() -> None:
    assert history_session().get_workflow_history_context() == (
        "<workflow_history_context>\n[Workflow Run-1]\nUser input: first q\nWorkflow output: first a\n\n"
        "[Workflow Run-2]\nUser input: third q\n\n</workflow_history_context>\n"
    )


def test_workflow_history_context_numbers_from_one_on_every_call() -> None:
    session = history_session()
    first = session.get_workflow_history_context(num_runs=1)
    assert first == (
        "<workflow_history_context>\n[Workflow Run-1]\nUser input: third q\n\n</workflow_history_context>\n"
    )
    assert session.get_workflow_history_context(num_runs=1) == first


def test_workflow_history_context_is_none_without_history() -> None:
    assert WorkflowSession(session_id="s").get_workflow_history_context() is None
    assert (
        WorkflowSession(
            session_id="s", runs=[workflow_run("w", status=RunStatus.ERROR)]
        ).get_workflow_history_context()
        is None
    )


def test_workflow_session_defaults() -> None:
    before = int(time.time())
    session = WorkflowSession(session_id="s")
    assert session.session_data == {}
    assert session.workflow_data == {}
    assert session.metadata == {}
    assert session.runs == []
    assert session.workflow_name is None
    assert session.created_at is not None and session.created_at >= before
    assert session.updated_at is not None and session.updated_at >= before
    assert session.get_session_summary() is None
