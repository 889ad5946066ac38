"""Error bodies and the shapes of ``/health`` and ``/config``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorResponse(BaseModel):
    """Every error that is not a validation error: ``{"detail": "..."}``."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": {"detail": "Session not found"}})

    detail: str = Field(description="What went wrong")


class VersionConflictResponse(ErrorResponse):
    """A 412: the session is not at the version ``If-Match`` named."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {"detail": "Session 's1' is at version 4, not 3", "current_version": 4}
        },
    )

    current_version: int | None = Field(None, description="The version the session is at now")


class ValidationErrorItem(BaseModel):
    """One problem with the request, in FastAPI's shape."""

    model_config = ConfigDict(extra="allow")

    loc: list[str | int] = Field(description="Where: e.g. ['query', 'page']")
    msg: str = Field(description="What is wrong")
    type: str = Field(description="Kind of error, e.g. 'greater_than_equal'")


class ValidationErrorResponse(BaseModel):
    """A 422: the request does not validate."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "detail": [
                    {
                        "type": "greater_than_equal",
                        "loc": ["query", "page"],
                        "msg": "Input should be greater than or equal to 1",
                        "input": "0",
                    }
                ]
            }
        }
    )

    detail: list[ValidationErrorItem] | str = Field(description="The problems found")


class HealthResponse(BaseModel):
    """Whether the server and each of its databases answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "status": "ok",
                "instantiated_at": "2025-06-10T12:00:00Z",
                "databases": {"sessiondb": "ok"},
            }
        }
    )

    status: str = Field(description="ok, or unavailable when a database does not answer")
    instantiated_at: datetime = Field(description="When the server started")
    databases: dict[str, str] = Field(description="Each db_id and whether it answers")
    details: dict[str, dict[str, Any]] | None = Field(
        None,
        description=(
            "Per db_id, what a store says beyond ok; with read replicas: each replica's url, "
            "replayed WAL position, lag_bytes behind the primary, reads served, error, and "
            "primary_reads. Absent when no store has anything to add."
        ),
    )


class DatabaseConfig(BaseModel):
    """A database the sessions endpoints serve, and its session tables."""

    db_id: str = Field(description="Pass as db_id to use it")
    tables: list[str] | None = Field(None, description="Session tables it serves (pass as table)")


class SessionDomainConfig(BaseModel):
    """The sessions part of the configuration."""

    dbs: list[DatabaseConfig] = Field(description="Databases served")


class ConfigResponse(BaseModel):
    """What this server serves, in the shape of AgentOS ``GET /config``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "os_id": "sessiondb",
                "name": "sessiondb",
                "databases": ["sessiondb"],
                "session": {"dbs": [{"db_id": "sessiondb", "tables": ["agno_sessions"]}]},
                "agents": [],
                "teams": [],
                "workflows": [],
                "interfaces": [],
            }
        },
    )

    os_id: str = Field(description="Identifier of this server")
    name: str | None = Field(None, description="Name of this server")
    databases: list[str] = Field(description="Every db_id served")
    session: SessionDomainConfig = Field(description="Databases of the sessions endpoints")
    agents: list[dict[str, Any]] = Field(description="Agents the caller may read: id, name, db_id")
    teams: list[dict[str, Any]] = Field(description="Teams the caller may read: id, name, db_id")
    workflows: list[dict[str, Any]] = Field(description="Workflows the caller may read: id, name, db_id")
    interfaces: list[dict[str, Any]] = Field(description="Interfaces served (none yet)")
