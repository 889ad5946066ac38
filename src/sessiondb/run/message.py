"""One chat message, as stored inside a run and sent to a model."""

from __future__ import annotations

import time
from typing import Any
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from sessiondb.run.metrics import MessageMetrics

# Keys that ``to_dict`` writes even when they hold their default (spec §1.7).
_ALWAYS_WRITTEN = ("role", "created_at", "from_history", "stop_after_tool_call")
# The values ``to_dict`` drops, built once: a literal ``(None, [], {})`` in the loop would
# build a new list, dict and tuple for every key of every message.
_EMPTY: tuple[Any, ...] = (None, [], {})
_DUMPED_BY_HAND = {"metrics"}


class Message(BaseModel):
    """A system, user, assistant or tool message.

    Unknown keys are kept (``extra="allow"``), so data written by newer versions survives
    a round trip through this one.
    """

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)

    id: str = Field(default_factory=lambda: str(uuid4()))
    role: str
    content: Any | None = None
    compressed_content: Any | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_name: str | None = None
    tool_args: Any | None = None
    tool_call_error: bool | None = None
    stop_after_tool_call: bool = False
    audio: Any | None = None
    images: list[Any] | None = None
    videos: list[Any] | None = None
    files: list[Any] | None = None
    audio_output: Any | None = None
    image_output: Any | None = None
    video_output: Any | None = None
    file_output: Any | None = None
    redacted_reasoning_content: str | None = None
    provider_data: dict[str, Any] | None = None
    citations: Any | None = None
    reasoning_content: str | None = None
    references: Any | None = None
    add_to_agent_memory: bool = True
    from_history: bool = False
    metrics: MessageMetrics = Field(default_factory=MessageMetrics)
    created_at: int = Field(default_factory=lambda: int(time.time()))
    temporary: bool = False
    checkpoint_status: str | None = None
    checkpoint_created_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise, dropping ``None`` and empty values but always writing the bookkeeping keys."""
        # exclude_none only prunes early (the always-written keys are never None); the filter
        # below decides.
        raw = self.model_dump(mode="json", exclude=_DUMPED_BY_HAND, exclude_none=True)
        data = {k: v for k, v in raw.items() if k in _ALWAYS_WRITTEN or v not in _EMPTY}
        metrics = self.metrics.to_dict()
        if metrics:
            data["metrics"] = metrics
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """Build a message from a stored dict (the inverse of :meth:`to_dict`)."""
        return cls.model_validate(data)

    def get_content_string(self) -> str:
        """Return the content as text: strings as they are, other values as JSON-ish text."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, list):
            parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in self.content]
            return "\n".join(part for part in parts if part)
        return str(self.content)
