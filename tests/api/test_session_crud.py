"""POST, GET, PATCH, rename and DELETE of sessions on every backend, with ETag and If-Match."""

from __future__ import annotations

import httpx
import pytest
from api_seed import agent_run, seed_agent_session, seed_team_session, seed_workflow_session

from sessiondb.db.base import SessionStore
from sessiondb.db.errors import SessionNotFound
from sessiondb.session import SessionSummary


async def test_create_returns_201_detail_etag_and_stores_the_session(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    body = {
        "session_id": "new-1",
        "session_name": "Trip",
        "session_state": {"city": "Lisbon"},
        "metadata": {"source": "web", "agno_dispatch_depth": 3},
        "user_id": "alice",
        "agent_id": "agent-1",
    }

    response = await client.post("/sessions", json=body)

    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail["session_id"] == detail["agent_session_id"] == "new-1"
    assert detail["session_name"] == "Trip"
    assert detail["session_state"] == {"city": "Lisbon"}
    assert detail["metadata"] == {"source": "web"}  # reserved runtime keys are dropped
    assert detail["chat_history"] == []
    assert (detail["agent_id"], detail["team_id"], detail["workflow_id"]) == ("agent-1", None, None)
    assert "session_summary" not in detail
    assert response.headers["location"] == "/sessions/new-1"
    stored = store.get_session("new-1")
    assert response.headers["etag"] == f'"{stored.version}"'
    assert stored.user_id == "alice"
    assert stored.session_data == {"session_state": {"city": "Lisbon"}, "session_name": "Trip"}


async def test_create_without_body_makes_an_agent_session_with_a_uuid(client: httpx.AsyncClient) -> None:
    response = await client.post("/sessions")

    assert response.status_code == 201, response.text
    assert len(response.json()["session_id"]) == 36


@pytest.mark.parametrize(("session_type", "id_field"), [("team", "team_id"), ("workflow", "workflow_id")])
async def test_create_of_each_type_returns_its_detail_schema(
    client: httpx.AsyncClient, session_type: str, id_field: str
) -> None:
    response = await client.post(
        "/sessions", params={"type": session_type}, json={"session_id": "x", id_field: "c-1"}
    )

    assert response.status_code == 201, response.text
    detail = response.json()
    assert detail[id_field] == "c-1"
    assert "agent_session_id" not in detail
    assert ("chat_history" in detail) is (session_type == "team")


async def test_create_with_a_taken_id_is_409(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "taken")

    response = await client.post("/sessions", json={"session_id": "taken"})

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


async def test_get_agent_session_detail_with_chat_history_and_etag(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    stored = seed_agent_session(
        store,
        "s1",
        runs=[agent_run("r1", "hello"), agent_run("r2", "again", status="ERROR")],
        summary=SessionSummary(summary="greetings", topics=["hi"]),
        session_data={"session_metrics": {"total_tokens": 7}},
        agent_data={"name": "Helper"},
    )

    response = await client.get("/sessions/s1")

    assert response.status_code == 200
    assert response.headers["etag"] == f'"{stored.version}"'
    detail = response.json()
    assert [(m["role"], m["content"]) for m in detail["chat_history"]] == [
        ("user", "hello"),
        ("assistant", "answer to hello"),
        ("user", "again"),
        ("assistant", "answer to again"),
    ]
    assert detail["session_summary"] == {"summary": "greetings", "topics": ["hi"]}
    assert detail["total_tokens"] == 7
    assert detail["agent_data"] == {"name": "Helper"}
    assert detail["session_name"] == "hello"


async def test_get_detects_team_and_workflow_sessions(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_team_session(store, "t1")
    seed_workflow_session(store, "w1")

    team = (await client.get("/sessions/t1")).json()
    workflow = (await client.get("/sessions/w1")).json()

    assert team["team_id"] == "team-1" and team["agent_id"] is None
    # The team's own messages only: the member's run is not part of the team chat.
    assert [m["content"] for m in team["chat_history"]] == ["plan a trip", "done"]
    assert workflow["workflow_id"] == "wf-1"
    assert workflow["workflow_name"] == "Research"
    assert workflow["workflow_data"] == {"workflow_id": "wf-1", "name": "Research"}
    assert "chat_history" not in workflow and "session_summary" not in workflow


async def test_get_missing_session_is_404_with_agno_messages(client: httpx.AsyncClient) -> None:
    untyped = await client.get("/sessions/nope")
    typed = await client.get("/sessions/nope", params={"type": "agent"})

    assert untyped.status_code == typed.status_code == 404
    assert untyped.json() == {"detail": "Session with id 'nope' not found"}
    assert typed.json() == {"detail": "Agent Session with id 'nope' not found"}


async def test_get_with_user_id_hides_other_users_sessions(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    seed_agent_session(store, "s1", user_id="alice")

    assert (await client.get("/sessions/s1", params={"user_id": "bob"})).status_code == 404
    assert (await client.get("/sessions/s1", params={"user_id": "alice"})).status_code == 200


async def test_patch_replaces_given_fields_and_returns_nulls(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    seed_agent_session(
        store,
        "s1",
        runs=[agent_run("r1", "hello")],
        session_data={"session_state": {"a": 1, "b": 2}},
        metadata={"old": True},
        summary=SessionSummary(summary="old", topics=["x"]),
    )

    response = await client.patch(
        "/sessions/s1",
        json={"session_state": {"c": 3}, "metadata": {"new": True}, "summary": {"summary": "new"}},
    )

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["session_state"] == {"c": 3}  # replaced, not merged
    assert detail["metadata"] == {"new": True}
    assert detail["session_summary"] == {"summary": "new"}  # topics gone with the old summary
    assert detail["agent_data"] is None  # PATCH responses include nulls
    assert len(detail["chat_history"]) == 2  # the detail still carries the whole history
    stored = store.get_session("s1")
    assert response.headers["etag"] == f'"{stored.version}"'
    assert stored.session_data is not None and stored.session_data["session_state"] == {"c": 3}


async def test_patch_leaves_absent_fields_alone(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "s1", session_data={"session_state": {"a": 1}}, metadata={"m": 1})

    response = await client.patch("/sessions/s1", json={"session_name": "Named"})

    assert response.json()["session_name"] == "Named"
    assert response.json()["session_state"] == {"a": 1}
    assert response.json()["metadata"] == {"m": 1}


async def test_patch_and_rename_of_missing_session_are_404(client: httpx.AsyncClient) -> None:
    patched = await client.patch("/sessions/nope", json={"session_name": "x"})
    renamed = await client.post("/sessions/nope/rename", json={"session_name": "x"})

    assert patched.status_code == renamed.status_code == 404


async def test_patch_with_a_bad_summary_is_422(
    memory_store: SessionStore, memory_client: httpx.AsyncClient
) -> None:
    seed_agent_session(memory_store, "s1")

    response = await memory_client.patch("/sessions/s1", json={"summary": {"topics": ["no text"]}})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "summary", "summary"]


async def test_rename_sets_the_name(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "s1", runs=[agent_run("r1", "hello")])

    response = await client.post("/sessions/s1/rename", json={"session_name": "Greetings"})
    listed = await client.get("/sessions")

    assert response.status_code == 200
    assert response.json()["session_name"] == "Greetings"
    assert listed.json()["data"][0]["session_name"] == "Greetings"


async def test_rename_without_a_name_is_422(
    memory_store: SessionStore, memory_client: httpx.AsyncClient
) -> None:
    seed_agent_session(memory_store, "s1")

    response = await memory_client.post("/sessions/s1/rename", json={})

    assert response.status_code == 422


async def test_if_match_guards_patch_rename_and_delete(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    stored = seed_agent_session(store, "s1")
    current = f'"{stored.version}"'
    stale = f'"{(stored.version or 0) + 100}"'

    stale_patch = await client.patch("/sessions/s1", json={"session_name": "x"}, headers={"If-Match": stale})
    stale_rename = await client.post(
        "/sessions/s1/rename", json={"session_name": "x"}, headers={"If-Match": stale}
    )
    stale_delete = await client.delete("/sessions/s1", headers={"If-Match": stale})

    for response in (stale_patch, stale_rename, stale_delete):
        assert response.status_code == 412, response.text
        assert response.json()["current_version"] == stored.version
        assert response.headers["etag"] == current
    assert store.get_session("s1").session_data in (None, {})

    fresh = await client.patch("/sessions/s1", json={"session_name": "y"}, headers={"If-Match": current})
    assert fresh.status_code == 200
    deleted = await client.delete("/sessions/s1", headers={"If-Match": fresh.headers["etag"]})
    assert deleted.status_code == 204
    with pytest.raises(SessionNotFound):
        store.get_session("s1")


@pytest.mark.parametrize("header", ['W/"1"', '"abc"'])
async def test_if_match_with_an_etag_we_never_issued_is_412(
    store: SessionStore, client: httpx.AsyncClient, header: str
) -> None:
    seed_agent_session(store, "s1")

    response = await client.patch("/sessions/s1", json={"session_name": "x"}, headers={"If-Match": header})

    assert response.status_code == 412


async def test_if_match_listing_two_etags_is_400(
    memory_store: SessionStore, memory_client: httpx.AsyncClient
) -> None:
    seed_agent_session(memory_store, "s1")

    response = await memory_client.patch(
        "/sessions/s1", json={"session_name": "x"}, headers={"If-Match": '"1", "2"'}
    )

    assert response.status_code == 400


async def test_delete_is_204_even_when_missing(store: SessionStore, client: httpx.AsyncClient) -> None:
    seed_agent_session(store, "s1", runs=[agent_run("r1", "hello")])

    first = await client.delete("/sessions/s1")
    again = await client.delete("/sessions/s1")
    runs_after = await client.get("/sessions/s1/runs")

    assert first.status_code == again.status_code == 204
    assert first.content == b""
    assert runs_after.status_code == 404


async def test_delete_with_if_match_on_a_missing_session_is_412(client: httpx.AsyncClient) -> None:
    response = await client.delete("/sessions/nope", headers={"If-Match": '"1"'})

    assert response.status_code == 412


async def test_bulk_delete_removes_listed_sessions(store: SessionStore, client: httpx.AsyncClient) -> None:
    for session_id in ("a", "b", "c"):
        seed_agent_session(store, session_id)

    response = await client.request(
        "DELETE",
        "/sessions",
        json={"session_ids": ["a", "b", "zzz"], "session_types": ["agent", "agent", "team"]},
    )
    remaining = await client.get("/sessions")

    assert response.status_code == 204
    assert [s["session_id"] for s in remaining.json()["data"]] == ["c"]


@pytest.mark.parametrize(
    ("body", "status_code"),
    [
        ({"session_ids": ["a"], "session_types": ["agent", "team"]}, 400),
        ({"session_ids": [], "session_types": []}, 422),
        ({"session_ids": ["a"], "session_types": ["robot"]}, 422),
    ],
)
async def test_bulk_delete_rejects_bad_bodies(
    memory_store: SessionStore, memory_client: httpx.AsyncClient, body: dict[str, list[str]], status_code: int
) -> None:
    seed_agent_session(memory_store, "a")

    response = await memory_client.request("DELETE", "/sessions", json=body)

    assert response.status_code == status_code
    memory_store.get_session("a")  # still there


async def test_delete_media_is_accepted_as_media_lives_in_the_runs(
    memory_store: SessionStore, memory_client: httpx.AsyncClient
) -> None:
    seed_agent_session(memory_store, "s1")

    response = await memory_client.delete("/sessions/s1", params={"delete_media": "true"})

    assert response.status_code == 204
    with pytest.raises(SessionNotFound):
        memory_store.get_session("s1")


async def test_location_of_a_non_latin_id_is_percent_encoded(memory_client: httpx.AsyncClient) -> None:
    # Not "/": an id holding one could not be addressed in a URL, so it is refused (tests/security).
    response = await memory_client.post("/sessions", json={"session_id": "セッション 1"})

    assert response.status_code == 201
    assert response.headers["location"] == "/sessions/%E3%82%BB%E3%83%83%E3%82%B7%E3%83%A7%E3%83%B3%201"
    assert response.json()["session_id"] == "セッション 1"
