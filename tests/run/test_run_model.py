"""Run and message model behaviour: defaults, statuses and tolerant loading (spec §1.3, §1.4, §1.7)."""

from __future__ import annotations

import pytest

from sessiondb.run import (
    HISTORY_SKIP_STATUSES,
    Message,
    RunOutput,
    RunStatus,
    TeamRunOutput,
    WorkflowRunOutput,
    classify_run,
)


def test_new_runs_start_in_their_spec_status() -> None:
    assert RunOutput().status is RunStatus.RUNNING
    assert TeamRunOutput().status is RunStatus.RUNNING
    assert WorkflowRunOutput().status is RunStatus.PENDING
    assert RunOutput().to_dict()["status"] == "RUNNING"
    assert WorkflowRunOutput().to_dict()["status"] == "PENDING"


def test_history_skip_statuses() -> None:
    assert {s.value for s in HISTORY_SKIP_STATUSES} == {"PAUSED", "CANCELLED", "ERROR", "REGENERATED"}


def test_status_is_written_as_its_string_value() -> None:
    assert RunStatus.COMPLETED == "COMPLETED"
    assert str(RunStatus.COMPLETED) == "COMPLETED"
    assert RunStatus.completed is RunStatus.COMPLETED


@pytest.mark.parametrize("cls", [RunOutput, TeamRunOutput, WorkflowRunOutput])
def test_from_dict_ignores_unknown_keys(
    cls: type[RunOutput] | type[TeamRunOutput] | type[WorkflowRunOutput],
) -> None:
    run = cls.from_dict({"run_id": "r", "status": "COMPLETED", "brand_new_field": {"x": 1}})
    assert run.run_id == "r"
    assert run.status is RunStatus.COMPLETED
    assert "brand_new_field" not in run.to_dict()


def test_unknown_status_string_is_kept() -> None:
    run = RunOutput.from_dict({"run_id": "r", "agent_id": "a", "status": "QUEUED_ELSEWHERE"})
    assert run.status == "QUEUED_ELSEWHERE"
    assert run.status_value == "QUEUED_ELSEWHERE"
    assert run.to_dict()["status"] == "QUEUED_ELSEWHERE"


def test_to_dict_drops_none_values() -> None:
    data = RunOutput(run_id="r", agent_id="a", created_at=5).to_dict()
    assert data == {
        "run_id": "r",
        "agent_id": "a",
        "created_at": 5,
        "status": "RUNNING",
        "content_type": "str",
    }


def test_message_keeps_extra_keys() -> None:
    message = Message.from_dict({"role": "user", "content": "hi", "vendor_field": {"a": 1}})
    assert message.to_dict()["vendor_field"] == {"a": 1}


def test_message_to_dict_always_writes_bookkeeping_and_drops_empties() -> None:
    data = Message(role="assistant", content="x", tool_calls=[], images=None, created_at=7).to_dict()
    assert data["from_history"] is False
    assert data["stop_after_tool_call"] is False
    assert data["created_at"] == 7
    assert "tool_calls" not in data
    assert "images" not in data
    assert "metrics" not in data


def test_member_responses_are_classified_by_team_id() -> None:
    run = TeamRunOutput.from_dict(
        {"run_id": "t", "team_id": "T", "member_responses": [{"agent_id": "a"}, {"team_id": "sub"}]}
    )
    assert [type(m) for m in run.member_responses] == [RunOutput, TeamRunOutput]


def test_step_executor_runs_are_classified_workflow_team_agent() -> None:
    assert isinstance(classify_run({"workflow_id": "w"}), WorkflowRunOutput)
    assert isinstance(classify_run({"workflow_id": "w", "team_id": "t"}), TeamRunOutput)
    assert isinstance(classify_run({"workflow_id": "w", "agent_id": "a"}), RunOutput)
