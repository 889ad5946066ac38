"""Request and response shapes of the fork endpoints."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ForkSessionRequest(BaseModel):
    """Body of ``POST /sessions/{session_id}/fork``; every field is optional, as is the body."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "example": {
                "run_id": "0b5e6a8c-2f1d-4c59-9a43-5d1e0c8f7a21",
                "session_id": "trip-plan-b",
                "session_name": "Trip to Lisbon, plan B",
            }
        },
    )

    run_id: str | None = Field(
        None,
        min_length=1,
        description="Copy the history up to and including this run (and its member runs); all when omitted",
    )
    session_id: str | None = Field(
        None, min_length=1, description="Id of the new session (a fresh uuid4 when omitted); 409 if taken"
    )
    session_name: str | None = Field(None, description="Name of the new session (else the source's name)")


class ForkedSession(BaseModel):
    """What AgentOS's fork endpoints answer: the new session's id and the one it was copied from."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "session_id": "a3f0c2f4-1a8e-4bfc-9d0c-3f6f5b2d8e11",
                "forked_from_session_id": "6f6cfbfd-9643-479a-ae47-b8f32eb4d710",
            }
        }
    )

    session_id: str = Field(description="Id of the new session")
    forked_from_session_id: str = Field(description="Id of the session it was copied from")
