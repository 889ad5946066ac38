"""GET /sessions on every backend: shape, filters, sorting, page and keyset pagination, 422s."""

from __future__ import annotations

import httpx
import pytest
from api_seed import agent_run, seed_agent_session, seed_team_session, seed_workflow_session

from sessiondb.db.base import SessionStore


async def test_list_item_has_agno_shape_with_ids_and_no_other_nulls(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    seed_agent_session(
        store,
        "s1",
        runs=[agent_run("r1", "what tools do you have?")],
        session_data={"session_state": {"k": 1}, "session_metrics": {"total_tokens": 42}},
        metadata={"m": 1},
    )

    response = await client.get("/sessions")

    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["page"] == 1
    assert body["meta"]["limit"] == 20
    assert body["meta"]["total_count"] == 1
    assert body["meta"]["total_pages"] == 1
    assert body["meta"]["search_time_ms"] >= 0
    [item] = body["data"]
    assert item["session_id"] == "s1"
    assert item["session_name"] == "what tools do you have?"
    assert item["session_state"] == {"k": 1}
    assert item["session_type"] == "agent"
    assert item["user_id"] == "alice"
    assert item["metrics"] == {"total_tokens": 42}
    assert item["total_tokens"] == 42
    assert item["metadata"] == {"m": 1}
    assert (item["agent_id"], item["team_id"], item["workflow_id"]) == ("agent-1", None, None)
    assert item["created_at"].endswith("Z") and "T" in item["created_at"]
    assert "session_summary" not in item  # None fields are left out, except the three ids


async def test_filters_by_type_component_user_and_name(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    seed_agent_session(store, "a1", user_id="alice", session_data={"session_name": "Trip to Lisbon"})
    seed_agent_session(store, "a2", user_id="bob", agent_id="agent-2", session_data={"session_name": "Taxes"})
    seed_team_session(store, "t1", user_id="alice")
    seed_workflow_session(store, "w1", user_id="bob")

    async def ids(**params: str) -> set[str]:
        response = await client.get("/sessions", params=params)
        assert response.status_code == 200, response.text
        return {item["session_id"] for item in response.json()["data"]}

    assert await ids() == {"a1", "a2", "t1", "w1"}
    assert await ids(type="team") == {"t1"}
    assert await ids(type="workflow") == {"w1"}
    assert await ids(type="agent", component_id="agent-2") == {"a2"}
    assert await ids(component_id="wf-1") == {"w1"}
    assert await ids(user_id="alice") == {"a1", "t1"}
    assert await ids(session_name="lisbon") == {"a1"}


async def test_sorting_and_page_numbers(store: SessionStore, client: httpx.AsyncClient) -> None:
    for index in range(5):
        seed_agent_session(store, f"s{index}", created_at=1_700_000_000 + index)

    newest_first = await client.get("/sessions", params={"limit": 2})
    oldest_first = await client.get("/sessions", params={"limit": 2, "page": 3, "sort_order": "asc"})
    past_the_end = await client.get("/sessions", params={"limit": 2, "page": 9})

    assert [s["session_id"] for s in newest_first.json()["data"]] == ["s4", "s3"]
    assert newest_first.json()["meta"] | {"search_time_ms": 0} == {
        "page": 1,
        "limit": 2,
        "total_count": 5,
        "total_pages": 3,
        "search_time_ms": 0,
        "next_cursor": newest_first.json()["meta"]["next_cursor"],
    }
    assert [s["session_id"] for s in oldest_first.json()["data"]] == ["s4"]
    assert past_the_end.json()["data"] == []
    assert past_the_end.json()["meta"]["total_count"] == 5


async def test_keyset_cursor_walks_every_session_once_despite_inserts(
    store: SessionStore, client: httpx.AsyncClient
) -> None:
    for index in range(5):
        seed_agent_session(store, f"s{index}", created_at=1_700_000_000 + index)

    first = (await client.get("/sessions", params={"limit": 2})).json()
    # A newer session arrives after the first page; with page numbers it would shift the rest.
    seed_agent_session(store, "late", created_at=1_700_000_100)
    second = (
        await client.get("/sessions", params={"limit": 2, "cursor": first["meta"]["next_cursor"]})
    ).json()
    third = (
        await client.get("/sessions", params={"limit": 2, "cursor": second["meta"]["next_cursor"]})
    ).json()

    pages = [[item["session_id"] for item in page["data"]] for page in (first, second, third)]
    assert pages == [["s4", "s3"], ["s2", "s1"], ["s0"]]
    assert third["meta"]["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"limit": "0"}, "limit"),
        ({"sort_by": "runs"}, "sort_by"),
        ({"sort_order": "sideways"}, "sort_order"),
        ({"type": "robot"}, "type"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        # Past the 64-bit range a database can bind: a 422, never a 500 from the driver.
        ({"page": str(2**63)}, "page"),
        ({"limit": str(2**63)}, "limit"),
        ({"created_before": str(2**63)}, "created_before"),
        ({"created_after": str(-(2**63) - 1)}, "created_after"),
    ],
)
async def test_bad_query_parameters_are_422_naming_the_field(
    memory_client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    response = await memory_client.get("/sessions", params=params)

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", field]


async def test_the_largest_page_and_limit_are_served_on_every_backend(client: httpx.AsyncClient) -> None:
    # (page - 1) * limit is the offset sent to the database: at the bounds it must still fit.
    response = await client.get("/sessions", params={"page": str(2**31 - 1), "limit": str(2**31 - 1)})

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["page"] == 2**31 - 1
