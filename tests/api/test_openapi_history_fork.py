"""The OpenAPI document describes the history, fork and metadata-filter endpoints, with examples."""

from __future__ import annotations

from typing import Any

from sessiondb.api import create_app
from sessiondb.db.memory import InMemoryDb


def _document() -> dict[str, Any]:
    document: dict[str, Any] = create_app(dbs=[InMemoryDb()]).openapi()
    return document


def test_the_new_operations_and_their_examples_are_documented() -> None:
    document = _document()
    paths, schemas = document["paths"], document["components"]["schemas"]
    history = paths["/sessions/{session_id}/history"]["get"]
    assert history["operationId"] == "get_session_history"
    names = {parameter["name"] for parameter in history["parameters"]}
    assert {"max_tokens", "agent_id", "team_id", "last_n_runs", "limit", "skip_roles"} <= names
    assert {"skip_statuses", "skip_history_messages", "type", "db_id", "user_id"} <= names
    assert {"member_ids", "skip_member_messages"} <= names
    fork = paths["/sessions/{session_id}/fork"]["post"]
    assert set(fork["responses"]) >= {"201", "404", "409", "422"}
    for path in (
        "/agents/{agent_id}/sessions/{session_id}/fork",
        "/teams/{team_id}/sessions/{session_id}/fork",
    ):
        assert set(paths[path]["post"]["responses"]) >= {"200", "400", "404"}
    for name in ("HistoryResponse", "ForkSessionRequest", "ForkedSession"):
        assert schemas[name]["example"], name
    [metadata] = [p for p in paths["/sessions"]["get"]["parameters"] if p["name"] == "metadata"]
    assert metadata["schema"]["examples"]
