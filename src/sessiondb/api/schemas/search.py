"""Response shape of ``GET /search``: a page of transcript hits."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from sessiondb.api.schemas.sessions import SessionTypeParam

_EXAMPLE_HIT: JsonDict = {
    "session_id": "6f6cfbfd-9643-479a-ae47-b8f32eb4d710",
    "session_name": "Release checklist",
    "session_type": "agent",
    "run_id": "0b5f3d1e-8c1a-4f7e-9a57-2d4c1b9e7f10",
    "snippet": "…the <mark>deployment</mark> failed because the &lt;env&gt; file was missing…",
    "score": 0.0759,
    "created_at": "2025-09-05T16:02:09Z",
}


class SearchHitSchema(BaseModel):
    """One run whose transcript matches the query."""

    model_config = ConfigDict(json_schema_extra={"example": _EXAMPLE_HIT})

    session_id: str = Field(description="Session the run belongs to")
    session_name: str = Field(description="The session's name (explicit, else derived)")
    session_type: SessionTypeParam = Field(description="agent, team or workflow")
    run_id: str = Field(description="The matching run")
    snippet: str = Field(
        description=(
            "An extract of the run's text as safe HTML: the text is escaped (& < > \" ') and "
            "each matched word is wrapped in <mark>...</mark>; … marks cut text"
        )
    )
    score: float = Field(description="Relevance, higher is better; comparable within one search only")
    created_at: datetime = Field(description="When the run was created (UTC)")


class SearchMeta(BaseModel):
    """The window of a search page."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"limit": 20, "next_cursor": None, "search_time_ms": 1.4}}
    )

    limit: int = Field(description="Hits per page", ge=1)
    next_cursor: str | None = Field(
        description="Pass as cursor (with the same q) for the next page; null on the last page"
    )
    search_time_ms: float = Field(description="Time the store took, in milliseconds")


class SearchResponse(BaseModel):
    """A page of hits, best first (relevance, then newest)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "data": [_EXAMPLE_HIT],
                "meta": {
                    "limit": 20,
                    "next_cursor": "WyI4ZjE0YjAiLDAuMDc1OSwxNzU3MDg4MTI5LCIwYjVmIl0",
                    "search_time_ms": 1.4,
                },
            }
        }
    )

    data: list[SearchHitSchema]
    meta: SearchMeta
