"""Response shape of ``GET /sessions/{session_id}/history``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class HistoryResponse(BaseModel):
    """The newest history messages that fit the token budget."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "messages": [
                    {"role": "user", "content": "And in May?", "created_at": 1757088129},
                    {"role": "assistant", "content": "Mild, 20-25 °C.", "created_at": 1757088131},
                ],
                "tokens": 21,
                "truncated": True,
                "summary": {"summary": "The user plans a trip to Lisbon.", "topics": ["travel"]},
            }
        }
    )

    messages: list[dict[str, Any]] = Field(description="The messages that fit, oldest first, never cut")
    tokens: int = Field(description="Their token count (the model's own counts, else cl100k_base)")
    truncated: bool = Field(description="Whether older history was left out to fit")
    summary: dict[str, Any] | None = Field(
        description="The session summary, which can stand in for what was left out"
    )
