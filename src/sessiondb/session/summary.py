"""A model-written summary of a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class SessionSummary(BaseModel):
    """The summary text, its topics, and when it was written.

    ``to_dict`` writes ``updated_at`` as a naive ISO string and drops ``None`` values, as Agno does.
    """

    model_config = ConfigDict(extra="ignore")

    summary: str
    topics: list[str] | None = None
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Serialise to plain JSON types."""
        data: dict[str, Any] = {"summary": self.summary}
        if self.topics is not None:
            data["topics"] = list(self.topics)
        if self.updated_at is not None:
            data["updated_at"] = self.updated_at.replace(tzinfo=None).isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionSummary:
        """Build from a stored dict, parsing the ISO ``updated_at``."""
        return cls.model_validate(data)
