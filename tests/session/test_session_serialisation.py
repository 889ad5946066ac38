"""Session from_dict / to_dict behaviour and SessionSummary (spec §1.2, §1.5, §2.8)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from sessiondb.run import RunOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, SessionSummary, TeamSession, WorkflowSession

SESSION_CLASSES = [AgentSession, TeamSession, WorkflowSession]
AnySessionClass = type[AgentSession] | type[TeamSession] | type[WorkflowSession]


@pytest.mark.parametrize("cls", SESSION_CLASSES)
def test_from_dict_without_session_id_returns_none_and_warns(
    cls: AnySessionClass, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert cls.from_dict({"user_id": "u"}) is None
        assert cls.from_dict({"session_id": None}) is None
    assert "session_id" in caplog.text


@pytest.mark.parametrize("cls", SESSION_CLASSES)
@pytest.mark.parametrize(
    "bad",
    [
        {"session_data": "not a dict"},
        {"created_at": "yesterday"},
        {"runs": 5},
        {"runs": ["not a run"]},
        {"runs": [{"created_at": "soon"}]},
    ],
)
def test_from_dict_with_a_wrong_typed_field_raises_validation_error(
    cls: AnySessionClass, bad: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        cls.from_dict({"session_id": "s", **bad})


def test_agent_session_classifies_run_dicts() -> None:
    session = AgentSession.from_dict(
        {"session_id": "s", "runs": [{"agent_id": "a"}, {"team_id": "t"}, {"run_id": "neither"}]}
    )
    assert session is not None and session.runs is not None
    assert [type(r) for r in session.runs] == [RunOutput, TeamRunOutput, RunOutput]


def test_team_session_classifies_run_dicts() -> None:
    session = TeamSession.from_dict({"session_id": "s", "runs": [{"agent_id": "a"}, {"team_id": "t"}]})
    assert session is not None and session.runs is not None
    assert [type(r) for r in session.runs] == [RunOutput, TeamRunOutput]


def test_workflow_session_skips_step_run_dicts() -> None:
    session = WorkflowSession.from_dict(
        {"session_id": "s", "runs": [{"workflow_id": "w"}, {"agent_id": "a"}, {"team_id": "t"}]}
    )
    assert session is not None and session.runs is not None
    assert [type(r) for r in session.runs] == [WorkflowRunOutput]


def test_from_dict_ignores_unknown_keys_and_to_dict_has_no_session_type() -> None:
    session = AgentSession.from_dict(
        {"session_id": "s", "agent_id": "a", "unknown": 1, "session_type": "agent"}
    )
    assert session is not None
    data = session.to_dict()
    assert "unknown" not in data
    assert "session_type" not in data
    assert data["agent_id"] == "a"


def test_summary_round_trips_through_a_session() -> None:
    written = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    session = TeamSession(
        session_id="s", summary=SessionSummary(summary="s", topics=["a"], updated_at=written)
    )
    loaded = TeamSession.from_dict(session.to_dict())
    assert loaded is not None and loaded.summary is not None
    assert loaded.summary.updated_at == written.replace(tzinfo=None)
    expected = {"summary": "s", "topics": ["a"], "updated_at": "2025-01-02T03:04:05"}
    assert loaded.to_dict()["summary"] == expected


def test_summary_to_dict_drops_none_and_writes_naive_iso() -> None:
    assert SessionSummary(summary="only").to_dict() == {"summary": "only"}
    aware = SessionSummary(summary="x", updated_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    assert aware.to_dict() == {"summary": "x", "updated_at": "2025-06-01T12:00:00"}


def test_summary_from_dict_parses_iso_and_requires_summary() -> None:
    parsed = SessionSummary.from_dict({"summary": "x", "topics": None, "updated_at": "2025-06-01T12:00:00"})
    assert parsed.updated_at == datetime(2025, 6, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    assert parsed.topics is None
    with pytest.raises(ValidationError):
        SessionSummary.from_dict({"topics": ["a"]})


def test_agent_and_team_sessions_default_to_none() -> None:
    session = AgentSession(session_id="s")
    assert session.runs is None and session.session_data is None
    assert session.metadata is None and session.created_at is None
    assert session.to_dict()["runs"] is None
    assert session.to_dict()["summary"] is None
