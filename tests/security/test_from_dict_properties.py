"""``from_dict`` of arbitrary JSON: a usable object or a ``pydantic.ValidationError``, nothing else.

Stored rows, imported Agno dumps and API bodies all reach ``from_dict``; a malformed one must
fail there, clearly, not as a ``TypeError`` or ``KeyError`` deep inside, now or later when
the object is used. The generated dicts use the models' own field names as keys most of the
time, so values of the wrong shape reach every nested parser (messages, metrics, member and
step runs, summaries).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sessiondb.run import (
    Message,
    MessageMetrics,
    RunInput,
    RunMetrics,
    RunOutput,
    StepOutput,
    TeamRunOutput,
    WorkflowRunOutput,
)
from sessiondb.session import AgentSession, SessionSummary, TeamSession, WorkflowSession

_MODELS: list[type[BaseModel]] = [
    AgentSession,
    TeamSession,
    WorkflowSession,
    SessionSummary,
    RunOutput,
    TeamRunOutput,
    WorkflowRunOutput,
    RunInput,
    StepOutput,
    Message,
    RunMetrics,
    MessageMetrics,
]
FIELD_NAMES = sorted({name for model in _MODELS for name in model.model_fields})
"""Every field name of the models, so that generated dicts look like (broken) real ones."""

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["COMPLETED", "ERROR", "user", "assistant", "tool", "system", "2025-01-01T00:00:00"])
)
_keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=6)
json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=6),
    max_leaves=30,
)
json_objects = st.dictionaries(_keys, json_values, max_size=10)

FROM_DICT: dict[str, Any] = {
    "AgentSession": AgentSession.from_dict,
    "TeamSession": TeamSession.from_dict,
    "WorkflowSession": WorkflowSession.from_dict,
    "RunOutput": RunOutput.from_dict,
    "TeamRunOutput": TeamRunOutput.from_dict,
    "WorkflowRunOutput": WorkflowRunOutput.from_dict,
    "Message": Message.from_dict,
    "SessionSummary": SessionSummary.from_dict,
}


def _use(obj: Any) -> None:
    """What callers do with a loaded object; it must not raise either."""
    data = obj.to_dict()
    type(obj).from_dict(data)
    if hasattr(obj, "get_messages") and not isinstance(obj, WorkflowSession):
        obj.get_messages()
        obj.get_chat_history()
    if hasattr(obj, "get_session_name"):
        obj.get_session_name()


@pytest.mark.parametrize("name", list(FROM_DICT))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_objects)
def test_from_dict_of_arbitrary_json_is_an_object_or_a_validation_error(
    name: str, data: dict[str, Any]
) -> None:
    try:
        obj = FROM_DICT[name](data)
    except ValidationError:
        return
    if obj is None:  # a session dict without session_id: documented, with a warning
        assert name.endswith("Session") and not data.get("session_id")
        return
    _use(obj)


@pytest.mark.parametrize("name", [n for n in FROM_DICT if n.endswith("Session")])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=st.lists(json_objects, max_size=4), extra=json_objects)
def test_sessions_with_arbitrary_run_dicts_load_or_fail_validation(
    name: str, runs: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    # Give each run a key that classifies it, so the run parsers are reached.
    for number, run in enumerate(runs):
        run.setdefault(["agent_id", "team_id", "workflow_id"][number % 3], f"component-{number}")
    try:
        obj = FROM_DICT[name]({**extra, "session_id": "s", "runs": runs})
    except ValidationError:
        return
    _use(obj)


@given(value=json_values)
@settings(max_examples=80, deadline=None)
def test_a_top_level_value_that_is_not_an_object_is_refused_cleanly(value: Any) -> None:
    for name, from_dict in FROM_DICT.items():
        if isinstance(value, dict):
            continue
        try:
            result = from_dict(value)
        except ValidationError:
            continue
        assert result is None and name.endswith("Session")
