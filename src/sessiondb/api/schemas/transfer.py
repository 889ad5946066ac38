"""Schemas of ``GET /export`` and ``POST /import`` (the format itself: docs/export-format.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ImportCounts(BaseModel):
    """What an import did."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "sessions_read": 120,
                "created": 100,
                "replaced": 0,
                "unchanged": 20,
                "skipped": 0,
                "runs_written": 2000,
            }
        },
    )

    sessions_read: int = Field(description="Sessions read and settled (the sum of the four below)")
    created: int = Field(description="Sessions that were not stored and now are")
    replaced: int = Field(
        description="Stored sessions overwritten by a different version (on_conflict=replace)"
    )
    unchanged: int = Field(description="Sessions that arrived exactly as stored: nothing was written")
    skipped: int = Field(description="Stored sessions left as they were (on_conflict=skip)")
    runs_written: int = Field(description="Runs of the created and replaced sessions")


class ImportRefused(BaseModel):
    """An import stopped at a line: what was imported before it stays; nothing of that line's session was."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "detail": "line 7: not JSON: unexpected character",
                "line": 7,
                "imported": {
                    "sessions_read": 5,
                    "created": 5,
                    "replaced": 0,
                    "unchanged": 0,
                    "skipped": 0,
                    "runs_written": 100,
                },
            }
        },
    )

    detail: str = Field(description="What is wrong, naming the line")
    line: int | None = Field(description="The 1-based line of the body that stopped the import")
    imported: ImportCounts = Field(description="What was imported before that line")
