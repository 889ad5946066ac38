"""Token and timing metrics for messages, runs and sessions.

Every ``to_dict`` drops zero and ``None`` values (spec §1.8), so stored rows stay small.
Session metrics are the sum of their runs' metrics.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

_TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "audio_total_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


# Built once: a literal tuple holding ``{}`` and ``[]`` would be rebuilt for every key.
_EMPTY: tuple[Any, ...] = (None, 0, 0.0, {}, [])
# The live timer is never stored. exclude_defaults prunes the zero and None defaults early;
# _drop_empty still decides (it also drops empty containers and a 0.0 cost).
_NOT_STORED = {"timer"}


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in _EMPTY}


class Metrics(BaseModel):
    """Token counts and cost shared by every metrics object."""

    model_config = ConfigDict(extra="ignore")

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    audio_input_tokens: int = 0
    audio_output_tokens: int = 0
    audio_total_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, leaving out zero and ``None`` values."""
        return _drop_empty(self.model_dump(mode="json", exclude_defaults=True))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        """Build from a stored dict; unknown keys are ignored."""
        return cls.model_validate(data)

    def add(self, other: Metrics) -> None:
        """Add ``other``'s token counts and cost into this object, in place."""
        for name in _TOKEN_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.cost is not None:
            self.cost = (self.cost or 0.0) + other.cost


class MessageMetrics(Metrics):
    """Metrics of one model message."""

    duration: float | None = None
    time_to_first_token: float | None = None
    timer: Any | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, leaving out zero and ``None`` values and the live timer."""
        data = _drop_empty(self.model_dump(mode="json", exclude=_NOT_STORED, exclude_defaults=True))
        return data


class RunMetrics(Metrics):
    """Metrics of one run: tokens plus timing and per-model details."""

    timer: Any | None = None
    time_to_first_token: float | None = None
    duration: float | None = None
    details: dict[str, list[dict[str, Any]]] | None = None
    additional_metrics: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, leaving out zero and ``None`` values and the live timer."""
        return _drop_empty(self.model_dump(mode="json", exclude=_NOT_STORED, exclude_defaults=True))


class SessionMetrics(Metrics):
    """Metrics summed over a session's runs (``session_data['session_metrics']``)."""

    details: dict[str, list[dict[str, Any]]] | None = None
    additional_metrics: dict[str, Any] | None = None


class WorkflowMetrics(BaseModel):
    """Metrics of a workflow run: per-step metrics and the total duration."""

    model_config = ConfigDict(extra="allow")

    steps: dict[str, Any] | None = None
    duration: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, leaving out empty values except ``steps``: Agno's ``from_dict`` requires it."""
        return {"steps": self.steps or {}, **_drop_empty(self.model_dump(mode="json"))}
