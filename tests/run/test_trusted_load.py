"""The trusted load path (stores' own rows, no validation) builds what ``from_dict`` builds.

For generated runs and sessions: ``build_trusted(to_dict(x))`` equals the validated
``from_dict(to_dict(x))`` (same classes, nested ones included, same set fields and extra
keys) and serialises back to exactly ``to_dict(x)``.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from pydantic import BaseModel
from test_roundtrip_properties import (
    ROUNDTRIP,
    agent_runs,
    agent_sessions,
    team_runs,
    team_sessions,
    workflow_runs,
    workflow_sessions,
)

from sessiondb.run import Message, RunOutput, RunStatus, TeamRunOutput, WorkflowRunOutput
from sessiondb.run.trusted import build_trusted
from sessiondb.session import AgentSession, TeamSession, WorkflowSession
from sessiondb.session.base import BaseSession


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    # What a store hands back: the dict as written to JSON and decoded again.
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(data))
    return decoded


def _assert_same_models(fast: Any, validated: Any) -> None:
    """Equal, and equal in what ``==`` does not look at: set fields, extras, nested classes."""
    assert type(fast) is type(validated)
    if isinstance(fast, BaseModel):
        assert fast == validated
        assert fast.model_fields_set == validated.model_fields_set
        assert fast.__pydantic_extra__ == validated.__pydantic_extra__
        for name in type(fast).model_fields:
            _assert_same_models(getattr(fast, name), getattr(validated, name))
    elif isinstance(fast, list):
        assert len(fast) == len(validated)
        for left, right in zip(fast, validated, strict=True):
            _assert_same_models(left, right)
    else:
        assert fast == validated


def _check_run(run: RunOutput | TeamRunOutput | WorkflowRunOutput) -> None:
    data = _stored(run.to_dict())
    fast = build_trusted(type(run), data)
    validated = type(run).from_dict(_stored(run.to_dict()))
    _assert_same_models(fast, validated)
    assert fast.to_dict() == data


@ROUNDTRIP
@given(agent_runs())
def test_trusted_agent_run_equals_the_validated_one(run: RunOutput) -> None:
    _check_run(run)


@ROUNDTRIP
@given(team_runs())
def test_trusted_team_run_with_nested_members_equals_the_validated_one(run: TeamRunOutput) -> None:
    _check_run(run)


@ROUNDTRIP
@given(workflow_runs())
def test_trusted_workflow_run_with_steps_equals_the_validated_one(run: WorkflowRunOutput) -> None:
    _check_run(run)


def _check_session_runs(session: BaseSession) -> None:
    dicts = _stored(session.to_dict())["runs"] or []
    fast = type(session)._runs_from_dicts(_stored({"runs": dicts})["runs"], trusted=True)
    validated = type(session)._runs_from_dicts(_stored({"runs": dicts})["runs"])
    _assert_same_models(fast, validated)
    assert [run.to_dict() for run in fast] == dicts


@ROUNDTRIP
@given(agent_sessions())
def test_trusted_runs_of_an_agent_session_equal_the_validated_ones(session: AgentSession) -> None:
    _check_session_runs(session)


@ROUNDTRIP
@given(team_sessions())
def test_trusted_runs_of_a_team_session_equal_the_validated_ones(session: TeamSession) -> None:
    _check_session_runs(session)


@ROUNDTRIP
@given(workflow_sessions())
def test_trusted_runs_of_a_workflow_session_equal_the_validated_ones(session: WorkflowSession) -> None:
    _check_session_runs(session)


def test_known_status_becomes_the_member_and_unknown_stays_a_string() -> None:
    known = build_trusted(RunOutput, {"run_id": "r", "status": "ERROR"})
    unknown = build_trusted(RunOutput, {"run_id": "r", "status": "LATER"})
    assert known.status is RunStatus.error
    assert type(unknown.status) is str and unknown.status == "LATER"


def test_missing_fields_take_fresh_defaults_and_unknown_keys_follow_extra() -> None:
    first = build_trusted(Message, {"role": "user", "x_vendor": 1})
    second = build_trusted(Message, {"role": "user"})
    assert first.__pydantic_extra__ == {"x_vendor": 1}
    assert first.id != second.id  # the default factory ran for each
    assert first.metrics is not second.metrics
    run = build_trusted(TeamRunOutput, {"run_id": "r", "not_a_field": 1})
    assert run.__pydantic_extra__ is None and "not_a_field" not in run.__dict__
    assert run.member_responses == [] and run.model_fields_set == {"run_id"}


def test_workflow_session_drops_member_run_dicts_on_both_paths() -> None:
    dicts = [{"run_id": "w", "workflow_id": "wf"}, {"run_id": "a", "agent_id": "ag"}]
    fast = WorkflowSession._runs_from_dicts(dicts, trusted=True)
    assert (
        [run.run_id for run in fast] == ["w"] == [r.run_id for r in WorkflowSession._runs_from_dicts(dicts)]
    )


@pytest.mark.parametrize("session_class", [AgentSession, TeamSession])
def test_run_class_choice_is_the_same_on_both_paths(session_class: type[BaseSession]) -> None:
    dicts = [{"run_id": "t", "team_id": "tm"}, {"run_id": "a", "agent_id": "ag"}]
    fast = session_class._runs_from_dicts(dicts, trusted=True)
    validated = session_class._runs_from_dicts(dicts)
    assert [type(run) for run in fast] == [type(run) for run in validated]
