"""The renderers and header parsing on their own: Agno's fallbacks for run input, metadata and ETags."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from fastapi import HTTPException
from hypothesis import given, settings
from hypothesis import strategies as st

from sessiondb.api.deps import NO_MATCH_VERSION, expected_version
from sessiondb.api.responses import JsonResponse, iso_utc
from sessiondb.api.views import run_detail, run_preview, session_detail, session_list_item
from sessiondb.run import Message, RunInput, RunOutput, TeamRunOutput, WorkflowRunOutput
from sessiondb.session import AgentSession, WorkflowSession


def test_iso_utc_matches_pydantic_style() -> None:
    assert iso_utc(1_700_000_000) == "2023-11-14T22:13:20Z"
    assert iso_utc(None) is None


def _by_datetime(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().removesuffix("+00:00") + "Z"


@settings(max_examples=300)
@given(st.integers(min_value=-62_135_596_800, max_value=253_402_300_799) | st.floats(0, 4e9))
def test_iso_utc_writes_every_time_as_datetime_isoformat_does(timestamp: float) -> None:
    # Whole seconds take a faster path (strftime); it must agree with the datetime one.
    assert iso_utc(timestamp) == _by_datetime(timestamp)


@pytest.mark.parametrize("timestamp", [0, 1, 253_402_300_799, -1, 1.5, 1_700_000_000.25])
def test_iso_utc_at_the_edges_of_the_fast_path(timestamp: float) -> None:
    assert iso_utc(timestamp) == _by_datetime(timestamp)


def test_run_input_falls_back_to_the_last_user_message() -> None:
    run = RunOutput(
        run_id="r",
        messages=[Message(role="user", content="first"), Message(role="user", content="last")],
    )

    assert run_detail(run, include_nulls=False)["run_input"] == "last"


@pytest.mark.parametrize(
    ("input_content", "expected"),
    [
        ({"q": 1}, '{\n  "q": 1\n}'),
        ([{"role": "user", "content": "from a message list"}], "from a message list"),
        (42, "42"),
    ],
)
def test_run_input_renders_non_text_inputs_as_agno_does(input_content: object, expected: str) -> None:
    run = RunOutput(run_id="r", input=RunInput(input_content=input_content))

    assert run_detail(run, include_nulls=False)["run_input"] == expected


def test_workflow_run_input_falls_back_to_its_first_step_run() -> None:
    step = RunOutput(run_id="s", agent_id="a", messages=[Message(role="user", content="step question")])
    run = WorkflowRunOutput(run_id="w", workflow_id="wf", step_executor_runs=[step])

    rendered = run_detail(run, include_nulls=True)

    assert rendered["run_input"] == "step question"
    assert rendered["events"] == [] and rendered["step_results"] == []
    assert rendered["user_id"] == ""


def test_team_run_shows_its_team_and_json_response_format() -> None:
    run = TeamRunOutput(run_id="t", team_id="team", content={"a": 1}, content_type="Answer")

    rendered = run_detail(run, include_nulls=False)

    assert rendered["team_id"] == "team" and "agent_id" not in rendered
    assert rendered["run_response_format"] == "json"
    assert run_preview(run)["content_preview"] == '{"a": 1}'


def test_agent_sdk_shows_in_metadata() -> None:
    session = AgentSession(session_id="s", agent_data={"sdk": "claude"}, metadata={"k": 1})

    assert session_list_item(session)["metadata"] == {"k": 1, "sdk": "claude"}
    assert session_detail(session)["metadata"] == {"k": 1, "sdk": "claude"}


def test_workflow_name_falls_back_to_workflow_data() -> None:
    session = WorkflowSession(session_id="w", workflow_data={"name": "Research"})

    assert session_detail(session)["workflow_name"] == "Research"


def test_detail_includes_nulls_only_when_asked() -> None:
    session = AgentSession(session_id="s")

    lean = session_detail(session)
    full = session_detail(session, include_nulls=True)

    assert "user_id" not in lean and lean["agent_id"] is None  # the ids are always there
    assert full["user_id"] is None and full["session_summary"] is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("*", None),
        ('"7"', 7),
        ("7", 7),
        ('W/"7"', NO_MATCH_VERSION),
        ('"v7"', NO_MATCH_VERSION),
    ],
)
async def test_if_match_parsing(header: str | None, expected: int | None) -> None:
    assert await expected_version(header) == expected


@pytest.mark.parametrize("header", ['"1", "2"', 'not"an"etag'])
async def test_if_match_that_is_not_one_etag_is_400(header: str) -> None:
    with pytest.raises(HTTPException) as caught:
        await expected_version(header)

    assert caught.value.status_code == 400


def test_json_responses_write_integers_past_64_bits_as_text() -> None:
    body = JsonResponse({"big": [2**64, -(2**63) - 1], "edge": [2**64 - 1, -(2**63)], "flag": True}).body
    assert orjson.loads(body) == {
        "big": ["18446744073709551616", "-9223372036854775809"],
        "edge": [2**64 - 1, -(2**63)],
        "flag": True,
    }
