"""The change feed's event payload (``GET /changes``), documented for OpenAPI."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from sessiondb.db.changes import ChangeKind

CHANGE_EXAMPLE: dict[str, JsonValue] = {
    "session_id": "3f2c8f0e-5b7e-4c1a-9f5e-2d8a6b1c0e47",
    "run_id": "run-42",
    "session_type": "agent",
    "user_id": "alice",
    "version": 7,
    "db_id": "sqlite",
    "at": 1796641922,
}

STREAM_EXAMPLE = (
    "retry: 1000\n\n"
    "id: 1042\nevent: run.created\n"
    'data: {"session_id":"3f2c8f0e-5b7e-4c1a-9f5e-2d8a6b1c0e47","run_id":"run-42",'
    '"session_type":"agent","user_id":"alice","version":7,"db_id":"sqlite","at":1796641922}\n\n'
    ": keep-alive\n\n"
)


class ChangeEventData(BaseModel):
    """The JSON ``data`` of one server-sent event of ``GET /changes``.

    The event's ``id`` is its resume token (send it back as ``Last-Event-ID`` or ``?after=``)
    and its ``event`` one of the change kinds.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CHANGE_EXAMPLE]})

    session_id: str = Field(description="The session written")
    run_id: str | None = Field(description="The run written (run.created and run.updated only)")
    session_type: str = Field(description="agent, team or workflow")
    user_id: str | None = Field(description="The session's owner")
    version: int = Field(description="The session's version after the write")
    db_id: str = Field(description="The database it happened in")
    at: int = Field(description="When (unix seconds)")


class ChangeEventType(BaseModel):
    """The ``event`` field of a change event."""

    event: ChangeKind
