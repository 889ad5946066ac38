"""Fields and serialisation shared by agent, team and workflow runs."""

from __future__ import annotations

import time
from typing import Any, ClassVar, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from sessiondb.run.message import Message
from sessiondb.run.status import RunStatus, StatusField


class RunBase(BaseModel):
    """What every run has: identity, status, messages, metadata and lineage.

    ``to_dict`` drops ``None`` values (spec §1.4); ``from_dict`` ignores unknown keys and keeps
    an unknown status string as it is.
    """

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, validate_default=False)

    # Fields whose values ``_dump_extra`` serialises by hand (nested messages, runs, metrics).
    _custom_fields: ClassVar[frozenset[str]] = frozenset({"messages"})

    run_id: str = Field(default_factory=lambda: str(uuid4()))
    session_id: str | None = None
    parent_run_id: str | None = None
    user_id: str | None = None
    content: Any | None = None
    content_type: str = "str"
    status: StatusField = RunStatus.running
    messages: list[Message] | None = None
    metadata: dict[str, Any] | None = None
    session_state: dict[str, Any] | None = None
    created_at: int = Field(default_factory=lambda: int(time.time()))
    events: list[Any] | None = None
    images: list[Any] | None = None
    videos: list[Any] | None = None
    audio: list[Any] | None = None
    files: list[Any] | None = None
    response_audio: Any | None = None
    workflow_step_id: str | None = None
    queue_attempt: int | None = None
    cancellation_stage: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types, leaving out ``None`` values."""
        data = self.model_dump(mode="json", exclude_none=True, exclude=set(self._custom_fields))
        if self.messages is not None:
            data["messages"] = [message.to_dict() for message in self.messages]
        self._dump_extra(data)
        return data

    def _dump_extra(self, data: dict[str, Any]) -> None:
        """Hook for subclasses to serialise the fields ``to_dict`` excludes by default."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Build a run from a stored dict (the inverse of :meth:`to_dict`)."""
        return cls.model_validate(data)

    @property
    def status_value(self) -> str:
        """The status as its stored string."""
        return self.status.value if isinstance(self.status, RunStatus) else str(self.status)
